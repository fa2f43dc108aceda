"""The Treno demo source's query (a join across four tables) on SQLite, PostgreSQL and
MariaDB: the same tables (hub/demo/data/treno.sql) give the same records on each."""

from __future__ import annotations

import sqlite3
import tomllib
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from harvesters import get_harvester

REPO = Path(__file__).resolve().parents[2]
SCRIPT = (REPO / "hub" / "demo" / "data" / "treno.sql").read_text(encoding="utf-8")
OPTIONS = tomllib.loads((REPO / "hub.toml").read_text(encoding="utf-8"))["sources"][
    "treno-railways"
]["options"]


def statements() -> list[str]:
    body = "\n".join(line for line in SCRIPT.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";\n") if s.strip().rstrip(";")]


def harvest(url: str) -> list[dict[str, Any]]:
    return list(
        get_harvester("sql")("treno-railways", {"url": url, "query": OPTIONS["query"]}, root=REPO)
    )


def comparable(records: list[dict[str, Any]]) -> list[tuple]:
    """The records with numbers as Decimal text.

    SQLite gives floats, and a whole number in a NUMERIC column as an int; the servers
    give Decimals. `seq` (INTEGER) is an int everywhere.
    """

    def value(v: Any) -> Any:
        if isinstance(v, float | Decimal | int) and not isinstance(v, bool):
            return format(Decimal(str(v)).normalize(), "f")
        return v

    return [tuple((k, value(v)) for k, v in sorted(r.items())) for r in records]


@pytest.fixture(scope="module")
def sqlite_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    db = tmp_path_factory.mktemp("treno") / "treno.sqlite"
    with sqlite3.connect(db) as connection:
        connection.executescript(SCRIPT)
    connection.close()
    return harvest(f"sqlite:///{db}")


def test_sqlite_join_gives_one_record_per_stop(sqlite_records: list[dict[str, Any]]) -> None:
    assert len(sqlite_records) == 21  # stops of the six lines
    tenda = [r for r in sqlite_records if r["line_id"] == "tr-tenda"]
    assert [r["station_id"] for r in tenda] == [
        "st-nice-ville",
        "st-sospel",
        "st-breil",
        "st-ventimiglia",
    ]
    assert {r["region"] for r in tenda} == {"paca", "liguria"}  # across the border
    assert tenda[-1]["municipality"] == "Ventimiglia" and tenda[-1]["country"] == "IT"


def _load(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for statement in statements():
            connection.execute(sa.text(statement))


@pytest.fixture
def pg_url(pg_engine: sa.Engine) -> Iterator[str]:
    schema = f"hub_test_{uuid.uuid4().hex[:12]}"
    with pg_engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = pg_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        _load(engine)
        yield url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
        with pg_engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def mariadb_url(mariadb_engine: sa.Engine) -> Iterator[str]:
    database = f"hub_test_{uuid.uuid4().hex[:12]}"
    with mariadb_engine.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {database} CHARACTER SET utf8mb4"))
    url = mariadb_engine.url.set(database=database, query={"charset": "utf8mb4"})
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        _load(engine)
        yield url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
        with mariadb_engine.begin() as connection:
            connection.execute(sa.text(f"DROP DATABASE {database}"))


@pytest.mark.postgres
def test_postgres_gives_the_same_records(pg_url: str, sqlite_records: list[dict[str, Any]]) -> None:
    assert comparable(harvest(pg_url)) == comparable(sqlite_records)


@pytest.mark.mariadb
def test_mariadb_gives_the_same_records(
    mariadb_url: str, sqlite_records: list[dict[str, Any]]
) -> None:
    assert comparable(harvest(mariadb_url)) == comparable(sqlite_records)
