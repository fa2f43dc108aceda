"""`hub serve` stopped by SIGTERM (systemd, Docker, Kubernetes) shuts down through its
`finally` blocks: the API's worker processes and the store's child server end with it,
and nothing is reported leaked. uvicorn raises the signal again once it has shut down;
without the hub's own handler the default action would kill the process first."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from hub.pipeline.run import run_source
from hub.store.server import running_server, server_file
from tests.pipeline.conftest import MiniHub


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigterm_stops_workers_and_store_server_cleanly(minihub: MiniHub) -> None:
    minihub.write(minihub.places(20))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    minihub.store.close()
    with minihub.config.path.open("a", encoding="utf-8") as toml:
        toml.write("\n[serve]\napi_processes = 2\n")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--config", str(minihub.config.path), "serve",
         "--port", str(port), "--no-scheduler"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                # a read-model route: the answer comes from a worker process
                if requests.get(f"http://127.0.0.1:{port}/api/v1/types", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise AssertionError("hub serve did not answer /api/v1/types within 60 s")
        children = _children(server.pid)
        assert len(children) >= 3  # the store's server and the API's two workers at least
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
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in children), [p for p in children if _alive(p)]
