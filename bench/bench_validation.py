"""Benchmark: SHACL validation of a staged graph, the hub's validator against pySHACL.

The graph is the demo's output (every source harvested and published, as the tests do it),
copied under new IRIs until it holds `--triples` triples, with seeded faults in about
`--faults` of its entities (tests/validation/faults.py: missing properties, wrong
datatypes, coordinates out of range, bad language tags, wrong classes, extra values ...),
plus the programme graph once. Both validators read the same N-Triples file with
ontology/shapes.ttl; each measurement runs in a fresh process (peak memory is that
process's maximum resident set, interpreter included; reading the file is included).

pySHACL is measured on a sample (the programme and the first copies, `--pyshacl-triples`),
as 1M triples take it many minutes; the hub is measured on the sample too, and the two
result sets on it, (focus node, path, constraint component, source shape), must be equal.

    .venv/bin/python bench/bench_validation.py [--triples 1000000] [--pyshacl-triples 100000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import goals

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
SHAPES = REPO / "ontology" / "shapes.ttl"
GRAPH = "https://hub.example.org/graph/bench"
_RENAME = re.compile(r"<https://hub\.example\.org/id/(?!programme/)")
Key = tuple[str, str | None, str, str]


def build(folder: Path, triples: int, sample: int, rate: float, seed: int) -> tuple[Path, Path]:
    """Write the full graph and the sample (a prefix of it, whole entities) as N-Triples."""
    from tests.api.demo_hub import harvest_demo
    from tests.validation.faults import demo_ntriples, inject_faults

    _, store = harvest_demo(folder / "demo")
    try:
        programme = store.dump_graph("https://hub.example.org/graph/programme").decode()
        demo = demo_ntriples(store).replace(programme, "")
    finally:
        store.close()
    lines = demo.splitlines()
    full, part = folder / "full.nt", folder / "sample.nt"
    written = programme.count("\n")
    with full.open("w", encoding="utf-8") as out, part.open("w", encoding="utf-8") as cut:
        out.write(programme)
        cut.write(programme)
        copy = 0
        while written < triples:
            renamed = [_RENAME.sub(f"<https://hub.example.org/id/r{copy}/", line) for line in lines]
            broken, _ = inject_faults(renamed, seed=seed + copy, rate=rate)
            text = "\n".join(broken) + "\n"
            out.write(text)
            if written < sample:
                cut.write(text)
            written += len(broken)
            copy += 1
    return full, part


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hub(path: str, limit: int) -> dict:
    from hub.validation import load_shapes, validate_ntriples

    shapes = load_shapes(SHAPES)
    started, cpu = time.perf_counter(), time.process_time()
    report = validate_ntriples(Path(path), shapes, graph=GRAPH, limit=limit)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    keys = {(v.focus_node, v.path, v.component, v.shape) for v in report.violations}
    return {
        "seconds": seconds,
        "cpu": cpu,
        "triples": report.triples,
        "results": report.violation_count,
        "keys": keys if limit > report.violation_count else None,
        "peak": _peak_mib(),
    }


def _pyshacl(path: str, limit: int) -> dict:
    import logging

    import pyshacl
    import rdflib

    from hub.validation import load_shapes
    from hub.validation.shapes import Namer
    from tests.validation.faults import result_keys

    logging.getLogger("rdflib.term").setLevel(logging.ERROR)  # the seeded ill-typed literals
    shapes_graph = rdflib.Graph().parse(SHAPES)
    namer = Namer(load_shapes(SHAPES).prefixes)
    started, cpu = time.perf_counter(), time.process_time()
    data = rdflib.Graph().parse(path, format="nt")
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes_graph, inference="none")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu

    keys, count = result_keys(results, shapes_graph, namer)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "triples": len(data),
        "results": count,
        "keys": keys,
        "peak": _peak_mib(),
    }


def _child(kind: str, path: str, limit: int, queue: multiprocessing.Queue) -> None:
    queue.put((_hub if kind == "hub" else _pyshacl)(path, limit))


def measure(kind: str, path: Path, limit: int) -> dict:
    """One validation in a fresh process (spawned: nothing inherited from this one)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(kind, str(path), limit, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    """Print one table: each validator's triples, seconds, triples/s, peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="triples for the hub")
    parser.add_argument("--pyshacl-triples", type=int, default=100_000, help="pySHACL's sample")
    parser.add_argument("--faults", type=float, default=0.02, help="share of entities broken")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        started = time.perf_counter()
        full, sample = build(Path(tmp), args.triples, args.pyshacl_triples, args.faults, args.seed)
        print(
            f"graph built in {time.perf_counter() - started:.0f} s (demo harvest, copies, faults)"
        )
        rows = [
            ("hub", "full", measure("hub", full, 1000)),
            ("hub", "sample", measure("hub", sample, 10**9)),
            ("pySHACL 0.40", "sample", measure("pyshacl", sample, 0)),
        ]
    print()
    print(
        f"{'validator':<14}{'graph':<8}{'triples':>11}{'seconds':>9}{'cpu s':>8}"
        f"{'triples/s':>11}{'peak MiB':>10}{'results':>9}"
    )
    for name, graph, r in rows:
        print(
            f"{name:<14}{graph:<8}{r['triples']:>11,}{r['seconds']:>9.2f}{r['cpu']:>8.2f}"
            f"{r['triples'] / r['seconds']:>11,.0f}{r['peak']:>10,.0f}{r['results']:>9,}"
        )
    ours, theirs = rows[1][2]["keys"], rows[2][2]["keys"]
    same = "yes" if ours == theirs else "no"
    components = len({key[2] for key in theirs})
    print(
        f"same results on the sample (focus node, path, constraint component, source shape): "
        f"{same} ({len(theirs):,} distinct results, {components} constraint components)"
    )
    if ours != theirs:
        for key in sorted(ours - theirs)[:5]:
            print("  hub only:", key)
        for key in sorted(theirs - ours)[:5]:
            print("  pySHACL only:", key)
    speedup = rows[2][2]["seconds"] / rows[1][2]["seconds"]
    print(
        f"speed-up on the sample: {speedup:.0f}x; "
        "seconds (wall) and cpu s include reading the N-Triples; one process each"
    )
    goals.record(
        "validation",
        {
            "seconds": rows[0][2]["seconds"],
            "triples": rows[0][2]["triples"],
            "same": ours == theirs,
            "results": len(theirs),
            "speedup": speedup,
        },
    )


if __name__ == "__main__":
    main()
