"""Turn read-model rows into what clients get: JSON items, GeoJSON features, JSON-LD nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.iris import MH, Iris
from hub.readmodel import SourceInfo
from hub.readmodel._extract import CATEGORY_NS, THEME_NS
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

    def node(self, row: EntityRow) -> dict[str, Any]:
        """A JSON-LD node with schema.org terms (the context is the caller's)."""
        doc, chosen = row.doc, set(self.fields)
        source = self.sources.get(row.source)
        node: dict[str, Any] = {"@id": doc["iri"], "identifier": row.uid}
        if (
            "types" in chosen
        ):  # hub classes as full IRIs: some JSON-LD readers skip prefixes in @type
            node["@type"] = [MH + t[3:] if t.startswith("mh:") else t for t in doc.get("types", [])]
        for field, term, key in (
            ("name", "name", "names"),
            ("names", "name", "names"),
            ("description", "description", "descriptions"),
            ("descriptions", "description", "descriptions"),
        ):
            if field not in chosen:
                continue
            values = doc.get(key, {})
            if field == key:
                texts = sorted(values.items())
            else:
                value, lang = pick(values, self.lang)
                texts = [(lang, value)] if value is not None else []
            node[term] = [_text(v, lang) for lang, v in texts]
        if "municipalities" in chosen:
            node["mh:municipality"] = doc.get("municipalities", [])
        region_base = self.iris.programme_base + "region/"
        for field, term, base in (
            ("regions", "mh:region", region_base),
            ("themes", "mh:theme", THEME_NS),
            ("categories", "mh:category", CATEGORY_NS),
        ):
            if field in chosen:
                node[term] = [{"@id": v if ":" in v else base + v} for v in doc.get(field, [])]
        if "lat" in chosen and row.lat is not None:
            node["latitude"] = row.lat
        if "lon" in chosen and row.lon is not None:
            node["longitude"] = row.lon
        if "updated" in chosen:
            node["dateModified"] = {"@value": row.updated, "@type": "xsd:dateTime"}
        if "url" in chosen and doc.get("url"):
            node["url"] = {"@id": doc["url"]}
        for field, term in (("start_date", "startDate"), ("end_date", "endDate")):
            if field in chosen and doc.get(field):
                node[term] = doc[field]
        if source is not None:
            if "project" in chosen:
                node["mh:project"] = {"@id": self.iris.project(source.project)}
            if "licence" in chosen:
                node["license"] = {"@id": source.licence}
            if "source" in chosen:
                node["isBasedOn"] = {"@id": self.iris.dataset(row.source)}
        return node


def _text(value: str, lang: str | None) -> dict[str, str]:
    return {"@value": value, "@language": lang} if lang else {"@value": value}
