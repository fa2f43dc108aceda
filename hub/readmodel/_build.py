"""Rebuild the read model's rows of one source from its published N-Triples, atomically.

The owners of the version's skolem nodes (the change feed's grouping) are found outside
any write transaction; then one `BEGIN IMMEDIATE … COMMIT` deletes the source's old rows and
writes the new ones, read from the file in one pass (`_stream`), so a reader (WAL)
sees the old source or the new one, never a mix.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from hub.config import HubConfig
from hub.errors import HubError
from hub.feed._derive import owners_grouping
from hub.iris import Iris
from hub.layout import DataLayout
from hub.readmodel import _grid as grid
from hub.readmodel import _textindex as textindex
from hub.readmodel._extract import CATEGORY_NS, THEME_NS, Entity
from hub.readmodel._geo import unit_vector
from hub.readmodel._helper import Helper, HelperError, Job
from hub.readmodel._programme import programme_classes, programme_docs
from hub.readmodel._schema import (
    CELL_BITS,
    ENTITY_TABLES,
    SLOT_BITS,
    connect_writer,
    readmodel_path,
    slot_range,
)
from hub.readmodel._stream import stream_entities
from hub.readmodel._text import LANGS, facet_value, pipes, sort_keys
from hub.util import jsonbytes
from hub.util.ahead import BeforeCommit, commit
from hub.util.blobs import pack

log = logging.getLogger("hub.readmodel")
_BATCH = 2_000
HELPER_FROM_BYTES = 32 * 1024 * 1024
"""A version file this large (about 250,000 triples) has its rows built by a helper process
(`_helper`) while the rebuild inserts them: under it, starting one costs more than it saves."""
_BUILD_CACHE_KIB = 262_144
"""Page cache of a rebuild (256 MiB): a source's index inserts stay in memory."""


class ReadModelError(HubError):
    """The read model could not be rebuilt; the API keeps serving the previous state."""


def _compact(value: object) -> str:
    return jsonbytes.dumps(value).decode("utf-8")  # a TEXT column


def _tail(iri: str, prefix: str) -> str:
    return iri[len(prefix) :] if iri.startswith(prefix) and len(iri) > len(prefix) else iri


_STATEMENTS = {
    "e": f"INSERT INTO entities VALUES ({', '.join('?' * (19 + len(LANGS)))})",
    "s": f"INSERT INTO sorts VALUES ({', '.join('?' * (3 + len(LANGS)))})",
    "d": "INSERT INTO docs VALUES (?, ?, ?, ?)",
    "p": "INSERT INTO pts VALUES (?, ?, ?, ?, ?)",
    "x": "INSERT INTO spans VALUES (?, ?, ?, ?, ?)",
    "l": "INSERT INTO locs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "f": "INSERT OR IGNORE INTO facets VALUES (?, ?, ?)",
    "t": "INSERT INTO triples VALUES (?, ?)",
}
Rows = dict[str, list[tuple]]
"""A batch of rows by table (the keys of `_STATEMENTS`)."""


def write_rows(conn: sqlite3.Connection, rows: Rows) -> None:
    """Insert one batch of rows, table by table, and count its points in the grid."""
    for key, sql in _STATEMENTS.items():
        batch = rows.get(key)
        if not batch:
            continue
        if key == "t":  # compressed here: a helper's rows are built on the other core
            batch = [(rowid, pack(text)) for rowid, text in batch]
        conn.executemany(sql, batch)
        if key == "p":  # (id, lon, lon, lat, lat)
            grid.count(conn, ((row[3], row[1]) for row in batch), 1)


