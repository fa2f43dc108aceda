"""The `sql` harvester on real databases: SQLite always, PostgreSQL and MariaDB when up."""

from __future__ import annotations

import sqlite3
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from harvesters import get_harvester
from hub.errors import HarvestError

harvest_sql = get_harvester("sql")
INJECTION = "x'; DROP TABLE musei; --"


def harvest(options: dict[str, Any], root: Path = Path("."), source: str = "test") -> list[dict]:
    """All records of a `sql` source."""
    return list(harvest_sql(source, options, root=root))


# --- SQLite -------------------------------------------------------------------------


@pytest.fixture
def sqlite_root(tmp_path: Path) -> Path:
    """A folder holding `db/musei.sqlite` with a small table `musei`."""
    (tmp_path / "db").mkdir()
    with sqlite3.connect(tmp_path / "db" / "musei.sqlite") as db:
        db.execute("CREATE TABLE musei (id INTEGER PRIMARY KEY, nome TEXT, comune TEXT, note TEXT)")
        db.executemany(
            "INSERT INTO musei VALUES (?, ?, ?, ?)",
            [
                (1, "Museo dell'Opera", "Pisa", None),
                (2, "Musée Fesch", "Ajaccio", "façade à l'italienne"),
                (3, INJECTION, "Lucca", None),
            ],
        )
    db.close()
    return tmp_path


SQLITE = "sqlite:///db/musei.sqlite"


def test_sqlite_relative_url_is_taken_from_root(sqlite_root: Path) -> None:
    records = harvest({"url": SQLITE, "query": "SELECT * FROM musei ORDER BY id"}, sqlite_root)
    assert records == [
        {"id": 1, "nome": "Museo dell'Opera", "comune": "Pisa", "note": None},
        {"id": 2, "nome": "Musée Fesch", "comune": "Ajaccio", "note": "façade à l'italienne"},
        {"id": 3, "nome": INJECTION, "comune": "Lucca", "note": None},
    ]


def test_sqlite_params_are_bound_as_data(sqlite_root: Path) -> None:
    query = "SELECT id FROM musei WHERE nome = :nome"
    assert harvest({"url": SQLITE, "query": query, "params": {"nome": INJECTION}}, sqlite_root) == [
        {"id": 3}
    ]
    tautology = {"nome": "x' OR '1'='1"}
    assert harvest({"url": SQLITE, "query": query, "params": tautology}, sqlite_root) == []
    everything = {"url": SQLITE, "query": "SELECT count(*) AS n FROM musei"}
    assert harvest(everything, sqlite_root) == [{"n": 3}]  # nothing was dropped


def test_sqlite_missing_file_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(HarvestError, match=r"SQLite file db/nope.sqlite not found .*options.url"):
        harvest_sql("test", {"url": "sqlite:///db/nope.sqlite", "query": "SELECT 1"}, root=tmp_path)
    assert not (tmp_path / "db").exists()


def test_bad_query_gives_the_database_message(sqlite_root: Path) -> None:
    with pytest.raises(HarvestError, match=r"SQL query failed: no such table: museo"):
        harvest({"url": SQLITE, "query": "SELECT * FROM museo"}, sqlite_root)


def test_missing_param_names_the_option(sqlite_root: Path) -> None:
    query = "SELECT id FROM musei WHERE comune = :comune"
    with pytest.raises(HarvestError, match=r"bind parameter 'comune'.*options.params"):
        harvest({"url": SQLITE, "query": query}, sqlite_root)


def test_same_column_twice_is_refused(sqlite_root: Path) -> None:
    query = "SELECT a.id, b.id FROM musei a JOIN musei b ON a.id = b.id"
    with pytest.raises(HarvestError, match=r"column\(s\) id more than once"):
        harvest({"url": SQLITE, "query": query}, sqlite_root)


def test_statement_without_rows_is_refused(sqlite_root: Path) -> None:
    with pytest.raises(HarvestError, match="returns no rows; it must be a SELECT"):
        harvest({"url": SQLITE, "query": "UPDATE musei SET note = 'x'"}, sqlite_root)
    # the harvester never commits
    rows = harvest({"url": SQLITE, "query": "SELECT note FROM musei WHERE id = 1"}, sqlite_root)
    assert rows == [{"note": None}]


def test_failure_half_way_raises_after_earlier_rows(sqlite_root: Path) -> None:
    # json('not json') fails when SQLite reaches the third row, not before
    query = "SELECT id, CASE WHEN id < 3 THEN nome ELSE json('not json') END AS v FROM musei"
    records: list[dict] = []
    with pytest.raises(HarvestError, match="SQL query failed: malformed JSON"):
        for record in harvest_sql(
            "t", {"url": SQLITE, "query": query, "batch_size": 1}, root=sqlite_root
        ):
            records.append(record)
    # earlier rows came through (sqlite3 reads one row ahead, so row 2 may not)
    assert records and all(r["id"] < 3 for r in records)


