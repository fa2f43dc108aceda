"""/health says whether the store answers, whether the scheduler runs and how each source is doing;
/health/live and /health/ready answer the two questions of an orchestrator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import HubConfig, load_config
from hub.pipeline.provenance import RunReport, record_run
from hub.store import OxigraphStore, open_store
from tests.api.api_sample import ALPHA, GRAPH_A

SOURCE = """
[sources.{id}]
project = "itinera"
kind = "files"
mapping = "m.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:s@example.org"
{schedule}
[sources.{id}.options]
path = "{id}.csv"
"""
HOURLY = '[sources.{id}.schedule]\nevery = "1h"'
# id: (schedule, runs as (status, minutes ago, records, triples), oldest first)
SOURCES: dict[str, tuple[str, list[tuple[str, int, int, int]]]] = {
    "good": (HOURLY, [("published", 10, 12, 90)]),
    "broken": (HOURLY, [("published", 30, 5, 40), ("failed", 5, 0, 0)]),
    "stale": (HOURLY, [("published", 180, 7, 50)]),  # due every hour: late after 2 h
    "waiting": (HOURLY, [("published", 40, 3, 20), ("held", 10, 3, 25)]),
    "manual": ("", []),
}
NOW = datetime.now(UTC)


def sources_config(folder: Path, sources: dict = SOURCES) -> HubConfig:
    """A config with the given sources (files kind; their files need not exist)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m.yml").write_text("mappings:\n  m:\n    s: id:$(id)\n", encoding="utf-8")
    text = "".join(
        SOURCE.format(id=sid, schedule=schedule.format(id=sid))
        for sid, (schedule, _) in sources.items()
    )
    (folder / "hub.toml").write_text(text, encoding="utf-8")
    return load_config(folder / "hub.toml")


def record_runs(store: object, config: HubConfig, sources: dict = SOURCES) -> None:
    """Write each source's runs to the metadata graph, as publishing would."""
    for sid, (_, runs) in sources.items():
        for n, (status, minutes, records, triples) in enumerate(runs):
            started = NOW - timedelta(minutes=minutes)
            report = RunReport(
                source=sid,
                run_id=f"run{n}",
                started=started,
                ended=started + timedelta(seconds=3),
                status=status,
                records=records,
                triples=triples,
                message="the source answered HTTP 500" if status == "failed" else "",
            )
            record_run(store, config, report)  # type: ignore[arg-type]


@pytest.fixture
def sources_hub(tmp_path: Path) -> Iterator[tuple[HubConfig, OxigraphStore]]:
    """Five sources: ok, failing, late, held, and one never run; in a real on-disk store."""
    config = sources_config(tmp_path / "hub")
    store = open_store(tmp_path / "sources-store")
    record_runs(store, config)
    yield config, store
    store.close()


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
        assert client.get("/health/ready").status_code == 200
        store.close()
        res = client.get("/health")
        ready = client.get("/health/ready")
        live = client.get("/health/live")
    assert res.status_code == 503
    body = res.json()
    assert body["status"] == "degraded"
    assert "cannot answer `ASK {}`" in body["reason"]
    assert body["store"] == {"path": str(tmp_path / "closing")}
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert "cannot answer `ASK {}`" in ready.json()["reason"]
    assert live.status_code == 200  # the process is up; only readiness depends on the store
    assert live.json() == {"status": "alive"}


def test_live_and_ready(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "alive"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_health_says_degraded_when_a_source_fails_or_is_late(
    sources_hub: tuple[HubConfig, OxigraphStore],
) -> None:
    with TestClient(create_app(*sources_hub)) as client:
        res = client.get("/health")
    assert res.status_code == 200  # the store answers: 503 is kept for that alone
    body = res.json()
    assert body["status"] == "degraded"
    states = {sid: s["state"] for sid, s in body["sources"].items()}
    assert states == {
        "good": "ok",
        "broken": "failing",
        "stale": "late",
        "waiting": "held",
        "manual": "never",
    }
    broken = body["sources"]["broken"]
    assert broken["last_status"] == "failed"
    assert broken["message"] == "the source answered HTTP 500"
    assert broken["last_success"] < broken["last_run"]
    assert "source `broken` is failing" in body["reason"]
    assert "source `stale` is late" in body["reason"]
    assert "good" not in body["reason"] and "waiting" not in body["reason"]


def test_health_is_ok_when_every_source_is_fresh(tmp_path: Path) -> None:
    fresh = {"good": SOURCES["good"], "manual": SOURCES["manual"]}
    config = sources_config(tmp_path / "hub", fresh)
    store = open_store(tmp_path / "fresh-store")
    try:
        record_runs(store, config, fresh)
        with TestClient(create_app(config, store)) as client:
            body = client.get("/health").json()
    finally:
        store.close()
    assert body["status"] == "ok"
    assert "reason" not in body
    assert body["sources"]["good"]["state"] == "ok"
