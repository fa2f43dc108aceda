"""Exact totals of bbox and near filters, counted mostly inside the R*Trees.

Only entries near the filter's edge are tested exactly (against the narrow `locs` table):
a circle is cut into strips of latitude (`circle`; at the rows of `_grid` when it spans 6
or more, so the cells inside it are summed, not their entries), a box is shrunk by the
R*Trees' float32 rounding, its points are summed from `_grid` cells and only the thin
frames are tested (`box`; lines and areas apart, from `spans`); both at once fall back to
boxes inscribed in the circle (`slabs`). Decisions #40, #41, #44.
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
RADIANS = math.pi / 180.0


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
                gx0, gx1 = grid.whole_cells(west, east)
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
        # chord² = 2 - 2 (sin φ sin φ0 + cos φ cos φ0 cos Δλ): three calls a corner, degrees
        # turned to radians by a product (cheaper than calls)
        corner = "SELECT id, min_lat * ? AS phi, (min_lon - ?) * ? AS dl FROM pts WHERE "
        union = " UNION ALL ".join(corner + c for c, _ in bands)
        corner_params = [p for _, ps in bands for p in (RADIANS, lon, RADIANS, *ps)]
        chord = math.sqrt(chord2_for_km(km))
        inside = (chord - CHORD_MARGIN) ** 2 if chord > CHORD_MARGIN else -1.0
        outside = (chord + CHORD_MARGIN) ** 2
        phi0 = math.radians(lat)
        query = (
            "SELECT count(*) FROM (SELECT id, 2.0 - 2.0 * (sin(phi) * ? + cos(phi) * ? * cos(dl)) "
            f"AS d FROM ({union})) g WHERE d <= ? OR (d <= ? AND EXISTS "
            f"(SELECT 1 FROM locs l WHERE l.id = g.id AND {exact.where()}))"
        )
        values = [math.sin(phi0), math.cos(phi0), *corner_params, inside, outside, *exact.params]
        return int(self.conn.execute(query, values).fetchone()[0])

    def box(self, box: tuple[float, float, float, float]) -> int:
        """Count a bbox from entities' points, plus the lines and areas the points miss.

        An entity's extent holds its point (`_extract._shape`), so every entity whose
        point is in the box matches. Those whose `pts` corner lies in the box shrunk by
        more than the R*Tree's rounding certainly do: they are summed from `grid` cells
        and the thin strips the cells leave (`_corners_inside`). The other `pts` entries
        meeting the box are tested exactly (`_frame_matches`); last come the `spans` (lines
        and areas) that meet the box while their point's entry does not (`_spans_beyond`).
        """
        e = GEO_EPSILON
        w, s, east, n = box
        inner = (w + e, s + e, east - e, n - e)
        if inner[0] > inner[2] or inner[1] > inner[3]:
            return self.slabs()
        return (
            self._corners_inside(inner) + self._frame_matches(box, inner) + self._spans_beyond(box)
        )

    def _corners_inside(self, inner: tuple[float, float, float, float]) -> int:
        """How many `pts` corners lie in `inner`: whole grid cells from `grid`, the rest
        (up to four strips narrower than a cell) from the R*Tree."""
        w, s, e, n = inner
        gy0, gy1 = grid.whole_cells(s, n)
        gx0, gx1 = grid.whole_cells(w, e)
        rect = "SELECT count(*) FROM pts WHERE min_lat >= ? AND min_lat {} ? AND min_lon >= ? AND min_lon {} ?"
        if gy0 > gy1 or gx0 > gx1:
            return self._sum([(rect.format("<=", "<="), (s, n, w, e))])
        south, north = grid.boundary(gy0), grid.boundary(gy1 + 1)
        west, east = grid.boundary(gx0), grid.boundary(gx1 + 1)
        queries: list[tuple[str, tuple[float | int, ...]]] = [
            (rect.format("<", "<="), (s, south, w, e)),
            (rect.format("<=", "<="), (north, n, w, e)),
            (rect.format("<", "<"), (south, north, w, west)),
            (rect.format("<", "<="), (south, north, east, e)),
        ]
        queries += [grid.row_sum(gy, gx0, gx1) for gy in range(gy0, gy1 + 1)]
        return self._sum(queries)

    def _frame_matches(
        self, box: tuple[float, float, float, float], inner: tuple[float, float, float, float]
    ) -> int:
        """The `pts` entries meeting `box` with their corner outside `inner` that match
        exactly (four disjoint frames of the corner)."""
        w, s, e, n = inner
        meets, meets_params = self.planner.box_condition(box)
        frames: list[tuple[str, tuple[float, ...]]] = [
            ("min_lat < ?", (s,)),
            ("min_lat > ?", (n,)),
            ("min_lat >= ? AND min_lat <= ? AND min_lon < ?", (s, n, w)),
            ("min_lat >= ? AND min_lat <= ? AND min_lon > ?", (s, n, e)),
        ]
        union = " UNION ALL ".join(f"SELECT id FROM pts WHERE {meets} AND {c}" for c, _ in frames)
        exact = self.planner.geo_conditions("l")
        params = [p for _, ps in frames for p in (*meets_params, *ps)]
        query = (
            f"SELECT count(*) FROM ({union}) g CROSS JOIN locs l ON l.id = g.id "
            f"WHERE {exact.where()}"
        )
        return int(self.conn.execute(query, [*params, *exact.params]).fetchone()[0])

    def _spans_beyond(self, box: tuple[float, float, float, float]) -> int:
        """The lines and areas meeting `box` exactly whose point's `pts` entry does not."""
        meets, meets_params = self.planner.box_condition(box, "g")
        point_meets, point_params = self.planner.box_condition(box, "p")
        exact = self.planner.geo_conditions("l")
        query = (
            f"SELECT count(*) FROM spans g CROSS JOIN locs l ON l.id = g.id WHERE {meets} "
            f"AND {exact.where()} AND NOT EXISTS "
            f"(SELECT 1 FROM pts p WHERE p.id = g.id AND {point_meets})"
        )
        values = [*meets_params, *exact.params, *point_params]
        return int(self.conn.execute(query, values).fetchone()[0])

    def slabs(self) -> int:
        """Count a bbox/near filter mostly in an R*Tree alone.

        Entries in a box certainly inside the filter are counted from the R*Tree without
        reading any entity; only those in the band between that inner box and the searched
        box are checked exactly. R*Trees store float32 boxes rounded outwards, so the inner
        box is shrunk by more than that rounding (GEO_EPSILON degrees).
        """
        search = self.planner.geo_search()
        assert search is not None
        kind, outer = search
        exact = self.planner.geo_conditions("l")  # geo is all this filter has
        band, band_params = self.planner.entries_sql(kind, outer)
        n_inner, not_inner, inner_params = 0, [], []
        for inner in self._inner_boxes():
            n_inner += self.planner.count_rows(*self.planner.geo_sql(kind, inner))
            condition, params = self.planner.box_condition(inner, "g")
            not_inner.append(f"NOT ({condition})")
            inner_params += params
        border = (
            f"SELECT count(*) FROM ({band}) g CROSS JOIN locs l ON l.id = g.id "
            f"WHERE {' AND '.join(not_inner) or '1'} AND {exact.where()}"
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
