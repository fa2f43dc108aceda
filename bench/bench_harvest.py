"""Benchmark: the `files` harvester's CSV reader against `csv.DictReader` on the same file.

Writes a CSV of --rows rows shaped like a register of operators (a dozen columns, some
empty cells, quoted fields with a delimiter inside), then reads it to the end with the
`files` harvester (decoding, BOM, header checks, empty cells -> None, the record's
location for error messages) and with the standard library's `csv.DictReader` (which
does none of that), in the same run, and prints one table: CPU seconds (best of
--repeat) and the ratio to DictReader.

    .venv/bin/python bench/bench_harvest.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hub  # noqa: E402, F401  (imports the hub before its harvesters)
from harvesters.files import harvest_files  # noqa: E402

COLUMNS = [
    "id",
    "name_it",
    "name_fr",
    "type",
    "municipality",
    "address",
    "postcode",
    "lat",
    "lon",
    "phone",
    "email",
    "website",
]


def write_csv(path: Path, rows: int) -> None:
    """A CSV of `rows` operators, with empty cells and quoted fields, seeded."""
    rng = random.Random(14)
    towns = ["Genova", "Bastia", "Ajaccio", "La Spezia", "Sassari, centro", "Livorno"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for n in range(rows):
            writer.writerow(
                [
                    f"op-{n}",
                    f"Operatore {n}",
                    f"Opérateur {n}" if n % 3 else "",
                    rng.choice(["hotel", "camping", "b&b", "closed"]),
                    rng.choice(towns),
                    f"Via Roma {n % 200}, {rng.randint(1, 99)}",
                    f"{rng.randint(10000, 99999)}",
                    f"{rng.uniform(41, 45):.6f}",
                    f"{rng.uniform(7, 11):.6f}",
                    "" if n % 4 else f"+39 010 {n:06d}",
                    "" if n % 5 else f"info{n}@example.org",
                    "" if n % 2 else f"https://op{n}.example.org/",
                ]
            )


def harvester(path: Path) -> Iterator[dict]:
    return harvest_files("bench", {"path": path.name}, root=path.parent)


def dict_reader(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8", newline="") as stream:
        yield from csv.DictReader(stream)


def timed(read: Callable[[Path], Iterator[dict]], path: Path, repeat: int) -> tuple[float, int]:
    """Best CPU seconds of `repeat` full reads, and the number of records read."""
    best, count = float("inf"), 0
    for _ in range(repeat):
        start = time.process_time()
        count = sum(1 for _ in read(path))
        best = min(best, time.process_time() - start)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "operators.csv"
        write_csv(path, args.rows)
        first = next(iter(harvester(path)))
        assert first == dict(next(iter(dict_reader(path))), name_fr=None, phone="+39 010 000000")
        floor, floor_count = timed(dict_reader, path, args.repeat)
        ours, count = timed(harvester, path, args.repeat)
        assert count == floor_count == args.rows, (count, floor_count)
        size = path.stat().st_size / 1e6
    print(f"{args.rows} CSV rows, {len(COLUMNS)} columns, {size:.1f} MB, best of {args.repeat}")
    print(f"{'reader':<28} {'CPU s':>7} {'rows/s':>10} {'x DictReader':>13}")
    for name, seconds in (("csv.DictReader (peer)", floor), ("files harvester", ours)):
        print(f"{name:<28} {seconds:7.2f} {args.rows / seconds:10,.0f} {seconds / floor:13.2f}")


if __name__ == "__main__":
    main()
