"""Read the read model: one connection per thread, one read transaction (snapshot) per request."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hub.config import HubConfig
from hub.errors import HubError
from hub.readmodel._model import EntityFilter, EntityRow, Page, SortSpec
from hub.readmodel._planner import Planner, entity_row, tally
from hub.readmodel._schema import SCHEMA_VERSION, connect_reader, readmodel_path
from hub.util import jsonbytes
from hub.util.blobs import unpack

T = TypeVar("T")
CACHE_ENTRIES = 4096
ANSWER_ENTRIES = 512
"""Whole answers kept (a list page is 5-30 kB): the repeated pages and stats of the day."""


class ReadModelMissing(HubError):
    """The read model has not been built yet (nothing published, or an outdated schema)."""


@dataclass(frozen=True)
class SourceInfo:
    """A source as the read model holds it."""

    id: str
    slot: int
    project: str
    licence: str
    version: str
    run_id: str
    published: str
    entities: int


class _Lru:
    """A small thread-safe LRU of computed values (counts, facet counts) keyed by text."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], T]) -> T:
        """The cached value, or compute and keep it."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class Snapshot:
    """One consistent state of the read model (a read transaction) and the queries on it."""

    def __init__(self, conn: sqlite3.Connection, cache: _Lru, answers: _Lru | None = None) -> None:
        self.conn = conn
        self._cache = cache
        self._answers = answers if answers is not None else _Lru(0)
        rows = conn.execute(
            "SELECT source, slot, project, licence, version, run_id, published, entities FROM sources"
        ).fetchall()
        self.sources = {r[0]: SourceInfo(*r) for r in rows}
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("schema") != SCHEMA_VERSION:
            raise ReadModelMissing("the read model was written by another version of the hub")
        self.programme_version = meta.get("programme", "")

    def version(self, sources: list[str] | None = None) -> str:
        """A tag of the data that `sources` (default: all) and the programme contribute."""
        chosen = sorted(self.sources) if sources is None else sorted(set(sources))
        parts = [self.programme_version] + [
            f"{s}={self.sources[s].version}" for s in chosen if s in self.sources
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]

    def served_versions(self, sources: list[str] | None = None) -> str:
        """`source=run,…`: which published version of each source this snapshot serves."""
        chosen = sorted(self.sources) if sources is None else sorted(set(sources))
        return ",".join(f"{s}={self.sources[s].run_id}" for s in chosen if s in self.sources)

    def allowed_sources(self, flt: EntityFilter) -> list[str]:
        """The sources a filter's `sources` and `projects` leave."""
        chosen = [
            s.id
            for s in self.sources.values()
            if (not flt.sources or s.id in flt.sources)
            and (not flt.projects or s.project in flt.projects)
        ]
        return sorted(chosen)

    def _planner(self, flt: EntityFilter) -> Planner:
        population = sum(s.entities for s in self.sources.values())
        return Planner(self.conn, flt, self.allowed_sources(flt), population)

    def _cached(self, kind: str, flt: EntityFilter, compute: Callable[[], T]) -> T:
        key = f"{kind}|{self.version(self.allowed_sources(flt))}|{flt.key()}"
        return self._cache.get(key, compute)

    def answer(self, key: str, compute: Callable[[], T]) -> T:
        """A whole answer, computed once: `key` must name the data version (an ETag does)."""
        return self._answers.get(key, compute)

    def count(self, flt: EntityFilter) -> int:
        """How many entities match (cached per read-model version)."""
        if not self.allowed_sources(flt):
            return 0
        return self._cached("count", flt, lambda: self._planner(flt).total())

    def page(
        self,
        flt: EntityFilter,
        sort: SortSpec,
        size: int,
        *,
        offset: int = 0,
        after: tuple[Any, str] | None = None,
    ) -> Page:
        """A page of matching entities in `sort` order, with the total."""
        total = self.count(flt)
        if total == 0:
            return Page([], 0, None, "empty")
        return self._planner(flt).page(sort, size, offset, after, total)

    def facets(self, flt: EntityFilter) -> dict[str, dict[str, int]]:
        """Entities per type, project, region, theme, category and source, and the total."""
        if not self.allowed_sources(flt):
            cells: list = []
        else:
            cells = self._cached("facets", flt, lambda: self._planner(flt).facet_cells())
        project_of = {s.id: s.project for s in self.sources.values()}
        counts = tally(cells, project_of)
        return {
            k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in counts.items()
        }

    def entity(self, uid: str) -> EntityRow | None:
        """One entity by id (`source/key`)."""
        return entity_row(self.conn, uid)

    def triples(self, rows: list[EntityRow]) -> dict[int, bytes]:
        """The published N-Triples of each row's entity (its node, sub-resources, skolems)."""
        found: dict[int, bytes] = {}
        ids = [row.id for row in rows]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for rowid, blob in self.conn.execute(
                f"SELECT id, nt FROM triples WHERE id IN ({marks})", chunk
            ):
                found[int(rowid)] = unpack(blob)
        return found

    def programme(self, kind: str) -> dict[str, dict[str, Any]]:
        """The programme's documents of one kind (project, working_group, region, theme, category, scheme, class)."""
        rows = self.conn.execute(
            "SELECT id, doc FROM programme WHERE kind = ? ORDER BY id", (kind,)
        )
        return {key: jsonbytes.loads(doc) for key, doc in rows}

    def programme_ids(self) -> dict[str, set[str]]:
        """The ids of the programme's documents, per kind (cached per programme version)."""

        def read() -> dict[str, set[str]]:
            out: dict[str, set[str]] = {}
            for kind, key in self.conn.execute("SELECT kind, id FROM programme"):
                out.setdefault(kind, set()).add(key)
            return out

        return self._cache.get(f"programme-ids|{self.programme_version}", read)

    def facet_counts(self, facet: str) -> dict[str, int]:
        """Entities per value of one facet, over all sources."""
        rows = self.conn.execute(
            "SELECT value, sum(n) FROM facet_counts WHERE facet = ? GROUP BY value", (facet,)
        )
        return {value: int(n) for value, n in rows}


class ReadModel:
    """The read model file, read through one connection per thread.

    >>> with ReadModel(Path("var/readmodel.sqlite")).snapshot() as snap:  # doctest: +SKIP
    ...     snap.count(EntityFilter(regions=("corse",)))
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._cache = _Lru(CACHE_ENTRIES)
        self._answers = _Lru(ANSWER_ENTRIES)

    @classmethod
    def for_config(cls, config: HubConfig) -> ReadModel:
        """The read model of a configuration (`<data_dir>/readmodel.sqlite`)."""
        return cls(readmodel_path(config))

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, reopened if the file was replaced (deleted and rebuilt)."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            raise ReadModelMissing(
                f"the read model {self.path} does not exist yet: it is built when a source is "
                "published; run `hub harvest`, or call hub.readmodel.sync(config)"
            ) from None
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.inode != inode:
            if conn is not None:
                conn.close()
            conn = connect_reader(self.path)
            self._local.conn, self._local.inode = conn, inode
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A read transaction: every query inside sees the same committed state."""
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield Snapshot(conn, self._cache, self._answers)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise ReadModelMissing(
                    f"the read model {self.path} is empty or outdated: {exc}"
                ) from None
            raise
        finally:
            conn.execute("ROLLBACK")
