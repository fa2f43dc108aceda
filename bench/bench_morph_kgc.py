"""Benchmark: the hub's mapping engine against Morph-KGC 2.10, side by side in one run.

Generates a CSV register of `--rows` businesses shaped like the S.MAR.T.I.C source and
maps it with a copy of mappings/smartic-operators.yml (the same YARRRML for both: a
top-level CSV source added, and for Morph-KGC the hub's built-in prefixes `id:`,
`programme:`, `mh:`, `geo:`, ... declared, which the hub refuses to redeclare). Each
engine runs as its own subprocess that reads the CSV, maps it and writes an N-Triples
file: the hub reads the CSV with its `files` harvester, as a pipeline run does, and
writes with `MappingRunner` (one process) or `hub.mapping.parallel` (`--processes`);
Morph-KGC runs `python -m morph_kgc config.ini` (`number_of_processes` 1 or N) in its
own virtual environment, created with pip if it is missing.

Time is the wall clock of each subprocess from start to exit (interpreter start-up,
imports, reading, mapping, writing: nothing subtracted), the median of `--repeat`
runs; peak memory is the largest summed RSS of the subprocess and its children, polled
every 20 ms. The outputs are compared after the first run of each configuration:
both files are parsed by pyoxigraph and written back as N-Triples (that normalises
spelling only: escapes such as \\u00E0 against à, never terms), sorted with
`LC_ALL=C sort`, and compared by SHA-256; any difference fails the benchmark.

    .venv/bin/python bench/bench_morph_kgc.py [--rows 200000] [--repeat 3] [--processes N]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import goals

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAPPING = ROOT / "mappings" / "smartic-operators.yml"
MORPH_VERSION = "2.10.0"
BASE = "https://hub.example.org/"
SOURCE = "smartic-operators"
MORPH, HUB = "Morph-KGC 2.10", "hub"

_TOWNS = [
    ("Portoferraio", "toscana"),
    ("Livorno", "toscana"),
    ("Viareggio", "toscana"),
    ("La Spezia", "liguria"),
    ("Genova", "liguria"),
    ("Alghero", "sardegna"),
    ("Olbia", "sardegna"),
    ("Bastia", "corse"),
    ("L'Île-Rousse", "corse"),
    ("Ajaccio", "corse"),
    ("Nice", "paca"),
    ("Menton", "paca"),
]
_KINDS = [
    ("lodging", "LodgingBusiness", "accommodation", "Locanda", "Auberge"),
    ("food", "FoodEstablishment", "food-wine", "Trattoria", "Table"),
    ("craft", "Store", "crafts", "Bottega", "Atelier"),
    ("attraction", "TouristAttraction", "culture", "Museo", "Musée"),
]
_COLUMNS = [
    "id",
    "name_it",
    "name_fr",
    "type",
    "schema_type",
    "category",
    "municipality",
    "region",
    "lat",
    "lon",
    "website",
    "mark_awarded",
    "description_it",
    "description_fr",
    "description_en",
]


def write_csv(path: Path, rows: int, seed: int = 14) -> None:
    """A register like S.MAR.T.I.C's: accents, quotes, commas, some empty websites."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(_COLUMNS)
        for i in range(rows):
            town, region = _TOWNS[rng.randrange(len(_TOWNS))]
            kind, schema_type, category, it_word, fr_word = _KINDS[rng.randrange(len(_KINDS))]
            name = f"{rng.choice(['del Porto', 'Il Faro', 'Sa Mandra', 'U Scogliu'])} {i}"
            day = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            writer.writerow(
                [
                    f"smc-{i:07d}",
                    f"{it_word} {name}",
                    f"{fr_word} « {name} »",
                    kind,
                    schema_type,
                    category,
                    town,
                    region,
                    f"{rng.uniform(41.0, 44.5):.5f}",
                    f"{rng.uniform(7.0, 11.0):.5f}",
                    "" if rng.random() < 0.1 else f"https://www.op-{i}.example/it/",
                    day,
                    f'{it_word} "{name}" a {town}, nel centro storico; colazione con '
                    "prodotti dell'isola.",
                    f"{fr_word} à {town}, dans la vieille ville : petit-déjeuner.",
                    f"In the old town of {town}, breakfast with produce from the island.",
                ]
            )


