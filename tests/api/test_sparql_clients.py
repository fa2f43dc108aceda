"""Common clients, as they are, against the hub served by uvicorn on loopback.

SPARQLWrapper in every return format it has (it sends `format=`, `output=` and `results=`
beside Accept, some with media types in them), and rdflib's SPARQLStore with JSON and
XML results, asking SELECT, ASK and CONSTRUCT, on the embedded and the server backends.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import uvicorn
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    RDF,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)

from hub.api import create_app
from hub.config import parse_config
from hub.store import HttpStore, OxigraphStore, Store
from hub.store.server import OxigraphServer
from tests.api.api_sample import ALPHA, BETA, GRAPH_A, GRAPH_B

SELECT = "SELECT ?name WHERE { ?s <http://schema.org/name> ?name } ORDER BY ?name"
ASK = "ASK { ?s a <http://schema.org/LodgingBusiness> }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
NAMES = ["Faro di Livorno", 'Hôtel "La Mer", Calvi', "Torre di Calafuria", "Tour de Calafuria"]


def both_graphs() -> rdflib.Graph:
    g = rdflib.Graph().parse(data=ALPHA, format="turtle")
    return g.parse(data=BETA, format="turtle")


@pytest.fixture(scope="module", params=["embedded", "server"])
def endpoint(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """/sparql of the hub on a free loopback port, over the two sample graphs."""
    folder: Path = tmp_path_factory.mktemp(request.param)
    store: Store
    if request.param == "embedded":
        store = OxigraphStore(folder / "store")
    else:
        server = OxigraphServer(folder / "store", timeout_s=10)
        url = server.url
        store = HttpStore(
            f"{url}/query", f"{url}/update", f"{url}/store", oxigraph=True, on_close=server.stop
        )
    store.load(ALPHA, ox.RdfFormat.TURTLE, GRAPH_A)
    store.load(BETA, ox.RdfFormat.TURTLE, GRAPH_B)
    app = create_app(parse_config({}, folder / "hub.toml"), store)
    web = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not web.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    port = web.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/sparql"
    web.should_exit = True
    thread.join(10)
    store.close()


def wrapper(endpoint: str, query: str, fmt: str, method: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(endpoint)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    if method == "POST":
        sparql.setMethod(POST)
    return sparql


def table(text: bytes, delimiter: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.decode("utf-8")), delimiter=delimiter))
    return [row[0] for row in rows[1:]]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_in_every_results_format(endpoint: str, method: str) -> None:
    data = wrapper(endpoint, SELECT, JSON, method).queryAndConvert()
    assert [b["name"]["value"] for b in data["results"]["bindings"]] == NAMES
    doc = wrapper(endpoint, SELECT, XML, method).queryAndConvert()
    assert [n.firstChild.data for n in doc.getElementsByTagName("literal")] == NAMES
    assert table(wrapper(endpoint, SELECT, CSV, method).queryAndConvert(), ",") == NAMES
    tsv = wrapper(endpoint, SELECT, TSV, method).queryAndConvert().decode("utf-8")
    cells = [line for line in tsv.splitlines()[1:]]  # TSV writes terms, as in Turtle
    assert [rdflib.util.from_n3(cell).value for cell in cells] == NAMES


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_ask(endpoint: str, fmt: str) -> None:
    result = wrapper(endpoint, ASK, fmt, "GET").query()
    assert result.response.status == 200
    body = result.response.read()
    assert b"true" in body.lower()


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        (XML, "application/rdf+xml"),
        (RDFXML, "application/rdf+xml"),
        (RDF, "application/rdf+xml"),
        (TURTLE, "text/turtle"),
        (N3, "text/turtle"),
        (JSONLD, "application/ld+json"),
        (JSON, "application/ld+json"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_construct_in_every_graph_format(
    endpoint: str, fmt: str, media_type: str, method: str
) -> None:
    result = wrapper(endpoint, CONSTRUCT, fmt, method).query()
    assert result.response.headers["Content-Type"].split(";")[0] == media_type
    rdflib_format = {
        "application/rdf+xml": "xml",
        "text/turtle": "turtle",
        "application/ld+json": "json-ld",
    }[media_type]
    got = rdflib.Graph().parse(data=result.response.read(), format=rdflib_format)
    assert isomorphic(got, both_graphs())


def test_sparqlwrapper_converts_graphs(endpoint: str) -> None:
    for fmt in (XML, RDFXML, JSONLD):
        converted = wrapper(endpoint, CONSTRUCT, fmt, "GET").queryAndConvert()
        assert isinstance(converted, rdflib.Graph) and isomorphic(converted, both_graphs()), fmt


@pytest.mark.parametrize("return_format", ["json", "xml"])
@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore_select_ask_construct(
    endpoint: str, return_format: str, method: str
) -> None:
    graph = rdflib.Graph(SPARQLStore(endpoint, returnFormat=return_format, method=method))
    assert [str(r.name) for r in graph.query(SELECT)] == NAMES
    assert graph.query(ASK).askAnswer is True
    assert graph.query("ASK { ?s a <http://schema.org/Nothing> }").askAnswer is False
    # rdflib asks a CONSTRUCT with its results type only (JSON: JSON-LD comes back)
    assert isomorphic(graph.query(CONSTRUCT).graph, both_graphs())