def test_sqlite_is_streamed(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "big.sqlite") as db:
        db.execute("CREATE TABLE t (id INTEGER, name TEXT)")
        db.executemany(
            "INSERT INTO t VALUES (?, ?)",
            ((i, f"Struttura ricettiva numero {i:07d}") for i in range(200_000)),
        )
    db.close()
    options = {"url": "sqlite:///big.sqlite", "query": "SELECT id, name FROM t", "batch_size": 500}
    tracemalloc.start()
    try:
        count = sum(1 for _ in harvest_sql("big", options, root=tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    # the rows as Python objects take over 20 MB; a batch of 500 a few hundred kB
    assert peak < 3_000_000, f"peak {peak} bytes"


# --- options and drivers (no server needed) -----------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": SQLITE}, "options.query is required"),
        ({"query": "SELECT 1"}, "options.url is required"),
        ({"url": SQLITE, "query": "SELECT 1", "querry": "x"}, "did you mean `query`"),
        ({"url": "not a url", "query": "SELECT 1"}, "is not a database URL"),
        ({"url": "sqlite://", "query": "SELECT 1", "params": ["a"]}, "options.params must be"),
        ({"url": "sqlite://", "query": "SELECT 1", "batch_size": 0}, "options.batch_size must"),
    ],
)
def test_bad_options_are_refused_when_called(options: dict[str, Any], message: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest_sql("test", options, root=Path("."))
    assert message in str(caught.value)


def test_missing_driver_names_the_pip_package() -> None:
    url = "postgresql+pg8000://hub:S3cretPw@db.example.org/tourism"
    with pytest.raises(HarvestError) as caught:
        harvest({"url": url, "query": "SELECT 1"})
    message = str(caught.value)
    assert "driver `pg8000`" in message and "pip install pg8000" in message
    assert "S3cretPw" not in message and "hub:***@" in message


def test_unknown_database_kind() -> None:
    with pytest.raises(HarvestError, match=r"cannot use oracol://u@h/db: Can't load plugin"):
        harvest({"url": "oracol://u@h/db", "query": "SELECT 1"})


def test_connection_refused_hides_the_password(closed_port: int) -> None:
    url = f"postgresql+psycopg2://hub:S3cretPw@127.0.0.1:{closed_port}/tourism"
    with pytest.raises(HarvestError) as caught:
        harvest({"url": url, "query": "SELECT 1"})
    message = str(caught.value)
    assert message.startswith("source `test`: cannot connect to postgresql+psycopg2://hub:***@")
    assert "S3cretPw" not in message
    assert "Connection refused" in message


# --- PostgreSQL and MariaDB ---------------------------------------------------------

ROWS = [
    {
        "id": 1,
        "nome": "Caffè dell'Ussero",
        "comune": "Pisa",
        "prezzo": Decimal("12.50"),
        "aperto": date(1775, 3, 1),
        "aggiornato": datetime(2024, 5, 2, 10, 30, 15),
        "note": None,
    },
    {
        "id": 2,
        "nome": "Musée de la Citadelle à Calvi",
        "comune": "Calvi",
        "prezzo": None,
        "aperto": None,
        "aggiornato": datetime(2023, 12, 31, 23, 59, 59),
        "note": "façade, accès payant",
    },
    {
        "id": 3,
        "nome": INJECTION,
        "comune": "Lucca",
        "prezzo": Decimal("0.05"),
        "aperto": date(2001, 1, 1),
        "aggiornato": datetime(2000, 1, 1),
        "note": None,
    },
]
COLUMNS = "id, nome, comune, prezzo, aperto, aggiornato, note"
DDL = (
    "CREATE TABLE {table} (id INTEGER PRIMARY KEY, nome VARCHAR(200) NOT NULL, "
    "comune VARCHAR(100), prezzo NUMERIC(8, 2), aperto DATE, aggiornato {timestamp}, note TEXT)"
    "{suffix}"
)


def _with_table(engine: sa.Engine, table: str, **ddl: str) -> Iterator[str]:
    with engine.begin() as connection:
        connection.execute(sa.text(DDL.format(table=table, **ddl)))
        connection.execute(
            sa.text(f"INSERT INTO {table} ({COLUMNS}) VALUES (:{COLUMNS.replace(', ', ', :')})"),
            ROWS,
        )
    try:
        yield table
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))


@pytest.fixture
def pg_table(pg_engine: sa.Engine, table_name: str) -> Iterator[str]:
    """A PostgreSQL table holding ROWS, dropped afterwards."""
    yield from _with_table(pg_engine, table_name, timestamp="TIMESTAMP", suffix="")


@pytest.fixture
def mariadb_table(mariadb_engine: sa.Engine, table_name: str) -> Iterator[str]:
    """A MariaDB (utf8mb4) table holding ROWS, dropped afterwards."""
    suffix = " CHARACTER SET utf8mb4"
    yield from _with_table(mariadb_engine, table_name, timestamp="DATETIME", suffix=suffix)


