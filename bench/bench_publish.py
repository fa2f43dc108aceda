"""Benchmark: harvest-map-validate-publish a generated CSV vs pyoxigraph's own bulk loader.

Generates a CSV of N rows (id, name, lat, lon, municipality, category; seven
triples a row) and the same triples as a pre-written N-Triples file. In the
same run it measures, each in a fresh child process with a fresh store:

- floor: `pyoxigraph.Store.bulk_load` of the N-Triples file (what we cannot beat);
- hub:   `hub harvest` of the CSV through the whole pipeline (files harvester,
         YARRRML mapping, staging, SHACL validation, atomic publish, provenance),
         then twice again unchanged: the same file, and the same records in a file
         rewritten (the share of the first run each costs).

Prints rows/s, triples/s, seconds per phase and peak memory (max RSS); then, from
bench/bench_republish.py, the time to re-publish sources of 1M and 5M triples, the
longest time any reader saw no or a partial graph (must be 0) and peak memory.

`--sources K` then loads K sources of `--source-rows` rows each, one after the other, into
one hub, and prints each run's time and phases: a source's cost should not grow with what
the hub already holds (the K-th against the first). Usage:

    python bench/bench_publish.py                 # 1,000,000 rows (and 100,000 for memory growth)
    python bench/bench_publish.py --rows 200000 --small 20000 --republish
    python bench/bench_publish.py --rows 0 --small 0 --republish --sources 10 --source-rows 100000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import goals

TOWNS = [
    "Lucca",
    "Pisa",
    "Livorno",
    "Genova",
    "La Spezia",
    "Sanremo",
    "Cagliari",
    "Alghero",
    "Olbia",
    "Ajaccio",
    "Bastia",
    "Bonifacio",
    "Nice",
    "Antibes",
    "Menton",
    "Toulon",
]
CATEGORIES = [
    "nature",
    "culture-heritage",
    "food-wine",
    "sea-coast",
    "outdoor",
    "events",
]  # themes.ttl
BASE = "https://hub.example.org/"
SCHEMA = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"

MAPPING = """\
prefixes:
  category: https://w3id.org/marittimo-hub/category/
mappings:
  place:
    s: id:$(id)
    po:
      - [a, schema:TouristAttraction]
      - [schema:identifier, $(id)]
      - [schema:name, $(name), it~lang]
      - [schema:latitude, $(lat), xsd:decimal]
      - [schema:longitude, $(lon), xsd:decimal]
      - [schema:addressLocality, $(municipality)]
      - [mh:category, category:$(category)~iri]
"""

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix b: <https://example.org/bench#> .
b:Place a sh:NodeShape ; sh:targetClass schema:TouristAttraction ;
  sh:property [ sh:path schema:name ; sh:minCount 1 ; sh:datatype rdf:langString ] ;
  sh:property [ sh:path schema:identifier ; sh:minCount 1 ; sh:maxCount 1 ] ;
  sh:property [ sh:path schema:latitude ; sh:datatype xsd:decimal ; sh:maxCount 1 ;
                sh:minInclusive -90 ; sh:maxInclusive 90 ] ;
  sh:property [ sh:path schema:longitude ; sh:datatype xsd:decimal ; sh:maxCount 1 ;
                sh:minInclusive -180 ; sh:maxInclusive 180 ] .
"""

HUB = """\
[hub]
store = "store"
shapes = "shapes.ttl"
keep_versions = 1
"""


SOURCE = """
[sources.{id}]
project = "smart-destination"
kind = "files"
mapping = "mapping.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:bench@example.org"
key = "id"
[sources.{id}.options]
path = "{path}"
"""

CONFIG = HUB + SOURCE.format(id="bench-places", path="places.csv")


