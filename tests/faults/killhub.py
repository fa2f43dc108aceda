"""Kill `hub harvest` at random moments and check the hub recovers alone (test and bench share it).

A temp hub with one CSV source of N rows; each round rewrites the CSV (a new tag in
every name, or a few rows changed), starts `hub harvest` in its own process group,
SIGKILLs it (the whole group, or only the store's child server) at a random moment,
then runs `hub sources`, which must answer with no hand repair. The store must then
hold exactly one whole version — the one its marker names, every name carrying the
tag of the old or of the new CSV — and the read model must serve that same version.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

BASE = "https://hub.example.org/"
GRAPH = BASE + "graph/big"
MARKER = "https://w3id.org/marittimo-hub/ns#publishedRun"
NAME = "http://schema.org/name"
# A schema:name in Italian, as an N-Triples line of oxigraph's: its lexical form (escaped).
ITALIAN_NAME = re.compile(
    rb"^<[^>]*> <" + re.escape(NAME.encode()) + rb'> "((?:[^"\\]|\\.)*)"@it \.$', re.M
)

MAPPING = """\
mappings:
  place:
    s: id:$(id)
    po:
      - [a, schema:Place]
      - [schema:name, $(name), it~lang]
"""
# `wide`: seven triples a row, as a real regional database gives (1.75 M for 250,000 rows).
WIDE = """\
      - [schema:identifier, $(id)]
      - [schema:description, $(name), en~lang]
      - [schema:latitude, $(lat), xsd:decimal]
      - [schema:longitude, $(lon), xsd:decimal]
      - [schema:addressLocality, $(town)]
"""

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<urn:test:PlaceShape> a sh:NodeShape ; sh:targetClass schema:Place ;
  sh:property [ sh:path schema:name ; sh:minCount 1 ] .
"""

CONFIG = """\
[hub]
store = "store"
data_dir = "var"
shapes = "shapes.ttl"

[store]
backend = "{backend}"
{store_extra}

[quality]
max_drop = 0.9

[sources.big]
project = "itinera"
kind = "files"
title = "A big CSV source (synthetic)"
mapping = "big.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:steward@example.org"
key = "id"
[sources.big.options]
path = "big.csv"
"""


@dataclass
class Round:
    """One kill: what was killed when, and what the hub showed after."""

    number: int
    target: str
    after_s: float
    harvest_exit: int | None
    sources_exit: int
    tag: str | None
    marker: str | None
    outcome: str = ""
    changed: float = 1.0
    """The share of rows whose names the round's CSV changed."""
    harvest_s: float = 0.0
    """Seconds from the start of the harvest until it had exited (killed, or ended)."""
    recover_s: float = 0.0
    """Seconds `hub sources` took (it recovers what the kill left half-done)."""
    check_s: float = 0.0
    """Seconds comparing the store and the read model with the published version."""


