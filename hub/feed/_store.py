"""The change feed's store: one append-only SQLite table of entity changes, in `<data>/feed.sqlite`.

`record` derives a publish's entity changes by comparing the new version's entity
digests with the feed's own last word on each entity (`current`), then appends them
with the new `current` in one transaction. Telling the same version twice (a journalled
publish finished again by `Publisher.recover()`) finds nothing to add; a publish the
feed missed is caught up by the next one, or by `sync`.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.config import HubConfig
from hub.errors import HubError
from hub.feed._derive import digest_of, forget_grouping, key_of, owner_groups, owners_grouping
from hub.iris import Iris
from hub.layout import DataLayout
from hub.util.ahead import BeforeCommit, commit
from hub.util.blobs import pack, unpack

log = logging.getLogger("hub.feed")
KINDS = ("added", "changed", "removed")
_BUSY_MS = 60_000
_BATCH = 2_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  entity TEXT NOT NULL,
  key TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('added', 'changed', 'removed')),
  run TEXT NOT NULL,
  version TEXT NOT NULL,
  previous TEXT,
  reason TEXT NOT NULL,
  published TEXT NOT NULL,
  triples BLOB
);
CREATE INDEX IF NOT EXISTS items_by_source ON items(source, seq);
CREATE TRIGGER IF NOT EXISTS items_no_update BEFORE UPDATE ON items
  BEGIN SELECT RAISE(ABORT, 'the change feed is append-only'); END;
CREATE TRIGGER IF NOT EXISTS items_no_delete BEFORE DELETE ON items
  BEGIN SELECT RAISE(ABORT, 'the change feed is append-only'); END;
CREATE TABLE IF NOT EXISTS current(
  source TEXT NOT NULL, entity TEXT NOT NULL, digest TEXT NOT NULL,
  PRIMARY KEY (source, entity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heads(
  source TEXT PRIMARY KEY, version TEXT NOT NULL, run TEXT NOT NULL,
  published TEXT NOT NULL, seq INTEGER NOT NULL
);
"""


class FeedError(HubError):
    """The change feed could not be read or written."""


@dataclass(frozen=True)
class Item:
    """One entry of the feed: an entity added, changed or removed by a publish."""

    seq: int
    source: str
    entity: str
    key: str | None
    kind: str
    run: str
    version: str
    previous: str | None
    reason: str
    published: str
    triples: str | None  # N-Triples of the entity after the change; None for a removal


@dataclass(frozen=True)
class Publish:
    """What the feed needs to know of one publish."""

    source: str
    version_file: Path
    run: str
    previous: str | None = None
    reason: str = "run"
    published: datetime | None = None


def feed_path(config: HubConfig) -> Path:
    return DataLayout(config.data_path).feed()


