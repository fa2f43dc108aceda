"""Waiting for the store server follows the server: a slow start is waited for, a hang is not."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from hub.errors import StoreError
from hub.store import server as server_module
from hub.store.server import OxigraphServer, oxigraph_binary

BUSY_THEN_SERVE = """#!{python}
import os, sys, time
end = time.monotonic() + {busy}
while time.monotonic() < end:  # replaying a big write-ahead log: busy, not ready
    sum(range(10000))
os.execv({real!r}, [{real!r}] + sys.argv[1:])
"""

IDLE = """#!{python}
import time
time.sleep(60)  # alive, but doing nothing: a hang
"""


def fake_binary(tmp_path: Path, text: str, **values: object) -> str:
    path = tmp_path / "oxigraph"
    path.write_text(text.format(python=sys.executable, **values), encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_a_server_that_works_longer_than_the_hang_limit_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = oxigraph_binary()
    fake = fake_binary(tmp_path, BUSY_THEN_SERVE, busy=3.0, real=real)
    monkeypatch.setattr(server_module, "oxigraph_binary", lambda: fake)
    monkeypatch.setattr(server_module, "HANG_S", 1.5)
    monkeypatch.setattr(server_module, "PROGRESS_EVERY_S", 0.5)
    started = time.monotonic()
    server = OxigraphServer(tmp_path / "store", timeout_s=5)
    try:
        assert time.monotonic() - started >= 3.0  # longer than HANG_S, and not given up
        assert server.process.poll() is None
    finally:
        server.stop()


def test_a_server_that_makes_no_progress_is_given_up_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_binary(tmp_path, IDLE)
    monkeypatch.setattr(server_module, "oxigraph_binary", lambda: fake)
    monkeypatch.setattr(server_module, "HANG_S", 1.5)
    started = time.monotonic()
    with pytest.raises(StoreError, match="made no progress for 1.5 s"):
        OxigraphServer(tmp_path / "store", timeout_s=5)
    assert time.monotonic() - started < 20


def test_a_server_whose_hub_died_is_stopped_not_trusted(tmp_path: Path) -> None:
    """A killed hub's child that lives on (holding the store's lock) is stopped by the next hub."""
    import json
    import socket
    import subprocess

    import requests

    from hub.store.server import running_server, server_file

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    location = tmp_path / "store"
    orphan = subprocess.Popen(
        [oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    dead_hub = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    server_file(location).write_text(
        json.dumps({"pid": orphan.pid, "url": url, "owner": "hub", "hub_pid": int(dead_hub.stdout)})
    )
    assert running_server(location) is None
    assert orphan.wait(timeout=30) is not None  # it was stopped
    server = OxigraphServer(location, timeout_s=5)  # and the store can be opened again
    server.stop()
