"""A publish updates the read model from its change set, and the result equals a rebuild.

Real pipeline, real store on disk: the demo's CSV source is published, some of its
records are edited, added, removed, moved and renamed, and it is published again.
Every table of the updated read model is then compared, row by row, with a read
model rebuilt from scratch from the same version file. Surrogate ids differ (a rebuild
numbers entities in IRI order, an update keeps the ids it has), so rows are compared
by entity uid and cells by their facet values.
"""

from __future__ import annotations

import csv
import logging
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.layout import DataLayout
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.pipeline.state import load_state
from hub.readmodel import _grid as grid
from hub.readmodel import follow_publish, readmodel_path, rebuild_source
from hub.store import open_store
from hub.util.blobs import unpack

SOURCE = "smartic-operators"


@pytest.fixture
def config(demo_root: Path) -> HubConfig:
    return load_config(demo_root / "hub.toml")


def _csv(config: HubConfig) -> Path:
    return config.root / "hub/demo/data/smartic-operators.csv"


def _edit(path: Path) -> None:
    """Edit, move, rename, re-categorise, remove and add records."""
    with path.open(encoding="utf-8", newline="") as data:
        rows = list(csv.DictReader(data, delimiter=";"))
    fields = list(rows[0])
    by_id = {row["id"]: row for row in rows}
    by_id["smc-001"]["description_en"] = "An inn rewritten for the test."
    by_id["smc-002"]["lat"], by_id["smc-002"]["lon"] = "41.9000", "8.7400"  # moved to Corsica
    by_id["smc-002"]["region"] = "corse"
    by_id["smc-003"]["name_it"] = "Zibaldone dell'Alabastro"  # renamed: sorts elsewhere
    by_id["smc-004"]["category"] = "food-wine"  # another cell
    by_id["smc-005"]["municipality"] = "Città di Prova"  # another municipality facet
    removed = rows.pop()  # the last record disappears
    new = dict(rows[0], id="smc-900", name_it="Nuova Bottega", name_fr="Nouvelle Boutique")
    new["municipality"] = removed["municipality"]
    rows.append(new)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def _uid_of(conn: sqlite3.Connection) -> dict[int, str]:
    return dict(conn.execute("SELECT id, uid FROM entities"))


def _assert_runs_in_name_order(conn: sqlite3.Connection) -> None:
    """Each source's ordered run of `fts` numbers follows (sort_en, uid); tails follow it."""
    for slot, ranked, end in conn.execute("SELECT slot, ranked, next FROM text_runs"):
        low = slot << 32
        keys = conn.execute(
            "SELECT s.sort_en, s.uid FROM text_ids t JOIN sorts s ON s.id = t.id "
            "WHERE t.fid BETWEEN ? AND ? ORDER BY t.fid",
            (low, ranked - 1),
        ).fetchall()
        assert keys == sorted(keys)
        numbers = [
            r[0]
            for r in conn.execute(
                "SELECT fid FROM text_ids WHERE fid BETWEEN ? AND ?", (low, (low | 0xFFFFFFFF))
            )
        ]
        assert all(low <= n < end for n in numbers)


