"""Read a source's published N-Triples into entities, streamed through a temporary SQLite table.

Only the triples of the predicates the API needs are kept (staged in a TEMP
table, on disk), then read back grouped by subject, so a source of millions of
triples never sits in memory. What counts as an entity is decided here (see
`is_entity_type` and docs/api.md).
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from hub.iris import GEO, MH, RDF, SCHEMA
from hub.readmodel._geo import Shape, from_wkt, point

THEME_NS = "https://w3id.org/marittimo-hub/theme/"
CATEGORY_NS = "https://w3id.org/marittimo-hub/category/"

# schema.org classes of values that hang off an entity, not entities themselves.
NOT_ENTITIES = frozenset(
    SCHEMA + name
    for name in (
        "PostalAddress",
        "GeoCoordinates",
        "GeoShape",
        "GeoCircle",
        "Offer",
        "AggregateOffer",
        "Demand",
        "PriceSpecification",
        "UnitPriceSpecification",
        "MonetaryAmount",
        "QuantitativeValue",
        "PropertyValue",
        "OpeningHoursSpecification",
        "ContactPoint",
        "Rating",
        "AggregateRating",
        "Review",
        "ImageObject",
        "VideoObject",
        "MediaObject",
        "Distance",
        "Duration",
        "EntryPoint",
        "StructuredValue",
        "Schedule",
        "ListItem",
        "ItemList",
        "DefinedTerm",
        "Language",
        "Country",
        "Audience",
        "Certification",
    )
)

# predicate IRI -> short code staged in SQLite
PREDICATES = {
    RDF + "type": 1,
    SCHEMA + "name": 2,
    SCHEMA + "description": 3,
    SCHEMA + "latitude": 4,
    SCHEMA + "longitude": 5,
    SCHEMA + "dateModified": 6,
    SCHEMA + "url": 7,
    SCHEMA + "startDate": 8,
    SCHEMA + "endDate": 9,
    MH + "region": 10,
    MH + "municipality": 11,
    MH + "theme": 12,
    MH + "category": 13,
    GEO + "hasGeometry": 14,
    GEO + "asWKT": 15,
    SCHEMA + "geo": 16,
    SCHEMA + "address": 17,
    SCHEMA + "addressLocality": 18,
}
TYPE, NAME, DESCRIPTION, LAT, LON, MODIFIED, URL, START, END = range(1, 10)
REGION, MUNICIPALITY, THEME, CATEGORY, HAS_GEOMETRY, WKT, GEO_NODE, ADDRESS, LOCALITY = range(
    10, 19
)
LINKED = 100  # code offset of a value read through a linked node (geometry, geo, address)
_BATCH = 20_000


def is_entity_type(iri: str, hub_classes: Mapping[str, tuple[str, ...]] | None = None) -> bool:
    """Whether a class makes its instances API entities.

    A schema.org class other than a value node (address, offer, ...), or a hub class
    declared a subclass of a schema.org class (mh:OperatorNetwork, an Organization).
    """
    if hub_classes and iri in hub_classes:
        return True
    return iri.startswith(SCHEMA) and iri not in NOT_ENTITIES and "/" not in iri[len(SCHEMA) :]


def type_names(iri: str, hub_classes: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The API's names for an entity class: itself, and a hub class's schema.org superclasses."""
    if iri in hub_classes:
        return ("mh:" + iri[len(MH) :], *hub_classes[iri])
    return (iri[len(SCHEMA) :],)


@dataclass
class Entity:
    """What the read model keeps of one entity, gathered from its triples."""

    iri: str
    key: str
    types: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    municipalities: list[str] = field(default_factory=list)
    regions: set[str] = field(default_factory=set)
    themes: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    url: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    updated: str | None = None
    shape: Shape | None = None