class _Writer:
    """Writes one source's entities into the open write transaction, counting facets.

    With a `sink`, each batch of rows goes to it instead (a rebuild's helper process
    sends them to the process that writes; `conn` may then be None).
    """

    def __init__(
        self,
        conn: sqlite3.Connection | None,
        source: str,
        slot: int,
        region_prefix: str,
        *,
        cells: dict[tuple[str, str, str, str], list[int]] | None = None,
        next_id: int = 1,
        next_cell: int = 0,
        sink: Callable[[Rows], None] | None = None,
    ) -> None:
        self.conn = conn
        self.sink = sink
        self.source = source
        self.base_id = slot << SLOT_BITS
        self.base_cell = slot << CELL_BITS
        self.region_prefix = region_prefix
        self.count = 0
        self.next_id = next_id  # ids and cells continue after the source's existing ones
        self.next_cell = next_cell
        self.facets: Counter[tuple[str, str]] = Counter()
        # key -> [cell id, entities]
        self.cells: dict[tuple[str, str, str, str], list[int]] = cells if cells is not None else {}
        self._rows: dict[str, list[tuple]] = {k: [] for k in _STATEMENTS}

    def add(
        self,
        entity: Entity,
        published: str,
        rowid: int | None = None,
        lines: list[bytes] | None = None,
    ) -> int:
        """Queue one entity's rows (a new id unless `rowid`); write them in batches; its id.

        `lines`: the entity's N-Triples lines in order; None reads them from TEMP `lines`.
        """
        self.count += 1
        if rowid is None:
            rowid = self.base_id + self.next_id
            self.next_id += 1
        types = sorted(entity.types)
        regions = sorted(_tail(r, self.region_prefix) for r in entity.regions)
        themes = sorted(_tail(t, THEME_NS) for t in entity.themes)
        categories = sorted(_tail(c, CATEGORY_NS) for c in entity.categories)
        towns = sorted({facet_value(m) for m in entity.municipalities if m.strip()})
        shape = entity.shape
        lat = lon = x = y = z = None
        bbox: tuple[float | None, ...] = (None, None, None, None)
        if shape is not None:
            lat, lon = shape.lat, shape.lon
            x, y, z = unit_vector(lat, lon)
            bbox = shape.bbox
            self._rows["p"].append((rowid, lon, lon, lat, lat))
            if bbox[0] != bbox[2] or bbox[1] != bbox[3]:
                self._rows["x"].append((rowid, bbox[0], bbox[2], bbox[1], bbox[3]))
            self._rows["l"].append((rowid, x, y, z, *bbox))
        cell_key = (pipes(types), pipes(regions), pipes(themes), pipes(categories))
        types_p, regions_p, themes_p, categories_p = cell_key
        cell = self.cells.get(cell_key)
        if cell is None:
            if self.next_cell >= 1 << CELL_BITS:
                raise ReadModelError(f"source `{self.source}` has too many facet combinations")
            cell = self.cells[cell_key] = [self.base_cell + self.next_cell, 0]
            self.next_cell += 1
        cell[1] += 1
        uid, updated, keys = (
            f"{self.source}/{entity.key}",
            entity.updated or published,
            sort_keys(entity.names),
        )
        self._rows["s"].append((rowid, uid, updated, *keys))
        self._rows["e"].append(
            (
                rowid,
                cell[0],
                uid,
                self.source,
                updated,
                lat,
                lon,
                x,
                y,
                z,
                *bbox,
                types_p,
                regions_p,
                themes_p,
                categories_p,
                pipes(towns),
                *keys,
            )
        )
        doc = {
            "iri": entity.iri,
            "key": entity.key,
            "types": types,
            "names": dict(sorted(entity.names.items())),
            "descriptions": dict(sorted(entity.descriptions.items())),
            "municipalities": entity.municipalities,
            "regions": regions,
            "themes": themes,
            "categories": categories,
            "url": entity.url,
            "start_date": entity.start_date,
            "end_date": entity.end_date,
            "geometry": shape.geometry if shape else None,
        }
        names = "\n".join(entity.names.values())
        descriptions = "\n".join(entity.descriptions.values())
        self._rows["d"].append((rowid, _compact(doc), names, descriptions))
        if lines is None:
            lines = [
                line
                for (line,) in self.conn.execute(
                    "SELECT line FROM temp.lines WHERE owner = ? ORDER BY line", (entity.iri,)
                )
            ]
        self._rows["t"].append((rowid, b"".join(line + b"\n" for line in lines)))
        for town in towns:
            self._rows["f"].append(("municipality", town, rowid))
        facets = self.facets
        for facet, values in (
            ("type", types),
            ("region", regions),
            ("theme", themes),
            ("category", categories),
            ("municipality", towns),
        ):
            for value in values:
                facets[(facet, value)] += 1
        if self.count % _BATCH == 0:
            self.flush()
        return rowid

    def flush(self) -> None:
        """Write the queued rows (or hand them to the `sink`)."""
        rows, self._rows = self._rows, {key: [] for key in self._rows}
        if self.sink is not None:
            self.sink(rows)
        else:
            write_rows(self.conn, rows)

    def finish(self) -> None:
        """Write the last rows and the source's facet counts and cells."""
        self.flush()
        self.conn.executemany(
            "INSERT INTO facet_counts VALUES (?, ?, ?, ?)",
            [(self.source, f, v, n) for (f, v), n in sorted(self.facets.items())],
        )
        self.conn.executemany(
            "INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(cell, self.source, *key, n) for key, (cell, n) in self.cells.items()],
        )