def _tables(path: Path) -> dict[str, object]:
    """Every table of a read model, with ids replaced by entity uids and cells by their keys."""
    conn = sqlite3.connect(path)
    try:
        uid = _uid_of(conn)
        cell_key = {
            cell: (source, types, regions, themes, categories)
            for cell, source, types, regions, themes, categories, _ in conn.execute(
                "SELECT * FROM cells"
            )
        }
        conn.execute("INSERT INTO fts(fts) VALUES ('integrity-check')")
        fid_uid = {fid: uid[i] for fid, i in conn.execute("SELECT fid, id FROM text_ids")}
        assert sorted(fid_uid.values()) == sorted(uid.values())  # each entity numbered once
        _assert_runs_in_name_order(conn)
        corners = Counter(
            (grid.index_of(lat), grid.index_of(lon))
            for lat, lon in conn.execute("SELECT min_lat, min_lon FROM pts")
        )
        assert dict(corners) == {(y, x): n for y, x, n in conn.execute("SELECT * FROM grid")}
        # the contentless index holds exactly each entity's docs text: index it again by id
        conn.execute(
            "CREATE VIRTUAL TABLE temp.again USING fts5(names, descriptions, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        conn.execute(
            "INSERT INTO temp.again(rowid, names, descriptions) "
            "SELECT id, names, descriptions FROM docs"
        )
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, 'instance')")
        conn.execute("CREATE VIRTUAL TABLE temp.vocab2 USING fts5vocab(temp, again, 'instance')")
        indexed = sorted(
            (term, fid_uid[doc], col, offset)
            for term, doc, col, offset in conn.execute("SELECT * FROM temp.vocab")
        )
        assert indexed == sorted(
            (term, uid[doc], col, offset)
            for term, doc, col, offset in conn.execute("SELECT * FROM temp.vocab2")
        )
        tables: dict[str, object] = {
            "meta": sorted(conn.execute("SELECT * FROM meta")),
            "sources": sorted(
                conn.execute(
                    "SELECT source, slot, project, licence, run_id, published, entities, file "
                    "FROM sources"
                )
            ),
            "cells": sorted(
                (*cell_key[r[0]], r[1]) for r in conn.execute("SELECT cell, n FROM cells")
            ),
            "entities": {
                row[2]: (cell_key[row[1]], *row[3:])
                for row in conn.execute("SELECT * FROM entities")
            },
            "docs": {uid[r[0]]: r[1:] for r in conn.execute("SELECT * FROM docs")},
            "triples": {uid[r[0]]: unpack(r[1]) for r in conn.execute("SELECT * FROM triples")},
            "facets": sorted((f, v, uid[e]) for f, v, e in conn.execute("SELECT * FROM facets")),
            "facet_counts": sorted(conn.execute("SELECT * FROM facet_counts")),
            "fts": indexed,
            "programme": sorted(conn.execute("SELECT * FROM programme")),
            "grid": sorted(conn.execute("SELECT * FROM grid")),
        }
        # `spans` holds exactly the extents that are not one point (lines, areas)
        spans = {r[0] for r in conn.execute("SELECT id FROM spans")}
        wide = "SELECT id FROM locs WHERE min_lon < max_lon OR min_lat < max_lat"
        assert spans == {r[0] for r in conn.execute(wide)}
        for table in ("sorts", "pts", "spans", "locs"):
            tables[table] = {uid[r[0]]: r[1:] for r in conn.execute(f"SELECT * FROM {table}")}
        return tables
    finally:
        conn.close()


def _snapshot(config: HubConfig, target: Path) -> Path:
    """A consistent copy of the read model (its WAL included)."""
    source = sqlite3.connect(readmodel_path(config))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return target


