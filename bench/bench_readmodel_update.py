"""Benchmark: the read model updated from a publish's change set against rebuilding the source.

Takes one published source of a `bench_api.py` work folder (its hub.toml and version
file), and for a growing share of its entities edited (their names and descriptions
rewritten, as a re-harvest that changed them would), measures in the same run:

    update    `update_source`: the change set's entities re-read and rewritten
    rebuild   `rebuild_source`: the whole source re-read and rewritten

on a copy of the hub's data folder, so the work folder is not changed. The share where
the two cost the same is where `MAX_CHANGE_SHARE` (hub/readmodel/_update.py) belongs.

    python bench/bench_api.py --entities 200000 --workdir W --keep   # once
    python bench/bench_readmodel_update.py --workdir W --source bench-00
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from hub.config import load_config
from hub.pipeline.versions import diff_versions
from hub.readmodel import _update, rebuild_source, update_source

NAME = b'> <http://schema.org/name> "'
DESCRIPTION = b'> <http://schema.org/description> "'


def edited(lines: list[bytes], share: float, seed: int) -> tuple[list[bytes], int]:
    """The version with `share` of its entities' names and descriptions rewritten; entities."""
    subjects = sorted({line.split(b" ", 1)[0] for line in lines if NAME in line})
    chosen = set(random.Random(seed).sample(subjects, round(len(subjects) * share)))
    out = []
    for line in lines:
        if (NAME in line or DESCRIPTION in line) and line.split(b" ", 1)[0] in chosen:
            head, _, tail = line.partition(b' "')
            line = head + b' "Edited ' + tail
        out.append(line)
    return sorted(set(out)), len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--source", default="bench-00")
    parser.add_argument(
        "--shares",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5],
    )
    args = parser.parse_args()
    _update.MAX_CHANGE_SHARE = 1.0  # measure past the threshold too
    with tempfile.TemporaryDirectory(prefix="hub-bench-rm-") as tmp:
        folder = Path(tmp)
        for name in ("hub.toml", "mapping.yml"):
            shutil.copy(args.workdir / name, folder / name)
        config = load_config(folder / "hub.toml")
        *_, version_in = sorted((args.workdir / "var" / "versions" / args.source).glob("*.nt"))
        base = folder / "base.nt"
        shutil.copy(version_in, base)
        lines = base.read_bytes().splitlines(keepends=True)
        rows = []
        for i, share in enumerate(args.shares):
            new = folder / f"v{i}.nt"
            changed, entities = edited(lines, share, seed=i)
            new.write_bytes(b"".join(changed))
            removed, added = folder / f"r{i}.nt", folder / f"a{i}.nt"
            counts = diff_versions(base, new, removed, added)
            rebuild_source(config, args.source, base, run_id="base")
            t0 = time.perf_counter()
            update_source(
                config, args.source, new, previous_run="base", removed=removed, added=added
            )
            update_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            total = rebuild_source(config, args.source, new, run_id=f"v{i}")
            rebuild_s = time.perf_counter() - t0
            change_share = (removed.stat().st_size + added.stat().st_size) / new.stat().st_size
            rows.append(
                (share, entities, counts.removed + counts.added, change_share, update_s, rebuild_s)
            )
            print(f"{share:.3f} done", flush=True)
    print(f"\n{args.source}: {total:,} entities, {len(lines):,} triples; 2-core shared machine")
    print(
        "| entities edited | entities | triples changed | change bytes / version | update s | rebuild s | update / rebuild |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for share, entities, triples, change_share, update_s, rebuild_s in rows:
        print(
            f"| {share:.1%} | {entities:,} | {triples:,} | {change_share:.1%} | {update_s:.2f} | "
            f"{rebuild_s:.1f} | {update_s / rebuild_s:.3f} |"
        )


if __name__ == "__main__":
    main()
