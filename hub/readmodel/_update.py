"""Follow a publish: update a source's read-model rows from the change set, or rebuild them.

A publish comes with the triples it removed and added (decisions #13). Their
subjects name the entities touched (ownership as the change feed groups it:
`hub.feed._derive.owner_of`); only those are re-read, from the new version file
(sorted, so each entity's lines are found by binary search, not by a scan), and
their rows replaced in one `BEGIN IMMEDIATE … COMMIT`: readers (WAL) see the source
before or after. Ids of entities kept stay; new entities and cells take new ids.

The whole source is rebuilt instead (`rebuild_source`) when the read model does not
hold the version the change starts from, when the change is a large share of the
source (`MAX_CHANGE_SHARE`), or when it touches what the file's order cannot find
alone: skolem (blank) nodes or subjects the source does not mint.
"""

from __future__ import annotations

import logging
import mmap
import secrets
import sqlite3
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from hub.config import HubConfig
from hub.feed._derive import SKOLEM, owner_of
from hub.iris import GEO, SCHEMA, Iris
from hub.readmodel import _grid as grid
from hub.readmodel import _textindex as textindex
from hub.readmodel._build import (
    ReadModelError,
    _stamp,
    _write_programme,
    _Writer,
    facet_pairs,
    rebuild_source,
)
from hub.readmodel._extract import stage_triples, staged_entities
from hub.readmodel._programme import programme_classes
from hub.readmodel._schema import (
    CELL_BITS,
    ENTITY_TABLES,
    connect_writer,
    readmodel_path,
    slot_range,
)
from hub.readmodel._stream import lines_starting
from hub.readmodel._text import facet_value
from hub.util import jsonbytes
from hub.util.ahead import BeforeCommit, commit
from hub.util.blobs import unpack

log = logging.getLogger("hub.readmodel")

MAX_CHANGE_SHARE = 0.25
"""Above this share of the version file's bytes, the change set rebuilds the source."""

_LINKS = tuple(
    f" <{p}> <".encode() for p in (GEO + "hasGeometry", SCHEMA + "geo", SCHEMA + "address")
)
_SUBRESOURCE_CUTS = (b"> ", b"/", b"#", b"?")


class _NotIncremental(Exception):
    """The change cannot be applied entity by entity (the reason is the message)."""


def follow_publish(
    config: HubConfig,
    source_id: str,
    version: Path,
    *,
    previous_run: str | None,
    removed: Path | None,
    added: Path | None,
    published: datetime | None = None,
    run_id: str | None = None,
    before_commit: BeforeCommit | None = None,
) -> tuple[str, int]:
    """Bring the read model to `version`: ("updated" | "rebuilt", entities of the source).

    Updates the entities the change set touches when the read model holds
    `previous_run`; otherwise (or when the change cannot be applied entity by entity)
    rebuilds the source. Either way one transaction, and `ReadModelError` on failure.
    `before_commit`: see `BeforeCommit` (`Cancelled` when it says no).
    """
    try:
        return "updated", update_source(
            config,
            source_id,
            version,
            previous_run=previous_run,
            removed=removed,
            added=added,
            published=published,
            run_id=run_id,
            before_commit=before_commit,
        )
    except _NotIncremental as why:
        log.info("read model: %s rebuilt (%s)", source_id, why)
    count = rebuild_source(
        config,
        source_id,
        version,
        published=published,
        run_id=run_id,
        before_commit=before_commit,
    )
    return "rebuilt", count