def generate(folder: Path, rows: int, source: str = "bench-places", seed: int = 42) -> None:
    """Write places.csv and the same data as places.nt (what the mapping makes)."""
    rng = random.Random(seed)
    entity = f"{BASE}id/{source}/"
    stem = "places" if source == "bench-places" else source
    with (
        (folder / f"{stem}.csv").open("w", encoding="utf-8") as csv,
        (folder / f"{stem}.nt").open("w", encoding="utf-8") as nt,
    ):
        csv.write("id,name,lat,lon,municipality,category\n")
        for i in range(rows):
            town = rng.choice(TOWNS)
            cat = rng.choice(CATEGORIES)
            lat = f"{rng.uniform(41.0, 44.5):.5f}"
            lon = f"{rng.uniform(7.0, 11.0):.5f}"
            name = f"Luogo {i} di {town}"
            csv.write(f"b{i},{name},{lat},{lon},{town},{cat}\n")
            s = f"<{entity}b{i}>"
            nt.write(
                f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SCHEMA}TouristAttraction> .\n"
                f'{s} <{SCHEMA}identifier> "b{i}" .\n'
                f'{s} <{SCHEMA}name> "{name}"@it .\n'
                f'{s} <{SCHEMA}latitude> "{lat}"^^<{XSD}decimal> .\n'
                f'{s} <{SCHEMA}longitude> "{lon}"^^<{XSD}decimal> .\n'
                f'{s} <{SCHEMA}addressLocality> "{town}" .\n'
                f"{s} <https://w3id.org/marittimo-hub/ns#category> "
                f"<https://w3id.org/marittimo-hub/category/{cat}> .\n"
            )
    (folder / "mapping.yml").write_text(MAPPING, encoding="utf-8")
    (folder / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    (folder / "hub.toml").write_text(CONFIG, encoding="utf-8")


def peak_mb() -> float:
    """Peak RSS of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_peak_mb() -> float:
    """Peak RSS of the largest finished child (the store server), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cpu_seconds(before: os.times_result, after: os.times_result, *, children: bool) -> float:
    """CPU time (user + system) between two `os.times()`: this process's, or its reaped
    children's (each with the children it reaped in turn)."""
    if children:
        return (
            after.children_user
            + after.children_system
            - (before.children_user + before.children_system)
        )
    return after.user + after.system - (before.user + before.system)


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a live process has used so far (Linux /proc), else 0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class ResentWrites(logging.Handler):
    """Counts the publish's writes the store did not take and that were sent again
    (`Publisher._again`): a run with any is slower than its work (decisions #48)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "writing it again" in record.getMessage():
            self.count += 1


def phase_floor(folder: Path) -> dict:
    import pyoxigraph as ox

    store = ox.Store(str(folder / "floor-store"))
    before = os.times()
    start = time.perf_counter()
    store.bulk_load(
        path=str(folder / "places.nt"),
        format=ox.RdfFormat.N_TRIPLES,
        to_graph=ox.NamedNode(f"{BASE}graph/bench-places"),
    )
    store.flush()
    seconds = time.perf_counter() - start
    cpu = {"bulk_load": cpu_seconds(before, os.times(), children=False)}
    return {"seconds": seconds, "triples": len(store), "peak_mb": peak_mb(), "cpu": cpu}


def phase_hub(folder: Path) -> dict:
    from hub.config import load_config
    from hub.pipeline.programme import load_programme
    from hub.pipeline.run import run_source
    from hub.store import connect_store
    from hub.store.server import running_server

    config = load_config(folder / "hub.toml")
    store = connect_store(config)  # the default backend: a child `oxigraph serve`
    load_programme(store, config)
    resent = ResentWrites()
    logging.getLogger("hub.publish").addHandler(resent)
    server = running_server((folder / "store").resolve())
    server_pid = int(server["pid"]) if server else 0
    server_before = process_cpu_seconds(server_pid)
    before = os.times()
    start = time.perf_counter()
    report = run_source(config, store, "bench-places")
    store.flush()
    seconds = time.perf_counter() - start
    after = os.times()
    cpu = {  # where the run's core-seconds went (the read model's child is reaped by now)
        "hub process": cpu_seconds(before, after, children=False),
        "read model processes": cpu_seconds(before, after, children=True),
        "store server": process_cpu_seconds(server_pid) - server_before,
    }
    again = {}  # unchanged re-harvests: the same file, then the same records in another file
    for case in ("the same file", "the same records, the file rewritten"):
        if case != "the same file":
            with (folder / "places.csv").open("a", encoding="utf-8") as csv:
                csv.write("\n")
        started = time.perf_counter()
        rerun = run_source(config, store, "bench-places")
        again[case] = {
            "seconds": time.perf_counter() - started,
            "status": rerun.status,
            "phases": rerun.phases,
        }
    store.close()
    return {
        "again": again,
        "resent": resent.count,
        "seconds": seconds,
        "status": report.status,
        "message": report.message,
        "records": report.records,
        "triples": report.triples,
        "phases": report.phases,
        "cpu": cpu,
        "peak_mb": peak_mb(),
        "server_peak_mb": child_peak_mb(),
    }


def phase_many(folder: Path, count: int) -> dict:
    """Load `count` generated sources one after the other into one hub; each run's figures."""
    from hub.config import load_config
    from hub.pipeline.programme import load_programme
    from hub.pipeline.run import run_source
    from hub.store import connect_store

    config = load_config(folder / "hub.toml")
    store = connect_store(config)
    load_programme(store, config)
    runs = []
    for number in range(1, count + 1):
        start = time.perf_counter()
        report = run_source(config, store, f"src{number:02}")
        seconds = time.perf_counter() - start
        runs.append(
            {"seconds": seconds, "status": report.status, "message": report.message,
             "triples": report.triples, "phases": report.phases,
             "store_triples": report.triples * number}
        )  # fmt: skip
        print(f"[source {number}/{count}] {seconds:.1f}s ({report.status})", file=sys.stderr)
    store.close()
    return {"runs": runs, "peak_mb": peak_mb(), "server_peak_mb": child_peak_mb()}


def measure_many(count: int, rows: int, work: Path) -> dict:
    """K sources of `rows` rows in one hub: does a source's run cost grow with the hub?"""
    folder = work / f"many-{count}x{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = HUB
    for number in range(1, count + 1):
        source = f"src{number:02}"
        generate(folder, rows, source=source, seed=number)
        (folder / f"{source}.nt").unlink()
        config += SOURCE.format(id=source, path=f"{source}.csv")
    (folder / "hub.toml").write_text(config, encoding="utf-8")
    result = child("many", folder, count)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def report_many(result: dict, rows: int) -> None:
    runs = result["runs"]
    names = sorted({name for run in runs for name in run["phases"]})
    print()
    print(f"{len(runs)} sources of {rows:,} rows, one after the other in one hub:")
    print("| source | hub holds (triples) | seconds | vs first | " + " | ".join(names) + " |")
    print("|---:|---:|---:|---:|" + "---:|" * len(names))
    first = runs[0]["seconds"]
    for number, run in enumerate(runs, 1):
        phases = " | ".join(f"{run['phases'].get(name, 0):.1f}" for name in names)
        print(
            f"| {number} | {run['store_triples']:,} | {run['seconds']:.1f} | "
            f"{run['seconds'] / first:.2f}x | {phases} |"
        )
    print(
        f"peak MB: process {result['peak_mb']:,.0f}, store server {result['server_peak_mb']:,.0f}"
    )


def child(phase: str, folder: Path, count: int = 0) -> dict:
    """Run one phase in a fresh interpreter, so its peak memory is its own."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--folder",
            str(folder),
            "--sources",
            str(count),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(rows: int, work: Path) -> dict:
    folder = work / f"rows-{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    start = time.perf_counter()
    generate(folder, rows)
    print(
        f"[{rows:,} rows] generated CSV and N-Triples in {time.perf_counter() - start:.1f}s",
        flush=True,
    )
    floor = child("floor", folder)
    print(f"[{rows:,} rows] floor done in {floor['seconds']:.1f}s", flush=True)
    hub = child("hub", folder)
    print(f"[{rows:,} rows] hub done in {hub['seconds']:.1f}s ({hub['status']})", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return {"rows": rows, "floor": floor, "hub": hub}


def report(results: list[dict]) -> None:
    print()
    print(
        "| rows | path | seconds | rows/s | triples/s | peak MB (process) | peak MB (store server) | vs floor |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        rows, floor, hub = r["rows"], r["floor"], r["hub"]
        for name, m in (("bulk_load floor", floor), ("hub harvest", hub)):
            print(
                f"| {rows:,} | {name} | {m['seconds']:.1f} | {rows / m['seconds']:,.0f} | "
                f"{m['triples'] / m['seconds']:,.0f} | {m['peak_mb']:,.0f} | "
                f"{m.get('server_peak_mb', 0):,.0f} | {m['seconds'] / floor['seconds']:.2f}x |"
            )
    print()
    print()
    print("| rows | unchanged re-harvest | seconds | status | share of the first run |")
    print("|---:|---|---:|---|---:|")
    for r in results:
        for case, m in r["hub"].get("again", {}).items():
            print(
                f"| {r['rows']:,} | {case} | {m['seconds']:.2f} | {m['status']} | "
                f"{m['seconds'] / r['hub']['seconds']:.1%} |"
            )
    print()
    for r in results:
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in r["hub"]["phases"].items())
        print(f"{r['rows']:,} rows, hub phases: {phases}")
        for case, m in r["hub"].get("again", {}).items():
            again = ", ".join(f"{k} {v:.2f}s" for k, v in m.get("phases", {}).items())
            print(f"  {case}, phases: {again or '(none)'}")
        print(f"  writes the store did not take, sent again: {r['hub'].get('resent', 0)}")
        if r["hub"]["status"] != "published":
            print(f"  run status {r['hub']['status']}: {r['hub']['message']}")
    print()
    print(f"CPU (user + system) against wall time, {os.cpu_count()} cores:")
    print("| rows | path | CPU s | of which | wall s | cores busy |")
    print("|---:|---|---:|---|---:|---:|")
    for r in results:
        for name, m in (("bulk_load floor", r["floor"]), ("hub harvest", r["hub"])):
            parts = m.get("cpu", {})
            total = sum(parts.values())
            detail = ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
            print(
                f"| {r['rows']:,} | {name} | {total:.1f} | {detail} | {m['seconds']:.1f} | "
                f"{total / m['seconds']:.2f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--small",
        type=int,
        default=100_000,
        help="a smaller run to show whether peak memory grows with rows (0: skip)",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--republish",
        type=int,
        nargs="*",
        default=[1_000_000, 5_000_000],
        help="also re-publish sources of these many triples while readers query them "
        "(bench/bench_republish.py); none to skip",
    )
    parser.add_argument(
        "--sources", type=int, default=0,
        help="then load this many sources one after the other into one hub (0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--source-rows", type=int, default=100_000, help="rows of each of --sources"
    )
    parser.add_argument("--phase", choices=["floor", "hub", "many"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        if args.phase == "many":
            result = phase_many(args.folder, args.sources)
        else:
            result = phase_floor(args.folder) if args.phase == "floor" else phase_hub(args.folder)
        print(json.dumps(result))
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="hub-bench-"))
    sizes = [s for s in (args.small, args.rows) if s]
    results = [measure(rows, work) for rows in sizes]
    if results:
        report(results)
        record_goals(results[-1])
    if args.republish:
        import bench_republish

        republished = []
        for triples in args.republish:
            republished += bench_republish.run_size(work, triples)
        bench_republish.report(republished)
    if args.sources:
        many = measure_many(args.sources, args.source_rows, work)
        report_many(many, args.source_rows)
        seconds = [run["seconds"] for run in many["runs"]]
        if len(seconds) > 2:
            others = [s / seconds[0] for s in seconds[1:-1]]
            last = {"last": seconds[-1] / seconds[0], "others": [min(others), max(others)]}
            goals.record("ingest", {**last, "sources": len(seconds)})


def record_goals(result: dict) -> None:
    """The largest run's ratio to the floor and its unchanged re-harvests, for bench_all."""
    hub, floor = result["hub"], result["floor"]
    goals.record(
        "ingest",
        {
            "rows": result["rows"],
            "ratio": hub["seconds"] / floor["seconds"],
            "seconds": hub["seconds"],
            "floor_s": floor["seconds"],
            "unchanged": {
                case: m["seconds"] / hub["seconds"] for case, m in hub.get("again", {}).items()
            },
        },
    )


if __name__ == "__main__":
    main()
