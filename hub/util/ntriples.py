"""Triples as N-Triples text in UTF-8 chunks: what RDF harvesters yield and the pipeline loads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyoxigraph as ox

__all__ = ["CHUNK_TRIPLES", "ntriples_chunks"]

CHUNK_TRIPLES = 10_000


def ntriples_chunks(
    triples: Iterable[ox.Triple], per_chunk: int = CHUNK_TRIPLES
) -> Iterator[bytes]:
    """N-Triples lines of `triples`, joined into UTF-8 chunks of `per_chunk` triples."""
    lines: list[str] = []
    for triple in triples:
        lines.append(f"{triple} .\n")
        if len(lines) >= per_chunk:
            yield "".join(lines).encode("utf-8")
            lines = []
    if lines:
        yield "".join(lines).encode("utf-8")
