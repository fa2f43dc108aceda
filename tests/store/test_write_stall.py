"""A large write survives a server that stops reading its body for a while.

Oxigraph's bulk loader stops reading an upload while it writes what it has read; at 1M
rows on a busy machine that pause passed 10 s, and the upload was aborted because urllib3
sends a body under the *connect* time limit (decisions #48). The server here is a real
socket on loopback that reads part of the body, pauses, then reads the rest.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from hub.errors import StoreError
from hub.store import http
from hub.store.http import HttpStore

BODY_BYTES = 32 * 1024 * 1024  # far more than the sockets' buffers hold
PAUSE_S = 11.0  # longer than the 10 s send limit writes used to have


class StallingServer:
    """Answers one request: reads 1 MiB of its body, pauses, reads the rest, then 204."""

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self.received = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            got = len(body)
            while got < min(length, 1 << 20):
                got += len(conn.recv(65536))
            time.sleep(self.pause_s)
            while got < length:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                got += len(chunk)
            self.received = got
            conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    def store(self) -> HttpStore:
        base = f"http://127.0.0.1:{self.port}"
        return HttpStore(f"{base}/query", f"{base}/update", f"{base}/store", oxigraph=True)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=30)


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    line = b"<http://example.org/s> <http://example.org/p> " + b'"' + b"x" * 60 + b'" .\n'
    path = tmp_path / "big.nt"
    path.write_bytes(line * (BODY_BYTES // len(line)))
    return path


def test_an_upload_waits_while_the_server_stops_reading(big_file: Path) -> None:
    server = StallingServer(PAUSE_S)
    started = time.monotonic()
    try:
        server.store().add_file("http://example.org/g", big_file)
    finally:
        server.close()
    assert time.monotonic() - started >= PAUSE_S
    assert server.received == big_file.stat().st_size


def test_a_send_limit_shorter_than_the_pause_fails(
    big_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same pause against a 1 s send limit: the test above could fail."""
    monkeypatch.setattr(http, "WRITE_TIMEOUT", (1.0, None))
    server = StallingServer(3.0)
    try:
        with pytest.raises(StoreError, match="cannot be reached"):
            server.store().add_file("http://example.org/g", big_file)
    finally:
        server.close()
