"""The `sql` kind: records from a SQL query (SQLAlchemy: PostgreSQL, MySQL/MariaDB, SQLite).

Rows are streamed with a server-side cursor, `batch_size` rows at a time; values keep
their Python types (Decimal, date, datetime, ...). Stopping a MySQL harvest early
still reads the rest of its result (pymysql drains it), so take samples with LIMIT.

With `changed_query` (e.g. `SELECT count(*), max(updated_at) FROM offers`), each run
first asks it; the same answer as the last published run's marks the run unchanged and
the records are not read (the pipeline offers that answer only under the same recipe).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from harvesters._common import mask_url, scrub
from harvesters._options import Allowed, KindOptions, PositiveInt, Text, declared
from harvesters.context import HarvestContext
from hub.errors import HarvestError

if TYPE_CHECKING:  # sqlalchemy is imported when a `sql` source runs, not when the config loads
    from sqlalchemy.engine import URL, Engine

# driver name in the URL -> the pip package that provides it
_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "'psycopg[binary]'",
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "pymysql": "pymysql",
    "mysqldb": "mysqlclient",
    "mysqlconnector": "mysql-connector-python",
    "mariadbconnector": "mariadb",
    "pyodbc": "pyodbc",
    "oracledb": "oracledb",
    "cx_oracle": "cx_Oracle",
}
_EXAMPLES = (
    "postgresql+psycopg2://user@host/db, mysql+pymysql://user@host/db, sqlite:///data/x.sqlite"
)


Params = Annotated[dict[str, Any], Allowed("a table of names and values, e.g. { region = 'IT' }")]


class Options(KindOptions):
    """The options a `sql` source may set, with their types (checked at config load)."""

    url: Text = Field(description=f"a database URL, e.g. {_EXAMPLES}")
    query: Text = Field(description="a SELECT (or WITH) query")
    params: Params = Field(default_factory=dict, description="values for :name in the query")
    batch_size: PositiveInt = Field(1000, description="rows fetched at a time")
    changed_query: Text | None = Field(
        None,
        description="a query whose first row changes whenever options.query's rows do "
        "(e.g. SELECT count(*), max(updated_at) FROM offers); when it answers as at the "
        "last published run, the run is unchanged and the records are not read",
    )


@dataclass(frozen=True)
class SqlOptions:
    """The checked options of a `sql` source."""

    url: URL
    shown: str  # the URL with its password masked
    query: str
    params: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 1000
    changed_query: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a message."""
        password = self.url.password
        return (str(password),) if password else ()


def _resolve_sqlite(source_id: str, url: URL, root: Path) -> URL:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    path = Path(database).expanduser()
    if not path.is_absolute():
        path = root / path
    if not path.is_file():
        # SQLite would silently create an empty database and the query would then fail
        raise HarvestError(
            source_id,
            f"SQLite file {database} not found (looked for {path}); check options.url "
            "(a relative path is taken from the folder of the config file)",
        )
    return url.set(database=str(path))


