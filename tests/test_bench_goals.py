"""`bench/goals.py`: the benchmarks' figures and the verdicts `bench_all.py` prints for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import goals

P95 = {"list": 11.1, "search": 23.3, "bbox": 30.3, "radius": 33.3, "stats": 9.7, "entity": 36.6}


def test_figures_are_merged_only_when_a_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(goals.ENV, raising=False)
    goals.record("ingest", {"ratio": 4.0})  # a benchmark run alone: nothing written
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / "goals.json"
    monkeypatch.setenv(goals.ENV, str(path))
    goals.record("ingest", {"ratio": 4.45, "rows": 1_000_000})
    goals.record("ingest", {"last": 1.16})  # another run of the same benchmark adds to it
    goals.record("api", {"threads": {**P95, "mix": float("inf")}})
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["ingest"] == {"ratio": 4.45, "rows": 1_000_000, "last": 1.16}
    assert data["api"]["threads"]["mix"] == float("inf")


def _row(table: str, start: str) -> str:
    found = [line for line in table.splitlines() if line.startswith(f"| {start}")]
    assert len(found) == 1, table
    return found[0]


def test_each_goal_is_judged_by_its_threshold() -> None:
    data = {
        "mapping": {"rows": 200_000, "identical": True, "ratio_1": 5.01, "ratio_n": 4.59,
                    "processes": 2},
        "validation": {"seconds": 3.66, "triples": 1_002_353, "same": True, "results": 288,
                       "speedup": 20.0},
        "ingest": {"rows": 1_000_000, "ratio": 4.45, "seconds": 132.9, "floor_s": 29.8,
                   "unchanged": {"the same file": 0.001, "rewritten": 0.006},
                   "last": 1.16, "others": [1.02, 1.39], "sources": 10},
        "api": {"threads": {**P95, "mix": 36.8}, "3 processes": {**P95, "mix": 50.2}},
    }  # fmt: skip
    table = goals.table(data)
    assert _row(table, "mapping ≥ 4x").endswith("| met |")
    assert _row(table, "SHACL").endswith("| met |")
    assert _row(table, "ingest of 1,000,000 rows").endswith("| **not met** |")
    assert "4.45x" in _row(table, "ingest of 1,000,000 rows")
    assert _row(table, "an unchanged re-harvest").endswith("| met |")
    assert "within the others' spread" in _row(table, "a source's cost")
    grew = {**data["ingest"], "last": 1.6}
    assert _row(goals.table({"ingest": grew}), "a source's cost").endswith(
        "**not met**: above them |"
    )
    few = {**data["ingest"], "sources": 3, "others": [1.07, 1.07], "last": 1.09}
    assert "not judged" in _row(goals.table({"ingest": few}), "a source's cost")
    assert _row(table, "API p95 < 50 ms, every call (threads)").endswith("| met |")
    assert _row(table, "API p95 < 50 ms, every call (3 processes)").endswith("| **not met** |")


def test_a_missing_call_or_benchmark_is_not_a_pass() -> None:
    table = goals.table({"api": {"threads": dict(P95)}})  # no mix: not every call measured
    assert _row(table, "API p95").endswith("| **not met** |")
    assert _row(table, "mapping ≥ 4x").endswith("not measured (its benchmark did not run) |")
    assert _row(table, "ingest ≤ 1.5x").endswith("not measured (its benchmark did not run) |")
    slow = {"seconds": 12.0, "triples": 1_000_000, "same": True, "results": 1, "speedup": 2.0}
    assert _row(goals.table({"validation": slow}), "SHACL").endswith("| **not met** |")
    differ = {**slow, "seconds": 3.0, "same": False}
    assert _row(goals.table({"validation": differ}), "SHACL").endswith("| **not met** |")
