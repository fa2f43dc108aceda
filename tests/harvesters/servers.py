"""Real HTTP servers on loopback for harvester tests: a JSON API whose answers tests script.

A route is a function from the request to a `Reply`; helpers build the usual ones (paged
records by page number, offset, cursor or Link header; failures; slow or cut answers).
Every request is recorded with its time, so tests can check retries, waits and headers.

    >>> with serve() as api:
    ...     url = api.route("/items", lambda request: Reply(body=[{"id": 1}]))
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the server received."""

    path: str
    query: dict[str, str]
    headers: Message
    at: float
    raw_path: str = ""


@dataclass
class Reply:
    """What to answer: `body` is sent as JSON unless it is bytes."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to make the client time out)
    content_length: int | None = None  # announce more bytes than sent, to cut the body


Handler = Callable[[Request], Reply]


@dataclass
class ApiServer:
    """A scripted JSON API on 127.0.0.1 (random port)."""

    base: str
    routes: dict[str, Handler]
    requests: list[Request]
    release: threading.Event  # set at teardown, so slow handlers give up waiting

    def url(self, path: str) -> str:
        """The URL of `path` on this server."""
        return f"{self.base}/{path.lstrip('/')}"

    def route(self, path: str, handler: Handler) -> str:
        """Answer GET `path` with `handler(request)`; returns the route's URL."""
        self.routes["/" + path.lstrip("/")] = handler
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        """The requests received for `path`."""
        return [r for r in self.requests if r.path == "/" + path.lstrip("/")]


def _handler_class(api: ApiServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest output clean

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            request = Request(parts.path, query, self.headers, time.monotonic(), self.path)
            api.requests.append(request)
            handler = api.routes.get(parts.path)
            reply = handler(request) if handler else Reply(404, {"error": "no route"})
            if reply.delay and api.release.wait(reply.delay):
                return
            if isinstance(reply.body, bytes):
                data = reply.body
            elif reply.body is None:
                data = b""
            else:
                data = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                length = reply.content_length if reply.content_length is not None else len(data)
                self.send_header("Content-Length", str(length))
                if reply.content_length is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

    return _Handler


@contextlib.contextmanager
def serve() -> Iterator[ApiServer]:
    """Run an ApiServer in a daemon thread for the duration of the block."""
    api = ApiServer("", {}, [], threading.Event())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(api))
    server.daemon_threads = True
    api.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def make_records(n: int) -> list[dict]:
    """`n` simple records with ids 1..n."""
    return [
        {"id": i, "name": f"record {i}", "updated_at": f"2026-01-{1 + i % 28:02d}T10:00:00Z"}
        for i in range(1, n + 1)
    ]


def by_page(records: list[dict], *, size: int = 10, key: str = "items") -> Handler:
    """Pages by `page` (from 1) and `per_page`: {key: [...], "page": n}."""

    def handler(request: Request) -> Reply:
        page = int(request.query.get("page", "1"))
        per_page = int(request.query.get("per_page", str(size)))
        chunk = records[(page - 1) * per_page : page * per_page]
        return Reply(body={"page": page, key: chunk})

    return handler


def by_offset(records: list[dict], *, cap: int | None = None) -> Handler:
    """Pages by `offset` and `limit` (the server gives at most `cap` records a page)."""

    def handler(request: Request) -> Reply:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "10"))
        if cap:
            limit = min(limit, cap)
        return Reply(body={"data": {"results": records[offset : offset + limit]}})

    return handler


def by_cursor(records: list[dict], *, size: int = 10) -> Handler:
    """Pages by an opaque `cursor`: {"data": [...], "meta": {"next": cursor | null}}."""

    def handler(request: Request) -> Reply:
        start = int(request.query.get("cursor", "c0")[1:])
        limit = int(request.query.get("limit", str(size)))
        chunk = records[start : start + limit]
        following = f"c{start + limit}" if start + limit < len(records) else None
        return Reply(body={"data": chunk, "meta": {"next": following}})

    return handler


def by_link(records: list[dict], base: Callable[[], str], *, size: int = 10) -> Handler:
    """Pages by `Link: <...>; rel="next"` headers; the body is the list of records itself."""

    def handler(request: Request) -> Reply:
        start = int(request.query.get("from", "0"))
        chunk = records[start : start + size]
        headers = {}
        if start + size < len(records):
            # a relative link, as many APIs send
            headers["Link"] = (
                f'</linked?from={start + size}>; rel="next", <{base()}/linked>; rel="first"'
            )
        return Reply(body=chunk, headers=headers)

    return handler


def failing(times: int, reply: Reply, then: Handler) -> Handler:
    """Answer `reply` the first `times` requests, then hand over to `then`."""
    count = {"n": 0}

    def handler(request: Request) -> Reply:
        count["n"] += 1
        return reply if count["n"] <= times else then(request)

    return handler


def with_etag(body: Any, etag: str) -> Handler:
    """Answer `body` with an ETag, and 304 to a request that already has it."""

    def handler(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(
            body=body, headers={"ETag": etag, "Last-Modified": "Wed, 01 Apr 2026 10:00:00 GMT"}
        )

    return handler