def _url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _check_roundtrip(url: str, table: str) -> None:
    query = f"SELECT {COLUMNS} FROM {table} ORDER BY id"
    assert harvest({"url": url, "query": query, "batch_size": 2}) == ROWS
    select = f"SELECT id FROM {table} WHERE nome = :nome"
    assert harvest({"url": url, "query": select, "params": {"nome": INJECTION}}) == [{"id": 3}]
    tautology = {"nome": "x' OR '1'='1"}
    assert harvest({"url": url, "query": select, "params": tautology}) == []
    assert harvest({"url": url, "query": f"SELECT count(*) AS n FROM {table}"}) == [{"n": 3}]


@pytest.mark.postgres
def test_postgres_types_text_and_params(pg_engine: sa.Engine, pg_table: str) -> None:
    _check_roundtrip(_url(pg_engine), pg_table)


@pytest.mark.mariadb
def test_mariadb_types_text_and_params(mariadb_engine: sa.Engine, mariadb_table: str) -> None:
    _check_roundtrip(_url(mariadb_engine), mariadb_table)


@pytest.mark.postgres
def test_postgres_bad_query_message(pg_engine: sa.Engine, pg_table: str) -> None:
    with pytest.raises(HarvestError, match=r'SQL query failed: .*column "nope" does not exist'):
        harvest({"url": _url(pg_engine), "query": f"SELECT nope FROM {pg_table}"})


@pytest.mark.mariadb
def test_mariadb_bad_query_message(mariadb_engine: sa.Engine, mariadb_table: str) -> None:
    with pytest.raises(HarvestError, match=r"SQL query failed: .*Unknown column 'nope'"):
        harvest({"url": _url(mariadb_engine), "query": f"SELECT nope FROM {mariadb_table}"})


@pytest.mark.postgres
def test_postgres_connect_failure_hides_the_password(pg_engine: sa.Engine) -> None:
    # the test server trusts local users, so a wrong database makes the login fail
    url = "postgresql+psycopg2://postgres:S3cretPw@127.0.0.1:5432/no_such_db_for_hub"
    with pytest.raises(HarvestError) as caught:
        harvest({"url": url, "query": "SELECT 1"})
    message = str(caught.value)
    assert 'database "no_such_db_for_hub" does not exist' in message
    assert "S3cretPw" not in message and "postgres:***@" in message


@pytest.mark.mariadb
def test_mariadb_bad_password_is_not_shown(mariadb_engine: sa.Engine) -> None:
    url = "mysql+pymysql://root:S3cretPw@127.0.0.1:3306/test"
    with pytest.raises(HarvestError) as caught:
        harvest({"url": url, "query": "SELECT 1"})
    message = str(caught.value)
    assert "cannot connect to mysql+pymysql://root:***@127.0.0.1:3306/test" in message
    assert "Access denied" in message
    assert "S3cretPw" not in message


@pytest.mark.postgres
def test_postgres_failure_half_way_raises_after_earlier_rows(pg_engine: sa.Engine) -> None:
    query = "SELECT 12 / (3 - g) AS q FROM generate_series(1, 5) AS g"
    records: list[dict] = []
    with pytest.raises(HarvestError, match="SQL query failed: division by zero"):
        for record in harvest_sql(
            "t", {"url": _url(pg_engine), "query": query, "batch_size": 1}, root=Path(".")
        ):
            records.append(record)
    assert records == [{"q": 6}, {"q": 12}]


@pytest.mark.postgres
def test_postgres_uses_a_server_side_cursor(pg_engine: sa.Engine) -> None:
    source = f"stream-{uuid.uuid4().hex[:8]}"
    options = {"url": _url(pg_engine), "query": "SELECT g FROM generate_series(1, 2000000) g"}
    records = harvest_sql(source, {**options, "batch_size": 100}, root=Path("."))
    try:
        assert next(records) == {"g": 1}
        assert next(records) == {"g": 2}
        with pg_engine.connect() as connection:
            query = connection.execute(
                sa.text("SELECT query FROM pg_stat_activity WHERE application_name = :name"),
                {"name": f"marittimo-hub:{source}"},
            ).scalar_one()
        # a client-side cursor would have run the SELECT itself and fetched every row
        assert query.startswith("FETCH FORWARD 100 FROM"), query
    finally:
        records.close()


@pytest.mark.mariadb
def test_mariadb_uses_an_unbuffered_cursor(mariadb_engine: sa.Engine) -> None:
    alias = f"n_{uuid.uuid4().hex[:12]}"
    query = f"SELECT seq AS {alias} FROM seq_1_to_2000000"
    records = harvest_sql("stream", {"url": _url(mariadb_engine), "query": query}, root=Path("."))
    try:
        assert next(records) == {alias: 1}
        with mariadb_engine.connect() as connection:
            state = connection.execute(
                sa.text(
                    "SELECT command, state FROM information_schema.processlist WHERE info = :q"
                ),
                {"q": query},
            ).one_or_none()
        # a buffered cursor would have read every row, and the query would be over
        assert state is not None and state[0] == "Query", state
    finally:
        records.close()
