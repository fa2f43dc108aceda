"""`[serve] api_processes`: /api/v1 answered by worker processes equals the answers of the
server's own threads; a dead worker costs one 503, not the service; workers end with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.api.v1.processes import WorkPool
from tests.api_v1.conftest import DemoHub
from tests.serving import alive

URLS = [
    "/api/v1/entities?size=5",
    "/api/v1/entities?region=corse&sort=updated&size=3&lang=fr",
    "/api/v1/entities?q=museo&format=geojson",
    "/api/v1/entities?bbox=8.5,41.3,9.6,43.1&format=csv",
    "/api/v1/entities?near=43.7,7.3&radius=30",
    "/api/v1/entities?type=Nope",  # 400, raised in the worker
    "/api/v1/entities?size=abc",  # 400
    "/api/v1/entities?page=999999",  # 400 with the fix to use cursors
    "/api/v1/stats?region=liguria",
    "/api/v1/types",
    "/api/v1/themes",
    "/api/v1/projects",
    "/api/v1/changes",
]


@pytest.fixture(scope="module")
def pooled(demo_hub: DemoHub) -> Iterator[TestClient]:
    config = demo_hub.config.model_copy(deep=True)
    config.serve.api_processes = 2
    app = create_app(config, demo_hub.store)
    assert isinstance(app.state.v1_pool, WorkPool)
    with TestClient(app) as c:
        yield c
    app.state.v1_pool.close()


def _pids(client: TestClient) -> set[int]:
    pool = client.app.state.v1_pool  # type: ignore[attr-defined]
    executor = pool._executor
    return set(executor._processes) if executor is not None else set()


def test_workers_answer_as_the_threads_do(client: TestClient, pooled: TestClient) -> None:
    for url in URLS:
        alone, pooled_answer = client.get(url), pooled.get(url)
        assert pooled_answer.status_code == alone.status_code, url
        assert pooled_answer.headers.get("etag") == alone.headers.get("etag"), url
        assert pooled_answer.headers["content-type"] == alone.headers["content-type"], url
        assert pooled_answer.content == alone.content, url
    assert _pids(pooled)  # the answers came from worker processes


def test_a_dead_worker_costs_one_answer_and_the_pool_starts_again(pooled: TestClient) -> None:
    assert pooled.get("/api/v1/types").status_code == 200
    victims = _pids(pooled)
    assert victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    statuses = [pooled.get("/api/v1/entities?size=2").status_code for _ in range(3)]
    assert statuses[-1] == 200
    assert set(statuses) <= {200, 503}
    assert _pids(pooled).isdisjoint(victims)  # new workers


SERVER = """
import sys
from hub.config import load_config
from hub.api import create_app
from fastapi.testclient import TestClient
config = load_config(sys.argv[1])
config.serve.api_processes = 2
app = create_app(config, None)
client = TestClient(app)
assert client.get("/api/v1/types").status_code == 200
print(" ".join(str(p) for p in app.state.v1_pool._executor._processes), flush=True)
sys.stdin.read()
"""


def test_workers_end_when_the_server_is_killed(demo_hub: DemoHub) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(demo_hub.config.root / "hub.toml")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        workers = [int(p) for p in server.stdout.readline().split()]
        assert workers and all(alive(p) for p in workers)
        server.send_signal(signal.SIGKILL)  # no chance to close the pool
        server.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in workers)
    finally:
        server.kill()
