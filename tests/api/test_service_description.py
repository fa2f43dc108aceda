"""A bare GET /sparql describes the service (SPARQL 1.1 Service Description) to RDF clients."""

from __future__ import annotations

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import RDF, RDFS

from hub.config import HubConfig
from hub.store import OxigraphStore
from tests.api.api_sample import GRAPH_A, GRAPH_B

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")


def description(
    client: TestClient, accept: str | None = "text/turtle", **params: str
) -> rdflib.Graph:
    """The service description, parsed in whatever RDF format it came in."""
    headers = {"Accept": accept} if accept else {}
    res = client.get("/sparql", params=params, headers=headers)
    assert res.status_code == 200, res.text
    media = res.headers["content-type"].split(";")[0]
    rdflib_format = {
        "text/turtle": "turtle",
        "application/n-triples": "nt",
        "application/ld+json": "json-ld",
        "application/rdf+xml": "xml",
    }[media]
    return rdflib.Graph().parse(data=res.content, format=rdflib_format)


def the_service(graph: rdflib.Graph) -> rdflib.term.Node:
    services = list(graph.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    return services[0]


def test_turtle_description_names_the_endpoint_language_and_union(client: TestClient) -> None:
    g = description(client)
    service = the_service(g)
    assert g.value(service, SD.endpoint) == rdflib.URIRef("http://testserver/sparql")
    assert set(g.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}
    assert SD.UnionDefaultGraph in set(g.objects(service, SD.feature))
    assert SD.BasicFederatedQuery not in set(g.objects(service, SD.feature))  # SERVICE is refused


def test_result_formats_are_the_ones_served(client: TestClient) -> None:
    g = description(client)
    formats = set(g.objects(the_service(g), SD.resultFormat))
    assert formats == {
        FORMATS.SPARQL_Results_JSON,
        FORMATS.SPARQL_Results_XML,
        FORMATS.SPARQL_Results_CSV,
        FORMATS.SPARQL_Results_TSV,
        FORMATS.Turtle,
        FORMATS["N-Triples"],
        FORMATS["JSON-LD"],
        FORMATS.RDF_XML,
    }


def test_default_dataset_lists_every_named_graph_with_its_size(client: TestClient) -> None:
    g = description(client)
    dataset = g.value(the_service(g), SD.defaultDataset)
    default = g.value(dataset, SD.defaultGraph)
    assert int(g.value(default, VOID.triples)) == 10
    sizes = {}
    for named in g.objects(dataset, SD.namedGraph):
        graph = g.value(named, SD.graph)
        sizes[str(g.value(named, SD.name))] = int(g.value(graph, VOID.triples))
    assert sizes == {GRAPH_A: 6, GRAPH_B: 4}


def test_description_links_the_void_description(client: TestClient) -> None:
    g = description(client)
    service = the_service(g)
    void_url = str(g.value(service, RDFS.seeAlso))
    assert void_url == "http://testserver/void"
    assert g.value(g.value(service, SD.defaultDataset), RDFS.seeAlso) == rdflib.URIRef(void_url)
    assert client.get(void_url, headers={"Accept": "text/turtle"}).status_code == 200


@pytest.mark.parametrize(
    "accept",
    [
        "application/ld+json",
        "application/n-triples",
        "application/rdf+xml",
        "text/turtle;q=0.5, application/ld+json;q=0.9",
        "*/*",
        None,
    ],
)
def test_every_rdf_format_and_wildcards_get_the_description(
    client: TestClient, accept: str | None
) -> None:
    the_service(description(client, accept))


def test_format_parameter_picks_the_description_format(client: TestClient) -> None:
    res = client.get("/sparql", params={"format": "jsonld"}, headers={"Accept": "text/html"})
    assert res.headers["content-type"].startswith("application/ld+json")
    the_service(description(client, "text/html", format="nt"))


@pytest.mark.parametrize(
    "accept", ["application/sparql-results+json", "application/json", "application/xml", "text/csv"]
)
def test_clients_expecting_results_are_told_to_send_a_query(
    client: TestClient, accept: str
) -> None:
    res = client.get("/sparql", headers={"Accept": accept})
    assert res.status_code == 400
    assert "no query given" in res.text


def test_format_json_without_a_query_is_still_a_missing_query(client: TestClient) -> None:
    res = client.get("/sparql", params={"format": "json"})
    assert res.status_code == 400


def test_browsers_still_get_the_query_page(client: TestClient) -> None:
    res = client.get("/sparql", headers={"Accept": "text/html,application/xml;q=0.9,*/*;q=0.8"})
    assert res.headers["content-type"].startswith("text/html")
    assert "Accept" in res.headers["vary"]


def test_demo_description_lists_source_meta_and_programme_graphs(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, store = demo_hub
    g = description(demo_client)
    dataset = g.value(the_service(g), SD.defaultDataset)
    named = {
        str(g.value(n, SD.name)): g.value(n, SD.graph) for n in g.objects(dataset, SD.namedGraph)
    }
    base = config.base_iri
    assert set(named) == set(store.named_graphs())
    ours = {f"{base}graph/meta", f"{base}graph/programme"}
    assert {f"{base}graph/{s}" for s in config.sources} | ours <= set(named)
    # Each named graph's node is the void:Dataset that /void describes.
    void = rdflib.Graph().parse(data=demo_client.get("/void").content, format="turtle")
    for graph_node in named.values():
        assert (graph_node, RDF.type, VOID.Dataset) in void
    assert named[f"{base}graph/itinera-trails"] == rdflib.URIRef(f"{base}id/source/itinera-trails")


def test_geosparql_functions_the_store_evaluates_are_listed(client: TestClient) -> None:
    g = description(client)
    geof = rdflib.Namespace("http://www.opengis.net/def/function/geosparql/")
    functions = set(g.objects(the_service(g), SD.extensionFunction))
    assert {geof.sfWithin, geof.sfIntersects, geof.distance, geof.asGeoJSON} <= functions
    assert geof.buffer not in functions and geof.area not in functions
    assert all((f, RDF.type, SD.Function) in g for f in functions)