def update_source(
    config: HubConfig,
    source_id: str,
    version: Path,
    *,
    previous_run: str | None,
    removed: Path | None,
    added: Path | None,
    published: datetime | None = None,
    run_id: str | None = None,
    before_commit: BeforeCommit | None = None,
) -> int:
    """Replace the rows of the entities the change set touches; the source's entities.

    Raises `_NotIncremental` (nothing written) when the source must be rebuilt instead.
    """
    started = time.perf_counter()
    path = readmodel_path(config)
    if previous_run is None or removed is None or added is None:
        raise _NotIncremental("no previous version or no change set")
    if not (path.exists() and removed.exists() and added.exists() and version.exists()):
        raise _NotIncremental("no read model, change set or version file")
    changed = removed.stat().st_size + added.stat().st_size
    if changed > MAX_CHANGE_SHARE * max(version.stat().st_size, 1):
        raise _NotIncremental(f"the change is over {MAX_CHANGE_SHARE:.0%} of the source")
    iris = Iris(config.base_iri)
    prefix = iris.entity_prefix(source_id)
    owners = touched_owners((removed, added), prefix)
    try:
        conn = connect_writer(path)
    except sqlite3.Error as exc:
        raise ReadModelError(f"cannot open the read model {path}: {exc}") from None
    try:
        row = conn.execute(
            "SELECT slot, run_id FROM sources WHERE source = ?", (source_id,)
        ).fetchone()
        if row is None or row[1] != previous_run:
            raise _NotIncremental(f"the read model does not hold run {previous_run}")
        slot = int(row[0])
        old = _old_rows(conn, source_id, prefix, owners)
        lines, extra = _new_lines(version, owners, old, prefix)
        _stage(conn, lines, extra)
        entities = [  # not a linked node that another entity owns
            entity
            for entity in staged_entities(conn, prefix, programme_classes(config))
            if owner_of(entity.iri, prefix) in owners
        ]
        count = _replace(
            conn,
            config,
            source_id,
            slot,
            old,
            entities,
            _stamp(published),
            version,
            run_id,
            previous_run,
            before_commit,
        )
        conn.execute("DROP TABLE IF EXISTS temp.stage")
        conn.execute("DROP TABLE IF EXISTS temp.ents")
        conn.execute("DROP TABLE IF EXISTS temp.lines")
    except (sqlite3.Error, SyntaxError, OSError) as exc:  # SyntaxError: bad N-Triples
        raise ReadModelError(
            f"updating the read model of source `{source_id}` from {version} failed: {exc}; "
            "the API still serves the previous state"
        ) from None
    finally:
        conn.close()
    log.info(
        "read model: %s updated, %d entities touched in %.2fs",
        source_id,
        len(owners),
        time.perf_counter() - started,
    )
    return count


def touched_owners(files: tuple[Path, ...], prefix: str) -> set[str]:
    """The entities (IRIs) whose triples the change files remove or add."""
    owners: set[str] = set()
    skolem = SKOLEM.encode()
    for path in files:
        with path.open("rb") as data:
            for raw in data:
                line = raw.strip()
                if not line or line.startswith(b"#"):
                    continue
                if skolem in line or not line.startswith(b"<"):
                    raise _NotIncremental("the change touches skolem (blank) nodes")
                subject = line[1 : line.index(b">")].decode("utf-8")
                owner = owner_of(subject, prefix)
                if owner is None or not owner.startswith(prefix):
                    raise _NotIncremental(
                        f"the change touches <{subject}>, not minted by the source"
                    )
                owners.add(owner)
    return owners


class _Old:
    """The rows an entity has now: its id, cell, JSON document and skolem nodes."""

    def __init__(self, rowid: int, cell: int, doc: str, nt: bytes) -> None:
        self.rowid, self.cell, self.doc = rowid, cell, jsonbytes.loads(doc)
        skolem = SKOLEM.encode()
        self.skolems = {
            line[1 : line.index(b">")]
            for line in unpack(nt).split(b"\n")
            if line.startswith(b"<") and skolem in line[: line.index(b">")]
        }


