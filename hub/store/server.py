"""Run the on-disk store in a child `oxigraph serve` process that the hub talks to over HTTP.

The child owns the store folder and stops any query at the time limit
(`--timeout-s`) while it keeps answering others; the hub then uses the same
HTTP code path as with an external SPARQL server. A small file next to the store
(`<store>.server.json`) tells other `hub` commands where the running server is.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from hub.errors import StoreError

log = logging.getLogger("hub.store")
# Opening a big store replays its write-ahead log (51 s for a 770 MB WAL was seen), so the
# wait follows the child: it goes on while the child works (CPU or disk) and gives up only
# when the child made no progress at all for HANG_S seconds, or died.
HANG_S = 120.0
PROGRESS_EVERY_S = 5.0


def _activity(pid: int) -> tuple[int, ...] | None:
    """CPU ticks and bytes read/written so far by a process (Linux), or None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        return ticks, int(io.get("rchar", 0)), int(io.get("wchar", 0))
    except (OSError, ValueError, IndexError):
        return None


def oxigraph_binary() -> str:
    """The `oxigraph` command from the PyPI package `oxigraph`, next to this Python first."""
    local = Path(sys.executable).parent / "oxigraph"
    if local.exists():
        return str(local)
    found = shutil.which("oxigraph")
    if not found:
        raise StoreError(
            "the `oxigraph` server command is not installed; `pip install oxigraph` "
            '(a dependency of marittimo-hub), or set [store] backend = "embedded"'
        )
    return found


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it if the hub dies (even by kill -9)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_file(location: Path) -> Path:
    return location.with_name(location.name + ".server.json")


def running_server(location: Path) -> dict | None:
    """The record of a live server on this store, or None (stale records are removed)."""
    path = server_file(location)
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        requests.get(info["url"] + "/", timeout=2)
        return info
    except (OSError, ValueError, KeyError, requests.RequestException):
        path.unlink(missing_ok=True)
        return None


class OxigraphServer:
    """A child `oxigraph serve` on a free loopback port, stopped with the hub."""

    def __init__(self, location: Path, *, timeout_s: float, owner: str = "hub") -> None:
        self.location = location
        self.timeout_s = timeout_s
        location.mkdir(parents=True, exist_ok=True)
        existing = running_server(location)
        if existing is not None:
            raise StoreError(
                f"the store at {location} is already served by {existing.get('owner', 'a hub')} "
                f"(pid {existing['pid']}, {existing['url']}); stop it first, or use that server"
            )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.owner = owner
        self.log = location.with_name(location.name + ".server.log")
        self.restarts = 0
        self._start()
        atexit.register(self.stop)

    def _start(self) -> None:
        command = [
            oxigraph_binary(),
            "serve",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout-s",
            str(max(1, int(self.timeout_s))),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the hub, which stops the child cleanly
                preexec_fn=_die_with_parent,
            )
        self._wait_ready()
        server_file(self.location).write_text(
            json.dumps({"pid": self.process.pid, "url": self.url, "owner": self.owner}),
            encoding="utf-8",
        )

    def restart(self) -> None:
        """Kill the server (and the queries it could not stop) and start it again, same port."""
        self.process.kill()
        self.process.wait()
        self.restarts += 1
        self._start()

    def _wait_ready(self) -> None:
        started = last_progress = last_log = time.monotonic()
        seen = _activity(self.process.pid)
        while True:
            now = time.monotonic()
            activity = _activity(self.process.pid)
            if activity is None or activity != seen:
                seen, last_progress = activity, now
            if now - last_progress > HANG_S:
                break
            if now - last_log >= PROGRESS_EVERY_S:
                last_log = now
                log.info(
                    "store: still opening %s (%.0f s; replaying its write-ahead log)",
                    self.location,
                    now - started,
                )
            if self.process.poll() is not None:
                tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
                hint = ""
                if "lock" in tail.lower():
                    hint = " (another process has the store open: a `hub serve`, or `hub harvest`?)"
                raise StoreError(
                    f"the store server for {self.location} stopped at start{hint}: {tail.strip()}"
                )
            try:
                requests.get(self.url + "/", timeout=1)
                if now - started > PROGRESS_EVERY_S:
                    log.info("store: %s open after %.0f s", self.location, now - started)
                return
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise StoreError(
            f"the store server for {self.location} made no progress for {HANG_S:g} s while "
            f"opening (no CPU time, no disk reads or writes); see {self.log}"
        )

    def stop(self) -> None:
        """Stop the child (it flushes on SIGTERM) and forget its record."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        path = server_file(self.location)
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == self.process.pid:
                path.unlink()
        except (OSError, ValueError):
            pass
