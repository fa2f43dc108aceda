"""/sparql refuses updates and federated queries, reports malformed queries, and bounds results."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.store import OxigraphStore
from tests.api.api_sample import all_quads

INSERT = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
UPDATES = [
    INSERT,
    "PREFIX ex: <urn:ex:> DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "DROP GRAPH <https://hub.example.org/graph/alpha>",
    "LOAD <http://127.0.0.1:1/data.ttl>",
    "CREATE GRAPH <urn:new>",
]


def parser_message(query: str) -> str:
    """What pyoxigraph's own parser says about `query`."""
    with pytest.raises(SyntaxError) as info:
        ox.Store().query(query)
    return str(info.value)


@pytest.mark.parametrize("update", UPDATES)
def test_update_form_field_is_403_and_store_unchanged(
    client: TestClient, store: OxigraphStore, update: str
) -> None:
    before = all_quads(store)
    res = client.post("/sparql", data={"update": update})
    assert res.status_code == 403
    assert "read-only" in res.json()["error"]["message"]
    assert all_quads(store) == before


@pytest.mark.parametrize("update", UPDATES)
def test_sparql_update_body_is_403_and_store_unchanged(
    client: TestClient, store: OxigraphStore, update: str
) -> None:
    before = all_quads(store)
    res = client.post(
        "/sparql", content=update, headers={"Content-Type": "application/sparql-update"}
    )
    assert res.status_code == 403
    assert "read-only" in res.json()["error"]["message"]
    assert all_quads(store) == before


def test_update_parameter_on_get_is_403(client: TestClient, store: OxigraphStore) -> None:
    before = all_quads(store)
    res = client.get("/sparql", params={"update": INSERT})
    assert res.status_code == 403
    assert all_quads(store) == before


@pytest.mark.parametrize("update", UPDATES)
def test_update_sent_as_query_is_a_parse_error(
    client: TestClient, store: OxigraphStore, update: str
) -> None:
    before = all_quads(store)
    res = client.post("/sparql", data={"query": update})
    assert res.status_code == 400
    message = res.json()["error"]["message"]
    assert parser_message(update) in message
    assert "read-only" in message
    assert all_quads(store) == before


@pytest.mark.parametrize(
    "query",
    ["SELEC ?s WHERE { ?s ?p ?o }", "SELECT ?s WHERE { ?s ?p }", "SELECT * { ?s ex:p ?o }"],
)
def test_malformed_query_is_400_with_the_parser_message(client: TestClient, query: str) -> None:
    res = client.get("/sparql", params={"query": query})
    assert res.status_code == 400
    message = res.json()["error"]["message"]
    assert parser_message(query) in message
    assert "read-only" not in message


def test_errors_are_plain_text_for_clients_that_do_not_accept_json(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": "SELEC"}, headers={"Accept": "text/csv"})
    assert res.status_code == 400
    assert res.headers["content-type"].startswith("text/plain")
    assert res.text.startswith("malformed query: ")


def test_errors_are_json_by_default(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": "SELEC"})
    body = res.json()
    assert body["error"]["status"] == 400
    assert body["error"]["message"].startswith("malformed query: ")


def test_framework_errors_share_the_shape(client: TestClient) -> None:
    res = client.get("/nowhere")
    assert res.status_code == 404
    assert res.json() == {"error": {"status": 404, "message": "Not Found"}}
    res = client.put("/sparql")
    assert res.status_code == 405
    assert res.json()["error"]["status"] == 405


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
        "select * { ?s ?p ?o . service silent <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    ],
)
def test_service_is_refused(client: TestClient, query: str) -> None:
    res = client.get("/sparql", params={"query": query})
    assert res.status_code == 403
    assert "SERVICE" in res.json()["error"]["message"]


def test_the_word_service_in_data_is_fine(client: TestClient) -> None:
    query = (
        "PREFIX service: <urn:service:> SELECT ?service WHERE "
        '{ ?service ?p "service" . OPTIONAL { ?service service:SERVICE ?x } } # SERVICE'
    )
    assert client.get("/sparql", params={"query": query}).status_code == 200


def test_result_over_the_size_limit_is_refused_not_truncated(
    app: FastAPI, client: TestClient
) -> None:
    query = "SELECT * WHERE { ?s ?p ?o }"
    full = client.get("/sparql", params={"query": query})
    app.state.max_result_bytes = len(full.content) - 1
    res = client.get("/sparql", params={"query": query})
    assert res.status_code == 413
    message = res.json()["error"]["message"]
    assert f"limit of {len(full.content) - 1} bytes" in message and "LIMIT" in message
    app.state.max_result_bytes = len(full.content)
    assert client.get("/sparql", params={"query": query}).content == full.content


def test_construct_over_the_size_limit_is_refused(app: FastAPI, client: TestClient) -> None:
    app.state.max_result_bytes = 100
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    res = client.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    assert res.status_code == 413
    assert res.headers["content-type"].startswith("text/plain")


def test_the_result_size_limit_is_the_configured_one(demo_config) -> None:
    from hub.api import create_app
    from hub.store import open_store

    demo_config.store.max_result_bytes = 12345
    store = open_store(demo_config.store_path)
    try:
        assert create_app(demo_config, store).state.max_result_bytes == 12345
    finally:
        store.close()
