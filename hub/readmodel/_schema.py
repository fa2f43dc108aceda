"""The read model's SQLite schema and how connections to it are opened.

One file, `<data_dir>/readmodel.sqlite`, in WAL mode: readers never wait for
a rebuild and each read transaction sees one committed state.

    sources       one row per published source: its slot, version, publish time
    cells         one row per (source, type set, region set, theme set, category set):
                  how many entities share it; every entity is in exactly one cell
    entities      one narrow row per entity: its cell, sort keys, filters, coordinates
    sorts         each entity's uid, `updated` and sort keys alone: a narrow copy, so sorting
                  the matches of a text search reads a third of the pages `entities` holds
    docs          the entity's JSON document and the text that FTS indexes
    triples       the entity's own triples as published (N-Triples, `hub.util.blobs`): its node, its
                  sub-resources and skolem nodes, grouped as the change feed groups them;
                  the JSON-LD answers are these, so they equal the data (decisions #29)
    facets        (municipality, entity): drives municipality filters
    facet_counts  entities per (source, facet, value)
    fts           FTS5 over names and descriptions in every language (contentless: the text
                  is in docs); its rowids number each source's entities in name order
    text_ids      fts rowid -> entity id; text_runs: where each source's ordered run ends
                  (`_textindex`)
    pts           R*Tree of entity points (near filters, nearest first; with `spans`, bbox
                  filters and totals)
    spans         R*Tree of the extents that are not a single point (lines, areas): few, so
                  a bbox finds points in `pts` and adds only these (`Planner.geo_sql`), and
                  its total counts points by `grid` (`_geocount`); an extent R*Tree of every
                  entity cost a rebuild a sixth of its inserts (decisions #47)
    grid          points per 0.005° cell of their `pts` corner (`_grid`)
    locs          exact point (unit vector) and extent of located entities: a narrow table,
                  so the exact check of R*Tree candidates reads little
    programme     the programme's projects, groups, regions, themes, categories, classes

Names sort with two indexes per language: (sort key, uid, extent) and (cell, sort key, uid);
the first also answers whether a row meets a bbox, so walking it reads no rows; the
second gives each cell's entities in order, so a filtered page is a merge of a few
ordered runs however names correlate with types (they do: "Hotel …", "Museo …").
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.config import HubConfig
from hub.layout import DataLayout
from hub.readmodel._text import LANGS

SCHEMA_VERSION = "12"
SLOT_BITS = 32
"""Entity ids are `slot << SLOT_BITS | n`: each source owns one id range."""


def slot_range(slot: int) -> tuple[int, int]:
    """The first and last id (and `fts` number) of a slot."""
    return slot << SLOT_BITS, ((slot + 1) << SLOT_BITS) - 1


ENTITY_TABLES = ("docs", "triples", "entities", "sorts", "pts", "spans", "locs")
"""The tables keyed by entity id (`id`): an entity's rows are deleted from each."""

CELL_BITS = 24
"""Cell ids are `slot << CELL_BITS | n`."""

WRITE_TIMEOUT_S = 600.0
"""How long a rebuild waits for another rebuild to commit (they take turns)."""

_SORT_COLUMNS = ", ".join(f"sort_{lang} TEXT NOT NULL" for lang in LANGS)
_EXTENT = "min_lon, max_lon, min_lat, max_lat"
"""Appended to the sort indexes: a walk in name order tests a bbox without reading rows."""
_SORT_INDEXES = "\n".join(
    f"CREATE INDEX entities_sort_{lang} ON entities(sort_{lang}, uid, {_EXTENT});\n"
    f"CREATE INDEX entities_cell_sort_{lang} ON entities(cell, sort_{lang}, uid);"
    for lang in LANGS
)

