"""The embedded store: pyoxigraph on disk, owned by one process.

Each query reads one consistent snapshot, taken when it starts; an update is one
transaction. A change written in several steps (`hub.pipeline.publish`, for change
sets too big for one transaction) holds `publishing()`, the write side of a
readers-writer gate, so no query *starts* in between; queries already running keep
their snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from hub.errors import QueryError, StoreError
from hub.store.base import OXIGRAPH_GEOF, Capabilities, MiB, Term, solution_rows
from hub.store.rwlock import ReadWriteLock
from hub.util.sparql_text import declares_dataset

__all__ = ["OxigraphStore", "Term", "sparql_iri"]


def sparql_iri(value: str) -> str:
    """An IRI written for SPARQL, refusing characters that could break out of `<...>`."""
    if not value or any(c in value for c in '<>"{}|^`\\ \n\r\t'):
        raise StoreError(f"`{value}` is not a valid IRI")
    return f"<{value}>"


def _open(path: Path, read_only: bool) -> ox.Store:
    try:
        return ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
    except OSError as exc:
        hint = ""
        if "lock" in str(exc).lower():
            hint = (
                "; another process (a running `hub serve` or `hub demo`?) has it open for "
                "writing: stop it first (`hub query` and `hub sources` can run alongside it)"
            )
        raise StoreError(f"cannot open the store at {path}: {exc}{hint}") from None


class OxigraphStore:
    """An on-disk Oxigraph store with the few operations the hub needs (a `Store`).

    >>> store = OxigraphStore(Path("var/store"))                               # doctest: +SKIP
    >>> store.add_file("https://hub.example.org/graph/s", Path("s.nt"))        # doctest: +SKIP
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        # One transaction holds the whole change in memory: about 3 GB for 2 M triples
        # changed (measured, docs/decisions.md); bigger change sets are written in steps.
        self.capabilities = Capabilities(
            atomic_updates=True,
            max_update_bytes=128 * MiB,
            query_time_limit=False,
            describe=str(path),
            extension_functions=OXIGRAPH_GEOF,
        )
        self._write_lock = threading.RLock()
        self._publishing = ReadWriteLock()
        if read_only:
            if not path.exists():
                raise StoreError(f"no store at {path}; run `hub harvest` (or `hub demo`) first")
            self._store = _open(path, read_only=True)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._store = _open(path, read_only=False)

    # -- reading -----------------------------------------------------------
    def query(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        union_default_graph: bool = True,
        base_iri: str | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a read query on the dataset SPARQL 1.1 gives it (see `Store.query`).

        The result is lazy but reads one snapshot, taken here, outside any publish.
        """
        kwargs: dict = {"base_iri": base_iri}
        try:
            if default_graphs or named_graphs:
                # Both sides, even an empty one: the protocol's dataset is exactly what it
                # names (pyoxigraph would keep every named graph if `named_graphs` were left out).
                kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graphs or []]
                kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs or []]
            elif union_default_graph and not declares_dataset(sparql):
                # The union option would override FROM / FROM NAMED: only without them.
                kwargs["use_default_graph_as_union"] = True
            with self._publishing.reading():
                return self._store.query(sparql, **kwargs)
        except (SyntaxError, ValueError) as exc:
            raise QueryError(str(exc)) from None
        except RuntimeError as exc:
            # A function the engine does not have (geof:buffer...): the query's fault.
            if "is not supported" not in str(exc):
                raise
            raise QueryError(str(exc)) from None

    def select(self, sparql: str) -> list[dict[str, Term]]:
        """Rows of a SELECT query on the latest state (the hub's own reads), as dicts."""
        try:
            with self._publishing.reading():
                result = self._store.query(sparql)
                if not isinstance(result, ox.QuerySolutions):
                    raise QueryError("expected a SELECT query")
                return solution_rows(result)
        except (SyntaxError, ValueError) as exc:
            raise QueryError(str(exc)) from None

    def ask(self, sparql: str) -> bool:
        """The answer of an ASK query on the latest state."""
        try:
            with self._publishing.reading():
                return bool(self._store.query(sparql))
        except (SyntaxError, ValueError) as exc:
            raise QueryError(str(exc)) from None

    def graph_size(self, graph: str) -> int:
        """Number of triples in a named graph."""
        rows = self.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {sparql_iri(graph)} {{ ?s ?p ?o }} }}"
        )
        return int(rows[0]["n"].value)

    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs, sorted."""
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def has_graph(self, graph: str) -> bool:
        """True when the named graph exists."""
        return self._store.contains_named_graph(ox.NamedNode(graph))

    def dump_graph(self, graph: str, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> bytes:
        """A named graph serialized (small graphs: it is built in memory)."""
        return self._store.dump(format=fmt, from_graph=ox.NamedNode(graph)) or b""

    def dump_graph_to(self, graph: str, path: Path) -> None:
        """Write a named graph as N-Triples to a file, streamed."""
        self._store.dump(
            output=str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)
        )

    def quads(self, graph: str) -> Iterator[ox.Quad]:
        return self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))

    # -- writing -----------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"the store at {self.path} is open read-only")

    def update(self, sparql: str) -> None:
        """Run a SPARQL update as one transaction."""
        self._writable()
        with self._write_lock:
            try:
                self._store.update(sparql)
            except (SyntaxError, ValueError) as exc:
                raise QueryError(str(exc)) from None

    def bulk_load(self, chunks: Iterable[bytes | IO[bytes]], graph: str) -> None:
        """Load N-Triples (bytes or binary files) into `graph`, fast, without a transaction.

        Only for graphs nobody reads yet (a staging store); readers of this store
        do not see the data until the load has finished.
        """
        self._writable()
        target = ox.NamedNode(graph)
        with self._write_lock:
            for chunk in chunks:
                self._store.bulk_load(chunk, ox.RdfFormat.N_TRIPLES, to_graph=target)

    def load(
        self,
        data: bytes | str | IO[bytes],
        fmt: ox.RdfFormat,
        graph: str,
        base_iri: str | None = None,
    ) -> None:
        """Load a small document into `graph` in one transaction."""
        self._writable()
        with self._write_lock:
            self._store.load(data, fmt, to_graph=ox.NamedNode(graph), base_iri=base_iri)

    def replace_graph(
        self, graph: str, data: bytes, fmt: ox.RdfFormat, base_iri: str | None = None
    ) -> None:
        """Replace a small graph's content with `data`, in one transaction."""
        self._writable()
        target = ox.NamedNode(graph)
        quads = [
            ox.Quad(t.subject, t.predicate, t.object, target)
            for t in ox.parse(data, fmt, base_iri=base_iri)
        ]
        with self._write_lock:
            self._store.update(f"DROP SILENT GRAPH {sparql_iri(graph)}")
            self._store.extend(quads)

    def add_file(self, graph: str, ntriples: Path) -> None:
        """Add an N-Triples file to `graph` with the bulk loader (no transaction; repeatable)."""
        self._writable()
        with self._write_lock:
            self._store.bulk_load(
                path=str(ntriples), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph)
            )
            self._store.flush()

    def publishing(self) -> AbstractContextManager[None]:
        """No query starts until the block ends (a change written in several steps)."""
        return self._publishing.writing()

    def drop_graph(self, graph: str) -> None:
        """Remove a named graph (one transaction)."""
        self.update(f"DROP SILENT GRAPH {sparql_iri(graph)}")

    def flush(self) -> None:
        if not self.read_only:
            self._store.flush()

    def close(self) -> None:
        """Flush and release the store."""
        self.flush()
        del self._store
