"""The /api/v1 contract in OpenAPI (/docs), and the one error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hub.api.v1.common import PARAMETERS


def test_every_endpoint_is_documented_with_parameters_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/entities",
        "/entities/{source}/{key}",
        "/stats",
        "/projects",
        "/sources",
        "/runs",
        "/types",
        "/themes",
    ):
        assert "/api/v1" + path in paths, path
    listing = paths["/api/v1/entities"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"type", "q", "bbox", "near", "radius", "cursor", "format", "lang", "fields"} <= names
    bbox = next(p for p in listing["parameters"] if p["name"] == "bbox")
    assert bbox["example"] and bbox["description"]
    content = listing["responses"]["200"]["content"]
    assert {"application/json", "application/geo+json", "text/csv", "application/ld+json"} <= set(
        content
    )
    assert content["application/json"]["example"]["items"]
    assert "400" in listing["responses"]
    assert set(PARAMETERS) >= names


def test_docs_page(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200


def test_errors_have_one_shape(client: TestClient) -> None:
    response = client.get("/api/v1/entities?bbox=1")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"status": 400, "message": response.json()["error"]["message"]}
    }
    text = client.get("/api/v1/entities?bbox=1", headers={"Accept": "text/plain, text/csv"})
    assert text.status_code == 400 and text.headers["content-type"].startswith("text/plain")
    assert "bbox" in text.text
