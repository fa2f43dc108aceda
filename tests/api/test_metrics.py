"""/metrics speaks the Prometheus text format: per-source freshness, store, queries, requests, runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.api import create_app
from hub.config import HubConfig
from hub.errors import QueryTimeoutError
from hub.metrics import count_runs
from hub.pipeline.events import Finished, Started
from hub.pipeline.provenance import RunReport
from hub.store import OxigraphStore
from tests.api.test_health import NOW, sources_hub  # noqa: F401 - a fixture

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample of /metrics, parsed by prometheus-client's own parser."""
    res = client.get("/metrics")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(res.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_per_source_series(sources_hub: tuple[HubConfig, OxigraphStore]) -> None:  # noqa: F811
    with TestClient(create_app(*sources_hub)) as client:
        samples = scrape(client)
    assert value(samples, "hub_store_up") == 1
    sources = {"good", "broken", "stale", "waiting", "manual"}
    for name in ("hub_source_last_success_timestamp_seconds", "hub_source_late_seconds"):
        assert {dict(labels)["source"] for n, labels in samples if n == name} == sources
    success = value(samples, "hub_source_last_success_timestamp_seconds", source="good")
    assert success == pytest.approx((NOW - timedelta(minutes=10)).timestamp(), abs=1)
    assert value(samples, "hub_source_last_success_timestamp_seconds", source="manual") == 0
    # due every hour, last good 3 h ago: late since 2 h after it, i.e. by about an hour
    deadline = NOW - timedelta(hours=3) + timedelta(hours=2)
    late = time.time() - deadline.timestamp()
    assert value(samples, "hub_source_late_seconds", source="stale") == pytest.approx(late, abs=5)
    assert value(samples, "hub_source_late_seconds", source="good") == 0
    assert value(samples, "hub_source_late_seconds", source="broken") == 0
    assert value(samples, "hub_source_late_seconds", source="manual") == 0  # no schedule
    assert value(samples, "hub_source_last_run_status", source="broken", status="failed") == 1
    assert value(samples, "hub_source_last_run_status", source="broken", status="published") == 0
    assert value(samples, "hub_source_last_run_status", source="waiting", status="held") == 1
    assert value(samples, "hub_source_state", source="broken", state="failing") == 1
    assert value(samples, "hub_source_state", source="stale", state="late") == 1
    assert value(samples, "hub_source_last_run_records", source="good") == 12
    assert value(samples, "hub_source_last_run_triples", source="good") == 90
    assert value(samples, "hub_source_last_run_triples", source="waiting") == 25  # the held run
    assert value(samples, "hub_source_published_triples", source="good") == 0  # no live graph


def test_a_source_that_never_succeeded_on_a_schedule_is_infinitely_late(
    tmp_path: Path,
) -> None:
    from tests.api.test_health import HOURLY, record_runs, sources_config

    only = {"new": (HOURLY, [("failed", 5, 0, 0)])}
    config = sources_config(tmp_path / "hub", only)
    store = OxigraphStore(tmp_path / "store")
    try:
        record_runs(store, config, only)
        with TestClient(create_app(config, store)) as client:
            samples = scrape(client)
    finally:
        store.close()
    assert value(samples, "hub_source_late_seconds", source="new") == float("inf")
    assert value(samples, "hub_source_last_success_timestamp_seconds", source="new") == 0


def test_store_down_is_a_series_not_an_error(config: HubConfig, tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "closing")
    with TestClient(create_app(config, store)) as client:
        store.close()
        samples = scrape(client)
    assert value(samples, "hub_store_up") == 0
    assert value(samples, "hub_store_restarts_total", reason="died") == 0


class TimingOut:
    """A store whose queries all run into the time limit."""

    def __init__(self, store: OxigraphStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def query(self, sparql: str, **_: Any) -> Any:
        raise QueryTimeoutError("the query ran longer than the limit of 1 s and was stopped")


def test_query_times_and_outcomes(config: HubConfig, store: OxigraphStore) -> None:
    with TestClient(create_app(config, store)) as client:
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        assert client.get("/sparql", params={"query": "ASK {"}).status_code == 400
        service = "SELECT * WHERE { SERVICE <http://x.example/> { ?s ?p ?o } }"
        assert client.get("/sparql", params={"query": service}).status_code == 403
        samples = scrape(client)
    with TestClient(create_app(config, TimingOut(store))) as client:  # type: ignore[arg-type]
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 503
        slow = scrape(client)
    assert value(samples, "hub_sparql_queries_total", outcome="ok") == 1
    assert value(samples, "hub_sparql_queries_total", outcome="rejected") == 2
    assert value(samples, "hub_sparql_queries_total", outcome="timeout") == 0
    assert value(samples, "hub_sparql_query_duration_seconds_count") == 3
    assert value(slow, "hub_sparql_queries_total", outcome="timeout") == 1
    assert value(slow, "hub_sparql_queries_total", outcome="ok") == 0  # each app counts its own


def test_request_latency_by_route_template(client: TestClient) -> None:
    client.get("/health")
    client.get("/health")
    client.get("/no/such/page")
    samples = scrape(client)
    count = "hub_http_request_duration_seconds_count"
    assert value(samples, count, method="GET", route="/health", status="200") == 2
    assert value(samples, count, method="GET", route="unmatched", status="404") == 1


def test_runs_are_counted_by_a_subscriber(client: TestClient) -> None:
    def runs(samples: Samples, status: str) -> float:
        return samples.get(
            ("hub_runs_total", frozenset({("source", "counted"), ("status", status)})), 0
        )

    before = scrape(client)
    started = datetime.now(UTC)
    report = RunReport("counted", "r1", started, started + timedelta(seconds=2), "failed")
    count_runs(Started(report))  # a run that begins is not counted
    count_runs(Finished(report))
    after = scrape(client)
    assert runs(after, "failed") - runs(before, "failed") == 1
    duration = after[("hub_run_duration_seconds_count", frozenset({("source", "counted")}))]
    assert duration >= 1


def test_many_apps_in_one_process(config: HubConfig, store: OxigraphStore) -> None:
    started = time.monotonic()
    for _ in range(3):
        with TestClient(create_app(config, store)) as client:
            assert value(scrape(client), "hub_store_up") == 1
    assert time.monotonic() - started < 10