@dataclass
class KillHub:
    """A temp hub with one big CSV source, driven through the real `hub` command."""

    root: Path
    rows: int
    backend: str = "server"
    store_extra: str = ""
    env: dict[str, str] = field(default_factory=dict)
    wide: bool = False

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        mapping = MAPPING + (WIDE if self.wide else "")
        (self.root / "big.yml").write_text(mapping, encoding="utf-8")
        (self.root / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
        (self.root / "hub.toml").write_text(
            textwrap.dedent(CONFIG).format(backend=self.backend, store_extra=self.store_extra),
            encoding="utf-8",
        )
        self.csv = self.root / "big.csv"

    # -- driving the hub -----------------------------------------------------
    def write_csv(self, tag: str, changed: float = 1.0) -> None:
        """Rows with the tag in their names (a fraction `changed` of them; the rest keep 'base')."""
        cut = int(self.rows * changed)
        with self.csv.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(["id", "name", "lat", "lon", "town"])
            for i in range(self.rows):
                name = f"Luogo {i} [{tag if i < cut else 'base'}]"
                lat, lon = f"{43 + (i % 997) / 1000:.3f}", f"{10 + (i % 991) / 1000:.3f}"
                out.writerow([f"r{i}", name, lat, lon, f"Comune {i % 300}"])

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "hub.cli", "--config", str(self.root / "hub.toml"), *args]

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
        )

    def start_harvest(self) -> subprocess.Popen:
        return subprocess.Popen(
            self.command("harvest", "big"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **self.env},
        )

    def store_child(self) -> int | None:
        record = self.root / "store.server.json"
        try:
            return int(json.loads(record.read_text(encoding="utf-8"))["pid"])
        except (OSError, ValueError, KeyError):
            return None

    # -- what the hub shows --------------------------------------------------
    def published(self) -> tuple[str | None, set[str], set[bytes]]:
        """(marker, tags in the names, triples) of the store, opened read-only after the hub stopped.

        The triples are the graph's N-Triples lines as oxigraph writes them (one canonical
        line per triple, no blank nodes here), so two graphs are equal exactly when their
        sets of lines are; oxigraph writing them costs far less than a Python string made
        from each quad.
        """
        store = ox.Store.read_only(str(self.root / "store"))
        marker = [
            q.object.value
            for q in store.quads_for_pattern(ox.NamedNode(GRAPH), ox.NamedNode(MARKER), None)
        ]
        dump = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(GRAPH))
        del store
        tags = {
            name.rsplit(b"[", 1)[-1].rstrip(b"]").decode("utf-8")
            for name in ITALIAN_NAME.findall(dump)
        }
        return (marker[0] if len(marker) == 1 else None), tags - {"base"}, set(dump.splitlines())

    def version_triples(self, run_id: str) -> set[bytes]:
        """The triples of a published version file, as `published` gives them (canonical lines)."""
        path = self.root / "var" / "versions" / "big" / f"{run_id}.nt"
        quads = ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)
        return set(ox.serialize(quads, format=ox.RdfFormat.N_TRIPLES).splitlines())

    def read_model_run(self) -> str | None:
        import sqlite3

        path = self.root / "var" / "readmodel.sqlite"
        if not path.exists():
            return None
        with sqlite3.connect(path) as conn:
            row = conn.execute("SELECT run_id FROM sources WHERE source = 'big'").fetchone()
        return row[0] if row else None

    # -- one round -------------------------------------------------------------
    def kill_round(
        self,
        number: int,
        rng: random.Random,
        longest_s: float,
        old_tag: str,
        new_tag: str,
        spans: dict[float, float] | None = None,
    ) -> Round:
        """Harvest towards `new_tag`, kill at a random moment, recover, check. Raises on a fault.

        The moment is drawn from the first 90% of `longest_s`, or of `spans[changed]` (the
        longest harvest seen of a CSV with that share of rows changed) when it is there.
        """
        changed = rng.choice([1.0, 0.02])
        self.write_csv(new_tag, changed)
        target = rng.choice(["group", "group", "group", "store"])
        after = rng.uniform(0.3, (spans or {}).get(changed, longest_s) * 0.9)
        process = self.start_harvest()
        started = time.monotonic()
        deadline = started + after
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        if process.poll() is None:
            if target == "store" and (child := self.store_child()):
                os.kill(child, signal.SIGKILL)
                try:
                    process.wait(timeout=600)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            else:
                target = "group"
                os.killpg(process.pid, signal.SIGKILL)
        else:
            target = "none (the harvest ended first)"
        process.wait()
        harvest_s = time.monotonic() - started
        # Children of a killed group die with it; wait until the store's lock is free.
        time.sleep(0.2)
        started = time.monotonic()
        sources = self.run("sources")
        result = Round(number, target, after, process.returncode, sources.returncode, None, None)
        result.harvest_s, result.recover_s = harvest_s, time.monotonic() - started
        result.changed = changed
        started = time.monotonic()
        if sources.returncode != 0:
            raise AssertionError(
                f"round {number}: `hub sources` exited {sources.returncode} after killing "
                f"{target} at {after:.1f}s:\n{sources.stdout}\n{sources.stderr}"
            )
        marker, tags, triples = self.published()
        result.marker = marker
        if marker is None:
            raise AssertionError(f"round {number}: no (or several) published-run markers")
        if triples != self.version_triples(marker):
            raise AssertionError(
                f"round {number}: the graph is not exactly version {marker} "
                f"(killed {target} at {after:.1f}s)"
            )
        if len(tags) != 1 or not tags <= {old_tag, new_tag}:
            raise AssertionError(
                f"round {number}: names carry tags {sorted(tags)}, not just {old_tag} or {new_tag}"
            )
        result.tag = next(iter(tags))
        model = self.read_model_run()
        if model != marker:
            raise AssertionError(
                f"round {number}: the read model serves version {model}, the store {marker}"
            )
        result.outcome = "new" if result.tag == new_tag else "old"
        result.check_s = time.monotonic() - started
        return result
