"""Every performance figure of docs/performance.md from one command, each against its peer.

Runs, one after the other (never two at once: each wants the machine to itself), the
benchmarks that answer "how fast is the hub":

    mapping      bench_morph_kgc.py   the YARRRML engine against Morph-KGC 2.10, 200,000 CSV
                                      rows, one process and all cores, outputs compared
    validation   bench_validation.py  SHACL on 1M staged triples against pySHACL, same results
    ingest       bench_publish.py     harvest, map, validate, publish, read model, feed and
                                      dumps of 1M rows against pyoxigraph's bulk load of the
                                      same N-Triples; then 10 sources of 100,000 rows into one
                                      hub (the 10th against the 1st)
    api          bench_api.py         /api/v1 percentiles at 1 and 16 clients on 1M entities,
                                      in the server's threads and with api_processes = 3

Each prints its own table (see its docstring for what it measures); this script adds the
machine and the wall time of each, and ends with one table of the goals of issue 14: each
goal, what this run measured (the benchmarks record their key figures in a file named by
`HUB_BENCH_GOALS`, see `goals.py`), and whether it is met. `--quick` runs the same at a
tenth of the size (a smoke run: the figures of record are the full ones).

    python bench/bench_all.py                   # ~30 min to 2 hours on 2 cores
    python bench/bench_all.py --quick           # ~15 minutes
    python bench/bench_all.py --only mapping validation
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import goals

BENCH = Path(__file__).resolve().parent

FULL: dict[str, list[str]] = {
    "mapping": ["bench_morph_kgc.py", "--rows", "200000", "--repeat", "3"],
    "validation": ["bench_validation.py", "--triples", "1000000"],
    "ingest": [
        "bench_publish.py",
        "--rows",
        "1000000",
        "--small",
        "0",
        "--republish",
        "--sources",
        "10",
        "--source-rows",
        "100000",
    ],  # fmt: skip
    "api": ["bench_api.py", "--entities", "1000000", "--api-processes", "0,3"],
}
QUICK: dict[str, list[str]] = {
    "mapping": ["bench_morph_kgc.py", "--rows", "20000", "--repeat", "1"],
    "validation": ["bench_validation.py", "--triples", "100000"],
    "ingest": [
        "bench_publish.py",
        "--rows",
        "100000",
        "--small",
        "0",
        "--republish",
        "--sources",
        "3",
        "--source-rows",
        "20000",
    ],  # fmt: skip
    "api": ["bench_api.py", "--entities", "100000", "--seconds", "5", "--api-processes", "0,3"],
}


def machine() -> str:
    """CPU model, cores, memory and Python: the context every figure needs."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = Path("/proc/meminfo").read_text().split()[1]
        gib = f"{int(memory) / 1024 / 1024:.0f} GiB"
    except OSError:
        gib = "unknown memory"
    return (
        f"{model}, {os.cpu_count()} CPUs, {gib}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--only", nargs="+", choices=list(FULL), help="run only these")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    names = args.only or list(plan)
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (figures assume an idle machine)")
    failed = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-goals-") as folder:
        figures = Path(folder) / "goals.json"
        env = {**os.environ, goals.ENV: str(figures)}  # each benchmark records its figures
        for name in names:
            command = [sys.executable, str(BENCH / plan[name][0]), *plan[name][1:]]
            print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
            started = time.perf_counter()
            result = subprocess.run(command, check=False, env=env)
            print(f"=== {name}: {time.perf_counter() - started:.0f} s, exit {result.returncode}")
            if result.returncode != 0:
                failed.append(name)
        recorded = json.loads(figures.read_text(encoding="utf-8")) if figures.is_file() else {}
    size = "quick run: a tenth of the sizes, " if args.quick else ""
    print(f"\n=== the goals, from the figures above ({size}machine: {machine()})")
    print(goals.table({part: recorded.get(part, {}) for part in names}))
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
