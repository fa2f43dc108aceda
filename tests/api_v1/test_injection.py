"""Hostile input in every parameter: a 400 or plain data, never a 500, never a change to the data."""

from __future__ import annotations

import urllib.parse

import pytest
from fastapi.testclient import TestClient

from tests.api_v1.conftest import DemoHub, fingerprint

ATTACKS = [
    "' OR 1=1 --",
    "'; DROP TABLE entities; --",
    '"}} DROP GRAPH <https://hub.example.org/graph/smartdest-offer> {{',
    "> } ; CLEAR ALL ; SELECT * WHERE { <",
    "*) OR (",
    "NEAR(",
    '"unbalanced',
    "a* OR b*",
    "col:value",
    "^bonaparte",
    "corse) UNION SELECT uid FROM entities --",
    "%27%20OR%20%271%27%3D%271",
    "\\u0027 OR 1=1",
    "\x00",
    "é" * 60,
    "|corse|",
    "1e309",
    "NaN",
]
ENTITY_PARAMS = [
    "type",
    "project",
    "source",
    "region",
    "municipality",
    "theme",
    "category",
    "q",
    "bbox",
    "near",
    "radius",
    "updated_since",
    "lang",
    "fields",
    "sort",
    "page",
    "size",
    "cursor",
    "format",
]


@pytest.fixture(scope="module")
def before(demo_hub: DemoHub) -> str:
    return fingerprint(demo_hub)


def _check(response) -> None:  # noqa: ANN001
    assert response.status_code in (200, 400), (response.status_code, response.text)
    if response.status_code == 400:
        assert response.json()["error"]["status"] == 400


@pytest.mark.parametrize("param", ENTITY_PARAMS)
def test_every_entities_parameter(client: TestClient, before: str, param: str) -> None:
    for attack in ATTACKS:
        extra = "&near=43.7,7.2" if param == "radius" else ""
        _check(client.get(f"/api/v1/entities?{urllib.parse.urlencode({param: attack})}{extra}"))
        _check(client.get(f"/api/v1/stats?{urllib.parse.urlencode({param: attack})}{extra}"))


@pytest.mark.parametrize("attack", ATTACKS)
def test_text_and_municipality_are_plain_data(client: TestClient, attack: str) -> None:
    for param in ("q", "municipality"):
        response = client.get("/api/v1/entities", params={param: attack})
        _check(response)
        if response.status_code == 200:
            assert response.json()["total"] <= client.get("/api/v1/entities").json()["total"]


def test_fts_syntax_is_searched_for_as_words(client: TestClient) -> None:
    assert client.get("/api/v1/entities", params={"q": "NEAR(bonaparte"}).json()["total"] == 0
    assert client.get("/api/v1/entities", params={"q": '"bonaparte'}).json()["total"] == 1
    assert client.get("/api/v1/entities", params={"q": "bonaparte OR museum"}).json()["total"] == 0


@pytest.mark.parametrize("attack", ATTACKS)
def test_entity_ids(client: TestClient, attack: str) -> None:
    quoted = urllib.parse.quote(attack, safe="")
    for path in (
        f"/api/v1/entities/smartdest-offer/{quoted}",
        f"/api/v1/entities/{quoted}/cor-0001",
    ):
        response = client.get(path)
        assert response.status_code in (400, 404), (path, response.status_code, response.text)


@pytest.mark.parametrize("attack", ATTACKS)
def test_runs_and_other_endpoints(client: TestClient, attack: str) -> None:
    for url in ("/api/v1/runs", "/api/v1/types", "/api/v1/themes", "/api/v1/projects"):
        for param in ("source", "status", "page", "size", "lang"):
            _check(client.get(url, params={param: attack}))


@pytest.mark.parametrize("attack", ATTACKS)
def test_feed_matrix_review_and_descriptions(client: TestClient, attack: str) -> None:
    """The filters outside /entities: the change feed, the matrix, a source's runs, /void, /catalog."""
    for url, names in (
        ("/api/v1/changes", ("since", "source", "size", "format")),
        ("/api/v1/changes/ldes", ("since", "source", "size", "format")),
        ("/api/v1/programme/matrix", ("lang", "format")),
        ("/api/v1/sources/smartdest-offer/runs", ("page", "size")),
        ("/void", ("format",)),
        ("/catalog", ("format",)),
    ):
        for param in names:
            response = client.get(url, params={param: attack}, headers={"Accept": "*/*"})
            assert response.status_code in (200, 400), (url, param, response.status_code)
    quoted = urllib.parse.quote(attack, safe="")
    for path in (
        f"/api/v1/sources/{quoted}/runs",
        f"/api/v1/sources/smartdest-offer/runs/{quoted}",
    ):
        assert client.get(path).status_code in (400, 404), path


def test_headers(client: TestClient) -> None:
    for attack in ATTACKS:
        value = attack.encode("ascii", "replace").decode().replace("\x00", "")
        for header in ("If-None-Match", "Accept", "Accept-Language"):
            response = client.get("/api/v1/entities?size=1", headers={header: value})
            assert response.status_code in (200, 406), (header, value, response.status_code)


def test_nothing_changed(demo_hub: DemoHub, before: str, client: TestClient) -> None:
    """Runs last in this module: after every attack above, the store and read model are as they were."""
    assert fingerprint(demo_hub) == before
    assert client.get("/api/v1/entities?region=corse").status_code == 200
