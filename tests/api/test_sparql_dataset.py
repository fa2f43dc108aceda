"""The dataset a query sees, as SPARQL 1.1 says, on every backend (embedded, server, sparql).

Cases modelled on the W3C protocol tests that concern datasets (protocol-given default and
named graphs, both, and a protocol dataset over the query's own FROM) and on the W3C
dataset tests (FROM, FROM NAMED, both), with data of our own: three graphs, each holding
one document. Each backend serves the real app; `sparql` is an `oxigraph serve` spoken to
as any SPARQL 1.1 server (without Oxigraph's `union-default-graph`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import parse_config
from hub.store import HttpStore, OxigraphStore, Store
from hub.store.server import OxigraphServer

EX = "http://example.org/protocol/"
G1, G2, G3 = (f"{EX}graph{i}" for i in (1, 2, 3))
D1, D2, D3 = (f"{EX}doc{i}" for i in (1, 2, 3))
DOCUMENT = "http://xmlns.com/foaf/0.1/Document"
JSON = "application/sparql-results+json"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.fixture(scope="module", params=["embedded", "server", "sparql"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The app over a store holding graph1..graph3 (docN in graphN), on one backend."""
    folder = tmp_path_factory.mktemp(request.param)
    store: Store
    if request.param == "embedded":
        store = OxigraphStore(folder / "store")
    else:
        server = OxigraphServer(folder / "store", timeout_s=10)
        url = server.url
        store = HttpStore(
            f"{url}/query",
            f"{url}/update",
            f"{url}/store",
            oxigraph=request.param == "server",
            on_close=server.stop,
        )
    for graph, doc in ((G1, D1), (G2, D2), (G3, D3)):
        store.load(f"<{doc}> <{RDF_TYPE}> <{DOCUMENT}> .".encode(), ox.RdfFormat.N_TRIPLES, graph)
    config = parse_config({}, folder / "hub.toml")
    with TestClient(create_app(config, store)) as c:
        yield c
    store.close()


