"""GET /void describes every source as a void:Dataset, from the store, and stays right after a publish."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import to_isomorphic
from rdflib.namespace import DCTERMS, RDF

from hub.api import create_app
from hub.api import void as void_module
from hub.config import HubConfig
from hub.pipeline.run import run_source
from hub.store import OxigraphStore
from tests.api.demo_hub import harvest_demo

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SCHEMA = rdflib.Namespace("http://schema.org/")
MH = rdflib.Namespace("https://w3id.org/marittimo-hub/ns#")
CC_BY = rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")


def void_graph(client: TestClient, path: str = "/void", **headers: str) -> rdflib.Graph:
    res = client.get(path, headers=headers or {"Accept": "text/turtle"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/turtle")
    return rdflib.Graph().parse(data=res.content, format="turtle")


def canonical_hash(g: rdflib.Graph) -> int:
    """The hash rdflib's `isomorphic` compares: equal exactly when the graphs are isomorphic."""
    return to_isomorphic(g).internal_hash()


def graph_size(store: OxigraphStore, graph: str) -> int:
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"].value)


def class_partitions(g: rdflib.Graph, dataset: rdflib.URIRef) -> dict[str, int]:
    return {
        str(g.value(part, VOID["class"])): int(g.value(part, VOID.entities))
        for part in g.objects(dataset, VOID.classPartition)
    }


def source_dataset(config: HubConfig, source: str) -> rdflib.URIRef:
    return rdflib.URIRef(f"{config.base_iri}id/source/{source}")


def test_each_source_is_a_dataset_with_size_licence_title_and_endpoint(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, store = demo_hub
    g = void_graph(demo_client)
    for source_id, source in config.sources.items():
        ds = source_dataset(config, source_id)
        assert (ds, RDF.type, VOID.Dataset) in g
        graph = f"{config.base_iri}graph/{source_id}"
        assert g.value(ds, MH.namedGraph) == rdflib.URIRef(graph)
        assert int(g.value(ds, VOID.triples)) == graph_size(store, graph)
        assert g.value(ds, DCTERMS.license) == CC_BY
        assert str(g.value(ds, DCTERMS.title)) == source.title
        assert g.value(ds, VOID.sparqlEndpoint) == rdflib.URIRef("http://testserver/sparql")
        assert str(g.value(ds, VOID.uriSpace)) == f"{config.base_iri}id/{source_id}/"


def test_class_partitions_count_entities(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, _ = demo_hub
    g = void_graph(demo_client)
    trails = class_partitions(g, source_dataset(config, "itinera-trails"))
    assert trails[str(SCHEMA.TouristTrip)] == 11
    offer = class_partitions(g, source_dataset(config, "smartdest-offer"))
    assert offer[str(SCHEMA.TouristAttraction)] == 20
    assert offer[str(SCHEMA.LodgingBusiness)] == 10
    operators = class_partitions(g, source_dataset(config, "smartic-operators"))
    assert operators[str(MH.Certification)] == 25


def test_the_hub_is_a_dataset_whose_subsets_are_every_graph(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, store = demo_hub
    g = void_graph(demo_client)
    hub = rdflib.URIRef(f"{config.base_iri}id/dataset/hub")
    subsets = set(g.objects(hub, VOID.subset))
    graphs = {str(g.value(s, MH.namedGraph)) for s in subsets}
    assert graphs == set(store.named_graphs())
    assert rdflib.URIRef(f"{config.base_iri}id/dataset/meta") in subsets
    assert rdflib.URIRef(f"{config.base_iri}id/dataset/programme") in subsets
    total = demo_client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    n = int(total.json()["results"]["bindings"][0]["n"]["value"])
    parts = sum(int(g.value(s, VOID.triples)) for s in subsets)
    assert int(g.value(hub, VOID.triples)) == n == parts
    doc = rdflib.URIRef("http://testserver/void")
    assert (doc, RDF.type, VOID.DatasetDescription) in g


def test_json_ld_and_well_known_address(demo_client: TestClient) -> None:
    # rdflib's `isomorphic(a, b)` is `canonical_hash(a) == canonical_hash(b)`; the document
    # has hundreds of blank nodes, so the Turtle graph's hash is computed once, not thrice.
    turtle = canonical_hash(void_graph(demo_client))
    res = demo_client.get("/void", headers={"Accept": "application/ld+json"})
    assert res.headers["content-type"].startswith("application/ld+json")
    json.loads(res.content)
    assert canonical_hash(rdflib.Graph().parse(data=res.content, format="json-ld")) == turtle
    assert canonical_hash(void_graph(demo_client, "/.well-known/void")) == turtle
    nt = demo_client.get("/void", params={"format": "nt"})
    assert canonical_hash(rdflib.Graph().parse(data=nt.content, format="nt")) == turtle


def test_browsers_get_turtle_not_rdf_xml(demo_client: TestClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    res = demo_client.get("/void", headers={"Accept": browser})
    assert res.headers["content-type"].startswith("text/turtle")


def test_unacceptable_and_unknown_formats(demo_client: TestClient) -> None:
    assert demo_client.get("/void", headers={"Accept": "image/png"}).status_code == 406
    res = demo_client.get("/void", params={"format": "csv"})
    assert res.status_code == 400
    assert "text/turtle (format=turtle)" in res.json()["error"]["message"]


def test_figures_are_cached_until_the_store_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, store = harvest_demo(tmp_path / "demo")
    calls: list[int] = []
    compute = void_module.compute_stats

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(void_module, "compute_stats", counting)
    trails = source_dataset(config, "itinera-trails")
    with TestClient(create_app(config, store)) as client:
        before = void_graph(client)
        # The service description shares the figures.
        client.get("/sparql", headers={"Accept": "text/turtle"})
        void_graph(client)
        assert len(calls) == 1
        assert class_partitions(before, trails)[str(SCHEMA.TouristTrip)] == 11

        # Publish a new version of the source with one itinerary fewer.
        geojson = config.root / "hub" / "demo" / "data" / "itinera-trails.geojson"
        collection = json.loads(geojson.read_text(encoding="utf-8"))
        collection["features"] = collection["features"][:-1]
        geojson.write_text(json.dumps(collection), encoding="utf-8")
        assert run_source(config, store, "itinera-trails").status == "published"

        after = void_graph(client)
        assert len(calls) == 2
        assert class_partitions(after, trails)[str(SCHEMA.TouristTrip)] == 10
        graph = f"{config.base_iri}graph/itinera-trails"
        assert int(after.value(trails, VOID.triples)) == graph_size(store, graph)
        assert int(after.value(trails, VOID.triples)) < int(before.value(trails, VOID.triples))
        assert after.value(trails, DCTERMS.modified) != before.value(trails, DCTERMS.modified)
    store.close()
