"""Turn read-model rows into what clients get: JSON items and GeoJSON features (JSON-LD: jsonld.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.iris import Iris
from hub.readmodel import SourceInfo
from hub.readmodel._model import EntityRow
from hub.readmodel._text import pick

FIELDS = (
    "id",
    "iri",
    "source",
    "project",
    "licence",
    "types",
    "name",
    "description",
    "names",
    "descriptions",
    "municipalities",
    "regions",
    "themes",
    "categories",
    "lat",
    "lon",
    "updated",
    "url",
    "start_date",
    "end_date",
    "geometry",
    "distance_km",
)
"""Every field an entity can be shown with (`fields=` picks some)."""

DEFAULT_FIELDS = tuple(f for f in FIELDS if f not in ("names", "descriptions", "geometry"))
"""Fields shown without `fields=`; names and descriptions in every language, and the full
geometry, are there on request (GeoJSON always has the geometry)."""


@dataclass(frozen=True)
class Presenter:
    """Shows rows in one language with one set of fields."""

    lang: str
    fields: tuple[str, ...]
    sources: dict[str, SourceInfo]
    iris: Iris

    def item(self, row: EntityRow) -> dict[str, Any]:
        """The JSON object of one entity."""
        doc = row.doc
        source = self.sources.get(row.source)
        out: dict[str, Any] = {}
        for name in self.fields:
            if name == "id":
                out["id"] = row.uid
            elif name in (
                "iri",
                "types",
                "names",
                "descriptions",
                "municipalities",
                "regions",
                "themes",
                "categories",
                "url",
                "start_date",
                "end_date",
                "geometry",
            ):
                out[name] = doc.get(name)
            elif name == "name":
                out["name"] = pick(doc.get("names", {}), self.lang)[0]
            elif name == "description":
                out["description"] = pick(doc.get("descriptions", {}), self.lang)[0]
            elif name == "source":
                out["source"] = row.source
            elif name == "project":
                out["project"] = source.project if source else None
            elif name == "licence":
                out["licence"] = source.licence if source else None
            elif name == "lat":
                out["lat"] = row.lat
            elif name == "lon":
                out["lon"] = row.lon
            elif name == "updated":
                out["updated"] = row.updated
            elif name == "distance_km" and row.distance_km is not None:
                out["distance_km"] = round(row.distance_km, 3)
        return out

    def feature(self, row: EntityRow) -> dict[str, Any]:
        """A GeoJSON Feature: the entity's geometry (a point, or its whole line or area)."""
        properties = self.item(row)
        properties.pop("geometry", None)
        return {
            "type": "Feature",
            "id": row.uid,
            "geometry": row.doc.get("geometry"),
            "properties": properties,
        }