def send(client: TestClient, how: str, query: str, params: list[tuple[str, str]]) -> Any:
    """The JSON result of `query` sent by GET, POST form or POST body, with `params`."""
    headers = {"Accept": JSON}
    if how == "get":
        res = client.get("/sparql", params=[("query", query), *params], headers=headers)
    elif how == "form":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode([("query", query), *params]).encode()
        res = client.post("/sparql", content=body, headers=headers)
    else:
        headers["Content-Type"] = "application/sparql-query"
        res = client.post("/sparql", content=query.encode(), params=params, headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def ask(client: TestClient, query: str, *params: tuple[str, str], how: str = "get") -> bool:
    return send(client, how, query, list(params))["boolean"]


def column(client: TestClient, query: str, *params: tuple[str, str]) -> list[str]:
    """The values of the first variable, sorted."""
    body = send(client, "get", query, list(params))
    var = body["head"]["vars"][0]
    return sorted(b[var]["value"] for b in body["results"]["bindings"] if var in b)


def default(*graphs: str) -> list[tuple[str, str]]:
    return [("default-graph-uri", g) for g in graphs]


def named(*graphs: str) -> list[tuple[str, str]]:
    return [("named-graph-uri", g) for g in graphs]


HOW = ["get", "form", "direct"]
DOCS_IN_DEFAULT = "SELECT ?s WHERE { ?s a ?type }"
NAMED_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


# -- the protocol's dataset (W3C protocol tests: query_dataset_*, query_multiple_dataset) --


@pytest.mark.parametrize("how", HOW)
def test_protocol_default_graphs_are_merged(client: TestClient, how: str) -> None:
    query = f"ASK {{ <{D1}> a ?type . <{D2}> a ?type }}"
    assert ask(client, query, *default(G1, G2), how=how)
    assert not ask(client, f"ASK {{ <{D3}> a ?type }}", *default(G1, G2), how=how)


@pytest.mark.parametrize("how", HOW)
def test_protocol_named_graphs_alone(client: TestClient, how: str) -> None:
    query = f"ASK {{ GRAPH ?g1 {{ <{D1}> a ?type }} GRAPH ?g2 {{ <{D2}> a ?type }} }}"
    assert ask(client, query, *named(G1, G2), how=how)
    # named graphs only: the default graph is empty, and graph3 is not in the dataset
    assert not ask(client, "ASK { ?s ?p ?o }", *named(G1, G2), how=how)
    assert column(client, NAMED_GRAPHS, *named(G1, G2)) == [G1, G2]


@pytest.mark.parametrize("how", HOW)
def test_protocol_default_and_named_graphs(client: TestClient, how: str) -> None:
    query = (
        f"ASK {{ <{D3}> a ?type GRAPH ?g1 {{ <{D1}> a ?type }} GRAPH ?g2 {{ <{D2}> a ?type }} }}"
    )
    params = (*default(G3), *named(G1, G2))
    assert ask(client, query, *params, how=how)
    assert not ask(client, f"ASK {{ GRAPH ?g {{ <{D3}> a ?type }} }}", *params, how=how)
    assert not ask(client, f"ASK {{ <{D1}> a ?type }}", *params, how=how)


def test_protocol_default_graph_alone_has_no_named_graphs(client: TestClient) -> None:
    assert column(client, DOCS_IN_DEFAULT, *default(G1)) == [D1]
    assert column(client, NAMED_GRAPHS, *default(G1)) == []


@pytest.mark.parametrize("how", HOW)
def test_protocol_dataset_overrides_the_querys(client: TestClient, how: str) -> None:
    query = f"ASK FROM <{G3}> {{ GRAPH ?g1 {{ <{D1}> a ?type }} GRAPH ?g2 {{ <{D2}> a ?type }} }}"
    assert ask(client, query, *named(G1, G2), how=how)
    # FROM <graph3> is overridden too: named graphs only, so the default graph is empty
    assert not ask(client, f"ASK FROM <{G3}> {{ <{D3}> a ?type }}", *named(G1, G2), how=how)


def test_a_default_graph_that_does_not_exist_is_empty(client: TestClient) -> None:
    missing = f"{EX}no-such-graph"
    assert ask(client, "ASK {}", *default(missing), how="form")
    assert not ask(client, "ASK { ?s ?p ?o }", *default(missing), how="form")


# -- the query's dataset (W3C dataset tests: FROM, FROM NAMED) --


def test_from_gives_exactly_that_default_graph(client: TestClient) -> None:
    assert column(client, f"SELECT ?s FROM <{G1}> WHERE {{ ?s a ?type }}") == [D1]
    both = f"SELECT ?s FROM <{G1}> FROM <{G2}> WHERE {{ ?s a ?type }}"
    assert column(client, both) == [D1, D2]


def test_from_alone_leaves_no_named_graphs(client: TestClient) -> None:
    query = f"SELECT ?g FROM <{G1}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert column(client, query) == []


def test_from_named_alone_empties_the_default_graph(client: TestClient) -> None:
    assert column(client, f"SELECT ?s FROM NAMED <{G1}> WHERE {{ ?s ?p ?o }}") == []
    query = f"SELECT ?g FROM NAMED <{G1}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert column(client, query) == [G1]


def test_from_and_from_named(client: TestClient) -> None:
    query = (
        f"SELECT ?s ?g FROM <{G1}> FROM NAMED <{G2}> "
        "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    )
    body = send(client, "get", query, [])
    rows = sorted(
        (b["s"]["value"], b.get("g", {}).get("value")) for b in body["results"]["bindings"]
    )
    assert rows == [(D1, None), (D2, G2)]


def test_from_in_a_construct(client: TestClient) -> None:
    res = client.get(
        "/sparql",
        params={"query": f"CONSTRUCT {{ ?s ?p ?o }} FROM <{G2}> WHERE {{ ?s ?p ?o }}"},
        headers={"Accept": "application/n-triples"},
    )
    assert res.status_code == 200, res.text
    assert [str(t.subject.value) for t in ox.parse(res.content, ox.RdfFormat.N_TRIPLES)] == [D2]


def test_words_that_only_look_like_from_change_nothing(client: TestClient) -> None:
    query = 'SELECT ?s WHERE { ?s a ?type FILTER(?type != "FROM <x>") } # FROM NAMED <y>'
    assert column(client, query) == [D1, D2, D3]


# -- no dataset named: the union default graph, as the service description says --


def test_without_a_dataset_the_default_graph_is_the_union(client: TestClient) -> None:
    assert column(client, DOCS_IN_DEFAULT) == [D1, D2, D3]
    assert column(client, NAMED_GRAPHS) == [G1, G2, G3]


# -- relative IRIs --


def test_relative_iris_resolve_against_the_endpoint(client: TestClient) -> None:
    query = "SELECT ?x WHERE { BIND(<here#it> AS ?x) }"
    assert column(client, query) == ["http://testserver/here#it"]
    assert column(client, "BASE <http://other.example/a/> " + query) == [
        "http://other.example/a/here#it"
    ]


def test_a_syntax_error_points_at_the_querys_own_line(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": "SELECT ?x\nWHERE { ?x ?y }"})
    assert res.status_code == 400
    assert "2:" in res.json()["error"]["message"] and "3:" not in res.json()["error"]["message"]