def normalize_time(value: str) -> str | None:
    """An xsd:date or xsd:dateTime as `YYYY-MM-DDTHH:MM:SSZ` in UTC (no zone = UTC), or None."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


UNTAGGED = "und"
"""The language key of text without a language tag (BCP 47 "undetermined")."""


def short_lang(tag: str | None) -> str:
    """`en-GB` -> `en`; no tag -> `und`."""
    return (tag or UNTAGGED).lower().split("-")[0]


def stage_triples(conn: sqlite3.Connection, ntriples: Path) -> int:
    """Stream the file into TEMP table `stage` (only wanted predicates); the rows staged."""
    conn.execute("DROP TABLE IF EXISTS temp.stage")
    conn.execute(
        "CREATE TEMP TABLE stage(s TEXT NOT NULL, p INTEGER NOT NULL, o TEXT NOT NULL, lang TEXT)"
    )
    wanted = {ox.NamedNode(iri): code for iri, code in PREDICATES.items()}
    literal = ox.Literal
    rows: list[tuple[str, int, str, str | None]] = []
    staged = 0
    insert = "INSERT INTO temp.stage VALUES (?, ?, ?, ?)"
    for triple in ox.parse(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES):
        code = wanted.get(triple.predicate)
        if code is None:
            continue
        subject, obj = triple.subject, triple.object
        if type(subject) is not ox.NamedNode:
            continue
        lang = obj.language if type(obj) is literal else None
        rows.append((subject.value, code, obj.value, lang))
        if len(rows) >= _BATCH:
            conn.executemany(insert, rows)
            staged += len(rows)
            rows.clear()
    conn.executemany(insert, rows)
    staged += len(rows)
    conn.execute("CREATE INDEX temp.stage_s ON stage(s, p)")
    return staged


def staged_entities(
    conn: sqlite3.Connection, prefix: str, hub_classes: Mapping[str, tuple[str, ...]]
) -> Iterator[Entity]:
    """The entities of the staged triples whose IRIs start with `prefix`, in IRI order."""
    conn.execute("DROP TABLE IF EXISTS temp.ents")
    conn.execute("CREATE TEMP TABLE ents(s TEXT PRIMARY KEY) WITHOUT ROWID")
    types = conn.execute("SELECT DISTINCT o FROM temp.stage WHERE p = ?", (TYPE,)).fetchall()
    classes = [t for (t,) in types if is_entity_type(t, hub_classes)]
    conn.executemany(
        "INSERT OR IGNORE INTO temp.ents SELECT s FROM temp.stage "
        "WHERE p = ? AND o = ? AND substr(s, 1, ?) = ? AND length(s) > ?",
        [(TYPE, c, len(prefix), prefix, len(prefix)) for c in classes],
    )
    rows = conn.execute(
        f"""SELECT e.s, t.p, t.o, t.lang FROM temp.ents e CROSS JOIN temp.stage t ON t.s = e.s
        UNION ALL
        SELECT e.s, w.p + {LINKED}, w.o, w.lang FROM temp.ents e
          CROSS JOIN temp.stage l ON l.s = e.s AND l.p IN ({HAS_GEOMETRY}, {GEO_NODE}, {ADDRESS})
          CROSS JOIN temp.stage w ON w.s = l.o AND w.p IN ({WKT}, {LAT}, {LON}, {LOCALITY})
        ORDER BY 1, 2, 3"""
    )
    for iri, group in itertools.groupby(rows, key=lambda r: r[0]):
        yield _entity(iri, prefix, group, hub_classes)


def _entity(
    iri: str,
    prefix: str,
    triples: Iterator[tuple[str, int, str, str | None]],
    hub_classes: Mapping[str, tuple[str, ...]],
) -> Entity:
    """Gather one subject's staged triples into an Entity."""
    entity = Entity(iri=iri, key=iri[len(prefix) :])
    coords: dict[int, float] = {}
    wkt: str | None = None
    localities: list[str] = []
    for _, code, value, lang in triples:
        if code == TYPE:
            if is_entity_type(value, hub_classes):
                entity.types.update(type_names(value, hub_classes))
        elif code == NAME:
            entity.names.setdefault(short_lang(lang), value)
        elif code == DESCRIPTION:
            entity.descriptions.setdefault(short_lang(lang), value)
        elif code in (LAT, LON, LINKED + LAT, LINKED + LON):
            with contextlib.suppress(ValueError):
                coords.setdefault(code, float(value))
        elif code == MODIFIED:
            stamp = normalize_time(value)
            if stamp and (entity.updated is None or stamp > entity.updated):
                entity.updated = stamp
        elif code == URL:
            entity.url = entity.url or value
        elif code == START:
            entity.start_date = entity.start_date or value
        elif code == END:
            entity.end_date = entity.end_date or value
        elif code == REGION:
            entity.regions.add(value)
        elif code == MUNICIPALITY:
            if value not in entity.municipalities:
                entity.municipalities.append(value)
        elif code == THEME:
            entity.themes.add(value)
        elif code == CATEGORY:
            entity.categories.add(value)
        elif code == LINKED + WKT:
            wkt = wkt or value
        elif code == LINKED + LOCALITY and value not in localities:
            localities.append(value)
    if not entity.municipalities:
        entity.municipalities = localities
    entity.shape = _shape(coords, wkt)
    return entity


def _shape(coords: dict[int, float], wkt: str | None) -> Shape | None:
    """The entity's shape: its own lat/lon, else schema:geo's, else its WKT geometry's."""
    lat = coords.get(LAT, coords.get(LINKED + LAT))
    lon = coords.get(LON, coords.get(LINKED + LON))
    geometry = from_wkt(wkt) if wkt else None
    located = point(lat, lon) if lat is not None and lon is not None else None
    if located is None:
        return geometry
    if geometry is None:
        return located
    min_lon, min_lat, max_lon, max_lat = geometry.bbox
    bbox = (min(min_lon, lon), min(min_lat, lat), max(max_lon, lon), max(max_lat, lat))
    return Shape(located.lat, located.lon, bbox, geometry.geometry)
