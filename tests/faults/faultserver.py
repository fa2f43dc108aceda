"""A real HTTP server on loopback whose answers tests switch per path: content, then faults.

`serve(path, reply)` sets what a path normally answers; `fault(path, reply)` overrides it
until `clear_faults()`. A `Reply` can fail in the ways a real server does: a status (503,
429 with Retry-After), a delay (the client times out), a body cut short (more bytes
announced than sent), a redirect to itself. GET and POST are answered alike (SPARQL posts).

    >>> with fault_server() as server:
    ...     server.serve("/items.json", Reply(body=b"[]"))
    ...     server.fault("/items.json", Reply(503))
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    """One answer: status, headers, body; `delay` before it, `cut` bytes of the body only."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: int | None = None  # send this many bytes, announce the whole length, then close


def redirect_loop(path: str) -> Reply:
    """A 302 that sends the client back to the same path, for ever."""
    return Reply(302, headers={"Location": path, "Content-Type": "text/plain"})


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    method: str
    path: str
    at: float


Answer = Reply | Callable[[], Reply]


@dataclass
class FaultServer:
    """Paths and their answers; the faults that override them; the requests received."""

    base: str = ""
    content: dict[str, Answer] = field(default_factory=dict)
    faults: dict[str, Answer] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return self.base + "/" + path.lstrip("/")

    def serve(self, path: str, reply: Answer) -> str:
        """What `path` answers when no fault is set; returns its URL."""
        self.content["/" + path.lstrip("/")] = reply
        return self.url(path)

    def fault(self, path: str, reply: Answer) -> None:
        """What `path` answers until `clear_faults()`."""
        self.faults["/" + path.lstrip("/")] = reply

    def clear_faults(self) -> None:
        """Back to the content."""
        self.faults.clear()
        self.hits.clear()

    def hits_of(self, path: str) -> list[Hit]:
        """The requests received for `path` (since the faults were last cleared)."""
        return [h for h in self.hits if h.path == "/" + path.lstrip("/")]

    def answer(self, path: str) -> Reply:
        found = self.faults.get(path) or self.content.get(path)
        if found is None:
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        return found() if callable(found) else found


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest output clean

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # a POSTed query: read, not used
            path = urlsplit(self.path).path
            server.hits.append(Hit(self.command, path, time.monotonic()))
            reply = server.answer(path)
            if reply.delay and server.release.wait(reply.delay):
                return  # the server is stopping: give up on the slow answer
            body = reply.body
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                if reply.cut is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                    body = body[: reply.cut]
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout)

        do_GET = _answer
        do_POST = _answer

    return Handler


@contextlib.contextmanager
def fault_server() -> Iterator[FaultServer]:
    """A FaultServer on 127.0.0.1 (a free port) in a thread, stopped at the end of the block."""
    state = FaultServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def closed_port() -> int:
    """A loopback port where nothing listens (a connection is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
