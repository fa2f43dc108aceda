"""A small hub: one CSV source of places, its mapping and shapes, in a temp folder."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.iris import Iris
from hub.store import open_store
from hub.store.oxigraph import OxigraphStore

MAPPING = """\
mappings:
  place:
    s: id:$(id)
    po:
      - [a, schema:Place]
      - [schema:identifier, $(id)]
      - [schema:name, $(name), it~lang]
      - [schema:latitude, $(lat), xsd:decimal]
      - [schema:longitude, $(lon), xsd:decimal]
"""

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/shapes#> .
ex:PlaceShape a sh:NodeShape ;
  sh:targetClass schema:Place ;
  sh:property [ sh:path schema:name ; sh:minCount 1 ] ;
  sh:property [ sh:path schema:latitude ; sh:datatype xsd:decimal ; sh:maxCount 1 ;
                sh:minInclusive -90 ; sh:maxInclusive 90 ] .
"""

CONFIG = """\
[hub]
store = "store"
shapes = "shapes.ttl"

[quality]
max_error_rate = 0.2

[sources.places]
project = "itinera"
kind = "files"
title = "Test places"
mapping = "mappings/places.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:steward@example.org"
key = "id"
[sources.places.options]
path = "places.csv"
"""

Row = tuple[str, str, str, str]


class MiniHub:
    """The folder, config and store of a one-source hub, whose CSV tests rewrite between runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.csv = root / "places.csv"
        (root / "mappings").mkdir()
        (root / "mappings" / "places.yml").write_text(MAPPING, encoding="utf-8")
        (root / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
        (root / "hub.toml").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
        self.config: HubConfig = load_config(root / "hub.toml")
        self.iris = Iris(self.config.base_iri)
        self.store: OxigraphStore = open_store(self.config.store_path)
        self.live = self.iris.source_graph("places")

    @staticmethod
    def places(n: int, prefix: str = "p") -> list[Row]:
        return [
            (f"{prefix}{i}", f"Luogo {i}", f"{43 + i / 1000:.4f}", f"{10 + i / 1000:.4f}")
            for i in range(n)
        ]

    def write(self, rows: list[Row], broken_at: int | None = None) -> None:
        """Write the CSV; `broken_at` puts a row with too many fields before that row."""
        with self.csv.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(["id", "name", "lat", "lon"])
            for number, row in enumerate(rows, start=1):
                if broken_at == number:
                    fh.write("broken,row,with,too,many,fields\n")
                out.writerow(row)

    def cli(self, *args: str) -> int:
        """Run a `hub` command on this hub, with the store released meanwhile (one writer)."""
        from hub.cli import main

        self.store.close()
        try:
            return main(["--config", str(self.config.path), *args])
        finally:
            self.store = open_store(self.config.store_path)

    def live_dump(self) -> bytes:
        """The live graph as sorted N-Triples, read through the public snapshot."""
        result = self.store.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{self.live}> {{ ?s ?p ?o }} }}"
        )
        lines = result.serialize(format=__import__("pyoxigraph").RdfFormat.N_TRIPLES).splitlines()
        return b"\n".join(sorted(lines))


@pytest.fixture
def minihub(tmp_path: Path) -> MiniHub:
    from hub.pipeline.programme import load_programme

    hub = MiniHub(tmp_path)
    load_programme(hub.store, hub.config)
    return hub
