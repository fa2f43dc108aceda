"""Totals of bbox and near filters, counted mostly in the R*Trees, equal an exact count.

The rows are written as the read model's builder writes them (`pts`, `geo`, `spans`, `locs`), with
points placed on the edges that matter: on the circle, a hair inside and outside it, on the
strips' edges, on a box's sides and corners, and lines whose extent only grazes a box.
"""

from __future__ import annotations

import math
import random
import sqlite3
from pathlib import Path

import pytest

from hub.readmodel import _geocount as geocount_module
from hub.readmodel import _grid as grid
from hub.readmodel._geo import (
    EARTH_RADIUS_KM,
    GEO_EPSILON,
    circle_strips,
    unit_vector,
)
from hub.readmodel._geocount import GeoCount, _has_math
from hub.readmodel._model import EntityFilter
from hub.readmodel._planner import Planner
from hub.readmodel._schema import connect_writer

CENTRE = (43.7184, 7.2951)


def _destination(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` away from (lat, lon) on a bearing (degrees), on the sphere."""
    d, b = km / EARTH_RADIUS_KM, math.radians(bearing)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)


def _points(rng: random.Random) -> list[tuple[float, float]]:
    lat0, lon0 = CENTRE
    points = [(lat0 + rng.gauss(0, 0.06), lon0 + rng.gauss(0, 0.08)) for _ in range(6000)]
    for km in (2.0, 5.0, 9.5):  # on the circles asked below, and a hair either side
        for _ in range(300):
            bearing = rng.uniform(0, 360)
            for factor in (1.0, 1 - 1e-9, 1 + 1e-9, 1 - 1e-6, 1 + 1e-6):
                points.append(_destination(lat0, lon0, km * factor, bearing))
    for km in (2.0, 5.0, 9.5):  # the circles' west and east ends, and a hair inside
        rho = km / EARTH_RADIUS_KM
        widest = math.asin(math.sin(math.radians(lat0)) / math.cos(rho))
        c = (math.cos(rho) - math.sin(widest) * math.sin(math.radians(lat0))) / (
            math.cos(widest) * math.cos(math.radians(lat0))
        )
        reach = math.degrees(math.acos(c))
        for inward in (0.0, 1e-9, 1e-8, 1e-7, 3e-7):
            points.append((math.degrees(widest), lon0 - reach + inward))
            points.append((math.degrees(widest), lon0 + reach - inward))
    for strip in circle_strips(lat0, lon0, 5.0) or []:  # on the strips' edges and corners
        for lat in (strip.south, math.nextafter(strip.south, -90), strip.north):
            for lon in (strip.cover_west, strip.cover_east, *(strip.inner or ())):
                points.append((lat, lon))
                points.append((lat, lon + GEO_EPSILON / 3))
    for k in range(-30, 31):  # on the grid's lines and a hair below them
        line_lat = grid.boundary(grid.index_of(lat0) + k)
        line_lon = grid.boundary(grid.index_of(lon0) + k)
        for offset in (0.0, -1e-9, -GEO_EPSILON / 3):
            points.append((line_lat + offset, lon0 + rng.uniform(-0.1, 0.1)))
            points.append((lat0 + rng.uniform(-0.1, 0.1), line_lon + offset))
            points.append((line_lat + offset, line_lon + offset))
    for lat in (43.5, 43.55, 43.6, 43.65, 43.75, 43.8, 43.85, 43.9, 43.95, 44.0):
        for lon in (7.0, 7.1, 7.15, 7.2, 7.25, 7.3, 7.35, 7.4, 7.45, 7.5):  # float32 or not
            for point in ((lat, lon), (math.nextafter(lat, 0), math.nextafter(lon, 0))):
                points.append(point)
    return points


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    path: Path = tmp_path_factory.mktemp("geo") / "readmodel.sqlite"
    db = connect_writer(path)
    rng = random.Random(11)
    rows = []
    for lat, lon in _points(rng):
        rows.append((lat, lon, (lon, lat, lon, lat)))
    for _ in range(400):  # lines: the point is a vertex, the extent is wider
        lat, lon = CENTRE[0] + rng.gauss(0, 0.06), CENTRE[1] + rng.gauss(0, 0.08)
        w, h = rng.uniform(0, 0.05), rng.uniform(0, 0.05)
        rows.append((lat, lon, (lon - w, lat - h, lon + w / 2, lat + h / 3)))
    db.execute("BEGIN")
    for rowid, (lat, lon, box) in enumerate(rows, start=1):
        x, y, z = unit_vector(lat, lon)
        db.execute("INSERT INTO pts VALUES (?, ?, ?, ?, ?)", (rowid, lon, lon, lat, lat))
        if box != (lon, lat, lon, lat):
            spans = "INSERT INTO spans VALUES (?, ?, ?, ?, ?)"
            db.execute(spans, (rowid, box[0], box[2], box[1], box[3]))
        db.execute("INSERT INTO locs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (rowid, x, y, z, *box))
    grid.count(db, [(lat, lon) for lat, lon, _ in rows], 1)  # as the builder does
    db.execute("COMMIT")
    return db


def _exact(conn: sqlite3.Connection, flt: EntityFilter) -> int:
    """The count the pages agree with: every located row tested exactly."""
    where = Planner(conn, flt, [], 1).geo_conditions("l")
    return conn.execute(
        f"SELECT count(*) FROM locs l WHERE {where.where()}", where.params
    ).fetchone()[0]


@pytest.mark.parametrize("math_functions", [True, False])
@pytest.mark.parametrize("km", [0.05, 0.7, 2.0, 5.0, 9.5, 30.0])
def test_circle_totals_are_exact(
    conn: sqlite3.Connection, km: float, math_functions: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SQLite's math functions the bands are first judged from the R*Tree's corners;
    without them every band point is read from `locs`: both count the same."""
    assert _has_math(conn)  # the Python builds we test on have them
    monkeypatch.setattr(geocount_module, "_MATH", math_functions)
    rng = random.Random(int(km * 1000))
    centres = [CENTRE] + [
        (CENTRE[0] + rng.uniform(-0.05, 0.05), CENTRE[1] + rng.uniform(-0.05, 0.05))
        for _ in range(8)
    ]
    for near in centres:
        flt = EntityFilter(near=near, radius_km=km)
        count = GeoCount(Planner(conn, flt, [], 1))
        expected = _exact(conn, flt)
        assert count.circle(*near, km) == expected, (near, km)
        assert count.total() == expected
        assert count.slabs() == expected  # the general method agrees


def test_boxes_count_extents_that_meet_them(conn: sqlite3.Connection) -> None:
    lat0, lon0 = CENTRE
    rng = random.Random(5)
    boxes = [
        (lon0 - 0.1, lat0 - 0.1, lon0 + 0.1, lat0 + 0.1),
        (lon0, lat0, lon0, lat0),  # a point
        (lon0, lat0, lon0 + GEO_EPSILON, lat0 + GEO_EPSILON),  # thinner than the frames
    ]
    for _ in range(30):
        w, s = lon0 + rng.uniform(-0.2, 0.1), lat0 + rng.uniform(-0.2, 0.1)
        boxes.append((w, s, w + rng.uniform(0, 0.2), s + rng.uniform(0, 0.2)))
    for box in boxes:
        flt = EntityFilter(bbox=box)
        count = GeoCount(Planner(conn, flt, [], 1))
        expected = _exact(conn, flt)
        assert count.total() == expected, box
        assert count.slabs() == expected, box
    sides = conn.execute("SELECT min_lon, min_lat FROM locs WHERE min_lon = max_lon LIMIT 50")
    for lon, lat in sides.fetchall():  # boxes whose side or corner is a point
        for box in ((lon, lat, lon + 0.01, lat + 0.01), (lon - 0.01, lat - 0.01, lon, lat)):
            flt = EntityFilter(bbox=box)
            assert GeoCount(Planner(conn, flt, [], 1)).total() == _exact(conn, flt) >= 1


def test_box_totals_add_the_lines_whose_point_is_outside(conn: sqlite3.Connection) -> None:
    """Boxes many grid cells wide, set so that lines' extents cross their sides while the
    lines' points stay out: those lines are counted once, from `spans` alone."""
    lat0, lon0 = CENTRE
    lines = conn.execute(
        "SELECT l.min_lon, p.min_lon "
        "FROM spans s JOIN locs l ON l.id = s.id JOIN pts p ON p.id = s.id "
        "WHERE l.max_lon - l.min_lon > 0.01 LIMIT 40"
    ).fetchall()
    assert lines
    beyond = 0
    for min_lon, lon in lines:
        # east of the line's west end, west of its point: the extent meets it, the point not
        w = (min_lon + lon) / 2
        box = (w - 0.15, lat0 - 0.15, w, lat0 + 0.15)
        flt = EntityFilter(bbox=box)
        count = GeoCount(Planner(conn, flt, [], 1))
        assert count.total() == _exact(conn, flt), box
        beyond += count._spans_beyond(box)
    assert beyond > 0  # the lines were really counted from `spans`


@pytest.mark.parametrize("rows", [None, grid.GRID_DEGREES])
def test_strips_hold_the_circle_and_their_inner_parts_are_inside(rows: float | None) -> None:
    """Sampled: every point of the circle is in a strip's cover, every point of an inner part
    (at the strip's latitudes and up to GEO_EPSILON above) is inside the circle; in 16
    strips or cut at the grid's rows."""
    rng = random.Random(3)
    for lat, lon, km in [
        (*CENTRE, 5.0),
        (60.0, 20.0, 200.0 if rows is None else 20.0),
        (-40.0, -70.0, 0.3),
        (0.0, 0.0, 50.0 if rows is None else 3.0),
    ]:
        strips = circle_strips(lat, lon, km, 16, rows=rows)
        assert strips is not None
        edges = [(s.south, s.north) for s in strips]
        assert all(a[1] == b[0] for a, b in zip(edges, edges[1:], strict=False))  # a partition
        if rows:
            assert all(grid.boundary(grid.index_of(s.south)) == s.south for s in strips[1:])
        for _ in range(3000):
            p_lat, p_lon = _destination(lat, lon, km * math.sqrt(rng.random()), rng.uniform(0, 360))
            holding = [s for s in strips if s.south <= p_lat < s.north]
            assert len(holding) == 1
            assert holding[0].cover_west <= p_lon <= holding[0].cover_east
        x0, y0, z0 = unit_vector(lat, lon)
        limit = (2 * math.sin(km / EARTH_RADIUS_KM / 2)) ** 2
        for s in strips:
            if s.inner is None:
                continue
            for _ in range(300):
                p_lat = rng.uniform(s.south, s.north + GEO_EPSILON)
                p_lon = rng.uniform(s.inner[0], s.inner[1] + GEO_EPSILON)
                x, y, z = unit_vector(p_lat, p_lon)
                assert (x - x0) ** 2 + (y - y0) ** 2 + (z - z0) ** 2 <= limit


def test_near_a_pole_or_the_antimeridian_the_circle_is_not_cut() -> None:
    assert circle_strips(88.0, 10.0, 50.0) is None
    assert circle_strips(10.0, 179.99, 50.0) is None
    assert circle_strips(10.0, -179.99, 50.0) is None


def test_grid_rows_hold_their_boundaries() -> None:
    """Each coordinate falls in the one row whose lower edge is at or below it, even where
    dividing by the cell's side rounds across an edge (43.55 / 0.005 = 8710 exactly, but
    8710 * 0.005 > 43.55)."""
    rng = random.Random(3)
    values = [k * 0.05 for k in range(-3600, 3601)] + [rng.uniform(-180, 180) for _ in range(5000)]
    values += [math.nextafter(v, -math.inf) for v in values[:7201]]
    for value in values:
        k = grid.index_of(value)
        assert grid.boundary(k) <= value < grid.boundary(k + 1), value
    assert grid.index_of(43.55) == 8709  # the edge 43.550000000000004 is above it


def test_a_corner_is_the_float32_the_rtree_keeps() -> None:
    """The grid counts each point in the cell of the corner its `pts` entry holds, computed
    rather than read back: the computation must be SQLite's own rounding, value for value."""
    rng = random.Random(11)
    values = [rng.uniform(-180, 180) for _ in range(20_000)]
    values += [rng.uniform(-1e-3, 1e-3) for _ in range(2_000)]
    for k in range(-2_000, 2_000, 7):  # on the grid's lines and a hair either side
        edge = grid.boundary(k)
        values += [edge, math.nextafter(edge, -math.inf), math.nextafter(edge, math.inf)]
    values += [0.0, -0.0, 43.55, 90.0, -90.0, 180.0, -180.0]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING rtree(id, low, high)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, v, v) for i, v in enumerate(values)])
    stored = dict(db.execute("SELECT id, low FROM t"))
    wrong = [
        (v, grid.corner(v), stored[i]) for i, v in enumerate(values) if grid.corner(v) != stored[i]
    ]
    assert not wrong, wrong[:5]
    assert sum(grid.corner(v) != v for v in values) > 20_000  # most values are rounded
