"""Projects, sources, runs, types, themes, stats and one merged entity."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from hub.api import create_app
from tests.api_v1.conftest import DemoHub, all_items, entity_ids, select


def test_projects(client: TestClient, demo_hub: DemoHub) -> None:
    data = client.get("/api/v1/projects?lang=it").json()
    projects = {p["id"]: p for p in data["items"]}
    assert len(projects) >= 17
    counts = Counter(i["id"].split("/")[0] for i in all_items(client, "/api/v1/entities"))
    for source_id, source in demo_hub.config.sources.items():
        project = projects[source.project]
        listed = {s["id"]: s for s in project["sources"]}
        assert listed[source_id]["entities"] == counts[source_id]
        assert project["freshness"] == max(s["published"] for s in project["sources"])
    smart = projects["smart-destination"]
    assert {
        "id": "digital-ecosystems",
        "name": "Ecosistemi digitali / strumenti ICT",
        "role": "lead",
    } in smart["working_groups"]
    used = {s.project for s in demo_hub.config.sources.values()}
    # The demo has a source for every project; a project without one (added under
    # [projects]) would be listed with no sources and no freshness.
    for idle in (p for p in projects if p not in used):
        assert projects[idle]["sources"] == [] and projects[idle]["freshness"] is None
    assert {g["id"] for g in data["working_groups"]} == {
        "digital-ecosystems",
        "co-marketing",
        "destination-governance",
    }


def test_sources(client: TestClient, demo_hub: DemoHub) -> None:
    items = {s["id"]: s for s in client.get("/api/v1/sources").json()["items"]}
    assert set(items) == set(demo_hub.config.sources)
    for source_id, source in demo_hub.config.sources.items():
        item = items[source_id]
        assert item["licence"] == source.licence and item["steward"] == source.steward
        assert item["last_status"] == "published" and item["published"] and item["entities"] > 0
        assert item["published_triples"] > item["entities"]
        graph = f"{demo_hub.config.base_iri}graph/{source_id}"
        assert item["published_triples"] == demo_hub.store.graph_size(graph), source_id
    assert items["smartdest-offer"]["schedule"] == "0 3 * * *"


def test_runs(client: TestClient, demo_hub: DemoHub) -> None:
    data = client.get("/api/v1/runs").json()
    assert data["total"] == len(demo_hub.config.sources)
    assert {r["status"] for r in data["items"]} == {"published"}
    started = [r["started"] for r in data["items"]]
    assert started == sorted(started, reverse=True)
    one = client.get("/api/v1/runs?source=itinera-trails").json()
    assert one["total"] == 1 and one["items"][0]["records"] == 11
    assert client.get("/api/v1/runs?status=failed").json() == {
        "total": 0,
        "page": 1,
        "size": 20,
        "items": [],
    }
    paged = client.get("/api/v1/runs?size=1&page=2").json()
    assert paged["items"][0]["id"] == data["items"][1]["id"]
    assert client.get("/api/v1/runs?status=broken").status_code == 400
    assert client.get("/api/v1/runs?source=Not%20A%20Source").status_code == 400
    assert client.get("/api/v1/runs?size=500").status_code == 400


def test_types(client: TestClient, demo_hub: DemoHub) -> None:
    items = {t["id"]: t for t in client.get("/api/v1/types").json()["items"]}
    listed = Counter(t for i in all_items(client, "/api/v1/entities") for t in i["types"])
    assert {name: item["count"] for name, item in items.items()} == dict(listed)
    for name in ("TouristAttraction", "Event", "LodgingBusiness"):
        assert items[name]["count"] == len(entity_ids(demo_hub, f"?e a schema:{name} ."))
        assert items[name]["iri"] == "http://schema.org/" + name
    assert items["TouristAttraction"]["label"] == "Tourist attraction"
    network = items["mh:OperatorNetwork"]
    assert network["iri"] == "https://w3id.org/marittimo-hub/ns#OperatorNetwork"
    assert network["labels"]["it"] == "rete di operatori"


def test_themes(client: TestClient, demo_hub: DemoHub) -> None:
    schemes = {s["id"]: s for s in client.get("/api/v1/themes?lang=fr").json()["schemes"]}
    assert set(schemes) == {"theme", "category"}
    concepts = {c["id"]: c for c in schemes["category"]["concepts"]}
    assert concepts["hiking"]["label"] == "Randonnée"
    assert concepts["hiking"]["broader"] == ["outdoor"]
    assert concepts["hiking"]["count"] == len(
        entity_ids(demo_hub, "?e mh:category <https://w3id.org/marittimo-hub/category/hiking> .")
    )
    assert schemes["theme"]["label"].startswith("Thèmes")


def test_stats(client: TestClient, demo_hub: DemoHub) -> None:
    data = client.get("/api/v1/stats").json()
    assert data["total"] == len(entity_ids(demo_hub))
    regions = {r["value"]: r for r in data["by"]["region"]}
    for region, row in regions.items():
        assert row["count"] == len(
            entity_ids(
                demo_hub, f"?e mh:region <https://hub.example.org/id/programme/region/{region}> ."
            )
        )
    assert regions["sardegna"]["label"] == "Sardinia"
    by_source = {r["value"]: r["count"] for r in data["by"]["source"]}
    assert sum(by_source.values()) == data["total"]
    assert set(data["by"]) == {"type", "project", "region", "theme", "category", "source"}


def test_stats_follow_the_filters(client: TestClient) -> None:
    for query in (
        "region=corse",
        "q=sample&type=Event",
        "near=43.7,7.27&radius=40",
        "municipality=Bonifacio",
        "updated_since=2024-03-01",
        "bbox=8.5,41.3,9.6,43.1&lang=it",
    ):
        stats = client.get(f"/api/v1/stats?{query}").json()
        items = all_items(client, f"/api/v1/entities?{query}")
        assert stats["total"] == len(items), query
        types = Counter(t for i in items for t in i["types"])
        assert {r["value"]: r["count"] for r in stats["by"]["type"]} == dict(types), query
    assert client.get("/api/v1/stats?size=3").status_code == 400


def test_one_entity_with_attributed_statements(client: TestClient, demo_hub: DemoHub) -> None:
    data = client.get("/api/v1/entities/smartdest-offer/cor-0001?lang=fr").json()
    assert data["entity"]["name"] == "Maison Bonaparte"
    assert data["same_as"] == []
    assert [s["id"] for s in data["sources"]] == ["smartdest-offer"]
    licence = demo_hub.config.sources["smartdest-offer"].licence
    assert all(
        s["source"] == "smartdest-offer" and s["licence"] == licence for s in data["statements"]
    )
    names = {(v["value"], v["lang"]) for v in data["properties"]["schema:name"]}
    assert ("Casa Bonaparte", "it") in names
    subjects = {s["subject"] for s in data["statements"]}
    iri = data["iri"]
    assert {iri, iri + "/geometry", iri + "/address"} <= subjects
    count = select(demo_hub, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}")[
        0
    ]["n"]
    assert len([s for s in data["statements"] if s["subject"] == iri]) == int(count)


def test_an_unknown_or_malformed_entity(client: TestClient) -> None:
    missing = client.get("/api/v1/entities/smartdest-offer/nope")
    assert missing.status_code == 404 and "no entity" in missing.json()["error"]["message"]
    assert client.get("/api/v1/entities/Bad_Source/x").status_code == 400
    assert client.get("/api/v1/entities/smartdest-offer/a%20b").status_code == 400
    assert client.get("/api/v1/entities/smartdest-offer/cor-0001?colour=red").status_code == 400


def test_same_as_peers_are_merged_with_attribution(hub_factory: DemoHub) -> None:
    """A steward links two records of one business; the entity shows what both sources say."""
    from hub.iris import Iris

    iris = Iris(hub_factory.config.base_iri)
    a = "https://hub.example.org/id/smartdest-offer/cor-0001"
    b = "https://hub.example.org/id/smartic-operators/smc-016"
    hub_factory.store.update(
        f"INSERT DATA {{ GRAPH <{iris.links_graph}> {{ <{a}> <http://www.w3.org/2002/07/owl#sameAs> <{b}> }} }}"
    )
    with TestClient(create_app(hub_factory.config, hub_factory.store)) as client:
        for uid, peer in (("smartdest-offer/cor-0001", b), ("smartic-operators/smc-016", a)):
            data = client.get(f"/api/v1/entities/{uid}").json()
            assert data["same_as"] == [peer]
            sources = {s["id"] for s in data["sources"]}
            assert {"smartdest-offer", "smartic-operators", "links"} <= sources
            from_peer = [s for s in data["statements"] if s["subject"] == peer]
            assert from_peer and all(
                s["source"] in (peer.split("/")[-2], "links") for s in from_peer
            )
            names = data["properties"]["schema:name"]
            assert {n["source"] for n in names} == {"smartdest-offer", "smartic-operators"}
            assert all(n["licence"] for n in names)
            assert any(n.get("subject") == peer for n in names)