def facet_pairs(doc: dict) -> list[tuple[str, str]]:
    """The (facet, value) pairs an entity's JSON document counts in `facet_counts`."""
    towns = sorted({facet_value(m) for m in doc["municipalities"] if m.strip()})
    return [
        (facet, value)
        for facet, values in (
            ("type", doc["types"]),
            ("region", doc["regions"]),
            ("theme", doc["themes"]),
            ("category", doc["categories"]),
            ("municipality", towns),
        )
        for value in values
    ]


def _delete_rows(conn: sqlite3.Connection, source: str, slot: int) -> int:
    """Delete every row of a source (inside the caller's transaction); entities deleted."""
    low, high = slot_range(slot)
    dropped = textindex.drop(conn, slot)
    grid.drop(conn, slot)
    for table in ENTITY_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE id BETWEEN ? AND ?", (low, high))
    facets = conn.execute(
        "SELECT facet, value FROM facet_counts WHERE source = ? AND facet = 'municipality'",
        (source,),
    ).fetchall()
    conn.executemany(
        "DELETE FROM facets WHERE facet = ? AND value = ? AND entity BETWEEN ? AND ?",
        [(f, v, low, high) for f, v in facets],
    )
    conn.execute("DELETE FROM facet_counts WHERE source = ?", (source,))
    conn.execute("DELETE FROM cells WHERE source = ?", (source,))
    return dropped


def _slot(conn: sqlite3.Connection, source: str) -> int:
    row = conn.execute("SELECT slot FROM sources WHERE source = ?", (source,)).fetchone()
    if row:
        return int(row[0])
    return int(conn.execute("SELECT coalesce(max(slot), 0) + 1 FROM sources").fetchone()[0])


def _write_programme(conn: sqlite3.Connection, config: HubConfig) -> None:
    """Replace the programme rows when the ontology or the config's projects changed."""
    version, rows = programme_docs(config)
    current = conn.execute("SELECT value FROM meta WHERE key = 'programme'").fetchone()
    if current and current[0] == version:
        return
    conn.execute("DELETE FROM programme")
    conn.executemany(
        "INSERT OR REPLACE INTO programme VALUES (?, ?, ?)",
        [(kind, key, _compact(doc)) for kind, key, doc in rows],
    )
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('programme', ?)", (version,))


def _stamp(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rebuild_source(
    config: HubConfig,
    source_id: str,
    ntriples: Path,
    *,
    published: datetime | None = None,
    run_id: str | None = None,
    before_commit: BeforeCommit | None = None,
    helper: bool | None = None,
) -> int:
    """Replace all read-model rows of `source_id` with the entities of its N-Triples file.

    `published` (default: now) is the source's freshness and the `updated` of entities
    without schema:dateModified; `run_id` defaults to the file's stem (the run id).
    Returns the number of entities. One transaction: readers see old or new.
    `before_commit`: see `BeforeCommit` (a write prepared ahead of the store's).
    `helper`: build the rows in a helper process (`_helper`) while this one inserts them;
    by default for files of `HELPER_FROM_BYTES` or more.

    >>> rebuild_source(config, "itinera-trails", Path("var/versions/itinera-trails/R.nt"))  # doctest: +SKIP
    11
    """
    source = config.source(source_id)
    if not ntriples.exists():
        raise ReadModelError(
            f"cannot rebuild the read model of source `{source_id}`: {ntriples} does not exist; "
            f"re-harvest the source (`hub harvest {source_id}`)"
        )
    iris = Iris(config.base_iri)
    stamp = _stamp(published)
    started = time.perf_counter()
    try:
        conn = connect_writer(readmodel_path(config))
    except sqlite3.Error as exc:
        raise ReadModelError(
            f"cannot open the read model {readmodel_path(config)}: {exc}"
        ) from None
    try:
        conn.execute(f"PRAGMA cache_size={-_BUILD_CACHE_KIB}")
        if helper is None:
            helper = ntriples.stat().st_size >= HELPER_FROM_BYTES
        conn.execute("BEGIN IMMEDIATE")
        try:
            slot = _slot(conn, source_id)
            writer = _Writer(conn, source_id, slot, iris.programme_base + "region/")
            job = Job(
                ntriples,
                source_id,
                slot,
                iris.entity_prefix(source_id),
                writer.region_prefix,
                stamp,
                programme_classes(config),
            )
            if helper:
                dropped = _insert_from_helper(conn, writer, job)
            else:
                dropped = _delete_rows(conn, source_id, slot)
                add_entities(writer, job)
            writer.finish()
            textindex.fill(conn, slot)
            if dropped:
                textindex.optimize(conn)
            conn.execute(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source_id,
                    slot,
                    source.project,
                    source.licence,
                    secrets.token_hex(8),
                    run_id or ntriples.stem,
                    stamp,
                    writer.count,
                    str(ntriples),
                ),
            )
            _write_programme(conn, config)
            commit(conn, before_commit)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except (sqlite3.Error, SyntaxError, ValueError, OSError) as exc:  # bad N-Triples, UTF-8
        raise ReadModelError(
            f"rebuilding the read model of source `{source_id}` from {ntriples} failed: {exc}; "
            "the API still serves the previous state"
        ) from None
    finally:
        conn.close()
    log.info(
        "read model: %s rebuilt, %d entities in %.1fs",
        source_id,
        writer.count,
        time.perf_counter() - started,
    )
    return writer.count


