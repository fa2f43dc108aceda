"""A read-model write prepared beside the store's write is seen only once committed.

The rows of a publish are written in a thread while the store writes the version
(`hub.util.ahead.Ahead`); readers keep the previous rows until `commit`, and `cancel`
(the store's write failed) leaves them as they were.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.iris import Iris
from hub.readmodel import ReadModelError, follow_publish, readmodel_path, rebuild_source
from hub.util.ahead import Ahead, AheadProcess

SOURCE = "smartic-operators"


def _version(config: HubConfig, path: Path, keys: list[str]) -> Path:
    prefix = Iris(config.base_iri).entity_prefix(SOURCE)
    lines = [
        f"<{prefix}{key}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        f"<http://schema.org/Place> .\n"
        for key in keys
    ]
    path.write_text("".join(sorted(lines)), encoding="utf-8")
    return path


def _uids(config: HubConfig) -> set[str]:
    with sqlite3.connect(readmodel_path(config)) as conn:
        return {
            uid for (uid,) in conn.execute("SELECT uid FROM entities WHERE source = ?", (SOURCE,))
        }


def _ahead(config: HubConfig, version: Path) -> Ahead:
    ahead = Ahead(
        "test",
        lambda check: follow_publish(
            config,
            SOURCE,
            version,
            previous_run=None,
            removed=None,
            added=None,
            before_commit=check,
        ),
    )
    assert ahead.wait_prepared(60), "the rows were never prepared"
    return ahead


def test_prepared_rows_are_seen_only_after_commit(demo_root: Path) -> None:
    config = load_config(demo_root / "hub.toml")
    rebuild_source(config, SOURCE, _version(config, demo_root / "v1.nt", ["a", "b"]))
    ahead = _ahead(config, _version(config, demo_root / "v2.nt", ["a", "c", "d"]))
    assert _uids(config) == {f"{SOURCE}/a", f"{SOURCE}/b"}  # readers: the published rows
    assert ahead.commit() == ("rebuilt", 3)
    assert _uids(config) == {f"{SOURCE}/a", f"{SOURCE}/c", f"{SOURCE}/d"}


def test_a_cancelled_write_leaves_the_rows_and_frees_the_writer(demo_root: Path) -> None:
    config = load_config(demo_root / "hub.toml")
    rebuild_source(config, SOURCE, _version(config, demo_root / "v1.nt", ["a", "b"]))
    ahead = _ahead(config, _version(config, demo_root / "v2.nt", ["c"]))
    assert ahead.cancel() is None  # cancelled, not failed
    assert _uids(config) == {f"{SOURCE}/a", f"{SOURCE}/b"}
    # the write lock is free again: the next rebuild does not wait for it
    assert rebuild_source(config, SOURCE, demo_root / "v2.nt") == 1
    assert _uids(config) == {f"{SOURCE}/c"}


def test_a_failure_while_preparing_is_raised_by_commit(demo_root: Path) -> None:
    config = load_config(demo_root / "hub.toml")
    ahead = _ahead(config, demo_root / "missing.nt")
    try:
        ahead.commit()
    except Exception as exc:
        assert "missing.nt" in str(exc) and "does not exist" in str(exc)
    else:
        raise AssertionError("commit did not raise the preparation's error")


def test_a_child_process_prepares_and_commits_the_same_way(demo_root: Path) -> None:
    config = load_config(demo_root / "hub.toml")
    rebuild_source(config, SOURCE, _version(config, demo_root / "v1.nt", ["a", "b"]))
    kwargs = {
        "config": config,
        "source_id": SOURCE,
        "version": _version(config, demo_root / "v2.nt", ["e", "f"]),
        "previous_run": None,
        "removed": None,
        "added": None,
    }
    ahead = AheadProcess("test", follow_publish, kwargs)
    assert ahead.wait_prepared(60), "the child never prepared the rows"
    assert ahead.seconds > 0
    assert _uids(config) == {f"{SOURCE}/a", f"{SOURCE}/b"}  # not before the commit
    assert ahead.commit() == ("rebuilt", 2)
    assert _uids(config) == {f"{SOURCE}/e", f"{SOURCE}/f"}
    cancelled = AheadProcess("test", follow_publish, {**kwargs, "version": demo_root / "v1.nt"})
    assert cancelled.wait_prepared(60)
    assert cancelled.cancel() is None
    assert _uids(config) == {f"{SOURCE}/e", f"{SOURCE}/f"}
    broken = AheadProcess("test", follow_publish, {**kwargs, "version": demo_root / "none.nt"})
    with pytest.raises(ReadModelError, match="none.nt"):
        broken.commit()  # the child's error, raised here


def test_a_child_still_at_work_is_stopped_at_once_when_cancelled(demo_root: Path) -> None:
    config = load_config(demo_root / "hub.toml")
    rebuild_source(config, SOURCE, _version(config, demo_root / "v1.nt", ["a", "b"]))
    fifo = demo_root / "never.nt"  # a version that never arrives: nobody writes the FIFO
    os.mkfifo(fifo)
    kwargs = {
        "config": config,
        "source_id": SOURCE,
        "version": fifo,
        "previous_run": None,
        "removed": None,
        "added": None,
    }
    busy = AheadProcess("test", follow_publish, kwargs)
    assert not busy.wait_prepared(1)
    stop = threading.Event()

    def unblock() -> None:  # were cancel to wait, the child would read empty files and end
        if stop.wait(30):
            return
        while not stop.is_set():
            with fifo.open("wb"):
                pass

    helper = threading.Thread(target=unblock, daemon=True)
    helper.start()
    try:
        assert busy.cancel() is None
    finally:
        stop.set()
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # frees a waiting `open("wb")`
        helper.join(10)
    # terminated (SIGTERM), not waited for: it never reached its COMMIT
    assert busy._process.exitcode == -signal.SIGTERM
    assert _uids(config) == {f"{SOURCE}/a", f"{SOURCE}/b"}
