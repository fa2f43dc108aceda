"""The kill test, bigger: SIGKILL `hub harvest` of a 250,000-row CSV (1.75 M triples) at random
moments, many times; after each, `hub sources` must answer and the store hold exactly one whole
version (old or new) that the read model serves too. Prints each round and a summary.

    python bench/bench_kill.py                       # 250,000 rows, 20 rounds, server backend
    python bench/bench_kill.py --rows 100000 --rounds 40 --backend embedded
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.killhub import KillHub  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=["server", "embedded"], default="server")
    parser.add_argument("--max-update-bytes", type=int, default=0, help="force changes in steps")
    args = parser.parse_args()
    extra = f"max_update_bytes = {args.max_update_bytes}" if args.max_update_bytes else ""
    hub = KillHub(
        Path(tempfile.mkdtemp(prefix="hub-kill-")) / "hub",
        rows=args.rows,
        backend=args.backend,
        store_extra=extra,
        wide=True,
    )
    hub.write_csv("t0")
    started = time.monotonic()
    first = hub.run("harvest", "big")
    longest = time.monotonic() - started
    if first.returncode != 0:
        sys.exit(f"the first harvest failed:\n{first.stdout}\n{first.stderr}")
    print(f"first harvest of {args.rows:,} rows: {longest:.1f}s", flush=True)
    rng = random.Random(args.seed)
    old, outcomes = "t0", {"old": 0, "new": 0}
    for number in range(1, args.rounds + 1):
        t0 = time.monotonic()
        result = hub.kill_round(number, rng, longest, old, f"t{number}")
        outcomes[result.outcome] += 1
        old = result.tag or old
        print(
            f"round {number:2}: killed {result.target:6} at {result.after_s:5.1f}s -> {result.outcome} "
            f"version; recovered and checked in {time.monotonic() - t0 - result.after_s:.1f}s",
            flush=True,
        )
    print(
        f"\n{args.rounds} kills: {outcomes['old']} left the old version, {outcomes['new']} the new; "
        "every time `hub sources` answered and the graph was exactly one whole version"
    )


if __name__ == "__main__":
    main()
