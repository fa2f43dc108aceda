"""Entity queries over the read model: filters, counts, facet counts and pages, planned per query.

Every value reaches SQLite as a bound parameter; only column and index names chosen
here (never from the request) are written into the SQL text.

A page is read one of five ways, whichever reads fewest rows:

- merge:  the filter keeps a few cells (source × types × regions × themes × categories):
          read each cell's first rows from its sort index and merge them;
- driver: start from the smallest matching set (text search, an R*Tree box, a
          municipality, the cells' entities, an `updated` range), then sort it;
- scan:   walk the sort index and test each row (when many rows match, in no cell order);
- rings:  for `sort=distance`, search growing circles until the page is full;
- ranked: a text search alone in the default order: merge each source's first matches,
          which `fts` numbers in that order (`_textindex`).

Counts of filters on source, project, type, region, theme and category are sums over
the `cells` table, in microseconds; other counts start from the smallest set.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.readmodel import _textindex as textindex
from hub.readmodel._geo import (
    box_around,
    chord2_for_km,
    km_for_chord2,
    unit_vector,
)
from hub.readmodel._geocount import GeoCount
from hub.readmodel._model import EntityFilter, EntityRow, Page, SortSpec
from hub.readmodel._sql import (
    Where,
    chord2_sql,
    fts_expression,
    pipe,
    placeholders,
    xyz_params,
)
from hub.util import jsonbytes

CUBE_FACETS = (
    ("type", "types"),
    ("region", "regions"),
    ("theme", "themes"),
    ("category", "categories"),
)
MAX_MERGE_CELLS = 64
"""More matching cells than this and a page is not read by merging cells."""
MAX_DRIVER_CELLS = 2000
INDEX_ROW_COST = 0.2
"""A scan row rejected in the sort index (a bbox or near filter alone: the extent is in the
index) against a driver's row (read, tested, sorted): about 0.1 against 2 µs, and a margin
for names that cluster in space (measured at 1M entities, decisions #41)."""
_MAX_RUNS = 400
"""SQLite joins at most 500 SELECTs in one compound: more sources' runs, and a text search
sorts its matches instead of merging runs."""
_MATCHES = "SELECT t.id AS id FROM fts CROSS JOIN text_ids t ON t.fid = fts.rowid WHERE fts MATCH ?"
"""The entity ids of an FTS query (its rowids are numbers in name order: `_textindex`)."""
_RANKED_SORT = SortSpec("name", textindex.RANK_LANG)
SMALL_DRIVER = 3000
"""A starting set this small is sorted whole rather than searched in rings."""
_ENTITY_COLUMNS = "e.id, e.uid, e.source, e.updated, e.lat, e.lon"

Cell = tuple[int, str, str, str, str, str, int]
"""A row of `cells`: cell, source, types, regions, themes, categories, n."""


def to_row(r: Sequence[Any]) -> EntityRow:
    """An EntityRow of the columns (_ENTITY_COLUMNS, sort value) of a page query."""
    return EntityRow(r[0], r[1], r[2], r[3], r[4], r[5], sort_value=r[6])


@dataclass
class Driver:
    """A set of entity ids to start from: its SQL, parameters, size (or estimate), dimension."""

    dimension: str
    sql: str
    params: tuple[Any, ...]
    estimate: int


class Planner:
    """Plans and runs the queries of one filter inside one read transaction."""

    def __init__(
        self, conn: sqlite3.Connection, flt: EntityFilter, sources: Sequence[str], population: int
    ) -> None:
        self.conn = conn
        self.f = flt
        self.sources = list(sources)  # the sources the filter's source and project leave
        self.population = max(population, 1)
        self._cells: list[Cell] | None = None
        self._drivers: list[Driver] | None = None
        self.known_total: int | None = None  # the filter's count, once known (page)

    # -- conditions ----------------------------------------------------------
    def geo_conditions(self, alias: str) -> Where:
        """The exact bbox and near conditions on a table with x, y, z and extent columns."""
        sql, f, a = Where(), self.f, alias
        boxes = [f.bbox] if f.bbox else []
        if f.near:  # the point is in the circle's box, so its extent meets it: tested in
            boxes.append(box_around(*f.near, f.radius_km or 0.0))  # an index, before the row
        for min_lon, min_lat, max_lon, max_lat in boxes:
            sql.add(
                f"{a}.max_lon >= ? AND {a}.min_lon <= ? AND {a}.max_lat >= ? AND {a}.min_lat <= ?",
                min_lon,
                max_lon,
                min_lat,
                max_lat,
            )
        if f.near:
            sql.add(
                f"{a}.x IS NOT NULL AND {chord2_sql(a)} <= ?",
                *xyz_params(f.near),
                chord2_for_km(f.radius_km or 0.0),
            )
        return sql

    def conditions(self, skip: frozenset[str] = frozenset()) -> Where:
        """Row conditions on `e` for every filter but the `skip` dimensions (a driver's)."""
        sql, f = Where(), self.f
        if f.narrows_cells and "cells" not in skip:
            if f.sources or f.projects:
                sql.add(f"e.source IN ({placeholders(self.sources)})", *self.sources)
            for facet, column in CUBE_FACETS:
                values = f.facet_values(facet)
                if values:
                    ors = " OR ".join(f"instr(e.{column}, ?) > 0" for _ in values)
                    sql.add(f"({ors})", *(pipe(v) for v in values))
        if f.municipalities and "municipality" not in skip:
            ors = " OR ".join("instr(e.municipalities, ?) > 0" for _ in f.municipalities)
            sql.add(f"({ors})", *(pipe(v) for v in f.municipalities))
        if f.updated_since and "updated" not in skip:
            sql.add("e.updated >= ?", f.updated_since)
        geo = self.geo_conditions("e")
        sql.conditions += geo.conditions
        sql.params += geo.params
        if f.words and "words" not in skip:
            sql.add(f"e.id IN ({_MATCHES})", fts_expression(f.words))
        return sql

    # -- cells -----------------------------------------------------------------
    def cells(self) -> list[Cell]:
        """The cells the filter's source, project, type, region, theme and category keep."""
        if self._cells is not None:
            return self._cells
        sql = Where()
        if self.f.sources or self.f.projects:
            sql.add(f"c.source IN ({placeholders(self.sources)})", *self.sources)
        for facet, column in CUBE_FACETS:
            values = self.f.facet_values(facet)
            if values:
                ors = " OR ".join(f"instr(c.{column}, ?) > 0" for _ in values)
                sql.add(f"({ors})", *(pipe(v) for v in values))
        self._cells = self.conn.execute(
            "SELECT c.cell, c.source, c.types, c.regions, c.themes, c.categories, c.n "
            f"FROM cells c WHERE {sql.where()} ORDER BY c.cell",
            sql.params,
        ).fetchall()
        return self._cells

    # -- drivers ---------------------------------------------------------------
    def geo_search(self, radius_km: float | None = None) -> tuple[str, tuple[float, ...]] | None:
        """What to search and the box: `pts` around `near` (points decide distance), else
        `extents` in the bbox (extents decide bbox: `pts` and `spans` together)."""
        f = self.f
        if f.near:
            return "pts", box_around(*f.near, radius_km or f.radius_km or 0.0)
        if f.bbox:
            return "extents", f.bbox
        return None

    @staticmethod
    def box_condition(box: tuple[float, ...], alias: str = "") -> tuple[str, tuple[float, ...]]:
        """The condition that an R*Tree entry meets a box."""
        min_lon, min_lat, max_lon, max_lat = box
        a = f"{alias}." if alias else ""
        condition = f"{a}max_lon >= ? AND {a}min_lon <= ? AND {a}max_lat >= ? AND {a}min_lat <= ?"
        return condition, (min_lon, max_lon, min_lat, max_lat)

    def geo_sql(self, kind: str, box: tuple[float, ...]) -> tuple[str, tuple[float, ...]]:
        """The ids whose R*Tree entries meet a box, each once: `pts` entries, or with
        `extents`, also the `spans` (lines, areas) whose point's entry does not meet it. An
        extent holds its point, so that is every extent meeting the box."""
        condition, params = self.box_condition(box)
        points = f"SELECT id FROM pts WHERE {condition}"
        if kind == "pts":
            return points, params
        span, span_params = self.box_condition(box, "x")
        point, point_params = self.box_condition(box, "p")
        spans = (
            f"SELECT x.id FROM spans x WHERE {span} AND NOT EXISTS "
            f"(SELECT 1 FROM pts p WHERE p.id = x.id AND {point})"
        )
        return f"{points} UNION ALL {spans}", (*params, *span_params, *point_params)

    def entries_sql(self, kind: str, box: tuple[float, ...]) -> tuple[str, tuple[float, ...]]:
        """The R*Tree entries meeting a box, one per entity, with their boxes (`id`,
        `min_lon`, `max_lon`, `min_lat`, `max_lat`): with `extents`, a line's or area's
        `spans` entry stands for it (its `pts` entry lies within it)."""
        columns = "id, min_lon, max_lon, min_lat, max_lat"
        condition, params = self.box_condition(box)
        if kind == "pts":
            return f"SELECT {columns} FROM pts WHERE {condition}", params
        return (
            f"SELECT {columns} FROM pts WHERE {condition} AND NOT EXISTS "
            f"(SELECT 1 FROM spans x WHERE x.id = pts.id) "
            f"UNION ALL SELECT {columns} FROM spans WHERE {condition}",
            (*params, *params),
        )

    def count_rows(self, sql: str, params: Sequence[Any]) -> int:
        """The number of rows a query returns."""
        return int(self.conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])

    def drivers(self) -> list[Driver]:
        """Candidate starting sets, smallest first."""
        if self._drivers is not None:
            return self._drivers
        f, found = self.f, []
        if f.words:
            params = (fts_expression(f.words),)
            count = self.count_rows("SELECT rowid FROM fts WHERE fts MATCH ?", params)
            found.append(Driver("words", _MATCHES, params, count))
        if f.municipalities:
            values = f.municipalities
            distinct = "DISTINCT " if len(values) > 1 else ""
            sql = (
                f"SELECT {distinct}entity AS id FROM facets "
                f"WHERE facet = 'municipality' AND value IN ({placeholders(values)})"
            )
            found.append(Driver("municipality", sql, tuple(values), self.count_rows(sql, values)))
        if f.narrows_cells and len(self.cells()) <= MAX_DRIVER_CELLS:
            cells = [c[0] for c in self.cells()]
            sql = f"SELECT id FROM entities INDEXED BY entities_cell_updated WHERE cell IN ({placeholders(cells)})"
            if not cells:
                sql = "SELECT NULL AS id WHERE 0"
            found.append(Driver("cells", sql, tuple(cells), sum(c[6] for c in self.cells())))
        if f.updated_since:
            sql = "SELECT id FROM entities INDEXED BY entities_updated WHERE updated >= ?"
            params = (f.updated_since,)
            found.append(Driver("updated", sql, params, self.count_rows(sql, params)))
        search = self.geo_search()
        if search:
            sql, params = self.geo_sql(*search)
            if self.known_total is not None and self._only("geo"):
                estimate = self.known_total  # the box's entries, nearly: no second count
            else:
                estimate = self.count_rows(sql, params)
            found.append(Driver("geo", sql, params, estimate))
        self._drivers = sorted(found, key=lambda d: d.estimate)
        return self._drivers

    def best_driver(self) -> Driver | None:
        """The smallest starting set; text search always drives (FTS cannot test one row)."""
        drivers = self.drivers()
        words = [d for d in drivers if d.dimension == "words"]
        return words[0] if words else (drivers[0] if drivers else None)

    def _from_driver(self, driver: Driver) -> tuple[str, Where]:
        """`FROM` clause starting at a driver, and the conditions it leaves to test."""
        return f"FROM ({driver.sql}) d CROSS JOIN entities e ON e.id = d.id", self.conditions(
            frozenset({driver.dimension})
        )

    # -- counting --------------------------------------------------------------
    def total(self) -> int:
        """How many entities match."""
        f = self.f
        if f.cube_only:
            return sum(c[6] for c in self.cells())
        if not (f.narrows_cells or f.words or f.municipalities or f.updated_since):
            return GeoCount(self).total()  # hub/readmodel/_geocount.py
        driver = self.best_driver()
        assert driver is not None  # a filter the cells cannot count has a driver
        if driver.dimension != "geo" and self._only(driver.dimension):
            return driver.estimate  # counted exactly when the driver was sized
        source, sql = self._from_driver(driver)
        query = f"SELECT count(*) {source} WHERE {sql.where()}"
        return int(self.conn.execute(query, (*driver.params, *sql.params)).fetchone()[0])

    def _only(self, dimension: str) -> bool:
        """Whether the filter restricts nothing but this one dimension."""
        f = self.f
        active = {
            "cells": f.narrows_cells,
            "words": bool(f.words),
            "municipality": bool(f.municipalities),
            "updated": bool(f.updated_since),
            "geo": bool(f.bbox or f.near),
        }
        return active.get(dimension, False) and not any(
            v for k, v in active.items() if k != dimension
        )

    def facet_cells(self) -> list[tuple[str, str, str, str, str, int]]:
        """Matching entities grouped by (source, types, regions, themes, categories)."""
        if self.f.cube_only:
            return [c[1:] for c in self.cells()]
        driver = self.best_driver()
        assert driver is not None
        source, sql = self._from_driver(driver)
        query = (
            f"SELECT e.source, e.types, e.regions, e.themes, e.categories, count(*) {source} "
            f"WHERE {sql.where()} GROUP BY 1, 2, 3, 4, 5"
        )
        return self.conn.execute(query, (*driver.params, *sql.params)).fetchall()

    # -- pages -----------------------------------------------------------------
    def page(
        self, sort: SortSpec, size: int, offset: int, after: tuple[Any, str] | None, total: int
    ) -> Page:
        """One page of rows in `sort` order, from `offset` or after the keyset `after`."""
        self.known_total = total
        if sort.field == "distance":
            rows, plan = self._rings(size + 1, offset, after)
        else:
            rows, plan = self._sorted(sort, size + 1, offset, after, total)
        more = len(rows) > size
        rows = rows[:size]
        self._attach_docs(rows)
        last = rows[-1] if rows and more else None
        return Page(rows, total, (last.sort_value, last.uid) if last else None, plan)

    def _sorted(
        self, sort: SortSpec, limit: int, offset: int, after: tuple[Any, str] | None, total: int
    ) -> tuple[list[EntityRow], str]:
        driver = self.best_driver()
        wanted = offset + limit
        if driver is not None and driver.dimension == "words":
            return self._driven(driver, sort, limit, offset, after)
        # Names correlate with types and categories ("Hotel …", "Museo …"), so a scan's cost
        # cannot be estimated from counts; merging cells is bounded whatever the data.
        cells = self.cells() if self.f.narrows_cells else []
        options: list[tuple[str, float]] = []
        if self.f.narrows_cells and len(cells) <= MAX_MERGE_CELLS:
            options.append(("merge", len(cells) * wanted))
        else:
            scan_rows = wanted * self.population / max(total, 1)
            options.append(("scan", scan_rows * (INDEX_ROW_COST if self._only("geo") else 1.0)))
        if driver is not None:
            options.append(("driver", driver.estimate))
        plan = min(options, key=lambda o: o[1])[0]
        if plan == "merge":
            return self._merge(cells, sort, limit, offset, after)
        if plan == "driver" and driver is not None:
            return self._driven(driver, sort, limit, offset, after)
        return self._scan(sort, limit, offset, after)

    @staticmethod
    def _keyset(
        sql: Where, column: str, descending: bool, after: tuple[Any, str] | None, table: str = "e"
    ) -> None:
        """Rows after the cursor's (sort value, uid); `column` and `uid` of alias `table`."""
        if after is not None:
            sql.add(f"({column}, {table}.uid) {'<' if descending else '>'} (?, ?)", *after)

    def _driven(
        self, driver: Driver, sort: SortSpec, limit: int, offset: int, after: tuple[Any, str] | None
    ) -> tuple[list[EntityRow], str]:
        column, _, _, descending = sort.columns()
        direction = "DESC" if descending else "ASC"
        source, sql = self._from_driver(driver)
        if not sql.conditions and driver.dimension == "words" and sort == _RANKED_SORT:
            return self._ranked(driver, limit, offset, after)
        if not sql.conditions:
            return self._driven_sorts(driver, column, descending, limit, offset, after)
        self._keyset(sql, column, descending, after)
        query = (
            f"SELECT {_ENTITY_COLUMNS}, {column} {source} WHERE {sql.where()} "
            f"ORDER BY {column} {direction}, e.uid {direction} LIMIT ? OFFSET ?"
        )
        params = (*driver.params, *sql.params, limit, offset)
        return [to_row(r) for r in self.conn.execute(query, params)], f"driver:{driver.dimension}"

    def _driven_sorts(
        self,
        driver: Driver,
        column: str,
        descending: bool,
        limit: int,
        offset: int,
        after: tuple[Any, str] | None,
    ) -> tuple[list[EntityRow], str]:
        """A driver's whole set, sorted in the narrow `sorts` table; then the page's rows.

        A text search of a common word matches tens of thousands of entities: reading each
        one's sort key from `sorts` instead of `entities` halves the time of the sort.
        """
        key = "s." + column.split(".", 1)[1]  # e.sort_en -> s.sort_en (chosen by SortSpec)
        direction = "DESC" if descending else "ASC"
        sql = Where()
        self._keyset(sql, key, descending, after, table="s")
        query = (
            f"SELECT s.id FROM ({driver.sql}) d CROSS JOIN sorts s ON s.id = d.id "
            f"WHERE {sql.where()} ORDER BY {key} {direction}, s.uid {direction} LIMIT ? OFFSET ?"
        )
        ids = [r[0] for r in self.conn.execute(query, (*driver.params, *sql.params, limit, offset))]
        return self._rows_of(ids, column), f"driver:{driver.dimension}"

    def _ranked(
        self, driver: Driver, limit: int, offset: int, after: tuple[Any, str] | None
    ) -> tuple[list[EntityRow], str]:
        """A text search alone in the default order: merge each source's first matches.

        `fts` numbers each source's entities in this order (`_textindex`), so a source's
        first `offset + limit` matches are its first in the index; a source's tail (added
        or renamed since it was numbered) is sorted whole. A cursor's rows are skipped.
        """
        runs = textindex.runs(self.conn)
        if 2 * len(runs) > _MAX_RUNS:
            column = _RANKED_SORT.columns()[0]
            return self._driven_sorts(driver, column, False, limit, offset, after)
        key = f"s.sort_{textindex.RANK_LANG}"
        keyset = Where()
        self._keyset(keyset, key, False, after, table="s")
        select = (
            f"SELECT * FROM (SELECT t.id AS id, {key} AS k, s.uid AS uid FROM fts "
            "CROSS JOIN text_ids t ON t.fid = fts.rowid CROSS JOIN sorts s ON s.id = t.id "
            f"WHERE fts MATCH ? AND fts.rowid BETWEEN ? AND ? AND {keyset.where()} "
        )
        parts: list[str] = []
        params: list[Any] = []
        wanted = offset + limit
        for run in runs:
            parts.append(select + "ORDER BY fts.rowid LIMIT ?)")
            params += [*driver.params, run.low, run.ranked - 1, *keyset.params, wanted]
            if run.has_tail:
                parts.append(select + f"ORDER BY {key}, s.uid LIMIT ?)")
                params += [*driver.params, run.ranked, run.end - 1, *keyset.params, wanted]
        if not parts:
            return [], "ranked:0"
        query = f"SELECT id FROM ({' UNION ALL '.join(parts)}) ORDER BY k, uid LIMIT ? OFFSET ?"
        ids = [r[0] for r in self.conn.execute(query, (*params, limit, offset))]
        return self._rows_of(ids, _RANKED_SORT.columns()[0]), f"ranked:{len(parts)}"

    def _rows_of(self, ids: list[int], column: str) -> list[EntityRow]:
        """The rows of a page whose ids (in order) a first query chose."""
        if not ids:
            return []
        found = {
            r[0]: to_row(r)
            for r in self.conn.execute(
                f"SELECT {_ENTITY_COLUMNS}, {column} FROM entities e "
                f"WHERE e.id IN ({placeholders(ids)})",
                ids,
            )
        }
        return [found[i] for i in ids]

    def _scan(
        self, sort: SortSpec, limit: int, offset: int, after: tuple[Any, str] | None
    ) -> tuple[list[EntityRow], str]:
        column, index, _, descending = sort.columns()
        direction = "DESC" if descending else "ASC"
        sql = self.conditions()
        self._keyset(sql, column, descending, after)
        # Ids first: a bbox (the usual broad filter) is tested in the index alone.
        query = (
            f"SELECT e.id FROM entities e INDEXED BY {index} "
            f"WHERE {sql.where()} ORDER BY {column} {direction}, e.uid {direction} LIMIT ? OFFSET ?"
        )
        ids = [r[0] for r in self.conn.execute(query, (*sql.params, limit, offset))]
        return self._rows_of(ids, column), "scan"

    def _merge(
        self,
        cells: list[Cell],
        sort: SortSpec,
        limit: int,
        offset: int,
        after: tuple[Any, str] | None,
    ) -> tuple[list[EntityRow], str]:
        """Merge the ordered runs of each matching cell, each read from its cell's sort index.

        One statement: every cell gives its first `offset + limit` rows in order, and the
        union of those few rows is sorted.
        """
        if not cells:
            return [], "merge:0"
        column, _, index, descending = sort.columns()
        direction = "DESC" if descending else "ASC"
        order = f"{column} {direction}, e.uid {direction}"
        sql = self.conditions(frozenset({"cells"}))
        self._keyset(sql, column, descending, after)
        run = (
            f"SELECT * FROM (SELECT {_ENTITY_COLUMNS}, {column} AS k FROM entities e INDEXED BY {index} "
            f"WHERE e.cell = ? AND {sql.where()} ORDER BY {order} LIMIT ?)"
        )
        wanted = offset + limit
        query = (
            "SELECT * FROM (" + " UNION ALL ".join([run] * len(cells)) + ") "
            f"ORDER BY k {direction}, uid {direction} LIMIT ? OFFSET ?"
        )
        params: list[Any] = []
        for cell in cells:
            params += [cell[0], *sql.params, wanted]
        rows = [to_row(r) for r in self.conn.execute(query, (*params, limit, offset))]
        return rows, f"merge:{len(cells)}"

    def _rings(
        self, limit: int, offset: int, after: tuple[Any, str] | None
    ) -> tuple[list[EntityRow], str]:
        """Nearest first: search circles of growing radius until `offset + limit` rows are found."""
        f = self.f
        assert f.near is not None and f.radius_km is not None
        radius = f.radius_km
        start = km_for_chord2(after[0]) if after else 0.0
        driver = self.best_driver()
        # A small set other than the circle's own candidates (words, a municipality) is
        # sorted whole; the circle's candidates are read ring by ring, nearest first.
        small = None
        if driver and (
            driver.dimension == "words"
            or (driver.dimension != "geo" and driver.estimate <= SMALL_DRIVER)
        ):
            small = driver
        rings = [] if small is not None else self._ring_radii(radius, start, offset + limit)
        rings.append(radius)
        distance = chord2_sql()
        xyz = xyz_params(f.near)
        rows: list[EntityRow] = []
        for ring in rings:
            if small is not None:
                source_sql, source_params = small.sql, small.params
                sql = self.conditions(frozenset({small.dimension}))
            else:
                source_sql, source_params = self.geo_sql("pts", box_around(*f.near, ring))
                sql = self.conditions()
            sql.add(f"{distance} <= ?", *xyz, chord2_for_km(ring))
            if after is not None:
                sql.add(
                    f"({distance} > ? OR ({distance} = ? AND e.uid > ?))",
                    *xyz,
                    after[0],
                    *xyz,
                    after[0],
                    after[1],
                )
            query = (
                f"SELECT {_ENTITY_COLUMNS}, {distance} AS d FROM ({source_sql}) g "
                f"CROSS JOIN entities e ON e.id = g.id WHERE {sql.where()} "
                "ORDER BY d, e.uid LIMIT ? OFFSET ?"
            )
            params = (*xyz, *source_params, *sql.params, limit, offset)
            rows = []
            for r in self.conn.execute(query, params):
                row = to_row(r)
                row.distance_km = km_for_chord2(r[6])
                rows.append(row)
            if len(rows) >= limit or ring == radius:
                plan = f"driver:{small.dimension}" if small else f"rings:{ring:g}km"
                return rows, plan
        return rows, "rings"

    def _ring_radii(self, radius: float, start: float, wanted: int) -> list[float]:
        """Radii to search before the whole circle, growing 4x from the first.

        The first is where, were the total spread evenly over the circle, twice the rows
        wanted would lie beyond the cursor (`start`); without a total, radius / 64. Any
        radius gives the right rows (a ring's rows are all nearer than any outside it):
        this only picks how few are read.
        """
        total = self.known_total
        if total:
            share = min(1.0, (start / radius) ** 2 + 2.0 * wanted / total)
            first = max(radius * math.sqrt(share), radius / 64)
        else:
            first = radius / 64
        radii = []
        while first < radius:
            if first > start:
                radii.append(first)
            first *= 4
        return radii

    def _attach_docs(self, rows: list[EntityRow]) -> None:
        if not rows:
            return
        ids = [r.id for r in rows]
        docs = dict(
            self.conn.execute(f"SELECT id, doc FROM docs WHERE id IN ({placeholders(ids)})", ids)
        )
        x0 = y0 = z0 = 0.0
        if self.f.near:
            x0, y0, z0 = unit_vector(*self.f.near)
        for row in rows:
            row.doc = jsonbytes.loads(docs[row.id])
            if (
                row.distance_km is None
                and self.f.near
                and row.lat is not None
                and row.lon is not None
            ):
                x, y, z = unit_vector(row.lat, row.lon)
                row.distance_km = km_for_chord2((x - x0) ** 2 + (y - y0) ** 2 + (z - z0) ** 2)


def tally(
    cells: Sequence[tuple[str, str, str, str, str, int]], project_of: dict[str, str]
) -> dict[str, Counter[str]]:
    """Entities per value of each facet (an entity in two regions counts in both), and `total`."""
    out: dict[str, Counter[str]] = {
        k: Counter() for k in ("type", "project", "region", "theme", "category", "source", "total")
    }
    for source, types, regions, themes, categories, n in cells:
        out["source"][source] += n
        out["project"][project_of.get(source, "")] += n
        out["total"]["all"] += n
        for facet, packed in (
            ("type", types),
            ("region", regions),
            ("theme", themes),
            ("category", categories),
        ):
            for value in packed.strip("|").split("|"):
                if value:
                    out[facet][value] += n
    return out


def entity_row(conn: sqlite3.Connection, uid: str) -> EntityRow | None:
    """One entity by its id (`source/key`), with its document."""
    found = conn.execute(
        f"SELECT {_ENTITY_COLUMNS}, d.doc FROM entities e JOIN docs d ON d.id = e.id WHERE e.uid = ?",
        (uid,),
    ).fetchone()
    if found is None:
        return None
    row = EntityRow(*found[:6])
    row.doc = jsonbytes.loads(found[6])
    return row
