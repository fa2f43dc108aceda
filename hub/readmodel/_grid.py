"""Point counts per grid cell, so a circle's inside is counted from cells, not entries.

A located entity is counted in the cell of its `pts` R*Tree corner (the float32 value the
R*Tree keeps, read back from it), by the same half-open comparisons a `pts` query makes:
row `gy` holds corners with `boundary(gy) <= min_lat < boundary(gy + 1)`, column `gx` the
same in longitude. So the cells of a strip of whole rows partition exactly the points an
R*Tree query of that strip finds (`GeoCount.circle`, decisions #41).

    grid   (gy, gx) -> n: one row per non-empty cell, every source together (a circle's
           sum reads each cell once; a source's rebuild subtracts its points first)
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Iterable

from hub.readmodel._schema import slot_range

GRID_DEGREES = 0.005
"""A cell's side: about 550 m of latitude; a 2-10 km circle spans 7-36 rows."""


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


def count(conn: sqlite3.Connection, ids: Iterable[int], sign: int) -> None:
    """Add (sign 1) or remove (sign -1) entities' points, read from `pts` (call while the
    rows are there: after inserting them, before deleting them); unlocated ones are skipped."""
    cells: Counter[tuple[int, int]] = Counter()
    for entity in ids:
        corner = conn.execute("SELECT min_lat, min_lon FROM pts WHERE id = ?", (entity,)).fetchone()
        if corner is not None:
            cells[(index_of(corner[0]), index_of(corner[1]))] += sign
    conn.executemany(
        "INSERT INTO grid VALUES (?, ?, ?) ON CONFLICT(gy, gx) DO UPDATE SET n = n + excluded.n",
        [(*cell, n) for cell, n in cells.items() if n],
    )
    if sign < 0:
        conn.executemany("DELETE FROM grid WHERE gy = ? AND gx = ? AND n <= 0", list(cells))


def drop(conn: sqlite3.Connection, slot: int) -> None:
    """Subtract a source's points (before its `pts` rows are deleted)."""
    low, high = slot_range(slot)
    located = conn.execute("SELECT id FROM locs WHERE id BETWEEN ? AND ?", (low, high))
    count(conn, [row[0] for row in located], -1)


def row_sum(gy: int, west: int, east: int) -> tuple[str, tuple[int, int, int]]:
    """The SQL of the points in columns west..east of row gy."""
    return "SELECT coalesce(sum(n), 0) FROM grid WHERE gy = ? AND gx BETWEEN ? AND ?", (
        gy,
        west,
        east,
    )
