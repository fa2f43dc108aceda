"""The embedded store: pyoxigraph on disk, owned by one process.

Staging graphs are bulk-loaded (fast, not transactional: nobody reads them);
publishing copies a staging graph into the live graph in one SPARQL update,
which Oxigraph runs as one transaction, so readers see the old graph or the
new one and never a mix.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from hub.errors import QueryError, StoreError

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def _iri(value: str) -> str:
    if any(c in value for c in '<>"{}|^`\\ \n'):
        raise StoreError(f"`{value}` is not a valid IRI for a graph name")
    return f"<{value}>"


class OxigraphStore:
    """An on-disk Oxigraph store with the few operations the hub needs."""

    def __init__(
        self, path: Path, *, read_only: bool = False, hidden_prefix: str | None = None
    ) -> None:
        self.path = path
        self.read_only = read_only
        self.hidden_prefix = hidden_prefix
        self._write_lock = threading.Lock()
        try:
            if read_only:
                if not path.exists():
                    raise StoreError(
                        f"no store at {path}; run `hub harvest` (or `hub demo`) first to create it"
                    )
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            hint = ""
            if "lock" in str(exc).lower():
                hint = (
                    "; another process (a running `hub serve` or `hub demo`?) has it open for "
                    "writing: stop it, or run the command against that server"
                )
            raise StoreError(f"cannot open the store at {path}: {exc}{hint}") from None

    # -- reading ---------------------------------------------------------
    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        include_hidden: bool = False,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a SPARQL query.

        The default graph is the union of all visible graphs unless `default_graphs`
        is given; hidden graphs (staging, kept versions) are left out of the
        dataset unless `include_hidden`.
        """
        kwargs: dict = {}
        hide = self.hidden_prefix if not include_hidden else None
        visible = None
        if hide:
            visible = [g for g in self.named_graphs() if not g.startswith(hide)]
        if default_graphs:
            wanted = [g for g in default_graphs if not (hide and g.startswith(hide))]
            kwargs["default_graph"] = [ox.NamedNode(g) for g in wanted] or [ox.DefaultGraph()]
        elif visible is not None and union_default_graph:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in visible] or [ox.DefaultGraph()]
        else:
            kwargs["use_default_graph_as_union"] = union_default_graph
        if named_graphs:
            kwargs["named_graphs"] = [
                ox.NamedNode(g) for g in named_graphs if not (hide and g.startswith(hide))
            ]
        elif visible is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in visible]
        try:
            return self._store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QueryError(str(exc)) from None
        except ValueError as exc:
            raise QueryError(str(exc)) from None

    def select(self, sparql: str) -> list[dict[str, Term]]:
        """Rows of a SELECT query as dicts of variable name to term."""
        result = self.query(sparql, include_hidden=True)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        names = [v.value for v in result.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]

    def ask(self, sparql: str) -> bool:
        return bool(self.query(sparql, include_hidden=True))

    def graph_size(self, graph: str) -> int:
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {_iri(graph)} {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"].value)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def has_graph(self, graph: str) -> bool:
        return self._store.contains_named_graph(ox.NamedNode(graph))

    def dump_graph(self, graph: str, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> bytes:
        return self._store.dump(format=fmt, from_graph=ox.NamedNode(graph))

    # -- writing ---------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"the store at {self.path} is open read-only")

    def update(self, sparql: str) -> None:
        """Run a SPARQL update as one transaction."""
        self._writable()
        with self._write_lock:
            try:
                self._store.update(sparql)
            except SyntaxError as exc:
                raise QueryError(str(exc)) from None

    def bulk_load(self, chunks: Iterable[bytes], graph: str) -> None:
        """Load N-Triples chunks into `graph`, fast and without a transaction (staging only)."""
        self._writable()
        target = ox.NamedNode(graph)
        with self._write_lock:
            for chunk in chunks:
                self._store.bulk_load(chunk, ox.RdfFormat.N_TRIPLES, to_graph=target)

    def load(self, data: bytes | str | IO[bytes], fmt: ox.RdfFormat, graph: str,
             base_iri: str | None = None) -> None:
        """Load a small document into `graph` in one transaction."""
        self._writable()
        with self._write_lock:
            self._store.load(data, fmt, to_graph=ox.NamedNode(graph), base_iri=base_iri)

    def replace_graph(self, graph: str, data: bytes, fmt: ox.RdfFormat,
                      base_iri: str | None = None) -> None:
        """Replace a small graph's content with `data`, atomically (load aside, then COPY)."""
        self._writable()
        aside = graph + "/.replacing"
        with self._write_lock:
            self._store.update(f"DROP SILENT GRAPH {_iri(aside)}")
            self._store.load(data, fmt, to_graph=ox.NamedNode(aside), base_iri=base_iri)
            self._store.update(f"COPY SILENT {_iri(aside)} TO {_iri(graph)}; DROP SILENT GRAPH {_iri(aside)}")

    def publish(self, staging: str, live: str) -> None:
        """Make `live` an exact copy of `staging` in one transaction."""
        self._writable()
        with self._write_lock:
            self._store.update(f"COPY SILENT {_iri(staging)} TO {_iri(live)}")

    def drop_graph(self, graph: str) -> None:
        self._writable()
        with self._write_lock:
            self._store.update(f"DROP SILENT GRAPH {_iri(graph)}")

    def quads(self, graph: str) -> Iterator[ox.Quad]:
        return self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))

    def flush(self) -> None:
        if not self.read_only:
            self._store.flush()

    def close(self) -> None:
        """Release the store (pyoxigraph closes it when the object is dropped)."""
        self.flush()
        del self._store
