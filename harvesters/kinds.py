"""The registry of harvester kinds: each kind's name, its harvester and its declared options.

The config checks every source against it when it loads (`option_problems`); the
pipeline finds a source's harvester in it (`get_harvester`). A kind's options are
declared once, as a pydantic model in its module (`files.Options`, `rest.Options`...),
and the harvester checks what it is given against the same model.

Every `hub` command imports this registry, so the kind modules stay light to import: a
kind's heavy library (sqlalchemy, openpyxl, SPARQLWrapper; scrapy runs in a subprocess)
is imported inside the functions that run a source, never at module level
(tests/test_config_kinds.py checks that loading the config imports none of them).

    >>> sorted(get_kind("sql").options.model_fields)
    ['batch_size', 'params', 'query', 'url']
    >>> option_problems("files", {"path": "musei.csv", "delimter": ";"})  # doctest: +ELLIPSIS
    [('options.delimter', 'is not an option of kind `files`; did you mean `delimiter`? ...')]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from harvesters import _options, ckan, files, portal, rdf, rest, sparql, sql
from harvesters._options import KindOptions
from harvesters.context import HarvestContext
from hub.errors import ConfigError

__all__ = ["KINDS", "REGISTRY", "Harvester", "Kind", "get_harvester", "get_kind", "option_problems"]


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


@dataclass(frozen=True)
class Kind:
    """One harvester kind: its name, the harvester, and the declaration of its options."""

    name: str
    harvest: Harvester
    options: type[KindOptions]

    @property
    def produces(self) -> str:
        """What the harvester yields: `records` (dicts to map) or `ntriples` (RDF chunks)."""
        return getattr(self.harvest, "produces", "records")


REGISTRY: Mapping[str, Kind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            Kind("files", files.harvest_files, files.Options),
            Kind("sql", sql.harvest_sql, sql.Options),
            Kind("portal", portal.harvest_portal, portal.Options),
            Kind("rest", rest.harvest_rest, rest.Options),
            Kind("ckan", ckan.harvest_ckan, ckan.Options),
            Kind("rdf", rdf.harvest_rdf, rdf.Options),
            Kind("sparql", sparql.harvest_sparql, sparql.Options),
        )
    }
)
KINDS: tuple[str, ...] = tuple(REGISTRY)


def unknown_kind(kind: str) -> str:
    """Why `kind` is refused, with the closest known kind and the list of them."""
    close = difflib.get_close_matches(kind, KINDS, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    return f"unknown harvester kind `{kind}`; {hint}known kinds: {', '.join(KINDS)}"


def get_kind(kind: str) -> Kind:
    """The registered kind of this name, or a ConfigError naming the known kinds."""
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ConfigError(unknown_kind(kind)) from None


def get_harvester(kind: str) -> Harvester:
    """The harvester of this kind, or a ConfigError naming the known kinds."""
    return get_kind(kind).harvest


def option_problems(kind: str, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with a source's options as written in the config: (`options.<key>`, problem).

    Secrets written `{ env = "NAME" }` are accepted for any string option: they are
    resolved only when the source runs.
    """
    declared = get_kind(kind)
    return _options.option_problems(kind, declared.options, options, defer_secrets=True)
