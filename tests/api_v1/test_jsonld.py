"""JSON-LD of /api/v1 is the data: every demo entity, expanded, is isomorphic to the store's triples.

The store's triples of an entity are grouped as the change feed groups them
(`hub.feed._derive`: the entity's node, `<entity>/…` sub-resources, skolem nodes).
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import graph_diff, isomorphic

from hub.feed._derive import group_version
from hub.iris import SCHEMA, Iris
from tests.api_v1.conftest import DemoHub

LD = {"Accept": "application/ld+json"}


@pytest.fixture(scope="module")
def store_entities(demo_hub: DemoHub, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """source -> entity IRI -> the store's triples of that entity (rdflib Graph)."""
    iris = Iris(demo_hub.config.base_iri)
    folder = tmp_path_factory.mktemp("jsonld")
    found: dict[str, dict[str, Graph]] = {}
    for source in demo_hub.config.sources:
        dump = folder / f"{source}.nt"
        dump.write_bytes(demo_hub.store.dump_graph(iris.source_graph(source)))
        prefix = iris.entity_prefix(source)
        grouping = group_version(dump, prefix)
        lines: dict[str, list[bytes]] = {}
        for line in dump.read_bytes().splitlines():  # the store's order: not sorted
            if line.startswith(b"<"):
                owner = grouping.owner(line[1 : line.index(b">")].decode("utf-8"))
                lines.setdefault(owner, []).append(line)
        found[source] = {
            owner: Graph().parse(data=b"\n".join(group).decode(), format="nt")
            for owner, group in lines.items()
        }
    return found


def _all_items(client: TestClient) -> list[dict]:
    items, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/entities?size=500&sort=name{cursor}").json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        cursor = f"&cursor={page['next_cursor']}"


def _explain(expected: Graph, got: Graph) -> str:
    _, only_store, only_jsonld = graph_diff(expected, got)
    return f"only in the store: {sorted(only_store)[:5]}\nonly in the JSON-LD: {sorted(only_jsonld)[:5]}"


def test_every_entity_is_isomorphic_to_the_store(
    client: TestClient, demo_hub: DemoHub, store_entities: dict
) -> None:
    iris = Iris(demo_hub.config.base_iri)
    items = _all_items(client)
    assert len(items) > 100
    for item in items:
        source = item["source"]
        response = client.get(f"/api/v1/entities/{item['id']}", headers=LD)
        assert response.headers["content-type"] == "application/ld+json"
        dataset = Dataset().parse(data=response.text, format="json-ld")
        got = Graph()
        for triple in dataset.graph(URIRef(iris.source_graph(source))):
            got.add(triple)
        expected = store_entities[source][item["iri"]]
        assert len(expected) > 0, item["id"]
        assert isomorphic(expected, got), f"{item['id']}:\n{_explain(expected, got)}"
        # Nothing else, but the catalogue's node about the source's dataset.
        others = {
            (str(g.identifier), str(s))
            for g in dataset.graphs()
            if str(g.identifier) != iris.source_graph(source)
            for s in g.subjects()
        }
        assert others <= {("urn:x-rdflib:default", iris.dataset(source))}, others
    print(f"\n{len(items)} entities: JSON-LD isomorphic to the store's triples")


def test_list_pages_are_isomorphic_too(
    client: TestClient, demo_hub: DemoHub, store_entities: dict
) -> None:
    iris = Iris(demo_hub.config.base_iri)
    seen = 0
    for source, entities in store_entities.items():
        body = client.get(f"/api/v1/entities?source={source}&size=500&format=jsonld").text
        dataset = Dataset().parse(data=body, format="json-ld")
        got = Graph()
        for triple in dataset.graph(URIRef(iris.source_graph(source))):
            got.add(triple)
        listed = {
            i["iri"]
            for i in client.get(f"/api/v1/entities?source={source}&size=500").json()["items"]
        }
        expected = Graph()
        for iri in listed:
            for triple in entities[iri]:
                expected.add(triple)
        assert isomorphic(expected, got), f"{source}:\n{_explain(expected, got)}"
        seen += len(listed)
    assert seen > 100


def test_values_keep_their_datatypes_and_ids_are_the_sources(client: TestClient) -> None:
    doc = client.get("/api/v1/entities/smartdest-offer/cor-0001", headers=LD).json()
    node = doc["@graph"][0]["@graph"][0]
    assert node["@id"] == "https://hub.example.org/id/smartdest-offer/cor-0001"
    assert node["identifier"] == "cor-0001"  # the source's own key, not source/key
    assert node["latitude"] == {"@value": "41.9178", "@type": "xsd:decimal"}
    assert node["address"]["@type"] == ["PostalAddress"]  # sub-resources nested
    assert node["geosparql:hasGeometry"]["geosparql:asWKT"]["@type"] == "geosparql:wktLiteral"
    for added in ("license", "isBasedOn", "mh:project"):
        assert added not in node
    dataset = doc["@graph"][1]
    assert dataset["@id"] == "https://hub.example.org/id/source/smartdest-offer"
    assert dataset["dct:license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}


def test_the_context_is_served_and_agrees_with_schema_org(client: TestClient) -> None:
    response = client.get("/api/v1/context.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    context = response.json()["@context"]
    # schema.org's own context (https://schema.org/docs/jsonldcontext.jsonld) has this @vocab
    assert context["@vocab"] == context["schema"] == SCHEMA == "http://schema.org/"
    # `geo` is schema:geo there; a GeoSPARQL prefix of that name would change its meaning
    assert "geo" not in context
    inline = client.get("/api/v1/entities?size=1&format=jsonld").json()["@context"]
    assert inline == context
    openapi = json.dumps(client.get("/openapi.json").json())
    assert "/api/v1/context.jsonld" in openapi


def test_demo_data_has_no_other_schema_spelling(demo_hub: DemoHub) -> None:
    assert not demo_hub.store.ask(
        'ASK { GRAPH ?g { ?s ?p ?o FILTER(STRSTARTS(STR(?p), "https://schema.org/") '
        '|| (isIRI(?o) && STRSTARTS(STR(?o), "https://schema.org/"))) } }'
    )
