"""/health says whether the store answers and whether the scheduler runs."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import HubConfig
from hub.store import OxigraphStore, open_store
from tests.api.api_sample import ALPHA, GRAPH_A


class FakeScheduler:
    """Stands in for APScheduler, which has a `running` attribute."""

    def __init__(self, running: bool) -> None:
        self.running = running


def test_health_ok(client: TestClient, store: OxigraphStore) -> None:
    res = client.get("/health")
    assert res.status_code == 200
    assert res.json() == {
        "status": "ok",
        "store": {"path": store.capabilities.describe, "graphs": 2},
        "scheduler": "off",
    }


def test_health_reports_the_scheduler(config: HubConfig, store: OxigraphStore) -> None:
    for scheduler, state in ((FakeScheduler(True), "running"), (FakeScheduler(False), "off")):
        with TestClient(create_app(config, store, scheduler=scheduler)) as client:
            assert client.get("/health").json()["scheduler"] == state


def test_health_503_when_the_store_cannot_answer(config: HubConfig, tmp_path: Path) -> None:
    store = open_store(tmp_path / "closing")
    store.load(ALPHA, ox.RdfFormat.TURTLE, GRAPH_A)
    with TestClient(create_app(config, store)) as client:
        assert client.get("/health").json()["store"]["graphs"] == 1
        store.close()
        res = client.get("/health")
    assert res.status_code == 503
    body = res.json()
    assert body["status"] == "unavailable"
    assert "cannot answer `ASK {}`" in body["reason"]
    assert body["store"] == {"path": str(tmp_path / "closing")}