def write_mappings(folder: Path, data: Path) -> tuple[Path, Path]:
    """The benchmark's mapping for the hub, and the same with the hub's prefixes for Morph-KGC."""
    from hub.iris import PREFIXES, Iris

    iris = Iris(BASE)
    text = MAPPING.read_text(encoding="utf-8")
    body = text[text.index("prefixes:") :]
    head, mappings = body.split("\nmappings:\n", 1)
    sources = f"sources:\n  register: ['{data}~csv']\n"
    # every mapping reads the register: `sources: register` under each mapping name
    mappings = "".join(
        line
        + (
            "    sources: register\n"
            if line.startswith("  ") and line.endswith(":\n") and not line.startswith("   ")
            else ""
        )
        for line in mappings.splitlines(keepends=True)
    )
    hub_text = f"{head}\n{sources}\nmappings:\n{mappings}"
    builtin = dict(PREFIXES)
    builtin.update(
        {"id": iris.entity_prefix(SOURCE), "hubid": f"{BASE}id/", "programme": iris.programme_base}
    )
    declared = "".join(f"  {prefix}: {iri}\n" for prefix, iri in builtin.items())
    morph_text = hub_text.replace("prefixes:\n", f"prefixes:\n{declared}", 1)
    hub_path, morph_path = folder / "hub.yml", folder / "morph.yml"
    hub_path.write_text(hub_text, encoding="utf-8")
    morph_path.write_text(morph_text, encoding="utf-8")
    return hub_path, morph_path


# -- the hub's side, run as a subprocess of this script -------------------------
def hub_main(mapping_path: str, data: str, out: str, processes: int) -> None:
    """Read the CSV with the files harvester, map it, write N-Triples (one subprocess)."""
    from harvesters.files import harvest_files
    from hub.iris import Iris
    from hub.mapping.compile import load_mapping
    from hub.mapping.runner import MappingRunner

    mapping = load_mapping(Path(mapping_path), source_id=SOURCE, iris=Iris(BASE))
    records = harvest_files(SOURCE, {"path": data, "format": "csv"}, root=Path("/"))
    runner = MappingRunner(mapping, source=SOURCE, record_key="id", processes=processes)
    with open(out, "wb") as sink:
        for chunk in runner.run(records):
            sink.write(chunk)
    stats = runner.stats
    if stats.failed:
        sys.exit(f"{stats.failed} records failed: {stats.failures[0].message(SOURCE)}")


