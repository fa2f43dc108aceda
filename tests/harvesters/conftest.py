"""Fixtures for harvester tests: a real HTTP server on loopback and real databases."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

DATA = Path(__file__).parent / "data"
POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"

# A route answers with a status, headers and a body; a body may be a callable that
# writes to the socket itself (to send slowly, or to break off half-way).
Body = bytes | Callable[[SimpleHTTPRequestHandler], None]


@dataclass
class Route:
    """A canned HTTP answer."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = b""


@dataclass
class FileServer:
    """A ThreadingHTTPServer serving `folder`, plus canned `routes`."""

    folder: Path
    base: str
    routes: dict[str, Route]

    def url(self, name: str) -> str:
        """The URL of a file or route on this server."""
        return f"{self.base}/{name.lstrip('/')}"

    def route(
        self, path: str, body: Body, headers: dict[str, str] | None = None, status: int = 200
    ) -> str:
        """Answer GET `path` with this body and headers; returns the route's URL."""
        self.routes["/" + path.lstrip("/")] = Route(status, headers or {}, body)
        return self.url(path)


@pytest.fixture
def data_dir() -> Path:
    """The folder of the fixture files committed with the tests."""
    return DATA


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[FileServer]:
    """A real HTTP server on 127.0.0.1 (random port) serving `tmp_path / "www"`."""
    folder = tmp_path / "www"
    folder.mkdir()
    routes: dict[str, Route] = {}

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[misc, arg-type]

        def do_GET(self) -> None:
            route = routes.get(self.path)
            if route is None:
                super().do_GET()
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if callable(route.body):
                route.body(self)
            else:
                self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FileServer(folder, f"http://127.0.0.1:{server.server_address[1]}", routes)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def closed_port() -> int:
    """A loopback port where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _engine_or_skip(url: str, name: str, where: str) -> sa.Engine:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server means: skip
        engine.dispose()
        reason = " ".join(str(getattr(exc, "orig", exc)).split())
        pytest.skip(f"{name} not reachable at {where}: {reason}; start it to run this test")
    return engine


@pytest.fixture
def pg_engine() -> Iterator[sa.Engine]:
    """An engine on the PostgreSQL test database, or skip when the server is not up."""
    engine = _engine_or_skip(POSTGRES_URL, "PostgreSQL", "127.0.0.1:5432")
    yield engine
    engine.dispose()


@pytest.fixture
def mariadb_engine() -> Iterator[sa.Engine]:
    """An engine on the MariaDB test database, or skip when the server is not up."""
    engine = _engine_or_skip(MARIADB_URL, "MariaDB", "127.0.0.1:3306")
    yield engine
    engine.dispose()


@pytest.fixture
def table_name() -> str:
    """A table name no other test run uses (the test databases are shared)."""
    return f"hub_test_{uuid.uuid4().hex[:12]}"
