"""The store's child server is supervised: killed, it comes back on the same port and folder."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.api import create_app
from hub.config import HubConfig, parse_config
from hub.errors import StoreError
from hub.store import HttpStore, connect_store
from hub.store.server import OxigraphServer, running_server

GRAPH = "https://hub.example.org/graph/alpha"
DATA = "".join(
    f'<https://hub.example.org/id/{n}> <http://schema.org/name> "place {n}" .\n' for n in range(50)
)
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[HubConfig, HttpStore, OxigraphServer]]:
    """The default backend (a child `oxigraph serve`) on a small store."""
    config = parse_config({}, tmp_path / "hub.toml")
    store = connect_store(config)
    assert isinstance(store, HttpStore) and store.server is not None
    store.load(DATA, ox.RdfFormat.N_TRIPLES, GRAPH)
    yield config, store, store.server
    store.close()


def kill(server: OxigraphServer) -> int:
    pid = server.process.pid
    os.kill(pid, signal.SIGKILL)
    return pid


def restarts(client: TestClient, reason: str) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "hub_store_restarts_total" and sample.labels == {"reason": reason}:
                return sample.value
    raise AssertionError("no hub_store_restarts_total series")


def test_sigkill_while_serving_queries_answer_again_within_30_s(
    served: tuple[HubConfig, HttpStore, OxigraphServer], caplog: pytest.LogCaptureFixture
) -> None:
    config, store, server = served
    url = store.query_url
    with TestClient(create_app(config, store)) as client:
        assert client.get("/sparql", params={"query": COUNT}, headers=JSON).status_code == 200
        assert restarts(client, "died") == 0
        with caplog.at_level(logging.WARNING, logger="hub.store"):
            old = kill(server)
            killed = time.monotonic()
            while True:
                res = client.get("/sparql", params={"query": COUNT}, headers=JSON)
                if res.status_code == 200:
                    break
                assert time.monotonic() - killed < 30, res.text
                time.sleep(0.2)
        assert time.monotonic() - killed < 30
        assert int(res.json()["results"]["bindings"][0]["n"]["value"]) == 50  # all still there
        assert restarts(client, "died") == 1
        assert restarts(client, "overrun") == 0
        health = client.get("/health").json()
        assert health["status"] == "ok"
        assert health["store"]["restarts"] == 1
        assert health["store"]["path"] == url  # http://127.0.0.1:PORT/query, whole
    assert server.process.pid != old
    assert store.query_url == url  # same port: the store's URLs stay valid
    assert running_server(config.store_path)["pid"] == server.process.pid
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("exited with code -9" in r.getMessage() for r in warnings)


def test_a_read_after_the_child_died_is_sent_again_once_it_is_back(
    served: tuple[HubConfig, HttpStore, OxigraphServer],
) -> None:
    _, store, server = served
    kill(server)
    server.process.wait()
    assert store.graph_size(GRAPH) == 50  # no error: the store waited for the restart
    assert server.restarts == 1


def test_a_write_is_never_sent_twice(served: tuple[HubConfig, HttpStore, OxigraphServer]) -> None:
    _, store, server = served
    with server._lock:  # hold the supervisor back: the child stays dead during the write
        kill(server)
        server.process.wait()
        with pytest.raises(StoreError, match="cannot be reached"):
            store.update(f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <urn:x> <urn:y> <urn:z> }} }}")
    assert server.ensure_alive(wait_s=30)
    assert store.graph_size(GRAPH) == 50  # the refused write did not happen later either


def test_a_restart_asked_by_a_short_lived_thread_outlives_it(
    served: tuple[HubConfig, HttpStore, OxigraphServer],
) -> None:
    """Linux signals a child when the *thread* that started it ends; request threads end."""
    _, store, server = served
    before = server.process.pid
    worker = threading.Thread(target=server.restart)
    worker.start()
    worker.join(60)
    after = server.process.pid
    assert after != before
    time.sleep(1.5)  # past the thread's end: the new child must still be running
    assert server.alive and server.process.pid == after
    assert server.restart_reasons == {"overrun": 1}
    assert store.graph_size(GRAPH) == 50


def test_stop_ends_the_supervisor_and_the_child(tmp_path: Path) -> None:
    server = OxigraphServer(tmp_path / "store", timeout_s=5)
    supervisor = server._supervisor
    assert supervisor.is_alive()
    server.stop()
    assert not supervisor.is_alive()
    assert not server.alive
    assert running_server(tmp_path / "store") is None
    assert not server.ensure_alive(wait_s=1)  # a stopped server is not started again
    assert server.restarts == 0


def test_a_child_that_keeps_dying_is_started_again_with_growing_pauses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.store import server as server_module

    monkeypatch.setattr(server_module, "BACKOFF_FIRST_S", 0.5)
    server = OxigraphServer(tmp_path / "store", timeout_s=5)
    try:
        times = []
        for _ in range(3):
            kill(server)
            server.process.wait()
            assert server.ensure_alive(wait_s=30)
            times.append(time.monotonic())
        assert server.restarts == 3
        # first restart at once, then pauses of 0.5 s and 1 s (plus the child's start)
        assert times[2] - times[1] >= 1.0
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:40123/query", "http://127.0.0.1:40123/query"),
        ("https://sparql.example.org/ds/query", "https://sparql.example.org/ds/query"),
        ("http://[::1]:7878/query", "http://[::1]:7878/query"),
        ("https://me:secret@sparql.example.org/q?key=1", "https://sparql.example.org/q"),
    ],
)
def test_the_store_location_is_shown_whole_and_without_secrets(url: str, shown: str) -> None:
    store = HttpStore(url, url, url)
    assert store.capabilities.describe == shown
