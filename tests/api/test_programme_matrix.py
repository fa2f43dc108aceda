"""/api/v1/programme/matrix and the /programme pages on the harvested demo.

The matrix is checked against an independent oracle: for each cell, the project's sources
are asked through /api/v1/entities (type=…) and the store (SPARQL) whether they publish
the result type's classes, or are read with one of its harvester kinds.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.config import HubConfig
from hub.iris import MH, RDF, SCHEMA, Iris
from hub.store import OxigraphStore

MATRIX = "/api/v1/programme/matrix"
REQUESTED = {
    "digital-ecosystems": {"app", "database", "portal"},
    "co-marketing": {"brand", "certification", "tourist-package"},
    "destination-governance": {"operator-network", "business-support-network", "action-plan"},
}


@pytest.fixture(scope="module")
def matrix(demo_client: TestClient) -> dict[str, Any]:
    response = demo_client.get(MATRIX)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def cell(matrix: dict[str, Any], group: str, project: str, result_type: str) -> dict[str, Any]:
    for g in matrix["working_groups"]:
        if g["id"] == group:
            for p in g["projects"]:
                if p["id"] == project:
                    for c in p["cells"]:
                        if c["result_type"] == result_type:
                            return c
    raise AssertionError(f"no cell {group} × {project} × {result_type}")


def test_groups_members_and_requested_result_types(matrix: dict[str, Any]) -> None:
    groups = {g["id"]: g for g in matrix["working_groups"]}
    assert {g: set(v["result_types"]) for g, v in groups.items()} == REQUESTED
    assert groups["digital-ecosystems"]["lead"] == ["smart-destination"]
    assert groups["co-marketing"]["projects"][0] == {
        **groups["co-marketing"]["projects"][0],
        "id": "smartic",
        "lead": True,
    }
    assert len(groups["digital-ecosystems"]["projects"]) == 15
    assert len(groups["co-marketing"]["projects"]) == 13
    assert len(groups["destination-governance"]["projects"]) == 12
    cells = sum(len(p["cells"]) for g in groups.values() for p in g["projects"])
    summary = matrix["summary"]
    assert summary["cells"] == cells == (15 + 13 + 12) * 3
    assert summary["integrated"] + summary["missing"] == cells
    assert summary["integrated"] == sum(g["integrated"] for g in groups.values())


def test_integrated_cells_of_the_demo_sources(matrix: dict[str, Any]) -> None:
    database = cell(matrix, "digital-ecosystems", "smart-destination", "database")
    assert database["status"] == "integrated"
    [source] = database["sources"]
    assert source["id"] == "smartdest-offer"
    assert source["via"] == "harvester_kind" and source["kind"] == "sql"
    assert database["entities"] == source["entities"] == 40
    assert database["last_success"] and database["late"] is False
    assert source["last_status"] in ("published", "unchanged")

    app = cell(matrix, "digital-ecosystems", "vivimed", "app")
    assert [s["id"] for s in app["sources"]] == ["vivimed-events"]
    portal = cell(matrix, "digital-ecosystems", "tesori-nascosti", "portal")
    assert [s["id"] for s in portal["sources"]] == ["tesori-places"]

    certification = cell(matrix, "co-marketing", "smartic", "certification")
    [source] = certification["sources"]
    assert source["id"] == "smartic-operators"
    assert source["via"] == "class" and source["classes"] == ["mh:Certification"]
    assert certification["entities"] > 0

    packages = cell(matrix, "co-marketing", "cambusa", "tourist-package")
    assert [s["id"] for s in packages["sources"]] == ["cambusa-packages"]
    assert packages["sources"][0]["classes"] == ["TouristTrip"]

    networks = cell(matrix, "destination-governance", "intense", "operator-network")
    assert [s["id"] for s in networks["sources"]] == ["intense-network"]
    assert networks["entities"] == 4


def test_missing_cells(matrix: dict[str, Any], demo_hub: tuple[HubConfig, Any]) -> None:
    config, _ = demo_hub
    # The brand is described in the programme graph, but no source publishes it.
    brand = cell(matrix, "co-marketing", "smartic", "brand")
    assert brand["status"] == "missing" and brand["sources"] == [] and brand["entities"] == 0
    assert [d["iri"] for d in brand["described"]] == [
        Iris(config.base_iri).programme_base + "mark/smartic-cultural-identity"
    ]
    for result_type in ("action-plan", "business-support-network"):
        assert (
            cell(matrix, "destination-governance", "smart-destination", result_type)["status"]
            == "missing"
        )
    # A project the hub harvests nothing of (if any) is missing everywhere.
    with_sources = {s.project for s in config.sources.values()}
    empty = [
        p for g in matrix["working_groups"] for p in g["projects"] if p["id"] not in with_sources
    ]
    for project in empty:
        assert {c["status"] for c in project["cells"]} == {"missing"}


def test_every_cell_agrees_with_the_published_data(
    matrix: dict[str, Any], demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, store = demo_hub
    iris = Iris(config.base_iri)
    types = {t["id"]: t for t in matrix["result_types"]}
    published = {
        s["id"] for s in demo_client.get("/api/v1/sources").json()["items"] if s["published"]
    }

    def publishes(source: str, name: str) -> bool:
        got = demo_client.get(
            "/api/v1/entities", params={"source": source, "type": name, "size": 1}
        )
        if got.status_code == 200 and got.json()["total"] > 0:
            return True
        full = MH + name[3:] if name.startswith("mh:") else SCHEMA + name
        rows = store.select(
            f"SELECT ?s WHERE {{ GRAPH <{iris.source_graph(source)}> {{ ?s <{RDF}type> <{full}> }} }} "
            "LIMIT 1"
        )
        return bool(rows)

    for group in matrix["working_groups"]:
        for project in group["projects"]:
            sources = sorted(
                s.id
                for s in config.sources.values()
                if s.project == project["id"] and s.id in published
            )
            for c in project["cells"]:
                rtype = types[c["result_type"]]
                expected = [
                    s
                    for s in sources
                    if config.sources[s].kind in rtype["harvester_kinds"]
                    or any(publishes(s, name) for name in rtype["classes"])
                ]
                assert [s["id"] for s in c["sources"]] == expected, (group["id"], project["id"], c)
                assert c["status"] == ("integrated" if expected else "missing")


def test_csv_by_format_and_by_accept(demo_client: TestClient, matrix: dict[str, Any]) -> None:
    by_format = demo_client.get(MATRIX, params={"format": "csv"})
    by_accept = demo_client.get(MATRIX, headers={"Accept": "text/csv"})
    assert by_format.status_code == by_accept.status_code == 200
    assert by_format.headers["content-type"].startswith("text/csv")
    assert by_format.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_format.text)))
    assert list(rows[0]) == [
        "working_group",
        "project",
        "lead",
        "result_type",
        "status",
        "entities",
        "sources",
        "last_success",
        "late",
        "described",
    ]
    assert len(rows) == matrix["summary"]["cells"]
    assert sum(r["status"] == "integrated" for r in rows) == matrix["summary"]["integrated"]
    [row] = [
        r
        for r in rows
        if (r["working_group"], r["project"], r["result_type"])
        == ("digital-ecosystems", "smart-destination", "database")
    ]
    assert row["status"] == "integrated" and row["sources"] == "smartdest-offer"
    assert row["lead"] == "yes" and row["entities"] == "40" and row["late"] == "no"


def test_negotiation_language_and_errors(demo_client: TestClient) -> None:
    italian = demo_client.get(MATRIX, params={"lang": "it"}).json()
    names = {t["id"]: t["name"] for t in italian["result_types"]}
    assert names["database"] == "Banche dati"
    assert demo_client.get(MATRIX, params={"format": "xml"}).status_code == 400
    assert demo_client.get(MATRIX, headers={"Accept": "application/xml"}).status_code == 406
    assert demo_client.get(MATRIX, params={"regoin": "x"}).status_code == 400
    first = demo_client.get(MATRIX)
    again = demo_client.get(MATRIX, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


# --- the pages -------------------------------------------------------------


def csp(response: Any) -> str:
    return response.headers["content-security-policy"]


def test_matrix_page_is_public_and_self_only(demo_client: TestClient) -> None:
    page = demo_client.get("/programme")
    assert page.status_code == 200
    assert "default-src 'self'" in csp(page)
    assert "unsafe-inline" not in csp(page) and "http" not in csp(page)
    assert 'data-status="integrated"' in page.text and 'data-status="missing"' in page.text
    assert 'href="/programme/sources/smartdest-offer?lang=en"' in page.text
    assert 'href="/programme/projects/smart-destination?lang=en"' in page.text
    assert "<style" not in page.text and "<script" not in page.text


def test_source_and_project_pages(demo_client: TestClient) -> None:
    page = demo_client.get("/programme/sources/tesori-places")
    assert page.status_code == 200
    assert "source=tesori-places" in page.text and "format=geojson" in page.text
    assert 'src="/static/leaflet/leaflet.js"' in page.text
    assert "http" not in csp(page)
    tiles = demo_client.get("/programme/sources/tesori-places", params={"tiles": "osm"})
    assert "img-src 'self' https://tile.openstreetmap.org" in csp(tiles)
    project = demo_client.get("/programme/projects/smartic", params={"lang": "fr"})
    assert project.status_code == 200 and "project=smartic" in project.text
    assert "smartic-operators" in project.text
    assert demo_client.get("/programme/sources/nope").status_code == 404
    assert demo_client.get("/programme/projects/nope").status_code == 404


def test_vendored_leaflet_is_served(demo_client: TestClient) -> None:
    script = demo_client.get("/static/leaflet/leaflet.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert 'version="1.9.4"' in script.text
    assert demo_client.get("/static/leaflet/leaflet.css").status_code == 200
    icon = demo_client.get("/static/leaflet/images/marker-icon.png")
    assert icon.headers["content-type"] == "image/png" and icon.content[:4] == b"\x89PNG"
    assert "BSD 2-Clause" in demo_client.get("/static/leaflet/LICENSE").text
    assert demo_client.get("/static/programme/map.js").status_code == 200
    for path in ("/static/leaflet/../../app.py", "/static/leaflet/nope.js", "/static/programme/x"):
        assert demo_client.get(path).status_code == 404