def _old_rows(
    conn: sqlite3.Connection, source: str, prefix: str, owners: set[str]
) -> dict[str, _Old]:
    """The rows of the entities the touched owners hold: each owner and its sub-resources."""
    found: dict[str, _Old] = {}
    columns = (
        "SELECT e.uid, e.id, e.cell, d.doc, t.nt FROM entities e JOIN docs d ON d.id = e.id "
        "JOIN triples t ON t.id = e.id WHERE "
    )
    for owner in owners:
        uid = f"{source}/{owner[len(prefix) :]}"
        rows = conn.execute(columns + "e.uid = ?", (uid,)).fetchall()
        for cut, after in (("/", "0"), ("#", "$"), ("?", "@")):  # the cut and the next char
            rows += conn.execute(
                columns + "e.uid >= ? AND e.uid < ?", (uid + cut, uid + after)
            ).fetchall()
        for uid_found, *rest in rows:
            found[prefix + uid_found[len(source) + 1 :]] = _Old(*rest)
    return found


def _new_lines(
    version: Path, owners: set[str], old: dict[str, _Old], prefix: str
) -> tuple[list[tuple[str, bytes]], list[bytes]]:
    """Each touched entity's lines in the new version, and the linked nodes it reads from.

    The entity's node and sub-resources by their IRIs; its skolem nodes are those it
    had (the change touches none); a node it links to for its geometry or address
    and does not own is read too (staged, not kept as its triples).
    """
    owned: list[tuple[str, bytes]] = []
    extra: list[bytes] = []
    skolem = SKOLEM.encode()
    with version.open("rb") as file:
        if version.stat().st_size == 0:
            return owned, extra
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for owner in sorted(owners):
                node = b"<" + owner.encode()
                mine = [
                    line for cut in _SUBRESOURCE_CUTS for line in lines_starting(data, node + cut)
                ]
                known = old.get(owner)
                if known is None and any(skolem in line for line in mine):
                    raise _NotIncremental(f"new entity <{owner}> has skolem (blank) nodes")
                for blank in sorted(known.skolems if known else ()):
                    mine.extend(lines_starting(data, b"<" + blank + b"> "))
                owned.extend((owner, line) for line in mine)
                for line in mine:
                    for link in _LINKS:
                        at = line.find(link)
                        if at < 0:
                            continue
                        target = line[at + len(link) : line.rindex(b">")]
                        if owner_of(target.decode("utf-8"), prefix) != owner:
                            extra.extend(lines_starting(data, b"<" + target + b"> "))
    return owned, extra


def _stage(conn: sqlite3.Connection, owned: list[tuple[str, bytes]], extra: list[bytes]) -> None:
    """Stage the lines as a rebuild does: TEMP `stage` (parsed) and `lines` (by owner)."""
    with tempfile.NamedTemporaryFile(suffix=".nt") as file:
        for _, line in owned:
            file.write(line + b"\n")
        for line in extra:
            file.write(line + b"\n")
        file.flush()
        stage_triples(conn, Path(file.name))
    conn.execute("DROP TABLE IF EXISTS temp.lines")
    conn.execute("CREATE TEMP TABLE lines(owner TEXT NOT NULL, line BLOB NOT NULL)")
    conn.executemany("INSERT INTO temp.lines VALUES (?, ?)", owned)
    conn.execute("CREATE INDEX temp.lines_owner ON lines(owner, line)")