def parse_options(source_id: str, options: Mapping[str, Any], root: Path) -> SqlOptions:
    """Check the options of a `sql` source; errors say which option to fix and how."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    given = declared(source_id, "sql", Options, options)
    raw_url = given.url
    try:
        url = make_url(raw_url)
    except (ArgumentError, ValueError):
        raise HarvestError(
            source_id,
            f"options.url {mask_url(raw_url)} is not a database URL; write e.g. {_EXAMPLES}",
        ) from None
    if url.get_backend_name() == "sqlite":
        url = _resolve_sqlite(source_id, url, Path(root))
    return SqlOptions(
        url=url,
        shown=url.render_as_string(hide_password=True),
        query=given.query,
        params=dict(given.params),
        batch_size=given.batch_size,
        changed_query=given.changed_query,
    )


def _engine(source_id: str, opts: SqlOptions) -> Engine:
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    connect_args: dict[str, Any] = {}
    if _is_psycopg2(opts.url) and "application_name" not in opts.url.query:
        # lets a DBA see which hub source a session belongs to
        connect_args["application_name"] = f"marittimo-hub:{source_id}"[:63]
    try:
        return sa.create_engine(opts.url, connect_args=connect_args, poolclass=NullPool)
    except ImportError as exc:
        driver = opts.url.get_driver_name()
        package = _PACKAGES.get(driver.lower(), exc.name or driver)
        raise HarvestError(
            source_id,
            f"the database driver `{driver}` for {opts.shown} is not installed; "
            f"run `pip install {package}`, or name an installed driver in options.url "
            f"(e.g. {_EXAMPLES})",
        ) from None
    except sa.exc.ArgumentError as exc:
        raise HarvestError(
            source_id,
            f"cannot use {opts.shown}: {scrub(str(exc), opts.secrets)}; write e.g. {_EXAMPLES}",
        ) from None


def _is_psycopg2(url: URL) -> bool:
    """Whether the URL names a PostgreSQL database through psycopg2."""
    return url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg2"


def _db_message(exc: BaseException, secrets: tuple[str, ...]) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    return scrub(" ".join(text.split()), secrets)


# what SQLite says -> what to do: these are faults of the file or its data, not of the query
_SQLITE_HINTS = {
    "database is locked": (
        "another process holds a lock on the SQLite file {file} (a write in progress?); "
        "try again later, or wait longer with ?timeout=SECONDS in options.url"
    ),
    "file is not a database": (
        "the SQLite file {file} is not a database (damaged, or another kind of file); "
        "check options.url, or restore the file"
    ),
    "database disk image is malformed": (
        "the SQLite file {file} is damaged (cut short, or copied while it was written); "
        "restore it from a good copy"
    ),
    "could not decode to utf-8": (
        "the SQLite file {file} holds text that is not UTF-8 in that column; fix the values "
        "at the source, or read them with CAST(column AS BLOB) in options.query"
    ),
}


def _hint(said: str, opts: SqlOptions) -> str:
    """What to do about a failed query, from what the database said."""
    if opts.url.get_backend_name() == "sqlite":
        for needle, hint in _SQLITE_HINTS.items():
            if needle in said.lower():
                return hint.format(file=opts.url.database)
    return "check options.query and options.params"


def _refuse_doubled(source_id: str, columns: list[str]) -> None:
    doubled = sorted({c for c in columns if columns.count(c) > 1})
    if doubled:
        raise HarvestError(
            source_id,
            f"the query returns column(s) {', '.join(doubled)} more than once; "
            "give each column its own name with AS in options.query",
        )


def _answer_of(source_id: str, opts: SqlOptions, connection: Any) -> list[str]:
    """The first row of options.changed_query, as text the harvest state keeps (each value's
    `repr`: 1 and '1', None and 'None' differ)."""
    import sqlalchemy as sa

    assert opts.changed_query is not None
    try:
        result = connection.execute(sa.text(opts.changed_query), opts.params)
        if not result.returns_rows:
            raise HarvestError(
                source_id,
                "options.changed_query returns no rows; it must be a SELECT whose one row "
                "changes with the records, e.g. SELECT count(*), max(updated_at) FROM offers",
            )
        row = result.first()
    except sa.exc.SQLAlchemyError as exc:
        said = _db_message(exc, opts.secrets)
        raise HarvestError(
            source_id, f"options.changed_query failed: {said}; check options.changed_query"
        ) from None
    return [] if row is None else [repr(value) for value in row]


def _unchanged(
    source_id: str, opts: SqlOptions, connection: Any, context: HarvestContext | None
) -> bool:
    """Whether options.changed_query answers as it did at the last published run (the
    pipeline offers that answer only under the same mapping, settings and checks)."""
    if context is None or opts.changed_query is None:
        return False
    answer = _answer_of(source_id, opts, connection)
    context.state["changed_query"] = answer
    if context.previous.get("changed_query") != answer:
        return False
    context.mark_unchanged(
        f"options.changed_query gave the published run's answer ({', '.join(answer)})"
    )
    return True


def _iterate(source_id: str, opts: SqlOptions, context: HarvestContext | None) -> Iterator[dict]:
    import sqlalchemy as sa

    engine = _engine(source_id, opts)
    try:
        try:
            connection = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise HarvestError(
                source_id,
                f"cannot connect to {opts.shown}: {_db_message(exc, opts.secrets)}; check "
                "options.url (host, port, database, user, password) and that the server is up",
            ) from None
        result: sa.CursorResult[Any] | None = None
        try:
            if _unchanged(source_id, opts, connection, context):
                return
            result = connection.execution_options(stream_results=True).execute(
                sa.text(opts.query), opts.params
            )
            if not result.returns_rows:
                raise HarvestError(
                    source_id, "options.query returns no rows; it must be a SELECT (or WITH)"
                )
            columns = list(result.keys())
            _refuse_doubled(source_id, columns)
            for row in result.yield_per(opts.batch_size):
                yield dict(zip(columns, row, strict=True))
        except sa.exc.SQLAlchemyError as exc:
            said = _db_message(exc, opts.secrets)
            raise HarvestError(
                source_id, f"SQL query failed: {said}; {_hint(said, opts)}"
            ) from None
        finally:
            # Close the cursor before the connection (which rolls back: nothing was
            # committed). A MySQL unbuffered result stopped early is read to its end here.
            if result is not None:
                with contextlib.suppress(sa.exc.SQLAlchemyError):
                    result.close()
            connection.close()
    finally:
        engine.dispose()


def harvest_sql(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[dict]:
    """Rows of a SQL query as dicts; options are checked now, the database queried lazily."""
    opts = parse_options(source_id, options, Path(root))
    return _iterate(source_id, opts, context)
