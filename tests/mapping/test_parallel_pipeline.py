"""A pipeline run that maps in several processes publishes what a one-process run publishes.

A real hub in a temp folder (CSV source, files harvester, on-disk store, SHACL): the
workers are forked while the run writes the mapped N-Triples to its version file.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pyoxigraph
import pytest

from hub.config import load_config
from hub.iris import Iris
from hub.mapping import parallel
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.store import open_store
from tests.pipeline.conftest import CONFIG as MINIHUB_CONFIG

MAPPING = """\
mappings:
  place:
    s: id:$(id)
    po:
      - [a, schema:Place]
      - [schema:name, $(name), it~lang]
      - [schema:latitude, $(lat), xsd:decimal]
      - [schema:address, id:$(id)/address~iri]
  address:
    s: id:$(id)/address
    po:
      - [a, schema:PostalAddress]
      - [schema:addressLocality, $(town)]
"""

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
@prefix ex: <https://example.org/shapes#> .
ex:PlaceShape a sh:NodeShape ; sh:targetClass schema:Place ;
  sh:property [ sh:path schema:name ; sh:minCount 1 ] .
"""


def published(root: Path, processes: int) -> tuple[tuple[object, ...], list[bytes]]:
    """Run the source once in a fresh hub; its report's figures and its live graph, sorted."""
    (root / "mappings").mkdir(parents=True)
    (root / "mappings" / "places.yml").write_text(MAPPING, encoding="utf-8")
    (root / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    setting = f'shapes = "shapes.ttl"\nmapping_processes = {processes}\n'
    config_text = textwrap.dedent(MINIHUB_CONFIG).replace('shapes = "shapes.ttl"\n', setting)
    (root / "hub.toml").write_text(config_text, encoding="utf-8")
    with (root / "places.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "lat", "town"])
        for i in range(2500):
            lat = "4,5" if i % 250 == 7 else f"{43 + i / 10000:.4f}"  # a decimal comma: fails
            writer.writerow([f"p{i}", f'Luogo "{i}"', lat, f"Città {i % 40}"])
    config = load_config(root / "hub.toml")
    assert config.hub.mapping_processes == processes
    store = open_store(config.store_path)
    try:
        load_programme(store, config)
        report = run_source(config, store, "places")
        live = Iris(config.base_iri).source_graph("places")
        assert store.graph_size(live) > 0, report.message
        dump = store.dump_graph(live, pyoxigraph.RdfFormat.N_TRIPLES)
    finally:
        store.close()
    figures = (report.status, report.records, report.record_errors, report.triples, report.errors)
    return figures, sorted(dump.splitlines())


@pytest.mark.skipif(not parallel.available(), reason="needs the fork start method")
def test_a_run_mapping_in_two_processes_publishes_the_same_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "BATCH_RECORDS", 97)
    one = published(tmp_path / "one", 1)
    two = published(tmp_path / "two", 2)
    assert one == two
    status, records, errors, triples, messages = one[0]
    assert (status, records, errors) == ("published", 2500, 10)
    assert triples == 2490 * 6 and len(one[1]) == triples
    assert "places.csv line 9" in messages[0] and "`4,5` is not a valid xsd:decimal" in messages[0]
