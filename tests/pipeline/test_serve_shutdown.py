"""`hub serve` stopped by SIGTERM (systemd, Docker, Kubernetes) shuts down through its
`finally` blocks: the API's worker processes and the store's child server end with it,
and nothing is reported leaked. uvicorn raises the signal again once it has shut down;
without the hub's own handler the default action would kill the process first."""

from __future__ import annotations

import signal
import time

from hub.pipeline.run import run_source
from hub.store.server import running_server, server_file
from tests.pipeline.conftest import MiniHub
from tests.serving import alive, children, start_hub_serve


def test_sigterm_stops_workers_and_store_server_cleanly(minihub: MiniHub) -> None:
    minihub.write(minihub.places(20))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    minihub.store.close()
    with minihub.config.path.open("a", encoding="utf-8") as toml:
        toml.write("\n[serve]\napi_processes = 2\n")
    # ready once a read-model route answers: that answer came from a worker process
    server, _ = start_hub_serve(minihub.config.path, ready_path="/api/v1/types")
    try:
        workers_and_store = children(server.pid)
        assert len(workers_and_store) >= 3  # the store's server and the API's two workers at least
        assert running_server(minihub.config.store_path) is not None
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 128 + signal.SIGTERM, stderr  # SystemExit, not the signal
    assert "leaked" not in stderr, stderr
    assert not server_file(minihub.config.store_path).exists()  # the hub stopped its server
    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers_and_store) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in workers_and_store), [p for p in workers_and_store if alive(p)]
