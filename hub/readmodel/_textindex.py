"""The full-text index, numbered in name order: a text search reads its first page in index order.

`fts` rowids are not entity ids. When a source is rebuilt, its entities are numbered in
the default order of a page (name in `RANK_LANG`, then uid) inside the source's id range
(`text_ids` maps each number to its entity), so FTS5 returns a word's matches of one
source already sorted, and a page is the merge of each source's first few matches
(`Planner._ranked`) instead of a sort of every match: a word in 8 % of a million entities
costs about 0.4 ms instead of 50 ms.

An incremental update keeps an entity's number while its sort key stays; entities added
or renamed take numbers after the ordered run (the tail), which a search sorts whole.
When the tail outgrows `TAIL_SHARE` of the source, the source is renumbered.

    text_ids   (fid, entity id): fid is the entity's rowid in `fts`
    text_runs  per slot: where its ordered run ends and the next free number
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from hub.readmodel._schema import slot_range
from hub.readmodel._text import DEFAULT_LANG

RANK_LANG = DEFAULT_LANG
"""The language whose name order numbers the index (the API's default sort)."""
TAIL_MIN = 1_000
TAIL_SHARE = 0.1
"""A source is renumbered when its tail exceeds both TAIL_MIN and this share of its entities."""

_KEY = f"sort_{RANK_LANG}"


@dataclass(frozen=True)
class Run:
    """One source's numbers in `fts`: [low, ranked) in name order, [ranked, end) the tail."""

    slot: int
    low: int
    ranked: int
    end: int

    @property
    def has_tail(self) -> bool:
        return self.end > self.ranked


def runs(conn: sqlite3.Connection) -> list[Run]:
    """Every source's run, by slot (sources without entities have none)."""
    return [
        Run(slot, slot_range(slot)[0], ranked, end)
        for slot, ranked, end in conn.execute(
            "SELECT slot, ranked, next FROM text_runs ORDER BY slot"
        )
        if end > slot_range(slot)[0]
    ]


def fill(conn: sqlite3.Connection, slot: int) -> int:
    """Number and index every entity of a slot in name order (the slot has no numbers yet).

    Reads `sorts` (the keys) and `docs` (the text) the writer filled; returns the count.
    """
    low, high = slot_range(slot)
    conn.execute(
        f"INSERT INTO text_ids(fid, id) SELECT ? + row_number() OVER "
        f"(ORDER BY {_KEY}, uid) - 1, id FROM sorts WHERE id BETWEEN ? AND ?",
        (low, low, high),
    )
    count = int(
        conn.execute(
            "SELECT count(*) FROM text_ids WHERE fid BETWEEN ? AND ?", (low, high)
        ).fetchone()[0]
    )
    conn.execute(
        "INSERT INTO fts(rowid, names, descriptions) SELECT t.fid, d.names, d.descriptions "
        "FROM text_ids t JOIN docs d ON d.id = t.id WHERE t.fid BETWEEN ? AND ? ORDER BY t.fid",
        (low, high),
    )
    conn.execute(
        "INSERT OR REPLACE INTO text_runs VALUES (?, ?, ?)", (slot, low + count, low + count)
    )
    return count


def drop(conn: sqlite3.Connection, slot: int) -> int:
    """Remove a slot's entities from the index (before their `docs` rows go); how many."""
    low, high = slot_range(slot)
    dropped = conn.execute(
        "INSERT INTO fts(fts, rowid, names, descriptions) "
        "SELECT 'delete', t.fid, d.names, d.descriptions "
        "FROM text_ids t JOIN docs d ON d.id = t.id WHERE t.fid BETWEEN ? AND ?",
        (low, high),
    ).rowcount
    conn.execute("DELETE FROM text_ids WHERE fid BETWEEN ? AND ?", (low, high))
    conn.execute("DELETE FROM text_runs WHERE slot = ?", (slot,))
    return max(dropped, 0)


def optimize(conn: sqlite3.Connection) -> None:
    """Merge the index into one segment. After a source's entities are dropped and written
    again, every query would otherwise read their delete markers too: at 1M entities a
    text search's p95 went from 5 to 17 ms (one client) until merged, which takes ~1.5 s."""
    conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")


def forget(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Remove entities from the index (before their `docs` rows go): id -> (number, sort key).

    What `index` needs to give an entity written again its number back.
    """
    kept: dict[int, tuple[int, str]] = {}
    for entity in ids:
        row = conn.execute(
            f"SELECT t.fid, d.names, d.descriptions, s.{_KEY} FROM text_ids t "
            "JOIN docs d ON d.id = t.id JOIN sorts s ON s.id = t.id WHERE t.id = ?",
            (entity,),
        ).fetchone()
        if row is None:
            continue
        fid, names, descriptions, key = row
        conn.execute(
            "INSERT INTO fts(fts, rowid, names, descriptions) VALUES ('delete', ?, ?, ?)",
            (fid, names, descriptions),
        )
        conn.execute("DELETE FROM text_ids WHERE fid = ?", (fid,))
        kept[entity] = (fid, key)
    return kept


def index(
    conn: sqlite3.Connection, slot: int, ids: Iterable[int], kept: dict[int, tuple[int, str]]
) -> None:
    """Index entities the writer just wrote (`docs`, `sorts`) after an incremental update.

    An entity `forget` removed keeps its number if its sort key did not change; others
    are numbered after the slot's last number, in name order among themselves. Renumbers
    the slot when its tail grows past `TAIL_SHARE`.
    """
    low, _ = slot_range(slot)
    row = conn.execute("SELECT ranked, next FROM text_runs WHERE slot = ?", (slot,)).fetchone()
    ranked, end = (int(row[0]), int(row[1])) if row else (low, low)
    placed: list[tuple[int, int]] = []
    fresh: list[tuple[str, str, int]] = []
    for entity in ids:
        name_key, uid = conn.execute(
            f"SELECT {_KEY}, uid FROM sorts WHERE id = ?", (entity,)
        ).fetchone()
        before = kept.get(entity)
        if before is not None and before[1] == name_key:
            placed.append((before[0], entity))
        else:
            fresh.append((name_key, uid, entity))
    for _, _, entity in sorted(fresh):
        placed.append((end, entity))
        end += 1
    conn.executemany("INSERT INTO text_ids(fid, id) VALUES (?, ?)", placed)
    conn.executemany(
        "INSERT INTO fts(rowid, names, descriptions) "
        "SELECT ?, names, descriptions FROM docs WHERE id = ?",
        placed,
    )
    conn.execute("INSERT OR REPLACE INTO text_runs VALUES (?, ?, ?)", (slot, ranked, end))
    tail = int(
        conn.execute(
            "SELECT count(*) FROM text_ids WHERE fid BETWEEN ? AND ?", (ranked, end - 1)
        ).fetchone()[0]
    )
    whole = int(
        conn.execute(
            "SELECT count(*) FROM text_ids WHERE fid BETWEEN ? AND ?", (low, end - 1)
        ).fetchone()[0]
    )
    if tail > TAIL_MIN and tail > TAIL_SHARE * whole:
        renumber(conn, slot)


def renumber(conn: sqlite3.Connection, slot: int) -> int:
    """Number a slot's entities in name order again (its tail sorted into the run)."""
    drop(conn, slot)
    return fill(conn, slot)
