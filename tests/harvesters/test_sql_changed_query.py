"""`options.changed_query`: a SQL source whose answer is the published run's is unchanged
without its records being read; any change to what it answers reads them all again.

Run on SQLite always, and on PostgreSQL and MariaDB when they are up (the databases the
projects run)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from harvesters import HarvestContext, get_harvester
from hub.errors import HarvestError

harvest_sql = get_harvester("sql")
QUERY = "SELECT id, nome, aggiornato FROM {table} ORDER BY id"
CHANGED = "SELECT count(*), max(aggiornato) FROM {table}"


def run(options: dict[str, Any], previous: dict[str, Any], root: Path = Path(".")) -> tuple:
    """One harvest as the pipeline runs it: the records, and the context it leaves."""
    context = HarvestContext(previous=previous)
    records = list(harvest_sql("offers", options, root=root, context=context))
    return records, context


def check_changed_query(url: str, table: str, engine: sa.Engine, root: Path = Path(".")) -> None:
    options = {
        "url": url,
        "query": QUERY.format(table=table),
        "changed_query": CHANGED.format(table=table),
    }
    first, context = run(options, {}, root)
    assert [r["id"] for r in first] == [1, 2] and not context.unchanged
    state = dict(context.state)
    assert set(state) == {"changed_query"} and len(state["changed_query"]) == 2

    again, context = run(options, state, root)
    assert again == [] and context.unchanged
    assert "options.changed_query gave the published run's answer" in context.unchanged_because
    assert context.state == state

    with engine.begin() as connection:  # a new row: the answer changes
        connection.execute(
            sa.text(f"INSERT INTO {table} VALUES (3, 'Forte Stella', '2026-01-02 10:00:00')")
        )
    third, context = run(options, state, root)
    assert [r["id"] for r in third] == [1, 2, 3] and not context.unchanged
    assert context.state["changed_query"] != state["changed_query"]

    with engine.begin() as connection:  # a row removed: count(*) tells
        connection.execute(sa.text(f"DELETE FROM {table} WHERE id = 1"))
    fourth, context = run(options, {"changed_query": context.state["changed_query"]}, root)
    assert [r["id"] for r in fourth] == [2, 3]

    assert run({k: v for k, v in options.items() if k != "changed_query"}, state, root)[0]


def _create(engine: sa.Engine, table: str, timestamp: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, nome VARCHAR(100), "
                f"aggiornato {timestamp})"
            )
        )
        connection.execute(
            sa.text(f"INSERT INTO {table} VALUES (:i, :n, :a)"),
            [
                {"i": 1, "n": "Museo dell'Opera", "a": "2025-05-02 10:30:15"},
                {"i": 2, "n": "Musée Fesch", "a": "2025-12-31 23:59:59"},
            ],
        )


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[sa.Engine]:
    sqlite3.connect(tmp_path / "offers.sqlite").close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'offers.sqlite'}")
    _create(engine, "offers", "TEXT")
    yield engine
    engine.dispose()


def test_sqlite_changed_query(sqlite_db: sa.Engine, tmp_path: Path) -> None:
    check_changed_query("sqlite:///offers.sqlite", "offers", sqlite_db, tmp_path)


def test_a_failing_changed_query_names_the_option(sqlite_db: sa.Engine, tmp_path: Path) -> None:
    options = {"url": "sqlite:///offers.sqlite", "query": "SELECT * FROM offers"}
    with pytest.raises(HarvestError) as failed:
        run({**options, "changed_query": "SELECT max(nope) FROM offers"}, {}, tmp_path)
    assert "options.changed_query failed" in str(failed.value) and "nope" in str(failed.value)
    with pytest.raises(HarvestError) as failed:
        run({**options, "changed_query": "UPDATE offers SET nome = 'x'"}, {}, tmp_path)
    assert "options.changed_query returns no rows" in str(failed.value)
    rows = sa.text("SELECT count(*) FROM offers WHERE nome = 'x'")
    with sqlite_db.connect() as connection:  # nothing was committed
        assert connection.execute(rows).scalar() == 0


def test_without_a_context_the_records_are_read(sqlite_db: sa.Engine, tmp_path: Path) -> None:
    options = {
        "url": "sqlite:///offers.sqlite",
        "query": "SELECT id FROM offers",
        "changed_query": "SELECT count(*) FROM offers",
    }
    assert len(list(harvest_sql("offers", options, root=tmp_path))) == 2  # `hub check`, tools


def _on_server(engine: sa.Engine, table: str, timestamp: str) -> None:
    """`check_changed_query` on a database server, in a table dropped afterwards."""
    _create(engine, table, timestamp)
    try:
        check_changed_query(engine.url.render_as_string(hide_password=False), table, engine)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))


@pytest.mark.postgres
def test_postgres_changed_query(pg_engine: sa.Engine, table_name: str) -> None:
    _on_server(pg_engine, table_name, "TIMESTAMP")


@pytest.mark.mariadb
def test_mariadb_changed_query(mariadb_engine: sa.Engine, table_name: str) -> None:
    _on_server(mariadb_engine, table_name, "DATETIME")