def _replace(
    conn: sqlite3.Connection,
    config: HubConfig,
    source_id: str,
    slot: int,
    old: dict[str, _Old],
    entities: list,
    stamp: str,
    version: Path,
    run_id: str | None,
    previous_run: str,
    before_commit: BeforeCommit | None = None,
) -> int:
    """One transaction: delete the touched entities' rows, write their new ones."""
    source = config.source(source_id)
    low, high = slot_range(slot)
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT run_id, entities FROM sources WHERE source = ?", (source_id,)
        ).fetchone()
        if row is None or row[0] != previous_run:  # another writer came first
            raise _NotIncremental(f"the read model no longer holds run {previous_run}")
        cells = {
            (types, regions, themes, categories): [cell, n]
            for cell, types, regions, themes, categories, n in conn.execute(
                "SELECT cell, types, regions, themes, categories, n FROM cells WHERE source = ?",
                (source_id,),
            )
        }
        key_of_cell = {cell: key for key, (cell, _) in cells.items()}
        top_id, top_cell = conn.execute(
            "SELECT (SELECT max(id) FROM entities WHERE id BETWEEN ? AND ?), "
            "(SELECT max(cell) FROM cells WHERE source = ?)",
            (low, high, source_id),
        ).fetchone()
        writer = _Writer(
            conn,
            source_id,
            slot,
            Iris(config.base_iri).programme_base + "region/",
            cells=cells,
            next_id=(top_id - low + 1) if top_id is not None else 1,
            next_cell=(top_cell - (slot << CELL_BITS) + 1) if top_cell is not None else 0,
        )
        touched_cells = set()
        for entity in old.values():
            writer.facets.subtract(Counter(facet_pairs(entity.doc)))
            key = key_of_cell[entity.cell]
            cells[key][1] -= 1
            touched_cells.add(key)
        numbers = textindex.forget(conn, (entity.rowid for entity in old.values()))
        _delete_entities(conn, old)
        before = {key: n for key, (_, n) in cells.items()}
        written = [
            writer.add(entity, stamp, rowid=known.rowid if (known := old.get(entity.iri)) else None)
            for entity in entities
        ]
        writer.flush()
        textindex.index(conn, slot, written, numbers)
        touched_cells.update(k for k, (_, n) in writer.cells.items() if before.get(k) != n)
        _write_counts(conn, source_id, writer, touched_cells)
        count = int(row[1]) - len(old) + len(entities)
        conn.execute(
            "UPDATE sources SET project = ?, licence = ?, version = ?, run_id = ?, published = ?, "
            "entities = ?, file = ? WHERE source = ?",
            (
                source.project,
                source.licence,
                secrets.token_hex(8),
                run_id or version.stem,
                stamp,
                count,
                str(version),
                source_id,
            ),
        )
        _write_programme(conn, config)
        commit(conn, before_commit)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return count


def _delete_entities(conn: sqlite3.Connection, old: dict[str, _Old]) -> None:
    ids = [(entity.rowid,) for entity in old.values()]
    grid.count(conn, grid.points_of(conn, (entity.rowid for entity in old.values())), -1)
    for table in ENTITY_TABLES:
        conn.executemany(f"DELETE FROM {table} WHERE id = ?", ids)
    conn.executemany(
        "DELETE FROM facets WHERE facet = 'municipality' AND value = ? AND entity = ?",
        [
            (town, entity.rowid)
            for entity in old.values()
            for town in {facet_value(m) for m in entity.doc["municipalities"] if m.strip()}
        ],
    )


def _write_counts(
    conn: sqlite3.Connection, source: str, writer: _Writer, touched_cells: set
) -> None:
    """Apply the facet count changes and rewrite the cells that gained or lost entities."""
    for (facet, value), delta in writer.facets.items():
        if not delta:
            continue
        row = conn.execute(
            "SELECT n FROM facet_counts WHERE source = ? AND facet = ? AND value = ?",
            (source, facet, value),
        ).fetchone()
        n = (row[0] if row else 0) + delta
        if n > 0:
            conn.execute(
                "INSERT OR REPLACE INTO facet_counts VALUES (?, ?, ?, ?)", (source, facet, value, n)
            )
        else:
            conn.execute(
                "DELETE FROM facet_counts WHERE source = ? AND facet = ? AND value = ?",
                (source, facet, value),
            )
    for key in touched_cells:
        cell, n = writer.cells[key]
        if n > 0:
            conn.execute(
                "INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?, ?)", (cell, source, *key, n)
            )
        else:
            conn.execute("DELETE FROM cells WHERE cell = ?", (cell,))