DDL = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(
    source TEXT PRIMARY KEY,
    slot INTEGER NOT NULL UNIQUE,
    project TEXT NOT NULL,
    licence TEXT NOT NULL,
    version TEXT NOT NULL,
    run_id TEXT NOT NULL,
    published TEXT NOT NULL,
    entities INTEGER NOT NULL,
    file TEXT NOT NULL
);
CREATE TABLE cells(
    cell INTEGER PRIMARY KEY, source TEXT NOT NULL, types TEXT NOT NULL, regions TEXT NOT NULL,
    themes TEXT NOT NULL, categories TEXT NOT NULL, n INTEGER NOT NULL
);
CREATE INDEX cells_source ON cells(source);
CREATE TABLE entities(
    id INTEGER PRIMARY KEY,
    cell INTEGER NOT NULL,
    uid TEXT NOT NULL,
    source TEXT NOT NULL,
    updated TEXT NOT NULL,
    lat REAL, lon REAL, x REAL, y REAL, z REAL,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
    types TEXT NOT NULL, regions TEXT NOT NULL, themes TEXT NOT NULL,
    categories TEXT NOT NULL, municipalities TEXT NOT NULL,
    {_SORT_COLUMNS}
);
CREATE UNIQUE INDEX entities_uid ON entities(uid);
CREATE INDEX entities_updated ON entities(updated, uid, {_EXTENT});
CREATE INDEX entities_cell_updated ON entities(cell, updated, uid);
{_SORT_INDEXES}
CREATE TABLE sorts(id INTEGER PRIMARY KEY, uid TEXT NOT NULL, updated TEXT NOT NULL,
                   {_SORT_COLUMNS});
CREATE TABLE docs(id INTEGER PRIMARY KEY, doc TEXT NOT NULL, names TEXT NOT NULL,
                  descriptions TEXT NOT NULL);
CREATE TABLE triples(id INTEGER PRIMARY KEY, nt BLOB NOT NULL);
CREATE TABLE facets(facet TEXT NOT NULL, value TEXT NOT NULL, entity INTEGER NOT NULL,
                    PRIMARY KEY (facet, value, entity)) WITHOUT ROWID;
CREATE TABLE facet_counts(source TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL,
                          n INTEGER NOT NULL, PRIMARY KEY (source, facet, value)) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5(
    names, descriptions, content='', tokenize='unicode61 remove_diacritics 2'
);
CREATE TABLE text_ids(fid INTEGER PRIMARY KEY, id INTEGER NOT NULL);
CREATE UNIQUE INDEX text_ids_id ON text_ids(id);
CREATE TABLE text_runs(slot INTEGER PRIMARY KEY, ranked INTEGER NOT NULL, next INTEGER NOT NULL);
CREATE TABLE grid(gy INTEGER NOT NULL, gx INTEGER NOT NULL, n INTEGER NOT NULL,
                  PRIMARY KEY (gy, gx)) WITHOUT ROWID;
CREATE VIRTUAL TABLE pts USING rtree(id, min_lon, max_lon, min_lat, max_lat);
CREATE VIRTUAL TABLE spans USING rtree(id, min_lon, max_lon, min_lat, max_lat);
CREATE TABLE locs(id INTEGER PRIMARY KEY, x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,
                  min_lon REAL NOT NULL, min_lat REAL NOT NULL, max_lon REAL NOT NULL,
                  max_lat REAL NOT NULL);
CREATE TABLE programme(kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
                       PRIMARY KEY (kind, id)) WITHOUT ROWID;
"""


def readmodel_path(config: HubConfig) -> Path:
    """Where the read model lives: `<data_dir>/readmodel.sqlite`."""
    return DataLayout(config.data_path).readmodel()


def connect_writer(path: Path) -> sqlite3.Connection:
    """A connection for rebuilding, with the schema created (or reset if outdated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=WRITE_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # A rebuild writes a whole source into the WAL; give the space back after checkpoints.
    conn.execute("PRAGMA journal_size_limit=67108864")
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute("PRAGMA cache_size=-65536")
    _ensure_schema(conn)
    return conn


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (one per thread) tuned for many small queries."""
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute("PRAGMA cache_size=-16384")
    conn.execute("PRAGMA mmap_size=2147418112")  # SQLite's largest by default (2 GB)
    return conn


def _ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the tables, or drop and recreate them when written by another schema version.

    The read model is derived data: an outdated one is rebuilt from the version files.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            version = row[0] if row else None
        if version != SCHEMA_VERSION:
            for name in ("fts", "geo", "pts", "spans"):
                conn.execute(f"DROP TABLE IF EXISTS {name}")
            names = conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for (name,) in list(names):
                if not name.startswith(("sqlite_", "fts_", "geo_", "pts_", "spans_")):
                    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            for statement in DDL.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            conn.execute("INSERT INTO meta VALUES ('programme', '')")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
