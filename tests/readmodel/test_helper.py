"""A large version's rows are built by a helper process: the read model is the same.

`rebuild_source(helper=True)` has a child interpreter read the version and build the
rows while the rebuild inserts them. Here a version of 5,000 entities (three batches)
is rebuilt both ways, fresh and in place, and every table is compared, ids included;
a broken version fails with its source and file named and leaves the old rows.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.iris import SCHEMA, Iris
from hub.readmodel import readmodel_path, rebuild_source
from hub.readmodel._build import ReadModelError
from tests.readmodel.test_incremental import _tables

SOURCE = "smartic-operators"
TOWNS = ("Genova", "Livorno", "Bastia", "Cagliari", "Nice", "Città di Prova")
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def _version(config: HubConfig, path: Path, entities: int) -> Path:
    """A sorted version file of `entities` places: names in two languages, a point, a town,
    a category; every 7th with a description holding an escaped quote."""
    prefix = Iris(config.base_iri).entity_prefix(SOURCE)
    lines = []
    for i in range(entities):
        s = f"<{prefix}h{i}>"
        town = TOWNS[i % len(TOWNS)]
        lines += [
            f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SCHEMA}LocalBusiness> .",
            f'{s} <{SCHEMA}name> "Bottega {i} di {town}"@it .',
            f'{s} <{SCHEMA}name> "Boutique {i}"@fr .',
            f'{s} <{SCHEMA}latitude> "{41 + (i * 37 % 3500) / 1000:.4f}" .',
            f'{s} <{SCHEMA}longitude> "{7 + (i * 53 % 4000) / 1000:.4f}" .',
            f'{s} <https://w3id.org/marittimo-hub/ns#municipality> "{town}" .',
            f"{s} <https://w3id.org/marittimo-hub/ns#category> "
            f"<https://w3id.org/marittimo-hub/category/{('food-wine', 'crafts')[i % 2]}> .",
        ]
        if i % 7 == 0:
            lines.append(f'{s} <{SCHEMA}description> "La \\"bottega\\" n. {i}"@it .')
    path.write_bytes("".join(line + "\n" for line in sorted(lines)).encode("utf-8"))
    return path


def _copy(demo_root: Path, target: Path) -> HubConfig:
    shutil.copytree(demo_root, target)
    return load_config(target / "hub.toml")


def _two_hubs(demo_root: Path, tmp_path: Path, entities: int) -> tuple[HubConfig, HubConfig, Path]:
    """Two copies of the demo (to rebuild without and with the helper) and a version."""
    alone = _copy(demo_root, tmp_path / "alone")
    helped = _copy(demo_root, tmp_path / "helped")
    return alone, helped, _version(alone, tmp_path / "version.nt", entities)


def _raw(config: HubConfig) -> dict[str, list[tuple]]:
    """Tables as stored, ids and cell numbers included."""
    conn = sqlite3.connect(readmodel_path(config))
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("entities", "sorts", "docs", "locs", "text_ids", "cells", "grid")
        }
    finally:
        conn.close()


def test_the_helper_builds_exactly_the_rows_of_a_rebuild_in_one_process(
    demo_root: Path, tmp_path: Path
) -> None:
    alone, helped, version = _two_hubs(demo_root, tmp_path, 5_000)
    assert rebuild_source(alone, SOURCE, version, published=WHEN, helper=False) == 5_000
    assert rebuild_source(helped, SOURCE, version, published=WHEN, helper=True) == 5_000
    expected = _tables(readmodel_path(alone))
    assert len(expected["entities"]) == 5_000  # type: ignore[arg-type]
    assert _tables(readmodel_path(helped)) == expected
    assert _raw(helped) == _raw(alone)

    # In place: the old rows go while the helper reads; the result is a fresh build's.
    smaller = _version(alone, tmp_path / "smaller.nt", 2_500)
    assert rebuild_source(helped, SOURCE, smaller, published=WHEN, helper=True) == 2_500
    fresh = _copy(demo_root, tmp_path / "fresh")
    rebuild_source(fresh, SOURCE, smaller, published=WHEN, helper=False)
    assert _tables(readmodel_path(helped)) == _tables(readmodel_path(fresh))


def test_a_broken_version_fails_in_the_helper_and_keeps_the_previous_rows(
    demo_root: Path, tmp_path: Path
) -> None:
    config = load_config(demo_root / "hub.toml")
    good = _version(config, tmp_path / "good.nt", 3_000)
    rebuild_source(config, SOURCE, good, published=WHEN, helper=True)
    before = _raw(config)
    broken = tmp_path / "broken.nt"
    text = good.read_text("utf-8").splitlines()
    prefix = Iris(config.base_iri).entity_prefix(SOURCE)
    line = text[16_000]  # past the first batch of 2,000 entities: rows were sent already
    assert line.startswith(f"<{prefix}")
    text[16_000] = line[: line.index("> <") + 3] + 'not a triple"'
    broken.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ReadModelError) as failure:
        rebuild_source(config, SOURCE, broken, published=WHEN, helper=True)
    message = str(failure.value)
    assert f"`{SOURCE}`" in message and str(broken) in message
    assert "not a triple" in message and "previous state" in message, message
    assert _raw(config) == before


def _segments(config: HubConfig) -> int:
    conn = sqlite3.connect(readmodel_path(config))
    try:
        return conn.execute("SELECT count(DISTINCT segid) FROM fts_idx").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("helper", [False, True])
def test_a_rebuild_in_place_leaves_the_text_index_merged(
    demo_root: Path, tmp_path: Path, helper: bool
) -> None:
    """Entities dropped and written again leave delete markers every search would read."""
    config = load_config(demo_root / "hub.toml")
    version = _version(config, tmp_path / "v.nt", 3_000)
    rebuild_source(config, SOURCE, version, published=WHEN, helper=helper)
    for _ in range(3):
        rebuild_source(config, SOURCE, version, published=WHEN, helper=helper)
        assert _segments(config) == 1
    fresh = _copy(demo_root, tmp_path / "fresh")
    rebuild_source(fresh, SOURCE, version, published=WHEN, helper=helper)
    assert _tables(readmodel_path(config))["fts"] == _tables(readmodel_path(fresh))["fts"]


def _helpers() -> list[int]:
    """Pids of this process's read-model helpers (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"hub.readmodel._helper" in command:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_helper_stopped_and_continued_while_it_sends_builds_the_same_rows(
    demo_root: Path, tmp_path: Path
) -> None:
    """SIGSTOP/SIGCONT (a debugger, a profiler, `docker pause`) must not garble its stream."""
    alone, helped, version = _two_hubs(demo_root, tmp_path, 20_000)
    rebuild_source(alone, SOURCE, version, published=WHEN, helper=False)
    done = threading.Event()
    pokes = [0]

    def poke() -> None:
        helpers: list[int] = []
        while not done.is_set() and not helpers:
            helpers = _helpers()
        while not done.is_set():
            try:
                os.kill(helpers[0], signal.SIGSTOP)
                time.sleep(0.002)
                os.kill(helpers[0], signal.SIGCONT)
                pokes[0] += 1
            except ProcessLookupError:
                return
            time.sleep(0.003)

    poker = threading.Thread(target=poke, daemon=True)
    poker.start()
    try:
        assert rebuild_source(helped, SOURCE, version, published=WHEN, helper=True) == 20_000
    finally:
        done.set()
        poker.join()
    assert pokes[0] > 20  # it was stopped while it worked
    assert _tables(readmodel_path(helped)) == _tables(readmodel_path(alone))
