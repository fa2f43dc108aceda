"""The KML and GPX readers of the `files` kind: one record per placemark, track, route or waypoint.

Both are XML, parsed incrementally (the file's bytes are fed as they arrive and each
record is yielded, and its elements freed, as soon as it is complete), so a file of
thousands of tracks never sits in memory whole. Namespaces are ignored: KML 2.2 and
Google Earth's, GPX 1.0 and 1.1, and any extension namespace read the same.

A record carries the geometry in GeoJSON's shape (`geometry`, longitude first) and as
WKT (`wkt`), `lat` / `lon` for a point, and `length_km` (along the line, on a sphere of
radius 6371.0088 km, rounded to 0.01 km) for a line:

- KML `<Placemark>`: `id` (its id attribute), `name`, `description`, `folder` (the names
  of its enclosing `<Folder>`s, joined by " / "), `style` (`styleUrl`), and one key per
  `<ExtendedData>` value (`<Data name>` and `<SchemaData><SimpleData name>`).
  Geometries: Point, LineString, LinearRing, Polygon, MultiGeometry.
- GPX `<wpt>`, `<rte>` and `<trk>`: `kind` (`waypoint`, `route`, `track`), `name`,
  `desc`, `cmt`, `src`, `type`, `number`, `link` (its href), `ele` and `time` of a
  waypoint, and one key per simple element in `<extensions>` (by local name). A track's
  segments become one line, or a MultiLineString when it has several.

Python's expat refuses entity expansion bombs (expat >= 2.4) and never fetches
external entities, so a hostile file cannot make the parser read other files.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from harvesters._wkt import GeometryError, geometry_to_wkt
from harvesters.context import record_location
from hub.errors import HarvestError

EARTH_RADIUS_KM = 6371.0088


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    text = element.text.strip()
    return text or None


def _length_km(line: list[list[float]]) -> float:
    total = 0.0
    for (lon1, lat1, *_), (lon2, lat2, *_) in zip(line, line[1:], strict=False):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        dp, dl = p2 - p1, math.radians(lon2 - lon1)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        total += 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
    return total


def _lines(geometry: dict[str, Any]) -> list[list[list[float]]]:
    kind = geometry["type"]
    if kind == "LineString":
        return [geometry["coordinates"]]
    if kind == "MultiLineString":
        return geometry["coordinates"]
    if kind == "GeometryCollection":
        return [line for part in geometry["geometries"] for line in _lines(part)]
    return []


def _with_geometry(
    source_id: str, where: str, record: dict[str, Any], geometry: dict | None
) -> dict[str, Any]:
    try:
        record["wkt"] = geometry_to_wkt(geometry)
    except GeometryError as exc:
        raise HarvestError(source_id, f"{where} has a bad geometry: {exc}; fix it") from None
    record["geometry"] = geometry
    if geometry is not None and geometry["type"] == "Point" and geometry["coordinates"]:
        record["lon"], record["lat"] = geometry["coordinates"][:2]
    lines = _lines(geometry) if geometry is not None else []
    if any(len(line) > 1 for line in lines):
        record["length_km"] = round(sum(_length_km(line) for line in lines), 2)
    return record


class _Feeder:
    """Feeds byte chunks to an XML pull parser and yields its (event, element) pairs."""

    def __init__(self, source_id: str, name: str, what: str) -> None:
        self.source_id, self.name, self.what = source_id, name, what
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.root: str | None = None

    def events(self, chunks: Iterator[bytes]) -> Iterator[tuple[str, ET.Element]]:
        try:
            for chunk in chunks:
                self.parser.feed(chunk)
                yield from self.parser.read_events()
            self.parser.close()
            yield from self.parser.read_events()
        except ET.ParseError as exc:
            line, column = exc.position
            raise HarvestError(
                self.source_id,
                f"{self.name} is not well-formed XML at line {line} column {column + 1} "
                f"({str(exc).split(':')[0]}); fix the file, or set options.format if it is "
                f"not {self.what}",
            ) from None

    def check_root(self, element: ET.Element, expected: str) -> None:
        if self.root is None:
            self.root = _local(element.tag)
            if self.root != expected:
                raise HarvestError(
                    self.source_id,
                    f"{self.name}: the document is <{self.root}>, not <{expected}>; "
                    f"is it really {self.what}? set options.format to its format",
                )


# --- KML --------------------------------------------------------------------------------


def _kml_positions(source_id: str, where: str, element: ET.Element | None) -> list[list[float]]:
    text = _text(_child(element, "coordinates")) if element is not None else None
    positions: list[list[float]] = []
    for number, item in enumerate((text or "").split(), start=1):
        try:
            values = [float(v) for v in item.split(",")]
        except ValueError:
            values = []
        if len(values) < 2:
            raise HarvestError(
                source_id,
                f"{where}: coordinate {number} `{item}` is not longitude,latitude[,altitude]; "
                "fix the file",
            )
        positions.append(values[:2])
    return positions


def _kml_geometry(source_id: str, where: str, element: ET.Element) -> dict[str, Any] | None:
    kind = _local(element.tag)
    if kind == "Point":
        positions = _kml_positions(source_id, where, element)
        return {"type": "Point", "coordinates": positions[0] if positions else []}
    if kind in ("LineString", "LinearRing"):
        return {"type": "LineString", "coordinates": _kml_positions(source_id, where, element)}
    if kind == "Polygon":
        rings = []
        for boundary in ("outerBoundaryIs", "innerBoundaryIs"):
            for part in _children(element, boundary):
                rings.append(_kml_positions(source_id, where, _child(part, "LinearRing")))
        return {"type": "Polygon", "coordinates": rings}
    if kind == "MultiGeometry":
        parts = [g for g in (_kml_geometry(source_id, where, c) for c in element) if g]
        kinds = {p["type"] for p in parts}
        if kinds == {"LineString"}:
            return {"type": "MultiLineString", "coordinates": [p["coordinates"] for p in parts]}
        if kinds == {"Point"}:
            return {"type": "MultiPoint", "coordinates": [p["coordinates"] for p in parts]}
        return {"type": "GeometryCollection", "geometries": parts}
    return None


def _kml_record(source_id: str, where: str, mark: ET.Element, folders: list[str]) -> dict:
    record: dict[str, Any] = {
        "id": mark.get("id"),
        "name": _text(_child(mark, "name")),
        "description": _text(_child(mark, "description")),
        "folder": " / ".join(folders) or None,
        "style": _text(_child(mark, "styleUrl")),
    }
    extended = _child(mark, "ExtendedData")
    if extended is not None:
        for data in extended.iter():
            key = data.get("name")
            if key is None or _local(data.tag) not in ("Data", "SimpleData"):
                continue
            value = _text(_child(data, "value")) if _local(data.tag) == "Data" else _text(data)
            record[key] = value
    geometry = None
    for child in mark:
        geometry = _kml_geometry(source_id, where, child)
        if geometry is not None:
            break
    return _with_geometry(source_id, where, record, geometry)


def read_kml(source_id: str, name: str, chunks: Iterator[bytes]) -> Iterator[dict]:
    """Yield one record per KML Placemark, in document order."""
    feeder = _Feeder(source_id, name, "KML")
    folders: list[str] = []
    stack: list[ET.Element] = []
    count = 0
    for event, element in feeder.events(chunks):
        tag = _local(element.tag)
        if event == "start":
            feeder.check_root(element, "kml")
            stack.append(element)
            if tag == "Folder":
                folders.append("")
            continue
        stack.pop()
        if tag == "name" and len(stack) >= 1 and _local(stack[-1].tag) == "Folder":
            folders[-1] = _text(element) or ""
        elif tag == "Folder":
            folders.pop()
            element.clear()
        elif tag == "Placemark":
            count += 1
            where = f"{name} placemark {count}" + (
                f" (id {element.get('id')!r})" if element.get("id") else ""
            )
            record = _kml_record(source_id, where, element, [f for f in folders if f])
            record_location.set(where)
            yield record
            element.clear()  # its content is in the record now: free it
            if stack:
                stack[-1].remove(element)


# --- GPX --------------------------------------------------------------------------------

_GPX_KINDS = {"wpt": "waypoint", "rte": "route", "trk": "track"}
_GPX_TEXT = ("name", "desc", "cmt", "src", "type", "number")


def _gpx_point(source_id: str, where: str, point: ET.Element) -> list[float]:
    try:
        return [float(point.get("lon", "")), float(point.get("lat", ""))]
    except ValueError:
        raise HarvestError(
            source_id,
            f"{where}: a <{_local(point.tag)}> has lat={point.get('lat')!r} "
            f"lon={point.get('lon')!r}, not two numbers; fix the file",
        ) from None


def _gpx_record(source_id: str, where: str, element: ET.Element) -> dict[str, Any]:
    kind = _GPX_KINDS[_local(element.tag)]
    record: dict[str, Any] = {"kind": kind}
    for key in _GPX_TEXT:
        record[key] = _text(_child(element, key))
    link = _child(element, "link")
    record["link"] = (link.get("href") or _text(link)) if link is not None else None
    extensions = _child(element, "extensions")
    if extensions is not None:
        for item in extensions.iter():
            if item is not extensions and len(item) == 0 and _text(item) is not None:
                record[_local(item.tag)] = _text(item)
    geometry: dict[str, Any] | None
    if kind == "waypoint":
        record["ele"] = _text(_child(element, "ele"))
        record["time"] = _text(_child(element, "time"))
        geometry = {"type": "Point", "coordinates": _gpx_point(source_id, where, element)}
    elif kind == "route":
        line = [_gpx_point(source_id, where, p) for p in _children(element, "rtept")]
        geometry = {"type": "LineString", "coordinates": line}
    else:
        segments = [
            [_gpx_point(source_id, where, p) for p in _children(segment, "trkpt")]
            for segment in _children(element, "trkseg")
        ]
        segments = [s for s in segments if s]
        if len(segments) == 1:
            geometry = {"type": "LineString", "coordinates": segments[0]}
        else:
            geometry = {"type": "MultiLineString", "coordinates": segments}
    return _with_geometry(source_id, where, record, geometry)


def read_gpx(source_id: str, name: str, chunks: Iterator[bytes]) -> Iterator[dict]:
    """Yield one record per GPX waypoint, route and track, in document order."""
    feeder = _Feeder(source_id, name, "GPX")
    depth = 0
    counts = dict.fromkeys(_GPX_KINDS.values(), 0)
    root: ET.Element | None = None
    for event, element in feeder.events(chunks):
        if event == "start":
            feeder.check_root(element, "gpx")
            root = root if root is not None else element
            depth += 1
            continue
        depth -= 1
        tag = _local(element.tag)
        if depth == 1 and tag in _GPX_KINDS:  # a direct child of <gpx>
            kind = _GPX_KINDS[tag]
            counts[kind] += 1
            where = f"{name} {kind} {counts[kind]}"
            record = _gpx_record(source_id, where, element)
            record_location.set(where)
            yield record
            element.clear()
            if root is not None:
                root.remove(element)
