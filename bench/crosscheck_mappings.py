"""Cross-check every mapping in mappings/ against Morph-KGC, on the records the demo harvests.

    python bench/crosscheck_mappings.py --morph-python /tmp/mkgc/bin/python

A copy of the demo (hub.toml, mappings/, hub/demo/data) is made in a temporary folder,
its SQLite databases built and its web sources served on loopback (hub/demo/servers.py).
For each source of hub.toml the source's own harvester (its `kind`) reads the records
exactly as a run does; the hub maps them with the source's mapping (MappingRunner, the
source's `key`), and Morph-KGC maps the same records written to one JSON file, the
mapping's sources pointed at it (bench/crosscheck_morph_kgc.py, `morph_document`, says
what is rewritten). The graphs are compared with rdflib isomorphism; the script prints a
table and, per difference, the triples only one side made, classified. Sources mapped by
a SPARQL CONSTRUCT (RDF sources, decisions #10) have no YARRRML: not applicable.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/ and tests/ are not installed

from bench.crosscheck_morph_kgc import (  # noqa: E402
    IRIS,
    MorphError,
    compare,
    difference_note,
    hub_graph,
    morph_graph_without_unknown_functions,
)
from harvesters import HarvestContext, get_harvester  # noqa: E402
from hub.config import HubConfig, SourceConfig, load_config, source_options  # noqa: E402
from hub.mapping.compile import load_mapping  # noqa: E402


@dataclass
class Harvested:
    """One source of the demo: its config and the records its harvester gave (None: RDF)."""

    source: SourceConfig
    records: list[Any] | None


@contextmanager
def demo_records(folder: Path) -> Iterator[tuple[HubConfig, list[Harvested]]]:
    """Every demo source's records, harvested from a copy of the demo in `folder`."""
    from hub.demo import build_demo_databases
    from hub.demo.servers import demo_servers, point_config_at
    from tests.api.demo_hub import copy_demo

    copy_demo(folder)
    build_demo_databases(folder)
    found = []
    with demo_servers(fixed_ports=False) as urls:
        point_config_at(folder / "hub.toml", urls)
        config = load_config(folder / "hub.toml")
        for source in config.sources.values():
            harvest = get_harvester(source.kind)
            if getattr(harvest, "produces", "records") == "ntriples":
                found.append(Harvested(source, None))
                continue
            options = source_options(config, source)
            records = harvest(source.id, options, root=config.root, context=HarvestContext())
            found.append(Harvested(source, list(records)))
    yield config, found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--morph-python", required=True, help="python of the venv with morph-kgc")
    parser.add_argument("--show", type=int, default=4, help="triples shown per difference")
    args = parser.parse_args()
    print("| mapping | records | hub triples | Morph-KGC triples | same graph | why not |")
    print("|---|---:|---:|---:|---|---|")
    notes = []
    with tempfile.TemporaryDirectory() as tmp, demo_records(Path(tmp) / "demo") as (config, got):
        for item in got:
            source = item.source
            name = Path(source.mapping).name
            if item.records is None:
                print(
                    f"| {name} | — | — | — | n/a | SPARQL CONSTRUCT of an RDF source (decisions #10) |"
                )
                continue
            path = config.resolve(source.mapping)
            mapping = load_mapping(path, source_id=source.id, iris=IRIS)
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            ours = hub_graph(mapping, item.records, source.id, source.key)
            row = f"| {name} | {len(item.records)} | {len(ours)} "
            try:
                morph, removed = morph_graph_without_unknown_functions(
                    doc, mapping, item.records, args.morph_python, source.id
                )
            except MorphError as exc:
                print(row + f"| error | — | Morph-KGC failed: {exc} |")
                continue
            result = compare(ours, morph.graph, mapping)
            result.invalid = morph.invalid
            same = result.same and not morph.invalid
            why = [] if same else result.labels()
            why += ["entries left out for Morph-KGC"] if removed else []
            print(row + f"| {len(morph.graph)} | {'yes' if same else 'no'} | {'; '.join(why)} |")
            if why:
                note = difference_note(name, result, args.show)
                notes.append("\n".join([note, *(f"  - {r}" for r in removed)]))
    for note in notes:
        print()
        print(note)


if __name__ == "__main__":
    main()
