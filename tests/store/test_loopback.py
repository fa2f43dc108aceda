"""The loopback client: kept-alive connections, reopened when the server closed them."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub.errors import QueryError, ResultTooLargeError
from hub.store.loopback import LoopbackClient, is_loopback


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive unless the handler says otherwise

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        form = self.rfile.read(length)
        server: _Server = self.server  # type: ignore[assignment]
        server.connections.add(self.client_address)
        server.authorizations.append(self.headers.get("Authorization"))
        if b"silent" in form:
            time.sleep(2)
        body = b"x" * 200_000 if b"large" in form else b"echo:" + form
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if b"hangup" in form:  # close without saying so: the client's next request finds it shut
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections: set[tuple[str, int]]
    authorizations: list[str | None]


@pytest.fixture()
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.connections = set()
    httpd.authorizations = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/query"


def test_one_connection_is_kept_for_many_queries(server: _Server) -> None:
    client = LoopbackClient(_url(server))
    for n in range(5):
        answer = client.post_form(_url(server), [("query", f"q{n}")], {}, 5.0, 1 << 20)
        assert (answer.status, answer.media, answer.body) == (
            200,
            "text/plain",
            f"echo:query=q{n}".encode(),
        )
    assert len(server.connections) == 1


def test_a_connection_the_server_closed_is_opened_again(server: _Server) -> None:
    client = LoopbackClient(_url(server))
    assert client.post_form(_url(server), [("query", "hangup")], {}, 5.0, 1 << 20).status == 200
    answer = client.post_form(_url(server), [("query", "after")], {}, 5.0, 1 << 20)
    assert answer.body == b"echo:query=after"
    assert len(server.connections) == 2


def test_a_result_over_the_limit_is_refused_and_the_next_query_works(server: _Server) -> None:
    client = LoopbackClient(_url(server))
    with pytest.raises(ResultTooLargeError, match="larger than 100000 bytes"):
        client.post_form(_url(server), [("query", "large")], {}, 5.0, 100_000)
    assert (
        client.post_form(_url(server), [("query", "ok")], {}, 5.0, 100_000).body == b"echo:query=ok"
    )


def test_a_silent_server_times_out(server: _Server) -> None:
    client = LoopbackClient(_url(server))
    with pytest.raises(TimeoutError):
        client.post_form(_url(server), [("query", "silent")], {}, 0.3, 1 << 20)


def test_a_closed_port_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = LoopbackClient(f"http://127.0.0.1:{port}/query")
    with pytest.raises(ConnectionError):
        client.post_form(f"http://127.0.0.1:{port}/query", [("query", "q")], {}, 1.0, 1 << 20)


def test_only_plain_http_on_this_machine() -> None:
    assert is_loopback("http://127.0.0.1:7878/query")
    assert is_loopback("http://localhost/query")
    assert is_loopback("http://[::1]:80/query")
    assert not is_loopback("http://sparql.example.org/query")
    assert not is_loopback("http://10.0.0.5/query")
    with pytest.raises(ValueError, match="not a plain-HTTP address on this machine"):
        LoopbackClient("https://127.0.0.1/query")
    with pytest.raises(ValueError):
        LoopbackClient("http://sparql.example.org/query")
    with pytest.raises(ValueError, match="without credentials") as refused:
        LoopbackClient("http://admin:s3cret@127.0.0.1:3030/ds/query")
    assert "s3cret" not in str(refused.value)


def test_a_local_server_with_credentials_in_its_url_gets_them(server: _Server) -> None:
    """Credentials in the URL stay `requests`' to send: the store does not use this client."""
    from hub.store.http import HttpStore

    port = server.server_address[1]
    with_password = HttpStore(
        f"http://admin:s3cret@127.0.0.1:{port}/query",
        f"http://admin:s3cret@127.0.0.1:{port}/update",
        f"http://admin:s3cret@127.0.0.1:{port}/store",
    )
    plain = HttpStore(
        f"http://127.0.0.1:{port}/query",
        f"http://127.0.0.1:{port}/update",
        f"http://127.0.0.1:{port}/store",
    )
    for store in (with_password, plain):
        with pytest.raises(QueryError, match="cannot be read"):  # the test server echoes text
            store.select("SELECT * WHERE { ?s ?p ?o }")
    sent_with_password, sent_plain = server.authorizations
    assert sent_with_password == "Basic " + base64.b64encode(b"admin:s3cret").decode()
    assert sent_plain is None
    assert plain._loopback is not None  # noqa: SLF001 - the plain one took the fast path


def test_close_closes_every_threads_connection(server: _Server) -> None:
    client = LoopbackClient(_url(server))
    done = []

    def ask(n: int) -> None:
        done.append(client.post_form(_url(server), [("query", f"t{n}")], {}, 5.0, 1 << 20))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 3 and len(server.connections) == 3
    opened = list(client._open)  # noqa: SLF001 - what close() must close
    assert len(opened) == 3 and all(c.sock is not None for c in opened)
    client.close()
    assert all(c.sock is None for c in opened)
