"""A small JSON API serving Vivimed's events (synthetic sample data) for the demo and tests.

    GET /                 what the API offers
    GET /events           {"data": [...], "next_cursor": "..." | null}
        ?limit=N          page size (default 20, at most 100)
        ?cursor=C         the `next_cursor` of the page before
        ?updated_since=T  only events whose `updated_at` is at or after T (ISO 8601)

Events are ordered by `id` and paged by an opaque cursor. Every answer carries an ETag
that changes whenever any event changes (the first page is enough to know the source is
unchanged); `If-None-Match` with it gets a 304. With a `token`, requests must carry
`Authorization: Bearer <token>`.

    >>> server, base_url = start()              # a free port; start(8711) for the demo
    >>> requests.get(f"{base_url}/events?limit=5").json()["next_cursor"]  # doctest: +SKIP
    >>> stop(server)

Run it alone with `python -m hub.demo.vivimed_api --port 8711`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hub.demo._serve import serve_in_background, stop_server

__all__ = ["DATA_FILE", "VivimedServer", "load_events", "start", "stop"]

DATA_FILE = Path(__file__).parent / "data" / "vivimed-events.json"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def load_events(path: Path = DATA_FILE) -> list[dict]:
    """The events of the demo data file, ordered by id."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return sorted(document["events"], key=lambda event: event["id"])


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode()


class VivimedServer(ThreadingHTTPServer):
    """The API server; `events` may be changed while it runs (see `update`)."""

    daemon_threads = True

    def __init__(self, port: int, events: list[dict], token: str | None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.events = events
        self.token = token
        self.lock = threading.Lock()
        self.requests = 0

    def update(self, event: dict) -> None:
        """Add or replace an event (by id), as an editor of the source would."""
        with self.lock:
            self.events = sorted(
                [e for e in self.events if e["id"] != event["id"]] + [event],
                key=lambda e: e["id"],
            )

    def version(self) -> str:
        """A tag that changes whenever any event changes."""
        with self.lock:
            text = json.dumps(self.events, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Handler(BaseHTTPRequestHandler):
    server: VivimedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the hub logs its own requests

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """Answer the index or a page of events."""
        with self.server.lock:
            self.server.requests += 1
        parts = urlsplit(self.path)
        if self.server.token and self.headers.get("Authorization") != (
            f"Bearer {self.server.token}"
        ):
            self._send(401, {"error": "a valid bearer token is needed"})
            return
        if parts.path in ("", "/"):
            self._send(200, {"events": "/events", "about": "Vivimed events (sample data)"})
        elif parts.path.rstrip("/") == "/events":
            self._events(parse_qs(parts.query))
        else:
            self._send(404, {"error": f"no such resource: {parts.path}"})

    def _events(self, query: dict[str, list[str]]) -> None:
        try:
            limit = int(query.get("limit", [DEFAULT_LIMIT])[0])
            after = _decode_cursor(query["cursor"][0]) if "cursor" in query else None
            since = _instant(query["updated_since"][0]) if "updated_since" in query else None
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            self._send(400, {"error": f"bad query: {exc}"})
            return
        if not 1 <= limit <= MAX_LIMIT:
            self._send(400, {"error": f"limit must be 1..{MAX_LIMIT}"})
            return
        version = self.server.version()
        etag = f'"{hashlib.sha256((version + self.path).encode()).hexdigest()[:20]}"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, None, {"ETag": etag})
            return
        with self.server.lock:
            events = list(self.server.events)
        chosen = [
            e
            for e in events
            if (after is None or e["id"] > after)
            and (since is None or _instant(e["updated_at"]) >= since)
        ]
        page = chosen[:limit]
        more = len(chosen) > limit
        body = {"data": page, "next_cursor": _encode_cursor(page[-1]["id"]) if more else None}
        self._send(200, body, {"ETag": etag, "Cache-Control": "no-cache"})


def start(
    port: int = 0, *, events: list[dict] | None = None, token: str | None = None
) -> tuple[VivimedServer, str]:
    """Start the API on 127.0.0.1:`port` (0: a free port) in a daemon thread."""
    server = VivimedServer(port, events if events is not None else load_events(), token)
    serve_in_background(server, poll_s=0.05)
    return server, f"http://127.0.0.1:{server.server_address[1]}"


stop = stop_server


def main() -> None:
    """Serve the demo API until interrupted."""
    parser = argparse.ArgumentParser(description="Vivimed events demo API (sample data)")
    parser.add_argument("--port", type=int, default=8711)
    port = parser.parse_args().port
    server = VivimedServer(port, load_events(), None)
    print(f"Vivimed demo API on http://127.0.0.1:{port}/events (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
