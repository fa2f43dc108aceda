"""What a read-model query asks and gets: filter, sort, rows and pages (plain data)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

SORTS = ("name", "updated", "-updated", "distance")


@dataclass(frozen=True)
class Word:
    """One search term; `prefix` matches every word starting with it."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class EntityFilter:
    """What entities to select; every field narrows the selection (values in a field: any of)."""

    types: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()  # folded, see _text.facet_value
    words: tuple[Word, ...] = ()
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    near: tuple[float, float] | None = None  # lat, lon
    radius_km: float | None = None
    updated_since: str | None = None  # YYYY-MM-DDTHH:MM:SSZ

    def key(self) -> str:
        """A canonical text for caches and cursors."""
        return json.dumps([getattr(self, f.name) for f in fields(self)], default=repr)

    def facet_values(self, facet: str) -> tuple[str, ...]:
        """The values asked for a facet (`type`, `region`, ...)."""
        return {
            "type": self.types,
            "region": self.regions,
            "theme": self.themes,
            "category": self.categories,
            "municipality": self.municipalities,
        }[facet]

    @property
    def cube_only(self) -> bool:
        """Whether cells alone answer it: only source, project, type, region, theme, category."""
        return not (
            self.municipalities or self.words or self.bbox or self.near or self.updated_since
        )

    @property
    def narrows_cells(self) -> bool:
        """Whether it keeps only some cells."""
        return bool(
            self.types
            or self.regions
            or self.themes
            or self.categories
            or self.sources
            or self.projects
        )


@dataclass(frozen=True)
class SortSpec:
    """The order of a page: `name` (in `lang`), `updated`, `-updated` or `distance`."""

    field: str = "name"
    lang: str = "en"

    def columns(self) -> tuple[str, str, str, bool]:
        """(sort expression, its index, its per-cell index, descending) of name/updated sorts."""
        if self.field == "name":
            lang = self.lang
            return f"e.sort_{lang}", f"entities_sort_{lang}", f"entities_cell_sort_{lang}", False
        if self.field in ("updated", "-updated"):
            return (
                "e.updated",
                "entities_updated",
                "entities_cell_updated",
                self.field == "-updated",
            )
        raise ValueError(self.field)


@dataclass
class EntityRow:
    """One entity as read: its columns, its document, and what the cursor needs."""

    id: int
    uid: str
    source: str
    updated: str
    lat: float | None
    lon: float | None
    sort_value: Any = None
    distance_km: float | None = None
    doc: dict[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    """A page of entities, the total that match, and the keyset after the last row if more."""

    rows: list[EntityRow]
    total: int
    after: tuple[Any, str] | None
    plan: str = ""
