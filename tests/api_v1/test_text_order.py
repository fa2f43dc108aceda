"""A text search alone, in the default order, merges each source's matches in `fts` order.

`fts` numbers each source's entities in name order (`hub/readmodel/_textindex.py`);
incremental updates put added and renamed entities in a tail, sorted at query time,
until the source is renumbered. Whatever the numbering, the pages must be those of the
general path (the same search with a filter that keeps everything, sorted whole).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.pipeline.state import load_state
from hub.readmodel import EntityFilter, ReadModel, SortSpec, readmodel_path, update_source
from hub.readmodel import _planner as planner_module
from hub.readmodel import _textindex as textindex
from hub.readmodel._model import Word
from tests.api_v1.conftest import DemoHub, all_items
from tests.api_v1.test_paging import walk_cursor, walk_pages

SOURCE = "smartdest-offer"
ALONE = "/api/v1/entities?q=sample"
GENERAL = f"{ALONE}&updated_since=1970-01-01"


def _plan(hub: DemoHub, after: tuple[str, str] | None = None, offset: int = 0) -> str:
    flt = EntityFilter(words=(Word("sample"),))
    with ReadModel.for_config(hub.config).snapshot() as snap:
        return snap.page(flt, SortSpec(), 5, offset=offset, after=after).plan


def _assert_same_as_general(client: TestClient) -> None:
    for size in (1, 3, 7):
        assert walk_cursor(client, ALONE, size) == walk_cursor(client, GENERAL, size)
        assert walk_pages(client, ALONE, size) == walk_pages(client, GENERAL, size)
    assert len(walk_cursor(client, ALONE, 7)) == client.get(ALONE).json()["total"] > 40


def _runs(hub: DemoHub) -> dict[int, tuple[int, int]]:
    conn = sqlite3.connect(readmodel_path(hub.config))
    try:
        return {s: (r, n) for s, r, n in conn.execute("SELECT * FROM text_runs")}
    finally:
        conn.close()


class _Editor:
    """Publishes (to the read model, through the incremental update path) versions of
    SOURCE with entities renamed, added, removed and one description changed."""

    def __init__(self, hub: DemoHub, folder: Path) -> None:
        state = load_state(hub.config.data_path, SOURCE)
        self.hub, self.folder = hub, folder
        self.run, self.file = state.run_id, hub.config.data_path / state.version_file

    def edit(self, step: int) -> None:
        old = self.file.read_text(encoding="utf-8").splitlines()
        base = f"https://hub.example.org/id/{SOURCE}/"
        keys = sorted(
            {m.group(1) for ln in old if (m := re.match(rf"<{base}([a-z0-9]+-\d+)> ", ln))}
        )
        renamed = dict(zip(keys[step::7][:3], ("Aaa first", "Mmm middle", "Zzz last"), strict=True))
        described, gone, model = keys[step + 2], keys[step + 1], keys[-1]
        lines = []
        for ln in old:
            key = ln[len(base) + 1 :].split(">", 1)[0]
            if key in renamed and " <http://schema.org/name> " in ln:
                ln = re.sub(r'"[^"]*"@en \.$', f'"{renamed[key]} {step}"@en .', ln)
            if key == described and " <http://schema.org/description> " in ln:
                ln = ln.replace("(Sample data.)", f"(Sample data, edited {step}.)")
            if key != gone and not key.startswith(f"{gone}/"):
                lines.append(ln)
        for n, name in enumerate(("Bbb added", "Nnn added", "Yyy added")):
            for ln in old:
                if ln.startswith((f"<{base}{model}>", f"<{base}{model}/")):
                    copy = ln.replace(f"/{SOURCE}/{model}", f"/{SOURCE}/new{step}-{n:04d}")
                    if " <http://schema.org/name> " in copy and copy.endswith("@en ."):
                        copy = re.sub(r'"[^"]*"@en \.$', f'"{name} {step}"@en .', copy)
                    lines.append(copy)
        new = sorted(set(lines))
        version = self.folder / f"v{step}.nt"
        removed, added = self.folder / f"removed{step}.nt", self.folder / f"added{step}.nt"
        version.write_text("\n".join(new) + "\n", encoding="utf-8")
        removed.write_text("".join(f"{ln}\n" for ln in sorted(set(old) - set(new))), "utf-8")
        added.write_text("".join(f"{ln}\n" for ln in sorted(set(new) - set(old))), "utf-8")
        update_source(
            self.hub.config,
            SOURCE,
            version,
            previous_run=self.run,
            removed=removed,
            added=added,
            run_id=f"edit{step}",
        )
        self.run, self.file = f"edit{step}", version


def test_a_fresh_build_reads_each_source_in_index_order(demo_hub: DemoHub) -> None:
    runs = _runs(demo_hub)
    assert runs and all(ranked == end for ranked, end in runs.values())  # no tails
    plan = _plan(demo_hub)
    assert plan == f"ranked:{len(runs)}", plan
    assert _plan(demo_hub, after=("m", "")).startswith("ranked:")
    assert _plan(demo_hub, offset=10).startswith("ranked:")


def test_other_orders_and_filters_take_the_general_path(demo_hub: DemoHub) -> None:
    flt = EntityFilter(words=(Word("sample"),))
    with ReadModel.for_config(demo_hub.config).snapshot() as snap:
        assert snap.page(flt, SortSpec("name", "it"), 5).plan == "driver:words"
        assert snap.page(flt, SortSpec("-updated"), 5).plan == "driver:words"
        narrowed = EntityFilter(words=(Word("sample"),), updated_since="1970-01-01")
        assert snap.page(narrowed, SortSpec(), 5).plan == "driver:words"


def test_updates_fill_a_tail_that_pages_like_the_general_path(
    hub_factory: DemoHub, tmp_path: Path
) -> None:
    slot, editor = _slot(hub_factory), _Editor(hub_factory, tmp_path)
    with TestClient(create_app(hub_factory.config, hub_factory.store)) as client:
        _assert_same_as_general(client)
        for step in range(3):
            editor.edit(step)
            ranked, end = _runs(hub_factory)[slot]
            # 3 renamed + 3 added per step; the entity whose description changed kept its number
            assert end - ranked == 6 * (step + 1)
            runs = len(_runs(hub_factory))
            assert _plan(hub_factory) == f"ranked:{runs + 1}"  # one tail
            _assert_same_as_general(client)
            names = [i["name"] for i in all_items(client, ALONE)]
            assert f"Aaa first {step}" in names and f"Zzz last {step}" in names
            assert f"Bbb added {step}" in names


def test_a_long_tail_is_numbered_again(
    hub_factory: DemoHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(textindex, "TAIL_MIN", 8)
    monkeypatch.setattr(textindex, "TAIL_SHARE", 0.0)
    slot, editor = _slot(hub_factory), _Editor(hub_factory, tmp_path)
    with TestClient(create_app(hub_factory.config, hub_factory.store)) as client:
        editor.edit(0)
        ranked, end = _runs(hub_factory)[slot]
        assert end - ranked == 6  # under the limit: kept as a tail
        editor.edit(1)
        ranked, end = _runs(hub_factory)[slot]
        assert ranked == end  # 12 > 8: numbered again, no tail
        assert _plan(hub_factory) == f"ranked:{len(_runs(hub_factory))}"
        _assert_same_as_general(client)


def _slot(hub: DemoHub) -> int:
    conn = sqlite3.connect(readmodel_path(hub.config))
    try:
        return int(
            conn.execute("SELECT slot FROM sources WHERE source = ?", (SOURCE,)).fetchone()[0]
        )
    finally:
        conn.close()


def test_too_many_sources_to_merge_sort_the_matches(
    demo_hub: DemoHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite compounds at most 500 SELECTs: past `_MAX_RUNS` runs, the matches are sorted."""
    monkeypatch.setattr(planner_module, "_MAX_RUNS", 2)
    assert _plan(demo_hub) == "driver:words"
    with TestClient(create_app(demo_hub.config, demo_hub.store)) as fresh:  # its own caches
        _assert_same_as_general(fresh)
