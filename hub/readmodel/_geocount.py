"""Exact totals of bbox and near filters, counted mostly inside the R*Trees.

Only entries near the filter's edge are tested exactly (against the narrow `locs` table):
a circle is cut into strips of latitude (`circle`; at the rows of `_grid` when it spans 6
or more, so the cells inside it are summed, not their entries), a box is shrunk by the
R*Trees' float32 rounding and only its thin frames are tested (`box`); both at once fall
back to boxes inscribed in the circle (`slabs`). Decisions #40, #41.
"""

from __future__ import annotations

import math
import sqlite3
from typing import TYPE_CHECKING

from hub.readmodel import _grid as grid
from hub.readmodel._geo import (
    EARTH_RADIUS_KM,
    GEO_EPSILON,
    chord2_for_km,
    circle_strips,
    inscribed_slabs,
    unit_vector,
)

if TYPE_CHECKING:
    from hub.readmodel._planner import Planner

MIN_GRID_ROWS = 6
"""A circle this many grid rows across or more is cut at the rows (`_grid`); smaller ones
in 16 strips."""
GRID_DEGREES = grid.GRID_DEGREES
CHORD_MARGIN = 1e-6
"""How far (a chord of the unit sphere) an R*Tree corner may lie from its point: float32
rounds each coordinate down by at most 1.5e-5 degrees, 3.8e-7 of chord together."""


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    """The intersection of two boxes (possibly empty: min above max)."""
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _has_math(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has its math functions (built in by default since 3.35)."""
    global _MATH
    if _MATH is None:
        try:
            conn.execute("SELECT radians(1.0), cos(1.0), sin(1.0)").fetchone()
            _MATH = True
        except sqlite3.OperationalError:
            _MATH = False
    return _MATH


_MATH: bool | None = None


class GeoCount:
    """The total of one planner's bbox or near filter."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.conn = planner.conn
        self.f = planner.f

    def total(self) -> int:
        """Count a bbox or near filter mostly in an R*Tree alone (see `circle`,
        `box`); both at once are counted by `slabs`."""
        f = self.f
        if f.near and not f.bbox and f.radius_km:
            found = self.circle(*f.near, f.radius_km)
            if found is not None:
                return found
        if f.bbox and not f.near:
            return self.box(f.bbox)
        return self.slabs()

    def _sum_counts(self, table: str, boxes: list[tuple[str, tuple[float, ...]]]) -> int:
        """The sum of R*Tree counts, one per (condition, parameters)."""
        return self._sum([(f"SELECT count(*) FROM {table} WHERE {c}", ps) for c, ps in boxes])

    def _sum(self, queries: list[tuple[str, tuple[float | int, ...]]]) -> int:
        """The sum of scalar queries (SQL, parameters), 200 to a statement."""
        total = 0
        for start in range(0, len(queries), 200):
            chunk = queries[start : start + 200]
            terms = " + ".join(f"({sql})" for sql, _ in chunk)
            params = [p for _, ps in chunk for p in ps]
            total += int(self.conn.execute(f"SELECT {terms}", params).fetchone()[0])
        return total

    def circle(self, lat: float, lon: float, km: float) -> int | None:
        """Count a circle by strips of latitude (None near a pole or the antimeridian).

        Each point falls in exactly one rectangle of its R*Tree box's lower corner (rounded
        down): the part of a strip certainly inside the circle, counted in the R*Tree alone,
        or the two bands either side of it, whose points are tested exactly. Points beyond
        the bands are certainly outside. So the exact test reads only the circle's edge.
        A strip that is a whole grid row counts the cells inside it from `grid` instead,
        and tests the rest of the row (its two ends) exactly.
        """
        rows = math.degrees(km / EARTH_RADIUS_KM) * 2 / GRID_DEGREES >= MIN_GRID_ROWS
        strips = circle_strips(lat, lon, km, rows=GRID_DEGREES if rows else None)
        if strips is None:
            return None
        rect = "min_lat >= ? AND min_lat < ? AND min_lon >= ? AND min_lon < ?"
        last = "min_lat >= ? AND min_lat < ? AND min_lon >= ? AND min_lon <= ?"
        inner: list[tuple[str, tuple[float, ...]]] = []
        cells: list[tuple[str, tuple[float | int, ...]]] = []
        bands: list[tuple[str, tuple[float, ...]]] = []
        for s in strips:
            if s.inner is None:
                bands.append((last, (s.south, s.north, s.cover_west, s.cover_east)))
                continue
            west, east = s.inner
            gy = grid.index_of(s.south)
            if rows and grid.boundary(gy) == s.south and grid.boundary(gy + 1) == s.north:
                # a whole grid row: the cells inside [west, east) from `grid`, the rest tested
                gx0, gx1 = grid.index_of(west), grid.index_of(east) - 1
                if grid.boundary(gx0) < west:
                    gx0 += 1
                if gx0 <= gx1:
                    cells.append(grid.row_sum(gy, gx0, gx1))
                    west, east = grid.boundary(gx0), grid.boundary(gx1 + 1)
                    bands.append((rect, (s.south, s.north, s.cover_west, west)))
                    bands.append((last, (s.south, s.north, east, s.cover_east)))
                    continue
            inner.append((rect, (s.south, s.north, west, east)))
            bands.append((rect, (s.south, s.north, s.cover_west, west)))
            bands.append((last, (s.south, s.north, east, s.cover_east)))
        total = self._sum_counts("pts", inner) + self._sum(cells)
        for start in range(0, len(bands), 200):
            total += self._band_count(bands[start : start + 200], lat, lon, km)
        return total

    def _band_count(
        self, bands: list[tuple[str, tuple[float, ...]]], lat: float, lon: float, km: float
    ) -> int:
        """The points of `pts` rectangles inside the circle.

        With SQLite's math functions, the distance is first computed from each R*Tree
        corner: corners farther than `CHORD_MARGIN` from the circle decide alone, the few
        others are tested exactly against `locs` (instead of reading `locs` for every one).
        """
        exact = self.planner.geo_conditions("l")
        params = [p for _, ps in bands for p in ps]
        if not _has_math(self.conn):
            union = " UNION ALL ".join(f"SELECT id FROM pts WHERE {c}" for c, _ in bands)
            query = (
                f"SELECT count(*) FROM ({union}) g CROSS JOIN locs l ON l.id = g.id "
                f"WHERE {exact.where()}"
            )
            return int(self.conn.execute(query, [*params, *exact.params]).fetchone()[0])
        corner = (
            "SELECT id, cos(radians(min_lat)) AS c, radians(min_lon) AS o, "
            "sin(radians(min_lat)) AS z FROM pts WHERE "
        )
        union = " UNION ALL ".join(corner + c for c, _ in bands)
        x0, y0, z0 = unit_vector(lat, lon)
        chord = math.sqrt(chord2_for_km(km))
        inside = (chord - CHORD_MARGIN) ** 2 if chord > CHORD_MARGIN else -1.0
        outside = (chord + CHORD_MARGIN) ** 2
        query = (
            "SELECT count(*) FROM (SELECT id, (c * cos(o) - ?) * (c * cos(o) - ?) "
            "+ (c * sin(o) - ?) * (c * sin(o) - ?) + (z - ?) * (z - ?) AS d "
            f"FROM ({union})) g WHERE d <= ? OR (d <= ? AND EXISTS "
            f"(SELECT 1 FROM locs l WHERE l.id = g.id AND {exact.where()}))"
        )
        values = [x0, x0, y0, y0, z0, z0, *params, inside, outside, *exact.params]
        return int(self.conn.execute(query, values).fetchone()[0])

    def box(self, box: tuple[float, float, float, float]) -> int:
        """Count a bbox: entries meeting the box shrunk by more than the R*Tree's rounding
        are counted in the R*Tree alone; the others meet one of the four thin frames
        between the two boxes, and only those are tested exactly."""
        e = GEO_EPSILON
        w, s, east, n = box
        shrunk = (w + e, s + e, east - e, n - e)
        exact = self.planner.geo_conditions("l")
        if shrunk[0] > shrunk[2] or shrunk[1] > shrunk[3]:
            return self.slabs()
        frames = [
            (w, s, w + e, n),
            (east - e, s, east, n),
            (w, s, east, s + e),
            (w, n - e, east, n),
        ]
        total = self.planner.count_rows(*self.planner.geo_sql("geo", shrunk))
        inside, inside_params = self.planner.box_condition(shrunk, "g")
        selects, params = [], []
        for frame in frames:
            condition, frame_params = self.planner.box_condition(frame)
            selects.append(
                f"SELECT id, min_lon, max_lon, min_lat, max_lat FROM geo WHERE {condition}"
            )
            params += frame_params
        query = (
            f"SELECT count(*) FROM ({' UNION '.join(selects)}) g CROSS JOIN locs l ON l.id = g.id "
            f"WHERE NOT ({inside}) AND {exact.where()}"
        )
        row = self.conn.execute(query, (*params, *inside_params, *exact.params)).fetchone()
        return total + int(row[0])

    def slabs(self) -> int:
        """Count a bbox/near filter mostly in an R*Tree alone.

        Entries in a box certainly inside the filter are counted from the R*Tree without
        reading any entity; only those in the band between that inner box and the searched
        box are checked exactly. R*Trees store float32 boxes rounded outwards, so the inner
        box is shrunk by more than that rounding (GEO_EPSILON degrees).
        """
        search = self.planner.geo_search()
        assert search is not None
        table, outer = search
        exact = self.planner.geo_conditions("l")  # geo is all this filter has
        band, band_params = self.planner.box_condition(outer, "g")
        n_inner, not_inner, inner_params = 0, [], []
        for inner in self._inner_boxes():
            n_inner += self.planner.count_rows(*self.planner.geo_sql(table, inner))
            condition, params = self.planner.box_condition(inner, "g")
            not_inner.append(f"NOT ({condition})")
            inner_params += params
        border = (
            f"SELECT count(*) FROM {table} g CROSS JOIN locs l ON l.id = g.id "
            f"WHERE {band} AND {' AND '.join(not_inner) or '1'} AND {exact.where()}"
        )
        params = (*band_params, *inner_params, *exact.params)
        return n_inner + int(self.conn.execute(border, params).fetchone()[0])

    def _inner_boxes(self) -> list[tuple[float, float, float, float]]:
        """Disjoint boxes whose entries (points for near, extents for bbox) certainly match."""
        f = self.f
        boxes: list[tuple[float, ...]] = [f.bbox] if f.bbox else [(-180.0, -90.0, 180.0, 90.0)]
        if f.near and f.radius_km:
            slabs = inscribed_slabs(*f.near, f.radius_km)
            boxes = [_overlap(slab, box) for slab in slabs for box in boxes]
        e = GEO_EPSILON
        shrunk = [(b[0] + e, b[1] + e, b[2] - e, b[3] - e) for b in boxes if b]
        return [b for b in shrunk if b[0] <= b[2] and b[1] <= b[3]]
