"""Sample data for the demo sources: files in `data/`, and the SQLite database built from SQL.

The SQLite file is not kept in git; `build_demo_databases` makes it from the
committed `.sql` text, which diffs and reviews well:

>>> from pathlib import Path
>>> build_demo_databases(Path("."))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

__all__ = ["DATA_DIR", "build_demo_databases"]

DATA_DIR = Path("hub") / "demo" / "data"
"""Where the demo data lives, relative to the repository root (the folder of hub.toml)."""


def build_demo_databases(root: Path) -> None:
    """Build every `hub/demo/data/*.sql` under `root` into its `.sqlite`, if missing or older."""
    for sql_path in sorted((Path(root) / DATA_DIR).glob("*.sql")):
        db_path = sql_path.with_suffix(".sqlite")
        if db_path.exists() and db_path.stat().st_mtime >= sql_path.stat().st_mtime:
            continue
        _build(sql_path, db_path)


def _build(sql_path: Path, db_path: Path) -> None:
    # Build beside the target and rename, so a harvester reading the database
    # never sees a half-written file.
    script = sql_path.read_text(encoding="utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{db_path.stem}-", suffix=".sqlite", dir=db_path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the database is public sample data
    try:
        connection = sqlite3.connect(tmp)
        try:
            connection.executescript(script)
            connection.commit()
        finally:
            connection.close()
        os.replace(tmp, db_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
