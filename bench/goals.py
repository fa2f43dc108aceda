"""The performance goals of issue 14, and the figures the benchmarks record for them.

`bench_all.py` names a JSON file in `HUB_BENCH_GOALS`; each benchmark it runs merges its
key figures into that file (`record`), and `bench_all.py` ends with one table (`table`):
each goal, what this run measured, and whether it is met. A benchmark run alone records
nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV = "HUB_BENCH_GOALS"
API_CALLS = ("list", "search", "bbox", "radius", "stats", "entity", "mix")
API_P95_MS = 50.0
MAPPING_RATIO = 4.0
INGEST_RATIO = 1.5
UNCHANGED_SHARE = 0.01
SHACL_SECONDS = 10.0
"""What "in seconds, not tens of seconds" is taken to mean for 1M triples."""
MIN_SOURCES = 5
"""Sources one after the other before the last one's cost is judged against the others'."""


def record(part: str, figures: dict[str, Any]) -> None:
    """Merge `figures` under `part` into the file `HUB_BENCH_GOALS` names, if it names one."""
    where = os.environ.get(ENV)
    if not where:
        return
    path = Path(where)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data.setdefault(part, {}).update(figures)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


Row = tuple[str, str, str]
"""A goal, what this run measured, and the verdict."""
NOT_RUN = "not measured (its benchmark did not run)"


def _judge(met: bool) -> str:
    return "met" if met else "**not met**"


def _mapping(m: dict[str, Any]) -> list[Row]:
    if not m:
        return [(f"mapping ≥ {MAPPING_RATIO:g}x Morph-KGC, one process", "", NOT_RUN)]
    same = "outputs identical" if m.get("identical") else "outputs differ"
    return [
        (
            f"mapping ≥ {MAPPING_RATIO:g}x Morph-KGC, one process",
            f"{m['ratio_1']:.2f}x ({m['rows']:,} rows; {same})",
            _judge(m["ratio_1"] >= MAPPING_RATIO and bool(m.get("identical"))),
        ),
        (
            "mapping faster than Morph-KGC on all cores",
            f"{m['ratio_n']:.2f}x ({m['processes']} processes each)",
            _judge(m["ratio_n"] > 1.0),
        ),
    ]


def _validation(v: dict[str, Any]) -> list[Row]:
    goal = "SHACL in seconds on a staged graph (1M triples at full size), results = pySHACL's"
    if not v:
        return [(goal, "", NOT_RUN)]
    same = "the same results" if v["same"] else "results differ"
    return [
        (
            goal,
            f"{v['seconds']:.2f} s for {v['triples']:,} triples; {same} on the sample "
            f"({v['results']:,}), {v['speedup']:.0f}x pySHACL",
            _judge(v["seconds"] < SHACL_SECONDS and v["same"]),
        )
    ]


def _ingest(i: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    if "ratio" in i:
        rows.append(
            (
                f"ingest of {i['rows']:,} rows ≤ {INGEST_RATIO:g}x the bulk-load floor, "
                "read model included",
                f"{i['ratio']:.2f}x ({i['seconds']:.1f} s against {i['floor_s']:.1f} s)",
                _judge(i["ratio"] <= INGEST_RATIO),
            )
        )
        worst = max(i["unchanged"].values())
        shares = ", ".join(f"{case} {share:.1%}" for case, share in i["unchanged"].items())
        rows.append(
            (
                f"an unchanged re-harvest < {UNCHANGED_SHARE:.0%} of a full run",
                shares,
                _judge(worst < UNCHANGED_SHARE),
            )
        )
    else:
        rows.append((f"ingest ≤ {INGEST_RATIO:g}x the bulk-load floor", "", NOT_RUN))
    if "last" in i:
        rows.append(
            (
                f"a source's cost independent of the hub's size (the last of {i['sources']} "
                "sources against the first)",
                f"{i['last']:.2f}x (the others {i['others'][0]:.2f}–{i['others'][1]:.2f}x)",
                _spread_verdict(i["last"], i["others"], i["sources"]),
            )
        )
    return rows


def _spread_verdict(last: float, others: list[float], sources: int) -> str:
    """Whether the last source cost no more than the sources between it and the first
    did: its cost does not grow with the hub beyond the run-to-run spread."""
    if sources < MIN_SOURCES:
        return f"not judged: fewer than {MIN_SOURCES} sources show no spread"
    return "met: within the others' spread" if last <= others[1] else "**not met**: above them"


def _api(a: dict[str, Any]) -> list[Row]:
    if not a:
        return [(f"API p95 < {API_P95_MS:g} ms, every call", "", NOT_RUN)]
    rows: list[Row] = []
    for setup, p95 in sorted(a.items()):
        measured = ", ".join(f"{call} {p95[call]:.1f}" for call in API_CALLS if call in p95)
        met = all(call in p95 and p95[call] < API_P95_MS for call in API_CALLS)
        goal = f"API p95 < {API_P95_MS:g} ms, every call ({setup})"
        rows.append((goal, f"{measured} ms", _judge(met)))
    return rows


def table(data: dict[str, Any]) -> str:
    """The goals as a Markdown table: goal, measured, verdict."""
    rows = (
        _mapping(data.get("mapping", {}))
        + _validation(data.get("validation", {}))
        + _ingest(data.get("ingest", {}))
        + _api(data.get("api", {}))
    )
    lines = ["| goal (issue 14) | this run | verdict |", "|---|---|---|"]
    lines += [f"| {goal} | {measured} | {verdict} |" for goal, measured, verdict in rows]
    return "\n".join(lines)
