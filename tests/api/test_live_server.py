"""Real clients (SPARQLWrapper, rdflib's SPARQLStore, httpx) against a real uvicorn server."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, POSTDIRECTLY, TURTLE, XML, SPARQLWrapper

from tests.api.api_sample import ALPHA, BETA, GRAPH_A

SELECT = "SELECT ?s ?name WHERE { ?s <http://schema.org/name> ?name } ORDER BY ?name"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def both_graphs() -> rdflib.Graph:
    """Both sample graphs merged."""
    g = rdflib.Graph().parse(data=ALPHA, format="turtle")
    return g.parse(data=BETA, format="turtle")


@pytest.mark.parametrize("method", ["GET", "POST", "POSTDIRECTLY"])
def test_sparqlwrapper_select_json(live_url: str, method: str) -> None:
    sparql = SPARQLWrapper(live_url)
    sparql.setQuery(SELECT)
    sparql.setReturnFormat(JSON)
    if method != "GET":
        sparql.setMethod(POST)
    if method == "POSTDIRECTLY":
        sparql.setRequestMethod(POSTDIRECTLY)
    data = sparql.queryAndConvert()
    assert [b["name"]["value"] for b in data["results"]["bindings"]] == [
        "Faro di Livorno",
        'Hôtel "La Mer", Calvi',
        "Torre di Calafuria",
        "Tour de Calafuria",
    ]


def test_sparqlwrapper_select_xml_with_default_graph(live_url: str) -> None:
    sparql = SPARQLWrapper(live_url, defaultGraph=GRAPH_A)
    sparql.setQuery(SELECT)
    sparql.setReturnFormat(XML)
    doc = sparql.queryAndConvert()
    names = [n.firstChild.data for n in doc.getElementsByTagName("literal")]
    assert names == ["Faro di Livorno", "Torre di Calafuria", "Tour de Calafuria"]


def test_sparqlwrapper_ask(live_url: str) -> None:
    sparql = SPARQLWrapper(live_url)
    sparql.setQuery("ASK { ?s a <http://schema.org/TouristAttraction> }")
    sparql.setReturnFormat(JSON)
    assert sparql.queryAndConvert()["boolean"] is True


def test_sparqlwrapper_construct_turtle(live_url: str) -> None:
    sparql = SPARQLWrapper(live_url)
    sparql.setQuery(CONSTRUCT)
    sparql.setReturnFormat(TURTLE)
    body = sparql.queryAndConvert()
    got = rdflib.Graph().parse(data=body, format="turtle")
    assert isomorphic(got, both_graphs())


def test_sparqlwrapper_sees_the_parser_error(live_url: str) -> None:
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    sparql = SPARQLWrapper(live_url)
    sparql.setQuery("SELECT ?s WHERE { ?s ?p }")
    sparql.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed, match="malformed query"):
        sparql.query()


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore(live_url: str, method: str) -> None:
    graph = rdflib.Graph(SPARQLStore(live_url, method=method))
    rows = graph.query(SELECT)
    assert [str(r.name) for r in rows][0] == "Faro di Livorno"
    assert graph.query("ASK { ?s ?p ?o }").askAnswer is True
    got = graph.query(CONSTRUCT).graph
    assert isomorphic(got, both_graphs())


def test_rdflib_sparqlstore_named_graph(live_url: str) -> None:
    store = SPARQLStore(live_url)
    graph = rdflib.Graph(store, identifier=rdflib.URIRef(GRAPH_A))
    assert len(list(graph.query(SELECT))) == 3


def test_slow_query_does_not_block_the_server(live_url: str) -> None:
    # Seven patterns over the 10 sample triples: a 10**7-row join, seconds of work.
    patterns = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(7))
    slow = f"SELECT (COUNT(*) AS ?n) WHERE {{ {patterns} }}"
    answer: dict[str, object] = {}

    def run_slow() -> None:
        started = time.monotonic()
        res = httpx.get(live_url, params={"query": slow}, timeout=120)
        answer["n"] = res.json()["results"]["bindings"][0]["n"]["value"]
        answer["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=run_slow)
    worker.start()
    time.sleep(0.2)
    started = time.monotonic()
    health = httpx.get(live_url.replace("/sparql", "/health"), timeout=30)
    health_seconds = time.monotonic() - started
    worker.join(120)
    assert health.json()["status"] == "ok"
    assert answer["n"] == str(10**7)
    assert health_seconds < float(answer["seconds"]) / 2  # type: ignore[arg-type]
