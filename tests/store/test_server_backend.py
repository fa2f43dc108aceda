"""The default backend: the store in a child `oxigraph serve`, with a query time limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import HubConfig, load_config
from hub.demo import build_demo_databases
from hub.demo.servers import demo_servers, point_config_at
from hub.errors import QueryTimeoutError, StoreError
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.store import HttpStore, connect_store
from hub.store.server import running_server
from tests.api.demo_hub import copy_demo

# Oxigraph's --timeout-s cancels this one itself (and cuts the body it has begun)...
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?x { ?g ?h ?i } GRAPH ?y { ?j ?k ?l } }"
# ...but not this one (seen with 0.5.13): the hub gives up and restarts its child server.
STUBBORN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LIGHT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://hub.example.org/graph/itinera-trails> { ?s a <http://schema.org/TouristTrip> } }"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubConfig, HttpStore]]:
    """The demo harvested through the default backend (3 s query limit), once for the module.

    The tests read it and never change its data (the last one restarts the child server,
    which keeps the data); a harvest of the demo per test cost ~10 s each.
    """
    root = copy_demo(tmp_path_factory.mktemp("served") / "demo")
    build_demo_databases(root)
    with demo_servers(fixed_ports=False) as running:
        point_config_at(root / "hub.toml", running)
        config = load_config(root / "hub.toml")
        config.store.timeout_s = 3
        store = connect_store(config)
        load_programme(store, config)
        for source in config.sources:
            assert run_source(config, store, source).ok
    yield config, store
    store.close()


def test_the_default_backend_is_a_child_server(served) -> None:
    config, store = served
    assert isinstance(store, HttpStore)
    info = running_server(config.store_path)
    assert info is not None and info["url"] in store.query_url
    # a second writer is refused with a message that says what to do
    with pytest.raises(StoreError, match="Stop it to run this command"):
        connect_store(config)
    # a reader shares the running server
    reader = connect_store(config, write=False)
    assert reader.graph_size(config.base_iri + "graph/itinera-trails") > 0


def test_a_heavy_query_is_stopped_while_a_light_one_answers(served) -> None:
    config, store = served
    client = TestClient(create_app(config, store))
    outcome: dict[str, object] = {}

    def heavy() -> None:
        started = time.monotonic()
        response = client.post(
            "/sparql", data={"query": HEAVY}, headers={"Accept": "application/sparql-results+json"}
        )
        outcome["heavy"] = (response.status_code, response.json(), time.monotonic() - started)

    thread = threading.Thread(target=heavy)
    thread.start()
    time.sleep(0.3)
    light = client.get(
        "/sparql", params={"query": LIGHT}, headers={"Accept": "application/sparql-results+json"}
    )
    heavy_still_running = "heavy" not in outcome
    thread.join(30)
    assert light.status_code == 200
    assert int(light.json()["results"]["bindings"][0]["n"]["value"]) == 11
    assert heavy_still_running  # the light query was answered while the heavy one ran
    status, body, seconds = outcome["heavy"]
    assert status == 503
    assert "longer than the limit of 3 s" in body["error"]["message"]
    assert seconds < 10


def test_the_store_turns_a_cut_body_into_an_error(served) -> None:
    _, store = served
    with pytest.raises(QueryTimeoutError):
        store.query(HEAVY)


def test_publish_and_provenance_go_through_http(served) -> None:
    config, store = served
    assert store.has_graph(config.base_iri + "graph/meta")
    graphs = store.named_graphs()
    assert {config.base_iri + f"graph/{s}" for s in config.sources} <= set(graphs)


def test_a_query_the_server_cannot_stop_is_stopped_by_a_restart(served) -> None:
    config, store = served
    before = running_server(config.store_path)["pid"]
    with pytest.raises(QueryTimeoutError, match="limit of 3 s"):
        store.query(STUBBORN)
    after = running_server(config.store_path)["pid"]
    assert after != before  # the stuck query died with the old server process
    assert (
        store.graph_size(config.base_iri + "graph/itinera-trails") > 0
    )  # and the data is all there
