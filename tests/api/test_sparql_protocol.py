"""/sparql speaks the SPARQL 1.1 Protocol query operation: GET, POST form, POST body, datasets."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.api_sample import GRAPH_A, GRAPH_B

NAMES = "SELECT ?name WHERE { ?s <http://schema.org/name> ?name } ORDER BY ?name"
JSON = "application/sparql-results+json"


def names(body: dict[str, Any]) -> list[str]:
    """The ?name values of a JSON SELECT result."""
    return [b["name"]["value"] for b in body["results"]["bindings"]]


ALL_NAMES = [
    "Faro di Livorno",
    'Hôtel "La Mer", Calvi',
    "Torre di Calafuria",
    "Tour de Calafuria",
]


def send(client: TestClient, how: str, query: str, **params: Any):
    """Send `query` by GET, POST form, or POST application/sparql-query."""
    headers = {"Accept": JSON}
    if how == "get":
        return client.get("/sparql", params={"query": query, **params}, headers=headers)
    if how == "form":
        return client.post("/sparql", data={"query": query, **params}, headers=headers)
    headers["Content-Type"] = "application/sparql-query"
    return client.post("/sparql", content=query.encode(), params=params, headers=headers)


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_every_protocol_variant_answers(client: TestClient, how: str) -> None:
    res = send(client, how, NAMES)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == JSON
    assert names(res.json()) == ALL_NAMES


def test_default_graph_is_the_union_of_named_graphs(client: TestClient) -> None:
    res = send(client, "get", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert res.json()["results"]["bindings"][0]["n"]["value"] == "10"


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_default_graph_uri_restricts_the_default_graph(client: TestClient, how: str) -> None:
    res = send(client, how, NAMES, **{"default-graph-uri": GRAPH_B})
    assert res.status_code == 200, res.text
    assert names(res.json()) == ['Hôtel "La Mer", Calvi']


def test_several_default_graph_uris_are_merged(client: TestClient) -> None:
    res = client.get(
        "/sparql",
        params=[("query", NAMES), ("default-graph-uri", GRAPH_A), ("default-graph-uri", GRAPH_B)],
    )
    assert names(res.json()) == ALL_NAMES


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_named_graph_uri_limits_graph_clauses(client: TestClient, how: str) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    res = send(client, how, query, **{"named-graph-uri": GRAPH_A})
    assert [b["g"]["value"] for b in res.json()["results"]["bindings"]] == [GRAPH_A]


def test_default_graph_uri_alone_gives_no_named_graphs(client: TestClient) -> None:
    # SPARQL 1.1 Protocol: the request's dataset is exactly what it names.
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    res = send(client, "get", query, **{"default-graph-uri": GRAPH_A})
    assert res.json()["results"]["bindings"] == []


@pytest.mark.parametrize("how", ["get", "form"])
def test_missing_query_says_how_to_send_one(client: TestClient, how: str) -> None:
    if how == "get":
        res = client.get("/sparql", headers={"Accept": JSON})
    else:
        res = client.post("/sparql", data={"format": "json"}, headers={"Accept": JSON})
    assert res.status_code == 400
    message = res.json()["error"]["message"]
    assert "query=" in message and "application/sparql-query" in message


def test_empty_body_is_a_missing_query(client: TestClient) -> None:
    res = client.post("/sparql", content=b"", headers={"Content-Type": "application/sparql-query"})
    assert res.status_code == 400
    assert "no query given" in res.json()["error"]["message"]


def test_two_queries_are_refused(client: TestClient) -> None:
    res = client.get("/sparql", params=[("query", NAMES), ("query", NAMES)])
    assert res.status_code == 400
    assert "exactly one" in res.json()["error"]["message"]


def test_unknown_body_type_is_415(client: TestClient) -> None:
    res = client.post("/sparql", json={"query": NAMES})
    assert res.status_code == 415
    assert "application/sparql-query" in res.json()["error"]["message"]


def test_graph_uri_that_is_not_an_iri_is_400(client: TestClient) -> None:
    res = send(client, "get", NAMES, **{"named-graph-uri": "not an iri"})
    assert res.status_code == 400
    assert "named-graph-uri `not an iri`" in res.json()["error"]["message"]


def test_cors_allows_any_origin(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": NAMES}, headers={"Origin": "https://x.example"})
    assert res.headers["access-control-allow-origin"] == "*"
    pre = client.options(
        "/sparql",
        headers={
            "Origin": "https://x.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]
