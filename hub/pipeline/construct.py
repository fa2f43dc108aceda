"""Map RDF sources with a SPARQL CONSTRUCT (`mappings/<source>.rq`) instead of YARRRML.

The harvested triples are loaded into a graph of the run's staging store; the
CONSTRUCT runs over it (its default graph) and its result becomes the source's
staged graph. In the query, `{{id}}`, `{{hubid}}` and `{{programme}}` stand for
the hub's IRI prefixes (the YARRRML built-ins `id:`, `hubid:`, `programme:`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from hub.errors import MappingError
from hub.iris import SCHEMA, SCHEMA_OTHER_SPELLING, Iris
from hub.store.oxigraph import OxigraphStore
from hub.util.ntriples import ntriples_chunks
from hub.util.sparql_text import mentions_namespace

PLACEHOLDERS = ("id", "hubid", "programme")


def load_construct(path: Path, *, source_id: str, iris: Iris, display: str) -> str:
    """The CONSTRUCT text with the hub's prefixes filled in; MappingError if it cannot be."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(
            display, None, "file not found; check the source's `mapping` setting"
        ) from None
    values = {
        "id": iris.entity_prefix(source_id),
        "hubid": f"{iris.base}id/",
        "programme": iris.programme_base,
    }
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    try:
        parsed = ox.Store().query(text)
    except SyntaxError as exc:
        raise MappingError(
            display, _line_of(str(exc)), f"not a valid SPARQL query: {exc}"
        ) from None
    if not isinstance(parsed, ox.QueryTriples):
        raise MappingError(display, None, "an .rq mapping must be a CONSTRUCT query")
    if mentions_namespace(text, SCHEMA_OTHER_SPELLING):
        at = text.lower().find(SCHEMA_OTHER_SPELLING)
        raise MappingError(
            display,
            text.count("\n", 0, at) + 1 if at >= 0 else None,
            f"names {SCHEMA_OTHER_SPELLING}, which the hub's data never uses; schema.org is "
            f"{SCHEMA} (docs/decisions.md #28): write PREFIX schema: <{SCHEMA}>",
        )
    return text


def _line_of(message: str) -> int | None:
    # pyoxigraph reports "error at 3:14: ..."
    head = message.split(":", 2)
    try:
        return int(head[0].rsplit(" ", 1)[-1])
    except (ValueError, IndexError):
        return None


def construct_chunks(staging: OxigraphStore, raw_graph: str, query: str) -> Iterator[bytes]:
    """Run the CONSTRUCT over the raw graph; yield its triples as N-Triples chunks."""
    return ntriples_chunks(staging.query(query, default_graphs=[raw_graph]))
