"""A store reached over HTTP: the SPARQL 1.1 Protocol and Graph Store Protocol.

Used for the hub's own `oxigraph serve` child process (the default: it stops a query
at the time limit) and for any external SPARQL 1.1 server (Fuseki, GraphDB,
Virtuoso, QLever...). Results are fetched whole in a parseable format (JSON,
N-Triples), checked and parsed, so a body the server cut short (as Oxigraph does
when its timeout stops a query that already started streaming) becomes a clear
error, never a partial result.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pyoxigraph as ox
import requests

from hub.errors import QueryError, QueryTimeoutError, ResultTooLargeError, StoreError
from hub.store.base import OXIGRAPH_GEOF, Capabilities, MiB, Term, solution_rows
from hub.store.loopback import Answer, LoopbackClient, is_loopback
from hub.store.loopback import suits as loopback_suits
from hub.store.oxigraph import sparql_iri
from hub.store.pacing import QueryWindow
from hub.store.rwlock import ReadWriteLock
from hub.util.sparql_text import declares_dataset, with_base

CANCELLED = b"The SPARQL operation has been cancelled"
# How long past its own time limit we wait for the server before giving up on a query.
GRACE_S = 5.0
RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
SEND_STALL_S = 600.0
"""How long a write waits for the server to read more of its body. urllib3 sends a body
under the *connect* time limit, and Oxigraph's bulk loader stops reading while it writes
what it has read: under load, at 1M rows, for over 10 s, and an upload with the old 10 s
limit was aborted and sent again whole (decisions #48)."""
# Writes wait for the server as long as it works: a client that stops waiting does not
# stop the server's write, and would then report a failure for a write that happened.
# Only connecting and sending have a time limit; a dead server resets the connection (a
# child server on this machine refuses at once, so a long limit costs nothing there).
WRITE_TIMEOUT = (SEND_STALL_S, None)
OXIGRAPH_MAX_UPDATE = 128 * MiB - MiB  # `oxigraph serve` refuses bodies over 128 MiB
# How long the list of named graphs is trusted when a server without Oxigraph's
# `union-default-graph` is given every graph by name (writes through the hub forget it).
GRAPHS_TTL_S = 2.0
_ERROR_AT = re.compile(r"\b(at )(\d+)(?=:\d)")


def _line_before(match: re.Match[str]) -> str:
    return f"{match[1]}{max(int(match[2]) - 1, 1)}"


class _Unreachable(Exception):
    """The server could not be reached (refused, reset): worth one more try once it is back."""


def _forget_frames(error: BaseException) -> None:
    """Clear the finished frames an exception (and those it chains) holds.

    requests' exceptions sit in reference cycles with the frames that raised them, and
    those frames lead up to our callers; when the query is then sent again and answers,
    the cycle would keep a caller's frame, and the pyoxigraph result it holds, until a
    garbage collection on another thread, which pyoxigraph refuses.
    """
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        pending += [current.__context__, current.__cause__]


class GraphResult:
    """The triples of a CONSTRUCT/DESCRIBE, parsed; serializes like pyoxigraph's QueryTriples."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.triples = triples

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self.triples)

    def serialize(
        self, output: IO[bytes] | None = None, format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES
    ) -> bytes | None:  # noqa: A002
        return ox.serialize(self.triples, output, format)


def _describe(url: str) -> str:
    """The URL for people: scheme, host, port and path; never a user, password or query."""
    where = urlsplit(url)
    host = where.netloc.rpartition("@")[2]
    return f"{where.scheme}://{host}{where.path}"


class HttpStore:
    """A SPARQL 1.1 server as the hub's store (a `Store`)."""

    def __init__(
        self,
        query_url: str,
        update_url: str,
        graph_store_url: str,
        *,
        timeout_s: float = 30.0,
        max_result_bytes: int = 256 * 1024 * 1024,
        oxigraph: bool = False,
        atomic_updates: bool = True,
        max_update_bytes: int | None = None,
        on_close: Any = None,
        on_overrun: Any = None,
        on_unreachable: Any = None,
        query_window: QueryWindow | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.graph_store_url = graph_store_url
        self.timeout_s = timeout_s
        self.max_result_bytes = max_result_bytes
        self.oxigraph = oxigraph  # Oxigraph's extensions: union-default-graph, no_transaction
        self.read_only = False
        self.capabilities = Capabilities(
            atomic_updates=atomic_updates,
            max_update_bytes=max_update_bytes or (OXIGRAPH_MAX_UPDATE if oxigraph else 64 * MiB),
            query_time_limit=True,
            describe=_describe(query_url),
            extension_functions=OXIGRAPH_GEOF if oxigraph else (),
        )
        self._on_close = on_close
        self._query_window = query_window  # paces queries to a child `oxigraph serve`
        self._on_overrun = on_overrun  # called when the server ignored its own time limit
        # Called when the server cannot be reached; True if it answers again (the owner of
        # a child server starts it again). Without it, the owner of `on_overrun` is asked.
        owner = getattr(on_overrun, "__self__", None)
        self._on_unreachable = on_unreachable or getattr(owner, "ensure_alive", None)
        self.server = owner  # the child server this store owns, if any (for /metrics)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._publishing = ReadWriteLock()
        self._graphs: tuple[float, list[str]] | None = None
        # Reads from a server on this machine skip `requests` (see hub/store/loopback.py).
        self._loopback = LoopbackClient(query_url) if loopback_suits(query_url) else None

    # -- HTTP --------------------------------------------------------------
    @property
    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            # A server on this machine is reached directly: looking for proxy settings and
            # .netrc in the environment took a third of each query's time (0.35 of 1.1 ms).
            session.trust_env = not is_loopback(self.query_url)
        return session

    def _post(self, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.post(url, timeout=WRITE_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise StoreError(f"the SPARQL server at {url} cannot be reached: {exc}") from None

    def _read_body(self, response: requests.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(1 << 16):
            size += len(chunk)
            if size > self.max_result_bytes:
                response.close()
                raise ResultTooLargeError(
                    f"the result is larger than {self.max_result_bytes} bytes; add a LIMIT or "
                    "select less"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    # -- reading -----------------------------------------------------------
    def query(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        union_default_graph: bool = True,
        base_iri: str | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | GraphResult:
        """Run a read query on the server; the whole result is fetched, checked and parsed.

        The dataset follows SPARQL 1.1 (see `Store.query`). Relative IRIs resolve against
        `base_iri`, sent as a BASE line before the query: a server would resolve them
        against its own (internal) address. If the server cannot be reached and its owner
        starts it again, the query is sent once more (a read changes nothing; writes are
        never sent twice).
        """
        params = self._dataset(sparql, default_graphs, named_graphs, union_default_graph)
        text = with_base(sparql, base_iri) if base_iri else sparql
        try:
            try:
                return self._query_once(text, params)
            except _Unreachable as exc:
                message = str(exc)
                _forget_frames(exc)
            if self._on_unreachable is None or not self._on_unreachable():
                raise StoreError(message)
            try:
                return self._query_once(text, params)
            except _Unreachable as exc:
                raise StoreError(str(exc)) from None
        except QueryError as exc:
            if not base_iri or type(exc) is not QueryError:  # a timeout stays a timeout
                raise
            # Positions in the parser's message count the BASE line we added: take it off.
            raise QueryError(_ERROR_AT.sub(_line_before, str(exc))) from None

    def _dataset(
        self,
        sparql: str,
        default_graphs: list[str] | None,
        named_graphs: list[str] | None,
        union: bool,
    ) -> list[tuple[str, str]]:
        """The protocol parameters that give the query the dataset `Store.query` promises."""
        if default_graphs or named_graphs:
            # The protocol's own semantics: a side not named is empty (on every server).
            return [("default-graph-uri", g) for g in default_graphs or []] + [
                ("named-graph-uri", g) for g in named_graphs or []
            ]
        if not union or declares_dataset(sparql):
            return []  # the server's own default graph, or the query's FROM / FROM NAMED
        if self.oxigraph:
            return [("union-default-graph", "")]
        # Another server's default graph is its own business (often empty, sometimes the
        # union): name every graph, as default graph and as named graphs, to get the union.
        graphs = self._graph_names()
        return [("default-graph-uri", g) for g in graphs] + [("named-graph-uri", g) for g in graphs]

    def _graph_names(self) -> list[str]:
        """The server's named graphs, kept for a moment (a query per request would be waste)."""
        cached = self._graphs
        if cached is not None and time.monotonic() - cached[0] < GRAPHS_TTL_S:
            return cached[1]
        graphs = self.named_graphs()
        self._graphs = (time.monotonic(), graphs)
        return graphs

    def _query_once(
        self, sparql: str, params: list[tuple[str, str]]
    ) -> ox.QuerySolutions | ox.QueryBoolean | GraphResult:
        if self._query_window is not None:
            self._query_window.admit()
        try:
            with self._publishing.reading():
                answer = self._send_query(sparql, params)
        except (requests.Timeout, TimeoutError):
            # Some query shapes are not cancelled by Oxigraph's --timeout-s: stop them the
            # hard way (the owner restarts its child server), so they cannot pile up.
            if self._on_overrun is not None:
                with self._write_lock:  # never while a write is under way
                    self._on_overrun()
            raise QueryTimeoutError(self._timeout_message()) from None
        except (requests.ConnectionError, ConnectionError, http.client.HTTPException) as exc:
            # refused or reset: the server may be gone
            raise _Unreachable(
                f"the SPARQL server at {self.query_url} cannot be reached: {exc}"
            ) from None
        except requests.RequestException as exc:
            raise StoreError(
                f"the SPARQL server at {self.query_url} cannot be reached: {exc}"
            ) from None
        body = answer.body
        if answer.status >= 400:
            message = body.decode("utf-8", "replace").strip()
            if CANCELLED in body or answer.status in (503, 504):
                raise QueryTimeoutError(self._timeout_message())
            raise QueryError(message or f"HTTP {answer.status} from the SPARQL server")
        if CANCELLED in body[-200:]:
            raise QueryTimeoutError(self._timeout_message())
        try:
            if answer.media == NTRIPLES:
                return GraphResult([t for t in ox.parse(body, ox.RdfFormat.N_TRIPLES)])
            return ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise QueryError(
                f"the SPARQL server sent a result that cannot be read ({exc})"
            ) from None

    def _send_query(self, sparql: str, params: list[tuple[str, str]]) -> Answer:
        """POST a query as a form (the graph parameters are never too long for a URL)."""
        fields = [("query", sparql), *params]
        headers = {"Accept": f"{RESULTS_JSON}, {NTRIPLES};q=0.9"}
        read_timeout = self.timeout_s + GRACE_S
        if self._loopback is not None:
            return self._loopback.post_form(
                self.query_url, fields, headers, read_timeout, self.max_result_bytes
            )
        response = self._http.post(
            self.query_url, data=fields, headers=headers, timeout=(5, read_timeout), stream=True
        )
        body = self._read_body(response)
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Answer(response.status_code, media, body)

    def _timeout_message(self) -> str:
        return (
            f"the query ran longer than the limit of {self.timeout_s:g} s and was stopped; "
            "add a LIMIT, narrow the patterns, or run it on your own copy of the data"
        )

    def select(self, sparql: str) -> list[dict[str, Term]]:
        """Rows of a SELECT query as dicts (the whole dataset; graphs named in the query)."""
        result = self.query(sparql, union_default_graph=False)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        return solution_rows(result)

    def ask(self, sparql: str) -> bool:
        return bool(self.query(sparql, union_default_graph=False))

    def graph_size(self, graph: str) -> int:
        """Number of triples in a named graph."""
        rows = self.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {sparql_iri(graph)} {{ ?s ?p ?o }} }}"
        )
        return int(rows[0]["n"].value)

    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs, sorted."""
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return sorted(r["g"].value for r in rows if isinstance(r["g"], ox.NamedNode))

    def has_graph(self, graph: str) -> bool:
        return self.ask(f"ASK {{ GRAPH {sparql_iri(graph)} {{ }} }}")

    def dump_graph(self, graph: str, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> bytes:
        """A (small) named graph, serialized."""
        triples = self.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_iri(graph)} {{ ?s ?p ?o }} }}"
        )
        assert isinstance(triples, GraphResult)
        return triples.serialize(format=fmt) or b""

    # -- writing -----------------------------------------------------------
    def update(self, sparql: str) -> None:
        """Run a SPARQL update (one request: one transaction on servers that have them)."""
        self._graphs = None
        response = self._post(
            self.update_url,
            data=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )
        if response.status_code >= 400:
            raise QueryError(f"the SPARQL server refused an update: {response.text.strip()}")

    def _graph_store(self, method: str, graph: str, body: Any, media: str, bulk: bool) -> None:
        self._graphs = None
        params: dict[str, str] = {"graph": graph}
        if bulk and self.oxigraph:
            params["no_transaction"] = ""
        try:
            response = self._http.request(
                method,
                self.graph_store_url,
                params=params,
                data=body,
                headers={"Content-Type": media},
                timeout=WRITE_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise StoreError(
                f"the SPARQL server at {self.graph_store_url} cannot be reached: {exc}"
            ) from None
        if response.status_code >= 400:
            raise StoreError(
                f"the SPARQL server refused to {method} graph {graph}: HTTP "
                f"{response.status_code} {response.text.strip()[:500]}"
            )

    def load(
        self,
        data: bytes | str | IO[bytes],
        fmt: ox.RdfFormat,
        graph: str,
        base_iri: str | None = None,
    ) -> None:
        """Add a small document to `graph` (Graph Store Protocol POST)."""
        if base_iri:
            data = ox.serialize(
                ox.parse(data, fmt, base_iri=base_iri), format=ox.RdfFormat.N_TRIPLES
            )
            fmt = ox.RdfFormat.N_TRIPLES
        self._graph_store("POST", graph, data, fmt.media_type, bulk=False)

    def replace_graph(
        self, graph: str, data: bytes, fmt: ox.RdfFormat, base_iri: str | None = None
    ) -> None:
        """Replace a small graph's content (Graph Store Protocol PUT: one transaction)."""
        if base_iri:
            data = ox.serialize(
                ox.parse(data, fmt, base_iri=base_iri), format=ox.RdfFormat.N_TRIPLES
            )
            fmt = ox.RdfFormat.N_TRIPLES
        self._graph_store("PUT", graph, data, fmt.media_type, bulk=False)

    def add_file(self, graph: str, ntriples: Path) -> None:
        """Add an N-Triples file to `graph` (Graph Store POST; Oxigraph: no transaction)."""
        with self._write_lock, ntriples.open("rb") as body:
            self._graph_store("POST", graph, body, NTRIPLES, bulk=True)

    def dump_graph_to(self, graph: str, path: Path) -> None:
        """Write a graph of any size as N-Triples to a file (Graph Store GET, streamed)."""
        try:
            with self._http.get(
                self.graph_store_url,
                params={"graph": graph},
                headers={"Accept": NTRIPLES},
                timeout=WRITE_TIMEOUT,
                stream=True,
            ) as response:
                if response.status_code == 404:
                    path.write_bytes(b"")
                    return
                if response.status_code >= 400:
                    raise StoreError(
                        f"the SPARQL server refused to send graph {graph}: HTTP "
                        f"{response.status_code} {response.text.strip()[:300]}"
                    )
                with path.open("wb") as out:
                    for chunk in response.iter_content(1 << 20):
                        out.write(chunk)
        except requests.RequestException as exc:
            raise StoreError(
                f"the SPARQL server at {self.graph_store_url} cannot be reached: {exc}"
            ) from None

    @contextmanager
    def _publishing_block(self) -> Iterator[None]:
        with self._write_lock, self._publishing.writing():
            yield

    def publishing(self) -> AbstractContextManager[None]:
        """No query starts (and the child server is not restarted) until the block ends."""
        return self._publishing_block()

    def drop_graph(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH {sparql_iri(graph)}")

    def flush(self) -> None:
        """Nothing to do: the server persists what it accepted."""

    def close(self) -> None:
        """Close the connections (and stop the child server this store owns)."""
        if self._loopback is not None:
            self._loopback.close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
