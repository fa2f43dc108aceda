"""SIGKILL `hub harvest` (or only its store server) at random moments of re-harvests of a
100,000-row source: every time the hub starts again with no hand repair, and the graph is
exactly the old or the new version, as the read model is. Seeded; `bench/bench_kill.py`
runs the bigger version."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from tests.faults.killhub import KillHub

ROWS = 100_000
ROUNDS = int(os.environ.get("HUB_KILL_ROUNDS", "20"))
SEED = int(os.environ.get("HUB_KILL_SEED", "20261204"))


@pytest.mark.parametrize(
    "store_extra", ["", "max_update_bytes = 1048576"], ids=["one-transaction", "in-steps"]
)
def test_kills_at_random_moments_leave_a_whole_version(tmp_path: Path, store_extra: str) -> None:
    hub = KillHub(tmp_path / "hub", rows=ROWS, store_extra=store_extra)
    hub.write_csv("t0")
    started = time.monotonic()
    first = hub.run("harvest", "big")
    longest = time.monotonic() - started
    assert first.returncode == 0, first.stdout + first.stderr
    rng = random.Random(SEED + len(store_extra))
    old = "t0"
    outcomes = []
    number = 0
    while sum(r.target in ("group", "store") for r in outcomes) < ROUNDS // 2:
        number += 1
        assert number <= ROUNDS, "too many harvests ended before their kill"
        result = hub.kill_round(number, rng, longest, old, f"t{number}")
        outcomes.append(result)
        old = result.tag or old
    # the rounds are a real test: some kills landed before the publish, some after it
    print(
        "\n".join(
            f"{r.number}: killed {r.target} at {r.after_s:.1f}s -> {r.outcome}" for r in outcomes
        )
    )
    assert {r.outcome for r in outcomes} == {"old", "new"}
