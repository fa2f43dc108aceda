"""Benchmark: re-publish a source of 1M and 5M triples while readers keep querying it.

For each size it writes three sorted version files of the same entities — A, B
(every name changed: the largest change there is) and C (2 % of the names
changed: a typical re-harvest) — publishes A into a fresh store (the default
backend: a child `oxigraph serve`), then re-publishes B over A and C over B through
`hub.pipeline.publish` (diff, journal, write, marker; the read model is not part of
these figures), while a reader thread asks the hub's store, again and again, how
many names carry each version's tag. It prints, per re-publish:

- seconds to re-publish, and how (one transaction, or in steps behind the read gate);
- the longest time a reader saw no graph or a partial one (answers that are neither
  all-old nor all-new; must be 0) and the longest a reader waited for an answer;
- peak memory of this process and of the store server.

    python bench/bench_republish.py                      # 1,000,000 and 5,000,000 triples
    python bench/bench_republish.py --triples 200000
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

TRIPLES_PER_ENTITY = 5
SCHEMA = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
CONFIG = """\
[hub]
store = "store"
keep_versions = 3

[sources.big]
project = "smart-destination"
kind = "files"
mapping = "mapping.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:bench@example.org"
[sources.big.options]
path = "big.csv"
"""


def write_version(path: Path, entities: int, tag: str, changed: float) -> None:
    """An unsorted version: `changed` of the names carry `tag`, the others 'A'."""
    cut = int(entities * changed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(entities):
            s = f"<https://hub.example.org/id/big/e{i}>"
            name_tag = tag if i < cut else "A"
            out.write(
                f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SCHEMA}TouristAttraction> .\n"
                f'{s} <{SCHEMA}name> "Luogo {i} [{name_tag}]"@it .\n'
                f'{s} <{SCHEMA}identifier> "e{i}" .\n'
                f'{s} <{SCHEMA}latitude> "{43 + (i % 1000) / 1000:.3f}"^^<{XSD}decimal> .\n'
                f'{s} <{SCHEMA}longitude> "{10 + (i % 777) / 1000:.3f}"^^<{XSD}decimal> .\n'
            )


def server_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


class Reader(threading.Thread):
    """Counts names per tag through the hub's store until stopped; records what it saw."""

    def __init__(self, store, graph: str, entities: int) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.store, self.entities = store, entities
        self.query = (
            "SELECT ?tag (COUNT(*) AS ?n) WHERE { GRAPH <"
            + graph
            + "> { ?s <"
            + SCHEMA
            + "name> ?name } "
            'BIND(STRBEFORE(STRAFTER(?name, "["), "]") AS ?tag) } GROUP BY ?tag'
        )
        self.stop = threading.Event()
        self.samples: list[tuple[float, float, dict[str, int]]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            rows = self.store.select(self.query)
            counts = {r["tag"].value: int(r["n"].value) for r in rows if "tag" in r}
            self.samples.append((started, time.monotonic(), counts))

    def verdict(self, old: dict[str, int], new: dict[str, int]) -> tuple[float, float, int]:
        """(seconds of answers that were neither old nor new, longest wait, answers)."""
        bad = 0.0
        for started, ended, counts in self.samples:
            if counts not in (old, new):
                bad += ended - started
        longest = max((e - s for s, e, _ in self.samples), default=0.0)
        return bad, longest, len(self.samples)


def expected(entities: int, tag: str, changed: float) -> dict[str, int]:
    cut = int(entities * changed)
    counts = {tag: cut}
    counts["A"] = counts.get("A", 0) + entities - cut
    return {k: v for k, v in counts.items() if v}


def run_size(work: Path, triples: int) -> list[dict]:
    from hub.config import load_config
    from hub.pipeline.programme import load_programme
    from hub.pipeline.provenance import RunReport
    from hub.pipeline.publish import Publisher
    from hub.pipeline.versions import sort_version
    from hub.store import connect_store
    from hub.store.server import running_server

    entities = triples // TRIPLES_PER_ENTITY
    folder = work / f"triples-{triples}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "hub.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "mapping.yml").write_text("mappings: {}\n", encoding="utf-8")
    config = load_config(folder / "hub.toml")
    store = connect_store(config)
    load_programme(store, config)
    pid = int(running_server(config.store_path)["pid"])
    publisher = Publisher(config, store, subscribers=[])
    layout = publisher.layout
    plan = [("A", "A", 1.0), ("B", "B", 1.0), ("C", "C", 0.02)]
    files = {}
    t0 = time.perf_counter()
    for number, (name, tag, changed) in enumerate(plan):
        raw = folder / f"{name}.unsorted"
        write_version(raw, entities, tag, changed)
        run_id = f"2026010{number}T000000000000Z-{name.lower() * 4}"
        files[name] = layout.version("big", run_id)
        sort_version(raw, files[name], genid=publisher.genid("big"))
        raw.unlink()
    print(
        f"[{triples:,} triples] versions written and sorted in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    graph = publisher.iris.source_graph("big")

    def publish(name: str) -> tuple[float, str]:
        report = RunReport(source="big", run_id=files[name].stem, started=datetime.now(UTC))
        started = time.perf_counter()
        change = publisher.prepare("big", files[name], files[name].stem)
        size = change.removed.stat().st_size + change.added.stat().st_size
        how = (
            "one transaction" if size + 4096 <= store.capabilities.max_update_bytes else "in steps"
        )
        publisher.apply(change, report)
        return (
            time.perf_counter() - started,
            f"{how}: -{change.counts.removed:,} +{change.counts.added:,}",
        )

    seconds, how = publish("A")
    print(f"[{triples:,} triples] first publish {seconds:.1f}s ({how})", flush=True)
    results = []
    previous = expected(entities, "A", 1.0)
    for name, tag, changed in plan[1:]:
        now = expected(entities, tag, changed)
        reader = Reader(store, graph, entities)
        reader.start()
        time.sleep(0.5)
        seconds, how = publish(name)
        time.sleep(0.5)
        reader.stop.set()
        reader.join()
        bad, longest, answers = reader.verdict(previous, now)
        results.append(
            {
                "triples": triples,
                "change": f"{'A' if name == 'B' else 'B'} -> {name} ({how})",
                "seconds": seconds,
                "partial_s": bad,
                "longest_wait_s": longest,
                "answers": answers,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "server_peak_mb": server_peak_mb(pid),
            }
        )
        print(
            f"[{triples:,} triples] {name}: {seconds:.1f}s ({how}); partial answers {bad:.1f}s",
            flush=True,
        )
        previous = now
    exact = len(store.select(f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT 1"))
    store.close()
    shutil.rmtree(folder, ignore_errors=True)
    assert exact == 1
    return results


def report(results: list[dict]) -> None:
    print()
    print(
        "| triples | re-publish | seconds | reader saw no/partial graph (s) | longest reader wait (s) | answers | peak MB process | peak MB store server |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['triples']:,} | {r['change']} | {r['seconds']:.1f} | {r['partial_s']:.1f} | "
            f"{r['longest_wait_s']:.1f} | {r['answers']} | {r['peak_mb']:,.0f} | {r['server_peak_mb']:,.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triples", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="hub-republish-"))
    results = []
    for triples in args.triples:
        results += run_size(work, triples)
    report(results)


if __name__ == "__main__":
    main()
