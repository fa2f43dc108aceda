"""Write a GeoJSON geometry as WKT (`POINT (10.4 43.7)`), longitude first, 2D."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class GeometryError(ValueError):
    """The GeoJSON geometry is malformed; the message says how."""


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeometryError(f"coordinate {value!r} is not a number")
    text = repr(value)
    if "e" in text or "E" in text:  # WKT readers do not all take 1e-05
        text = format(Decimal(text), "f")
    return text


def _position(value: Any) -> str:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise GeometryError(f"position {value!r} is not [longitude, latitude]")
    # A third (elevation) value is dropped: the hub's geometries are 2D.
    return f"{_number(value[0])} {_number(value[1])}"


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise GeometryError(f"coordinates of a {what} must be a list, not {value!r}")
    return list(value)


def _positions(value: Any, what: str) -> str:
    return "(" + ", ".join(_position(p) for p in _list(value, what)) + ")"


def _rings(value: Any, what: str) -> str:
    return "(" + ", ".join(_positions(r, what) for r in _list(value, what)) + ")"


def _polygons(value: Any, what: str) -> str:
    return "(" + ", ".join(_rings(p, what) for p in _list(value, what)) + ")"


_BODY = {
    "Point": lambda c: "(" + _position(c) + ")",
    "LineString": lambda c: _positions(c, "LineString"),
    "Polygon": lambda c: _rings(c, "Polygon"),
    "MultiPoint": lambda c: (
        "(" + ", ".join(f"({_position(p)})" for p in _list(c, "MultiPoint")) + ")"
    ),
    "MultiLineString": lambda c: _rings(c, "MultiLineString"),
    "MultiPolygon": lambda c: _polygons(c, "MultiPolygon"),
}


def geometry_to_wkt(geometry: Any) -> str | None:
    """The WKT of a GeoJSON geometry object, or None when it is null."""
    if geometry is None:
        return None
    if not isinstance(geometry, dict):
        raise GeometryError(f"geometry must be an object or null, not {geometry!r}")
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        parts = geometry.get("geometries")
        if not isinstance(parts, list):
            raise GeometryError("a GeometryCollection needs a `geometries` list")
        if not parts:
            return "GEOMETRYCOLLECTION EMPTY"
        if any(part is None for part in parts):
            raise GeometryError("a GeometryCollection cannot hold a null geometry")
        return "GEOMETRYCOLLECTION (" + ", ".join(str(geometry_to_wkt(g)) for g in parts) + ")"
    if kind not in _BODY:
        known = ", ".join([*_BODY, "GeometryCollection"])
        raise GeometryError(f"geometry type {kind!r} is not one of {known}")
    coordinates = geometry.get("coordinates")
    if coordinates is None or (isinstance(coordinates, list) and not coordinates):
        return f"{kind.upper()} EMPTY"
    return f"{kind.upper()} {_BODY[kind](coordinates)}"
