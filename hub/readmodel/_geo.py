"""Geometry for the read model: WKT to GeoJSON, bounding boxes, points on the unit sphere.

Distances use the chord between points on the unit sphere (x, y, z stored per
entity), which SQL can compute with plain arithmetic and which orders exactly
like the great-circle distance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_KM = 6371.0088
GEO_EPSILON = 1e-4
"""Degrees; more than an R*Tree's float32 rounding of any coordinate (1.5e-5 at 180)."""
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"({_NUMBER})\s+({_NUMBER})")
_KIND = re.compile(r"^\s*(?:<[^>]*>\s*)?([A-Za-z]+)\s*(?:Z|M|ZM)?\s*\(")
_GEOJSON_TYPES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
}


@dataclass(frozen=True)
class Shape:
    """Where an entity is: a representative point, its bounding box, its GeoJSON geometry."""

    lat: float
    lon: float
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
    geometry: dict[str, Any]


def _valid(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 and math.isfinite(lat + lon)


def point(lat: float, lon: float) -> Shape | None:
    """A point shape, or None outside the globe."""
    if not _valid(lat, lon):
        return None
    return Shape(lat, lon, (lon, lat, lon, lat), {"type": "Point", "coordinates": [lon, lat]})


def _nest(text: str) -> list[Any]:
    """The coordinate structure of a WKT body, as nested lists of [lon, lat]."""
    stack: list[list[Any]] = [[]]
    for token in re.finditer(rf"\(|\)|{_NUMBER}\s+{_NUMBER}(?:\s+{_NUMBER})*", text):
        value = token.group(0)
        if value == "(":
            stack.append([])
        elif value == ")":
            if len(stack) < 2:
                break
            done = stack.pop()
            stack[-1].append(done)
        else:
            lon, lat = (float(v) for v in value.split()[:2])
            stack[-1].append([lon, lat])
    return stack[0][0] if stack[0] else []


def from_wkt(wkt: str) -> Shape | None:
    """The shape of a WKT literal (POINT, LINESTRING, POLYGON and MULTI*), or None.

    The representative point is the point itself, else the middle vertex (on the line).

    >>> from_wkt("LINESTRING (9.6 44.1, 9.7 44.0, 9.8 43.9)").lat
    44.0
    """
    kind = _KIND.match(wkt)
    pairs = [(float(a), float(b)) for a, b in _PAIR.findall(wkt)]
    pairs = [(lon, lat) for lon, lat in pairs if _valid(lat, lon)]
    if not kind or not pairs:
        return None
    geo_type = _GEOJSON_TYPES.get(kind.group(1).upper())
    if geo_type is None:
        return None
    lons = [p[0] for p in pairs]
    lats = [p[1] for p in pairs]
    lon, lat = pairs[len(pairs) // 2]
    body = wkt[kind.end() - 1 :]
    coordinates = _nest(body)
    if geo_type == "Point":
        coordinates = coordinates[0] if coordinates else [lon, lat]
    geometry = {"type": geo_type, "coordinates": coordinates}
    return Shape(lat, lon, (min(lons), min(lats), max(lons), max(lats)), geometry)


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """The point on the unit sphere."""
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def chord2_for_km(km: float) -> float:
    """The squared chord on the unit sphere for a great-circle distance."""
    angle = min(km / EARTH_RADIUS_KM, math.pi)
    return (2.0 * math.sin(angle / 2.0)) ** 2


def km_for_chord2(chord2: float) -> float:
    """The great-circle distance of a squared chord on the unit sphere."""
    half = min(math.sqrt(max(chord2, 0.0)) / 2.0, 1.0)
    return 2.0 * EARTH_RADIUS_KM * math.asin(half)


def box_around(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """A lon/lat box (min_lon, min_lat, max_lon, max_lat) holding the circle of radius `km`."""
    dlat = math.degrees(km / EARTH_RADIUS_KM)
    min_lat, max_lat = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    widest = max(abs(min_lat), abs(max_lat))
    if widest >= 89.9:
        return (-180.0, min_lat, 180.0, max_lat)
    dlon = math.degrees(km / (EARTH_RADIUS_KM * math.cos(math.radians(widest))))
    if dlon >= 180.0:
        return (-180.0, min_lat, 180.0, max_lat)
    return (max(lon - dlon, -180.0), min_lat, min(lon + dlon, 180.0), max_lat)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points."""
    x1, y1, z1 = unit_vector(lat1, lon1)
    x2, y2, z2 = unit_vector(lat2, lon2)
    return km_for_chord2((x1 - x2) ** 2 + (y1 - y2) ** 2 + (z1 - z2) ** 2)


def inscribed_slabs(
    lat: float, lon: float, km: float, slabs: int = 10
) -> list[tuple[float, float, float, float]]:
    """Lon/lat boxes inside the circle of radius `km`, one per horizontal slab, covering most of it.

    Each slab is as wide as the circle at its edge farther from the centre; every corner
    is checked to be inside. Neighbouring slabs share an edge: callers shrink them apart.
    """
    km_per_degree = EARTH_RADIUS_KM * math.pi / 180.0
    edges = [km * (2.0 * i / slabs - 1.0) for i in range(slabs + 1)]
    boxes = []
    for low, high in zip(edges, edges[1:], strict=False):
        half_km = math.sqrt(max(km * km - max(low * low, high * high), 0.0))
        south, north = lat + low / km_per_degree, lat + high / km_per_degree
        if half_km <= 0 or south < -89.0 or north > 89.0:
            continue
        widest = math.cos(math.radians(min(abs(south), abs(north)) if south * north > 0 else 0.0))
        dlon = half_km / (km_per_degree * widest)
        for _ in range(40):
            far = max(
                haversine_km(y, x, lat, lon)
                for y in (south, north)
                for x in (lon - dlon, lon + dlon)
            )
            if far <= km * 0.999:
                boxes.append((lon - dlon, south, lon + dlon, north))
                break
            dlon *= 0.97
            south, north = lat + (south - lat) * 0.995, lat + (north - lat) * 0.995
    return boxes


@dataclass(frozen=True)
class Strip:
    """Latitudes [south, north) of a circle: the longitudes that may hold its points
    ([cover_west, cover_east]) and those certainly inside it ([inner_west, inner_east), or
    none), for points whose true latitude is within `GEO_EPSILON` above the strip."""

    south: float
    north: float
    cover_west: float
    cover_east: float
    inner: tuple[float, float] | None


def _half_width(phi: float, phi0: float, rho: float) -> float:
    """Half the longitude span (radians) of the circle of angular radius `rho` around
    latitude `phi0`, at latitude `phi` (0 outside its latitudes)."""
    c = (math.cos(rho) - math.sin(phi) * math.sin(phi0)) / (math.cos(phi) * math.cos(phi0))
    return 0.0 if c >= 1.0 else math.pi if c <= -1.0 else math.acos(c)


def _widest(a: float, b: float, phi0: float, rho: float) -> float:
    """The largest half width over latitudes [a, b]: the width rises to one peak
    (sin(phi) = sin(phi0) / cos(rho)) and falls, so the peak or an end holds it."""
    peak = math.asin(max(-1.0, min(1.0, math.sin(phi0) / math.cos(rho))))
    return max(_half_width(p, phi0, rho) for p in (a, b, min(max(peak, a), b)))


def circle_strips(
    lat: float, lon: float, km: float, strips: int = 16, rows: float | None = None
) -> list[Strip] | None:
    """The circle of radius `km` around (lat, lon) cut into horizontal strips, or None near
    a pole or the antimeridian (callers then use boxes around the circle).

    Strips partition latitudes [south - GEO_EPSILON, north + GEO_EPSILON) of the circle.
    The half width has a single peak, so its smallest value over a strip is at one of the
    strip's edges: longitudes within it at both edges are inside at every latitude between.
    `inner` is computed for a radius a millionth smaller and `cover` a millionth larger, so
    points near the circle are always left to the exact test. With `rows` (degrees), the
    strips are cut at the multiples of `rows` instead (`_grid` rows), not in `strips` parts.
    """
    e = GEO_EPSILON
    phi0 = math.radians(lat)
    rho_in = km * (1.0 - 1e-6) / EARTH_RADIUS_KM
    rho_out = km * (1.0 + 1e-6) / EARTH_RADIUS_KM
    dlat = math.degrees(rho_out)
    south, north = lat - dlat - e, lat + dlat + e
    if south < -85.0 or north > 85.0:
        return None
    reach = math.degrees(_widest(math.radians(south), math.radians(north), phi0, rho_out))
    if lon - reach - e < -180.0 or lon + reach + e > 180.0:
        return None
    if rows:
        first, last = math.floor(south / rows) + 1, math.ceil(north / rows) - 1
        edges = [south, *(k * rows for k in range(first, last + 1)), north]
        edges = [x for i, x in enumerate(edges) if i == 0 or x > edges[i - 1]]
    else:
        edges = [south + (north - south) * i / strips for i in range(strips + 1)]
    out = []
    for low, high in zip(edges, edges[1:], strict=False):
        a, b = math.radians(low - e), math.radians(high + e)
        cover = math.degrees(_widest(a, b, phi0, rho_out)) + 1e-9
        inner = None
        narrowest = math.degrees(min(_half_width(a, phi0, rho_in), _half_width(b, phi0, rho_in)))
        if narrowest - 1e-9 > e:
            inner = (lon - narrowest + 1e-9, lon + narrowest - 1e-9 - e)
        out.append(Strip(low, high, lon - cover - e, lon + cover, inner))
    return out
