"""The formats of /api/v1/entities (JSON, GeoJSON, CSV, JSON-LD), read back; negotiation."""

from __future__ import annotations

import csv
import io

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

URL = "/api/v1/entities?region=corse&size=100"
SCHEMA = "http://schema.org/"
MH = "https://w3id.org/marittimo-hub/ns#"


def json_items(client: TestClient) -> list[dict]:
    return client.get(URL).json()["items"]


def test_geojson(client: TestClient) -> None:
    response = client.get(URL, headers={"Accept": "application/geo+json"})
    assert response.headers["content-type"] == "application/geo+json"
    data = response.json()
    assert data["type"] == "FeatureCollection"
    items = json_items(client)
    assert [f["id"] for f in data["features"]] == [i["id"] for i in items]
    for feature, item in zip(data["features"], items, strict=True):
        assert feature["type"] == "Feature"
        assert feature["properties"]["name"] == item["name"]
        if item["lat"] is None:
            assert feature["geometry"] is None
        elif feature["geometry"]["type"] == "Point":
            assert feature["geometry"]["coordinates"] == [item["lon"], item["lat"]]
    kinds = {f["geometry"]["type"] for f in data["features"] if f["geometry"]}
    assert {"Point", "LineString"} <= kinds  # trails keep their whole line
    assert data["total"] == len(items)


def test_csv(client: TestClient) -> None:
    response = client.get(URL + "&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    items = json_items(client)
    assert [r["id"] for r in rows] == [i["id"] for i in items]
    for row, item in zip(rows, items, strict=True):
        assert row["name"] == item["name"]
        assert row["regions"].split("|") == item["regions"]
        assert (float(row["lat"]) if row["lat"] else None) == item["lat"]
        assert row["updated"] == item["updated"]
    assert response.headers["x-total-count"] == str(len(items))


def test_csv_with_fields(client: TestClient) -> None:
    text = client.get(
        URL + "&format=csv&fields=name,municipalities", headers={"Accept": "text/csv"}
    ).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "name", "municipalities"]


def test_json_ld_is_schema_org_rdf(client: TestClient) -> None:
    response = client.get(URL, headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"] == "application/ld+json"
    triples = list(ox.parse(response.content, ox.RdfFormat.JSON_LD))
    items = json_items(client)
    for item in items:
        subject = ox.NamedNode(item["iri"])
        types = {
            t.object.value
            for t in triples
            if t.subject == subject and t.predicate.value.endswith("#type")
        }
        # the data's classes; JSON's `types` adds a hub class's schema.org superclass
        assert types and types <= {
            MH + t[3:] if t.startswith("mh:") else SCHEMA + t for t in item["types"]
        }
        names = {
            (t.object.value, t.object.language)
            for t in triples
            if t.subject == subject and t.predicate.value == SCHEMA + "name"
        }
        assert item["name"] in {value for value, _ in names}
        regions = {
            t.object.value
            for t in triples
            if t.subject == subject
            and t.predicate.value == "https://w3id.org/marittimo-hub/ns#region"
        }
        assert regions == {
            f"https://hub.example.org/id/programme/region/{r}" for r in item["regions"]
        }
        # the entity's own triples only: the catalogue's facts are about the dataset
        predicates = {t.predicate.value for t in triples if t.subject == subject}
        assert not predicates & {SCHEMA + "license", SCHEMA + "isBasedOn", MH + "project"}


def test_json_ld_names_in_every_language(client: TestClient) -> None:
    body = client.get("/api/v1/entities?q=bonaparte&format=jsonld&fields=names").content
    names = {
        (t.object.value, t.object.language)
        for t in ox.parse(body, ox.RdfFormat.JSON_LD)
        if t.predicate.value == SCHEMA + "name"
    }
    assert names == {
        ("Casa Bonaparte", "it"),
        ("Maison Bonaparte", "fr"),
        ("Bonaparte House", "en"),
    }


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("text/csv;q=0.5, application/geo+json", "application/geo+json"),
        ("text/*", "text/csv"),
        ("application/ld+json;q=0.9, text/csv;q=0.1", "application/ld+json"),
    ],
)
def test_accept(client: TestClient, accept: str | None, media: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/api/v1/entities?size=1", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert "Accept" in response.headers["vary"]


def test_format_beats_accept(client: TestClient) -> None:
    response = client.get("/api/v1/entities?size=1&format=geojson", headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "application/geo+json"


def test_nothing_acceptable_is_406(client: TestClient) -> None:
    response = client.get("/api/v1/entities", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/geo+json" in response.text


def test_unknown_format_is_400(client: TestClient) -> None:
    response = client.get("/api/v1/entities?format=xml")
    assert response.status_code == 400
    assert "format=" in response.json()["error"]["message"]


def test_one_entity_as_geojson_and_json_ld(client: TestClient) -> None:
    feature = client.get("/api/v1/entities/itinera-trails/itn-001?format=geojson").json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "LineString"
    body = client.get(
        "/api/v1/entities/smartdest-offer/cor-0001", headers={"Accept": "application/ld+json"}
    ).content
    subjects = {t.subject.value for t in ox.parse(body, ox.RdfFormat.JSON_LD)}
    entity = "https://hub.example.org/id/smartdest-offer/cor-0001"
    dataset = "https://hub.example.org/id/source/smartdest-offer"
    assert subjects == {entity, entity + "/address", entity + "/geometry", dataset}
    assert client.get("/api/v1/entities/smartdest-offer/cor-0001?format=csv").status_code == 400
