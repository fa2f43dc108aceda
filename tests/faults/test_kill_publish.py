"""SIGKILL `hub harvest` (or only its store server) at random moments of re-harvests of a
100,000-row source: every time the hub starts again with no hand repair, and the graph is
exactly the old or the new version, as the read model is. Seeded; `bench/bench_kill.py`
runs the bigger version."""

from __future__ import annotations

import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.killhub import KillHub

ROWS = 100_000
ROUNDS = int(os.environ.get("HUB_KILL_ROUNDS", "20"))
SEED = int(os.environ.get("HUB_KILL_SEED", "20261204"))


@dataclass
class FirstHarvest:
    """A hub whose first harvest (tag t0) published, and how long that harvest took."""

    root: Path
    seconds: float


@pytest.fixture(scope="module")
def first_harvest(tmp_path_factory: pytest.TempPathFactory) -> FirstHarvest:
    """The first harvest of the source (the longest: nothing to compare, the read model whole),
    made once and copied for each way of writing the store: the kills land in later harvests."""
    hub = KillHub(tmp_path_factory.mktemp("kill") / "hub", rows=ROWS)
    hub.write_csv("t0")
    started = time.monotonic()
    first = hub.run("harvest", "big")
    seconds = time.monotonic() - started
    assert first.returncode == 0, first.stdout + first.stderr
    return FirstHarvest(hub.root, seconds)


@pytest.mark.parametrize(
    "store_extra", ["", "max_update_bytes = 1048576"], ids=["one-transaction", "in-steps"]
)
def test_kills_at_random_moments_leave_a_whole_version(
    tmp_path: Path, store_extra: str, first_harvest: FirstHarvest
) -> None:
    shutil.copytree(first_harvest.root, tmp_path / "hub")
    hub = KillHub(tmp_path / "hub", rows=ROWS, store_extra=store_extra)  # its own hub.toml
    # Kills land at random in the first 90% of the longest harvest known: the first one at
    # the start, then, for each share of rows changed, the longest re-harvest that ended
    # before its kill and published (re-harvests take a sixth to a half of the first one,
    # so moments drawn from its span mostly came after their end: rounds that killed nothing).
    longest = first_harvest.seconds
    spans: dict[float, float] = {}
    rng = random.Random(SEED + len(store_extra))
    old = "t0"
    outcomes = []
    number = 0
    while sum(r.target in ("group", "store") for r in outcomes) < ROUNDS // 2:
        number += 1
        assert number <= ROUNDS, "too many harvests ended before their kill"
        result = hub.kill_round(number, rng, longest, old, f"t{number}", spans)
        outcomes.append(result)
        old = result.tag or old
        if (
            result.target.startswith("none")
            and result.harvest_exit == 0
            and result.outcome == "new"
        ):
            spans[result.changed] = max(spans.get(result.changed, 0.0), result.harvest_s)
    # the rounds are a real test: some kills landed before the publish, some after it
    print(f"\nfirst harvest {longest:.1f}s")
    print(
        "\n".join(
            f"{r.number}: killed {r.target} at {r.after_s:.1f}s -> {r.outcome} ({r.changed:.0%} "
            f"of rows changed; harvest "
            f"{r.harvest_s:.1f}s exit {r.harvest_exit}, hub sources {r.recover_s:.1f}s, "
            f"check {r.check_s:.1f}s)"
            for r in outcomes
        )
    )
    assert {r.outcome for r in outcomes} == {"old", "new"}