# -- measuring --------------------------------------------------------------------
def _tree_rss(pid: int) -> int:
    """The summed RSS (bytes) of a process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def timed(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, children included) and peak summed RSS."""
    log = cwd / "stderr.log"
    with log.open("w") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.02)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{log.read_text()[-3000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, peak


def normalised_digest(path: Path, folder: Path) -> tuple[str, int]:
    """SHA-256 and line count of the file's triples, re-serialised by pyoxigraph and sorted."""
    import pyoxigraph

    canonical = folder / (path.name + ".canonical")
    with path.open("rb") as source, canonical.open("wb") as sink:
        pyoxigraph.serialize(
            pyoxigraph.parse(source, format=pyoxigraph.RdfFormat.N_TRIPLES),
            sink,
            format=pyoxigraph.RdfFormat.N_TRIPLES,
        )
    env = dict(os.environ, LC_ALL="C")
    sorted_text = subprocess.run(
        ["sort", "-S", "25%", "-T", str(folder), str(canonical)],
        env=env,
        check=True,
        capture_output=True,
    ).stdout
    canonical.unlink()
    return hashlib.sha256(sorted_text).hexdigest(), sorted_text.count(b"\n")


def morph_python(given: str) -> str:
    """The Python of a virtual environment with Morph-KGC, created when missing."""
    python = Path(given)
    if python.exists():
        return str(python)
    venv = python.parent.parent
    print(f"installing morph-kgc=={MORPH_VERSION} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"morph-kgc=={MORPH_VERSION}"], check=True
    )
    return str(python)


def morph_config(folder: Path, mapping: Path, out: Path, processes: int) -> Path:
    config = folder / f"morph-{processes}.ini"
    config.write_text(
        "[CONFIGURATION]\n"
        f"output_file={out}\noutput_format=N-TRIPLES\nnumber_of_processes={processes}\n"
        "logging_level=WARNING\n\n"
        f"[DataSource1]\nmappings={mapping}\n",
        encoding="utf-8",
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="processes of the all-cores runs (default: the CPUs)",
    )
    parser.add_argument("--morph-python", default="/tmp/mkgc/bin/python")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--hub-run", nargs=4, metavar=("MAPPING", "CSV", "OUT", "PROCESSES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.hub_run:
        mapping, data, out, processes = args.hub_run
        hub_main(mapping, data, out, int(processes))
        return

    python = morph_python(args.morph_python)
    folder = Path(tempfile.mkdtemp(prefix="bench-morph-"))
    try:
        data = folder / "register.csv"
        write_csv(data, args.rows)
        hub_mapping, morph_mapping = write_mappings(folder, data)
        configs = [(MORPH, 1), (HUB, 1)]
        if args.processes > 1:
            configs += [(MORPH, args.processes), (HUB, args.processes)]
        commands = {}
        for engine, processes in configs:
            out = folder / f"{engine.split()[0]}-{processes}.nt"
            if engine == HUB:
                hub_args = [str(hub_mapping), str(data), str(out), str(processes)]
                commands[(engine, processes)] = (
                    [sys.executable, __file__, "--hub-run", *hub_args],
                    out,
                )
            else:
                config = morph_config(folder, morph_mapping, out, processes)
                commands[(engine, processes)] = ([python, "-m", "morph_kgc", str(config)], out)
        results: dict[tuple[str, int], list[tuple[float, float, int]]] = {c: [] for c in configs}
        digests = {}
        raw_digests = {}
        # Rounds interleave the engines, so that a busier minute of the machine hits both.
        for attempt in range(args.repeat):
            for key in configs:
                command, out = commands[key]
                results[key].append(timed(command, folder))
                print(
                    f"  round {attempt + 1}: {key[0]} x{key[1]}: {results[key][-1][0]:.2f} s",
                    flush=True,
                )
                if attempt == 0:
                    digests[key] = normalised_digest(out, folder)
                    raw_digests[key] = hashlib.sha256(out.read_bytes()).hexdigest()
                out.unlink()
        reference = digests[(MORPH, 1)]
        differing = [key for key, digest in digests.items() if digest != reference]
        hub_runs = [key for key in configs if key[0] == HUB]
        hub_same = len({raw_digests[key] for key in hub_runs}) == 1
        print()
        print(
            f"| engine | processes | rows | triples | seconds (median of {args.repeat}) "
            "| CPU s | rows/s | triples/s | peak RSS MiB | vs Morph-KGC |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for engine, processes in configs:
            runs = results[(engine, processes)]
            seconds = statistics.median(s for s, _, _ in runs)
            cpu = statistics.median(c for _, c, _ in runs)
            peak = max(p for _, _, p in runs) / 2**20
            morph = statistics.median(s for s, _, _ in results[(MORPH, processes)])
            triples = digests[(engine, processes)][1]
            print(
                f"| {engine} | {processes} | {args.rows:,} | {triples:,} | {seconds:.2f} | "
                f"{cpu:.1f} | {args.rows / seconds:,.0f} | {triples / seconds:,.0f} | "
                f"{peak:.0f} | {morph / seconds:.2f}x |"
            )
        print()
        if differing:
            raise SystemExit(f"outputs differ from Morph-KGC's (x1): {differing}")
        if not hub_same:
            raise SystemExit(
                "the hub's parallel output is not byte for byte its single-process one"
            )
        print(
            f"outputs identical after normalising and sorting ({reference[1]:,} triples, "
            f"sha256 {reference[0][:16]}…); the hub's runs byte for byte identical to each other"
        )

        def ratio(processes: int) -> float:
            morph = statistics.median(s for s, _, _ in results[(MORPH, processes)])
            return morph / statistics.median(s for s, _, _ in results[(HUB, processes)])

        goals.record(
            "mapping",
            {
                "rows": args.rows,
                "identical": True,
                "ratio_1": ratio(1),
                "ratio_n": ratio(args.processes) if args.processes > 1 else ratio(1),
                "processes": args.processes,
            },
        )
    finally:
        if args.keep:
            print(f"work folder kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
