"""Harvesters fetch records (plain dicts) from sources; one module per source kind.

A harvester is called as `harvester(source_id, options, root=folder)`: it checks the
options at once (raising HarvestError) and returns an iterator that reads the source
lazily, streaming records. Every failure, even half-way, raises `hub.errors.HarvestError`.

    >>> harvest = get_harvester("files")
    >>> records = harvest("musei", {"path": "musei.csv", "delimiter": ";"}, root=Path("hub/demo"))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from harvesters.ckan import harvest_ckan
from harvesters.context import HarvestContext
from harvesters.files import harvest_files
from harvesters.portal import harvest_portal
from harvesters.rdf import harvest_rdf
from harvesters.rest import harvest_rest
from harvesters.sparql import harvest_sparql
from harvesters.sql import harvest_sql
from hub.errors import ConfigError

__all__ = ["KINDS", "HarvestContext", "Harvester", "get_harvester"]


class Harvester(Protocol):
    """Yields the records of one source; relative paths in options are taken from `root`.

    `context` carries state between runs (conditional and incremental harvests);
    harvesters that have no use for it accept and ignore it.
    """

    def __call__(
        self,
        source_id: str,
        options: Mapping[str, Any],
        *,
        root: Path,
        context: HarvestContext | None = None,
    ) -> Iterator[dict]: ...


_HARVESTERS: dict[str, Harvester] = {
    "files": harvest_files,
    "sql": harvest_sql,
    "portal": harvest_portal,
    "rest": harvest_rest,
    "ckan": harvest_ckan,
    "rdf": harvest_rdf,
    "sparql": harvest_sparql,
}
KINDS: tuple[str, ...] = tuple(_HARVESTERS)


def get_harvester(kind: str) -> Harvester:
    """The harvester of this kind, or a ConfigError naming the known kinds."""
    try:
        return _HARVESTERS[kind]
    except KeyError:
        raise ConfigError(
            f"unknown harvester kind `{kind}`; known kinds: {', '.join(KINDS)}"
        ) from None