def test_a_publish_updates_only_what_changed_and_equals_a_rebuild(
    config: HubConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(config.store_path)
    try:
        load_programme(store, config)
        first = run_source(config, store, SOURCE)
        assert first.status == "published", first.summary()
        before = _tables(_snapshot(config, tmp_path / "before.sqlite"))
        _edit(_csv(config))
        # only the second publish's records (an earlier test may have set hub's log level
        # to INFO for the whole session, so the first publish's were captured too)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="hub.readmodel"):
            second = run_source(config, store, SOURCE)
        assert second.status == "published", second.summary()
    finally:
        store.close()
    assert any(f"{SOURCE} updated, 7 entities touched" in m for m in caplog.messages), caplog.text
    assert not any(f"{SOURCE} rebuilt" in m for m in caplog.messages), caplog.text
    updated = _tables(_snapshot(config, tmp_path / "updated.sqlite"))

    # A read model rebuilt from scratch from the version now published.
    state = load_state(config.data_path, SOURCE)
    version = DataLayout(config.data_path).absolute(state.version_file)
    fresh = tmp_path / "fresh"
    shutil.copytree(config.root, fresh, ignore=shutil.ignore_patterns("store", "*.sqlite*"))
    fresh_config = load_config(fresh / "hub.toml")
    published = updated["sources"][0][5]  # type: ignore[index]
    rebuild_source(
        fresh_config,
        SOURCE,
        version,
        published=_parse(published),
        run_id=state.run_id,
    )
    rebuilt = _tables(readmodel_path(fresh_config))

    # The data changed as edited, so the comparison below compares something.
    assert set(updated["entities"]) - set(before["entities"]) == {f"{SOURCE}/smc-900"}
    assert set(before["entities"]) - set(updated["entities"]) == {f"{SOURCE}/smc-025"}
    assert updated["locs"][f"{SOURCE}/smc-002"] != before["locs"][f"{SOURCE}/smc-002"]
    assert updated["cells"] != before["cells"]
    assert updated["facet_counts"] != before["facet_counts"]

    for table in rebuilt:
        if table in ("sources", "entities", "sorts"):  # `updated` differs: compared below
            continue
        assert updated[table] == rebuilt[table], table
    assert [r[:-1] for r in updated["sources"]] == [r[:-1] for r in rebuilt["sources"]]

    # `updated` (no schema:dateModified in this source) is when the entity last changed:
    # the second publish for the entities it touched, the first for the others.
    touched = {
        uid
        for uid in updated["entities"]
        if uid not in before["entities"] or updated["triples"][uid] != before["triples"][uid]
    }
    assert len(touched) == 6  # five edited, one added
    updated_column = 2  # (cell, source, updated, …)
    for uid, row in rebuilt["entities"].items():
        mine = updated["entities"][uid]
        assert mine[:updated_column] + mine[updated_column + 1 :] == (
            row[:updated_column] + row[updated_column + 1 :]
        ), uid
        expected = row if uid in touched else before["entities"][uid]
        assert mine[updated_column] == expected[updated_column], uid
        sorts = updated["sorts"][uid]  # (uid, updated, sort keys…): `updated` as in entities
        assert sorts[1] == mine[updated_column], uid
        assert sorts[:1] + sorts[2:] == rebuilt["sorts"][uid][:1] + rebuilt["sorts"][uid][2:], uid
    assert set(updated["sorts"]) == set(rebuilt["sorts"]) == set(rebuilt["entities"])

    # Rebuilt in place (its old rows deleted first), the grid and text index come out the
    # same as a fresh build's.
    rebuild_source(config, SOURCE, version, published=_parse(published), run_id=state.run_id)
    replaced = _tables(readmodel_path(config))
    assert replaced["grid"] == rebuilt["grid"] and replaced["fts"] == rebuilt["fts"]


def _parse(stamp: str):
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_it_rebuilds_when_the_read_model_does_not_hold_the_previous_version(
    config: HubConfig, tmp_path: Path
) -> None:
    store = open_store(config.store_path)
    try:
        load_programme(store, config)
        assert run_source(config, store, SOURCE).status == "published"
    finally:
        store.close()
    state = load_state(config.data_path, SOURCE)
    version = DataLayout(config.data_path).absolute(state.version_file)
    empty = tmp_path / "empty.nt"
    empty.write_bytes(b"")
    how, count = follow_publish(
        config, SOURCE, version, previous_run="some-other-run", removed=empty, added=empty
    )
    assert (how, count) == ("rebuilt", 25)
    how, count = follow_publish(
        config, SOURCE, version, previous_run=state.run_id, removed=empty, added=empty
    )
    assert (how, count) == ("updated", 25)
    readmodel_path(config).unlink()
    how, _ = follow_publish(
        config, SOURCE, version, previous_run=state.run_id, removed=empty, added=empty
    )
    assert how == "rebuilt"


def test_the_api_answers_from_the_updated_model_not_from_its_answer_cache(
    config: HubConfig,
) -> None:
    from fastapi.testclient import TestClient

    from hub.api import create_app

    store = open_store(config.store_path)
    try:
        load_programme(store, config)
        assert run_source(config, store, SOURCE).status == "published"
        client = TestClient(create_app(config, store))
        search = "/api/v1/entities?q=Zibaldone"
        stats = "/api/v1/stats?region=corse"
        first = client.get(search).json(), client.get(stats).json()
        again = client.get(search).json(), client.get(stats).json()
        assert again == first  # answered twice (the second time from the answer cache)
        assert first[0]["total"] == 0
        _edit(_csv(config))
        assert run_source(config, store, SOURCE).status == "published"
        after = client.get(search).json(), client.get(stats).json()
    finally:
        store.close()
    assert [item["id"] for item in after[0]["items"]] == [f"{SOURCE}/smc-003"]
    assert after[1]["total"] == first[1]["total"] + 1  # smc-002 moved to Corsica
