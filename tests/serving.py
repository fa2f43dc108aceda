"""`hub serve` as a user starts it, in a child process on a free loopback port (for tests)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests


def free_port() -> int:
    """A TCP port nothing listens on now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    """Whether a process runs (exists and is not a zombie; Linux /proc)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.add(int(stat.parent.name))
    return found


def start_hub_serve(
    config: Path,
    *,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/health/live",
    timeout_s: float = 60.0,
) -> tuple[subprocess.Popen[str], str]:
    """`hub serve --no-scheduler` with `config`, once `ready_path` answers 200: the process
    (its stderr a pipe) and its base URL. Fails the caller, killing it, if it never does."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--config", str(config), "serve", "--port", str(port),
         "--no-scheduler"],
        env=dict(env) if env is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(base + ready_path, timeout=2).ok:
                return server, base
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    _, stderr = server.communicate(timeout=30)
    raise AssertionError(f"hub serve did not answer {ready_path} in {timeout_s:g} s: {stderr}")
