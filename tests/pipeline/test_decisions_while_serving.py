"""`hub approve`, `reject` and `rollback` work while `hub serve` owns the store (via its admin API)."""

from __future__ import annotations

import os
import signal
from urllib.parse import urlsplit

import pytest
import requests

from hub.cli import main
from hub.pipeline.run import run_source
from tests.pipeline.conftest import MiniHub
from tests.serving import start_hub_serve

TOKEN = "a-test-token-of-32-characters-xx"


@pytest.fixture
def served(minihub: MiniHub, monkeypatch: pytest.MonkeyPatch):
    minihub.write(minihub.places(20))
    first = run_source(minihub.config, minihub.store, "places").run_id
    minihub.write(minihub.places(4))
    held = run_source(minihub.config, minihub.store, "places")
    assert held.status == "held"
    minihub.store.close()
    env = {**os.environ, "HUB_ADMIN_TOKEN": TOKEN}
    server, base = start_hub_serve(minihub.config.path, env=env, ready_path="/health")
    port = urlsplit(base).port
    yield minihub, port, first, held.run_id
    server.send_signal(signal.SIGTERM)
    server.wait(30)
    from hub.store import open_store

    minihub.store = open_store(minihub.config.store_path)


def count(port: int, graph: str) -> int:
    response = requests.get(
        f"http://127.0.0.1:{port}/sparql",
        params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_approve_and_rollback_through_the_running_hub(served, monkeypatch, capsys) -> None:
    minihub, port, first, held = served
    config = str(minihub.config.path)
    assert count(port, minihub.live) == 100
    monkeypatch.delenv("HUB_ADMIN_TOKEN", raising=False)
    assert main(["--config", config, "approve", "places"]) == 2
    assert "export HUB_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("HUB_ADMIN_TOKEN", TOKEN)
    assert main(["--config", config, "approve", "places"]) == 0
    assert "PUBLISHED" in capsys.readouterr().out
    assert count(port, minihub.live) == 20  # the serving hub shows it at once
    assert main(["--config", config, "rollback", "places"]) == 0
    assert count(port, minihub.live) == 100
    assert (
        main(["--config", config, "reject", "places", "--reason", "none left"]) == 2
    )  # nothing held any more
    assert "no held run" in capsys.readouterr().err


def test_the_admin_api_refuses_without_the_token(served) -> None:
    minihub, port, first, held = served
    response = requests.post(f"http://127.0.0.1:{port}/api/admin/approve/places", timeout=10)
    assert response.status_code == 401
    assert count(port, minihub.live) == 100


def test_after_serving_the_store_holds_what_was_approved(served, monkeypatch) -> None:
    minihub, port, first, held = served
    monkeypatch.setenv("HUB_ADMIN_TOKEN", TOKEN)
    assert main(["--config", str(minihub.config.path), "approve", "places", "--run", held]) == 0
    served_hub = minihub
    # the fixture stops the server and reopens the store after the test; check here through HTTP
    assert count(port, served_hub.live) == 20
