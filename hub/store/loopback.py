"""Queries to a SPARQL server on this machine over kept-alive `http.client` connections.

`requests` spends about 0.8 ms of Python per query preparing, merging settings and
wrapping the response: more than Oxigraph takes to answer a one-entity query. A server on
a loopback address needs none of it (no proxy, no .netrc, no TLS), so reads to the hub's
own `oxigraph serve` go through this client: one connection per thread, opened again
when the server closed it.
"""

from __future__ import annotations

import http.client
import ipaddress
import threading
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from hub.errors import ResultTooLargeError

_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def is_loopback(url: str) -> bool:
    """Whether a URL names this machine (a loopback address or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def suits(url: str) -> bool:
    """Whether this client may serve a URL: plain HTTP on this machine, no user or password
    (credentials in a URL are `requests`' to send)."""
    parts = urlsplit(url)
    return parts.scheme == "http" and is_loopback(url) and parts.username is None


@dataclass
class Answer:
    """A server's answer: status, media type (without parameters) and the whole body."""

    status: int
    media: str
    body: bytes


class LoopbackClient:
    """POSTs forms to one plain-HTTP server on this machine, a kept-alive connection per thread.

    Errors are the standard library's: `TimeoutError` when the server is silent for
    `read_timeout_s`, `ConnectionError` (refused, reset) when it cannot be reached.
    """

    def __init__(self, url: str, connect_timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        if not suits(url):
            raise ValueError(
                f"{parts.scheme}://{parts.hostname}:{parts.port or 80}{parts.path} is not a "
                "plain-HTTP address on this machine without credentials"
            )
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.connect_timeout_s = connect_timeout_s
        self._local = threading.local()
        self._open: set[http.client.HTTPConnection] = set()  # every thread's, for close()
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.connect_timeout_s)
            self._local.conn = conn
            with self._lock:
                self._open.add(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection (the store is closing)."""
        with self._lock:
            connections, self._open = self._open, set()
        for conn in connections:
            conn.close()

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._lock:
                self._open.discard(conn)

    def post_form(
        self,
        url: str,
        fields: list[tuple[str, str]],
        headers: dict[str, str],
        read_timeout_s: float,
        max_bytes: int,
    ) -> Answer:
        """POST `fields` as a form to `url` (a path on this server); the answer, read whole."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = urlencode(fields).encode()
        sent = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                if conn.sock is None:
                    conn.connect()
                conn.sock.settimeout(read_timeout_s)
                conn.request("POST", target, body, sent)
                response = conn.getresponse()
                return self._read(response, max_bytes)
            except _STALE:
                self._drop()
                if attempt == 2 or not reused:  # a fresh connection failed: the server is gone
                    raise
            except BaseException:
                self._drop()
                raise
        raise AssertionError("unreachable")

    def _read(self, response: http.client.HTTPResponse, max_bytes: int) -> Answer:
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            if size > max_bytes:
                self._drop()
                raise ResultTooLargeError(
                    f"the result is larger than {max_bytes} bytes; add a LIMIT or select less"
                )
            chunks.append(chunk)
        if response.will_close:
            self._drop()
        media = (response.getheader("Content-Type") or "").split(";")[0].strip()
        return Answer(response.status, media, b"".join(chunks))
