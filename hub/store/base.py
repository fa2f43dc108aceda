"""What the hub needs from a store, whatever holds the RDF: the `Store` protocol.

Adapters: `OxigraphStore` (pyoxigraph in this process) and `HttpStore` (SPARQL 1.1
Protocol + Graph Store Protocol: the hub's own `oxigraph serve` child, or any external
server). Nothing outside `hub.store` may assume which one it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal
MiB = 1024 * 1024


@dataclass(frozen=True)
class Capabilities:
    """What a store can promise; the publisher picks its way of writing from these."""

    atomic_updates: bool
    """One SPARQL update request is one transaction (all of it, or none of it)."""
    max_update_bytes: int
    """The largest update body it takes in one request (Oxigraph's server: 128 MiB)."""
    query_time_limit: bool
    """Queries are stopped at a time limit."""
    describe: str
    """Where it is, for people: a folder or a URL (secrets never included)."""
    extension_functions: tuple[str, ...] = ()
    """IRIs of the functions beyond SPARQL 1.1 that its queries may call (GeoSPARQL's geof:)."""


GEOF = "http://www.opengis.net/def/function/geosparql/"
_OXIGRAPH_GEOF_NAMES = """
        sfEquals sfDisjoint sfIntersects sfTouches sfCrosses sfWithin sfContains sfOverlaps
        ehEquals ehDisjoint ehMeet ehOverlap ehCovers ehCoveredBy ehInside ehContains
        rcc8eq rcc8dc rcc8ec rcc8po rcc8tppi rcc8tpp rcc8ntpp rcc8ntppi relate
        distance length perimeter
        envelope convexHull centroid intersection union difference symDifference
        dimension coordinateDimension spatialDimension isEmpty isSimple getSRID asGeoJSON
"""
OXIGRAPH_GEOF: tuple[str, ...] = tuple(GEOF + name for name in _OXIGRAPH_GEOF_NAMES.split())
"""The geof: functions Oxigraph 0.5 evaluates (each probed in tests/store/test_geosparql.py).

Not there (the query fails with "custom function ... is not supported"): buffer, boundary,
area (recognised, but never returns a value), minX/maxX/..., geometryN, transform, asWKT,
asGML, the metric* and agg* functions.
"""


@runtime_checkable
class Store(Protocol):
    """A quad store the hub reads and publishes to."""

    capabilities: Capabilities

    # reading
    def query(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        union_default_graph: bool = True,
        base_iri: str | None = None,
    ) -> Any:
        """A read query: solutions, a boolean, or triples; the public endpoint's path.

        The dataset, as SPARQL 1.1 says: graphs given here (the protocol's
        `default-graph-uri` / `named-graph-uri`) are exactly the dataset, and win over
        the query's FROM / FROM NAMED (a side left empty is empty); else the query's own
        FROM / FROM NAMED; else, with `union_default_graph`, the default graph is the
        union of all graphs and every named graph is available. Relative IRIs in the
        query resolve against `base_iri` (a BASE in the query wins).
        """

    def select(self, sparql: str) -> list[dict[str, Term]]:
        """Rows of a SELECT over the whole dataset (the hub's own reads)."""

    def ask(self, sparql: str) -> bool: ...

    def graph_size(self, graph: str) -> int: ...

    def named_graphs(self) -> list[str]: ...

    def has_graph(self, graph: str) -> bool: ...

    def dump_graph(self, graph: str, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> bytes:
        """A small graph, serialized in memory."""

    def dump_graph_to(self, graph: str, path: Path) -> None:
        """A graph of any size as N-Triples, streamed to a file."""

    # writing
    def update(self, sparql: str) -> None:
        """A SPARQL update; one transaction where `capabilities.atomic_updates`."""

    def load(
        self,
        data: bytes | str | IO[bytes],
        fmt: ox.RdfFormat,
        graph: str,
        base_iri: str | None = None,
    ) -> None:
        """Add a small document to a graph, in one transaction."""

    def replace_graph(
        self, graph: str, data: bytes, fmt: ox.RdfFormat, base_iri: str | None = None
    ) -> None:
        """Replace a small graph's content, in one transaction."""

    def add_file(self, graph: str, ntriples: Path) -> None:
        """Add an N-Triples file of any size to a graph, fast and without a transaction.

        Adding triples a graph already has changes nothing, so this may be repeated.
        """

    def publishing(self) -> AbstractContextManager[None]:
        """Hold off new reads while a change is written in several steps."""

    def flush(self) -> None: ...

    def close(self) -> None: ...


def ntriples_blocks(path: Path, limit: int) -> Iterator[bytes]:
    """The lines of an N-Triples file in blocks of at most `limit` bytes (whole lines)."""
    block: list[bytes] = []
    size = 0
    with path.open("rb") as data:
        for line in data:
            if size + len(line) > limit and block:
                yield b"".join(block)
                block, size = [], 0
            block.append(line)
            size += len(line)
    if block:
        yield b"".join(block)


def solution_rows(result: ox.QuerySolutions) -> list[dict[str, Term]]:
    """A SELECT's solutions as dicts of the bound variables (one pass over each row)."""
    names = [v.value for v in result.variables]
    return [{n: t for n, t in zip(names, row, strict=True) if t is not None} for row in result]
