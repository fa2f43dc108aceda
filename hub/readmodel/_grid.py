"""Point counts per grid cell, so a circle's inside is counted from cells, not entries.

A located entity is counted in the cell of its `pts` R*Tree corner (the float32 value the
R*Tree keeps, computed by SQLite's own rounding: `corner`), by the same half-open
comparisons a `pts` query makes:
row `gy` holds corners with `boundary(gy) <= min_lat < boundary(gy + 1)`, column `gx` the
same in longitude. So the cells of a strip of whole rows partition exactly the points an
R*Tree query of that strip finds (`GeoCount.circle`, decisions #41).

    grid   (gy, gx) -> n: one row per non-empty cell, every source together (a circle's
           sum reads each cell once; a source's rebuild subtracts its points first)
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections import Counter
from collections.abc import Iterable

from hub.readmodel._schema import slot_range

GRID_DEGREES = 0.005
"""A cell's side: about 550 m of latitude; a 2-10 km circle spans 7-36 rows."""
_F32 = struct.Struct("f")
_RND_TOWARDS = 1.0 - 1.0 / 8388608.0
_RND_AWAY = 1.0 + 1.0 / 8388608.0


def boundary(k: int) -> float:
    """The lower edge of row or column `k` (degrees)."""
    return k * GRID_DEGREES


def index_of(value: float) -> int:
    """The row or column holding a corner coordinate: boundary(k) <= value < boundary(k+1)."""
    k = math.floor(value / GRID_DEGREES)
    while boundary(k) > value:
        k -= 1
    while boundary(k + 1) <= value:
        k += 1
    return k


def whole_cells(low: float, high: float) -> tuple[int, int]:
    """The first and last row (or column) lying wholly in [low, high]: their corners,
    `boundary(k) <= v < boundary(k + 1)`, are all in it (first > last when none is)."""
    first = index_of(low)
    if boundary(first) < low:
        first += 1
    return first, index_of(high) - 1  # the row holding `high` goes on past it


def corner(value: float) -> float:
    """The float32 an R*Tree keeps for a lower bound, as SQLite's `rtreeValueDown` rounds:
    to nearest, and when that is above the value, the value scaled toward -inf by 2^-23."""
    rounded = _F32.unpack(_F32.pack(value))[0]
    if rounded > value:
        rounded = _F32.unpack(_F32.pack(value * (_RND_AWAY if value < 0 else _RND_TOWARDS)))[0]
    return rounded


def count(conn: sqlite3.Connection, points: Iterable[tuple[float, float]], sign: int) -> None:
    """Add (sign 1) or remove (sign -1) points (lat, lon), each in the cell of the corner
    its `pts` entry has (`corner`: computed, not read back, so no query a point)."""
    cells: Counter[tuple[int, int]] = Counter()
    for lat, lon in points:
        cells[(index_of(corner(lat)), index_of(corner(lon)))] += sign
    conn.executemany(
        "INSERT INTO grid VALUES (?, ?, ?) ON CONFLICT(gy, gx) DO UPDATE SET n = n + excluded.n",
        [(*cell, n) for cell, n in cells.items() if n],
    )
    if sign < 0:
        conn.executemany("DELETE FROM grid WHERE gy = ? AND gx = ? AND n <= 0", list(cells))


def points_of(conn: sqlite3.Connection, ids: Iterable[int]) -> list[tuple[float, float]]:
    """The points (lat, lon) of these entities, the unlocated ones left out (call while
    their rows are there)."""
    found = []
    for entity in ids:
        row = conn.execute("SELECT lat, lon FROM entities WHERE id = ?", (entity,)).fetchone()
        if row is not None and row[0] is not None:
            found.append((row[0], row[1]))
    return found


def drop(conn: sqlite3.Connection, slot: int) -> None:
    """Subtract a source's points (before its rows are deleted)."""
    low, high = slot_range(slot)
    located = conn.execute(
        "SELECT lat, lon FROM entities WHERE id BETWEEN ? AND ? AND lat IS NOT NULL", (low, high)
    )
    count(conn, located, -1)


def row_sum(gy: int, west: int, east: int) -> tuple[str, tuple[int, int, int]]:
    """The SQL of the points in columns west..east of row gy."""
    return "SELECT coalesce(sum(n), 0) FROM grid WHERE gy = ? AND gx BETWEEN ? AND ?", (
        gy,
        west,
        east,
    )