def add_entities(writer: _Writer, job: Job) -> None:
    """Every entity of the job's version through `writer` (in this process, or the helper's)."""
    grouping = owners_grouping(job.ntriples, job.entity_prefix)
    for entity, lines in stream_entities(job.ntriples, grouping, job.hub_classes):
        writer.add(entity, job.stamp, lines=lines)


def _insert_from_helper(conn: sqlite3.Connection, writer: _Writer, job: Job) -> int:
    """Delete the source's old rows and insert the new ones as the helper sends them;
    how many old entities were deleted."""
    builder = Helper(job)
    try:
        dropped = _delete_rows(conn, job.source, job.slot)  # while the helper reads the file
        for rows in builder.batches():
            write_rows(conn, rows)
        totals = builder.totals
        assert totals is not None
        writer.count, writer.facets, writer.cells = totals.count, totals.facets, totals.cells
        writer.next_id, writer.next_cell = totals.next_id, totals.next_cell
        return dropped
    except HelperError as exc:
        raise ValueError(str(exc)) from None  # named with the source and file by the caller
    finally:
        builder.close()


def remove_source(config: HubConfig, source_id: str) -> int:
    """Delete every read-model row of a source (e.g. one removed from the config); rows removed."""
    path = readmodel_path(config)
    if not path.exists():
        return 0
    conn = connect_writer(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT slot, entities FROM sources WHERE source = ?", (source_id,)
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return 0
            _delete_rows(conn, source_id, int(row[0]))
            conn.execute("DELETE FROM sources WHERE source = ?", (source_id,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise ReadModelError(
            f"removing source `{source_id}` from the read model failed: {exc}"
        ) from None
    finally:
        conn.close()
    return int(row[1])


def refresh_programme(config: HubConfig) -> None:
    """Rewrite the programme rows if the ontology or the config's projects changed."""
    conn = connect_writer(readmodel_path(config))
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            _write_programme(conn, config)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def built_sources(config: HubConfig) -> dict[str, tuple[str, str, str]]:
    """Sources in the read model: id -> (run id, project, licence)."""
    conn = connect_writer(readmodel_path(config))
    try:
        rows = conn.execute("SELECT source, run_id, project, licence FROM sources").fetchall()
    finally:
        conn.close()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def sync(config: HubConfig, sources: Iterable[str] | None = None) -> dict[str, str]:
    """Bring the read model up to date with what is published; what was done per source.

    For start-up: rebuilds each source whose published version (`<data>/state/<source>.json`)
    is not the one the read model was built from (or whose project or licence changed),
    and removes sources no longer in the config. Cheap when nothing changed.
    """
    from hub.pipeline.state import load_state

    done: dict[str, str] = {}
    refresh_programme(config)
    built = built_sources(config)
    for source_id in sorted(set(built) - set(config.sources)):
        remove_source(config, source_id)
        done[source_id] = "removed (not in the config)"
    wanted = list(sources) if sources is not None else list(config.sources)
    for source_id in wanted:
        source = config.source(source_id)
        state = load_state(config.data_path, source_id)
        if not state.version_file:
            done[source_id] = "not published yet"
            continue
        file = DataLayout(config.data_path).absolute(state.version_file)
        if built.get(source_id) == (state.run_id, source.project, source.licence):
            done[source_id] = "up to date"
            continue
        published = datetime.fromtimestamp(file.stat().st_mtime, UTC) if file.exists() else None
        count = rebuild_source(config, source_id, file, published=published, run_id=state.run_id)
        done[source_id] = f"rebuilt ({count} entities)"
    return done
