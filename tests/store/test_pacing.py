"""Queries to the child `oxigraph serve` are paced, so its per-query timeout threads stay
within the kernel's limits (`hub/store/pacing.py`, decisions #46)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.api import create_app
from hub.config import HubConfig, parse_config
from hub.errors import StoreBusyError
from hub.store import HttpStore, connect_store
from hub.store.pacing import (
    MAPS_PER_THREAD,
    QueryWindow,
    kernel_thread_limit,
    thread_allowance,
    waits_at_most,
)


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


@pytest.fixture
def paced(tmp_path: Path) -> Iterator[tuple[HubConfig, HttpStore]]:
    """A child server with a 1 s time limit that may hold 30 queries in its window."""
    config = parse_config({"store": {"timeout_s": 1, "query_threads": 30}}, tmp_path / "hub.toml")
    store = connect_store(config)
    assert isinstance(store, HttpStore) and store.server is not None
    yield config, store
    store.close()


def test_a_window_admits_its_limit_then_waits_for_the_oldest_to_leave() -> None:
    window = QueryWindow(3, 0.6)
    started = time.monotonic()
    for _ in range(3):
        window.admit()
    assert time.monotonic() - started < 0.3  # a burst under the limit does not wait
    assert window.in_window == 3
    window.admit()  # the fourth waits for the first to be 0.6 s old
    assert time.monotonic() - started >= 0.55
    assert window.waited == 1 and window.refused == 0


def test_a_wait_longer_than_allowed_is_refused_at_once_with_when_to_retry() -> None:
    window = QueryWindow(2, 5.0)
    window.admit()
    window.admit()
    started = time.monotonic()
    with (
        waits_at_most(0.2),
        pytest.raises(StoreBusyError, match="2 queries in the last 5 s") as caught,
    ):
        window.admit()
    assert time.monotonic() - started < 0.2  # refused without sleeping the wait out
    assert 4 <= caught.value.retry_after_s <= 5
    assert window.refused == 1 and window.in_window == 2
    window.reset()  # the server was started again: its threads are gone
    window.admit()
    assert window.in_window == 1


def test_the_limit_on_waiting_is_the_callers_and_ends_with_its_block() -> None:
    """The hub's own work waits for room; a request's wait is bounded (set per request)."""
    window = QueryWindow(1, 0.5)
    window.admit()
    with waits_at_most(0.1), pytest.raises(StoreBusyError):
        window.admit()
    started = time.monotonic()
    window.admit()  # outside the block: waits for the first query to leave the window
    assert time.monotonic() - started >= 0.3
    assert window.refused == 1 and window.waited == 1  # the refused one never waited


def test_the_default_allowance_follows_the_kernel_limits() -> None:
    limit = kernel_thread_limit()
    maps = Path("/proc/sys/vm/max_map_count")
    if maps.exists():
        assert limit <= int(maps.read_text()) // MAPS_PER_THREAD
    assert 64 <= thread_allowance() < limit


def test_the_child_server_holds_no_more_timeout_threads_than_the_window(
    paced: tuple[HubConfig, HttpStore],
) -> None:
    """Unpaced, 100 quick queries start 100 threads that each sleep out the time limit."""
    _, store = paced
    server = store.server
    assert server is not None
    pid = server.process.pid
    baseline = threads_of(pid)
    peak = [baseline]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], threads_of(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: store.ask("ASK {}"), range(100)))
    finally:
        stop.set()
        sampler.join()
    assert answers == [True] * 100  # every query answered: paced, not refused
    assert server.queries.waited > 0
    assert peak[0] <= baseline + 30 + 4, (baseline, peak[0])
    assert server.restarts == 0


def metric(client: TestClient, name: str, labels: dict[str, str]) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"no {name} {labels}")


def test_a_full_window_answers_503_with_retry_after_and_counts_it(tmp_path: Path) -> None:
    config = parse_config({"store": {"timeout_s": 30, "query_threads": 3}}, tmp_path / "hub.toml")
    store = connect_store(config)
    try:
        with TestClient(create_app(config, store)) as client:
            statuses = []
            for _ in range(8):
                answer = client.get("/sparql", params={"query": "ASK {}"})
                statuses.append(answer.status_code)
                if answer.status_code == 503:
                    break
            assert statuses[-1] == 503, statuses
            assert "queries in the last 31 s" in answer.text
            assert 1 <= int(answer.headers["Retry-After"]) <= 31
            assert metric(client, "hub_store_queries_paced_total", {"outcome": "refused"}) >= 1
            assert metric(client, "hub_store_queries_in_window", {"kind": "limit"}) == 3
    finally:
        store.close()