def stamp(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR IGNORE INTO meta VALUES ('feed_id', ?)", (secrets.token_hex(8),))
    return conn


def record(
    config: HubConfig, publish: Publish, *, before_commit: BeforeCommit | None = None
) -> int:
    """Append the entity changes of a publish to the feed; how many were appended.

    `before_commit`: see `hub.util.ahead` (a write prepared beside the store's).
    """
    source = publish.source
    prefix = Iris(config.base_iri).entity_prefix(source)
    if not publish.version_file.is_file():
        raise FeedError(
            f"the change feed cannot read version {publish.version_file} of source `{source}`; "
            "the next publish of the source will catch the feed up"
        )
    grouping = owners_grouping(publish.version_file, prefix)
    when = stamp(publish.published)
    appended = 0

    def item(entity: str, kind: str, triples: bytes | None) -> tuple:
        return (
            source,
            entity,
            key_of(entity, prefix),
            kind,
            publish.run,
            publish.version_file.stem,
            publish.previous,
            publish.reason,
            when,
            triples,
        )

    conn = _connect(feed_path(config))
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            told = dict(
                conn.execute("SELECT entity, digest FROM current WHERE source = ?", (source,))
            )
            items: list[tuple] = []
            current: list[tuple[str, str, str]] = []
            for entity, lines in owner_groups(publish.version_file, grouping):
                digest = digest_of(lines)
                before = told.pop(entity, None)
                if before == digest:
                    continue
                text = b"".join(line + b"\n" for line in sorted(lines))
                kind = "added" if before is None else "changed"
                items.append(item(entity, kind, pack(text)))
                current.append((source, entity, digest))
                if len(items) >= _BATCH:
                    appended += _append(conn, items, current)
            items.extend(item(entity, "removed", None) for entity in sorted(told))
            appended += _append(conn, items, current)
            conn.executemany(
                "DELETE FROM current WHERE source = ? AND entity = ?",
                [(source, entity) for entity in told],
            )
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM items").fetchone()[0]
            conn.execute(
                "INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?, ?)",
                (source, publish.version_file.stem, publish.run, when, last),
            )
            commit(conn, before_commit)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise FeedError(f"writing the change feed of source `{source}` failed: {exc}") from None
    finally:
        conn.close()
        forget_grouping()  # the feed is the last subscriber that reads it
    if appended:
        log.info(
            "feed: %s version %s, %d entity changes", source, publish.version_file.stem, appended
        )
    return appended


def _append(
    conn: sqlite3.Connection, items: list[tuple], current: list[tuple[str, str, str]]
) -> int:
    """Write a batch of items and the digests they set; empty both lists; how many items."""
    conn.executemany(
        "INSERT INTO items(source, entity, key, kind, run, version, previous, reason, "
        "published, triples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        items,
    )
    conn.executemany("INSERT OR REPLACE INTO current VALUES (?, ?, ?)", current)
    count = len(items)
    items.clear()
    current.clear()
    return count


def sync(config: HubConfig, sources: Iterable[str] | None = None) -> dict[str, str]:
    """Catch the feed up with what is published (e.g. at start, or on a hub that had no feed)."""
    from hub.pipeline.state import load_state

    layout = DataLayout(config.data_path)
    heads = _heads(config)
    done: dict[str, str] = {}
    for source in list(sources) if sources is not None else list(config.sources):
        state = load_state(config.data_path, source)
        if not state.version_file or not state.run_id:
            done[source] = "not published yet"
            continue
        if heads.get(source) == state.run_id:
            done[source] = "up to date"
            continue
        file = layout.absolute(state.version_file)
        count = record(
            config,
            Publish(source, file, run=state.run_id, previous=heads.get(source), reason="sync"),
        )
        done[source] = f"{count} entity changes"
    return done


def _heads(config: HubConfig) -> dict[str, str]:
    conn = _connect(feed_path(config))
    try:
        return dict(conn.execute("SELECT source, version FROM heads"))
    finally:
        conn.close()


class FeedReader:
    """Reads pages of the feed (read-only; a missing feed is an empty one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_config(cls, config: HubConfig) -> FeedReader:
        return cls(feed_path(config))

    def _open(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        try:
            return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        except sqlite3.Error as exc:
            raise FeedError(f"cannot open the change feed {self.path}: {exc}") from None

    def state(self) -> tuple[str | None, int]:
        """The feed's id (None before its first entry) and its last position."""
        conn = self._open()
        if conn is None:
            return None, 0
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'feed_id'").fetchone()
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM items").fetchone()[0]
            return (row[0] if row else None), int(last)
        finally:
            conn.close()

    def page(self, after: int, source: str | None, size: int) -> list[Item]:
        """Up to `size` items after position `after`, oldest first (one source or all)."""
        conn = self._open()
        if conn is None:
            return []
        where, args = "seq > ?", [after]
        if source is not None:
            where += " AND source = ?"
            args.append(source)
        try:
            rows = conn.execute(
                "SELECT seq, source, entity, key, kind, run, version, previous, reason, "
                f"published, triples FROM items WHERE {where} ORDER BY seq LIMIT ?",
                (*args, size),
            ).fetchall()
        finally:
            conn.close()
        return [
            Item(*row[:10], triples=unpack(row[10]).decode("utf-8") if row[10] else None)
            for row in rows
        ]
