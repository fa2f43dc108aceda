"""The Morph-KGC cross-check's own parts, without Morph-KGC: record export, mapping rewrite,
and the classification of differences (bench/crosscheck_morph_kgc.py)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import yaml
from rdflib import Graph, Literal, URIRef

from bench.crosscheck_morph_kgc import IRIS, compare, morph_document, write_records
from harvesters import HarvestContext, get_harvester
from hub.config import load_config, source_options
from hub.mapping.compile import compile_mapping, load_mapping
from hub.util.jsonpath import compile_path

REPO = Path(__file__).resolve().parents[2]


def test_demo_records_export_and_mapping_rewrite(tmp_path: Path) -> None:
    """intense-network's real records (a JSON file) are written as one array that the
    rewritten mapping's iterators select from, as the hub's iterators do within a record."""
    config = load_config(REPO / "hub.toml")
    source = config.sources["intense-network"]
    harvest = get_harvester(source.kind)
    records = list(
        harvest(
            source.id, source_options(config, source), root=config.root, context=HarvestContext()
        )
    )
    data = tmp_path / "records.json"
    write_records(records, data)
    assert json.loads(data.read_text(encoding="utf-8")) == records

    path = config.resolve(source.mapping)
    mapping = load_mapping(path, source_id=source.id, iris=IRIS)
    doc = morph_document(yaml.safe_load(path.read_text("utf-8")), mapping, data, source.id)
    assert "sources" not in doc
    assert doc["prefixes"]["hubid"] == "https://hub.example.org/id/"
    for tmap in mapping.triples_maps:
        [[access, iterator]] = doc["mappings"][tmap.name]["sources"]
        assert access == f"{data}~jsonpath"
        # the array's nodes are the hub's nodes, record after record
        hub_nodes = [n for record in records for n in tmap.select_nodes(record)]
        assert compile_path(iterator)(records) == hub_nodes


def test_nested_iterator_is_run_over_the_array(tmp_path: Path) -> None:
    text = """
prefixes: {ex: http://example.com/}
sources:
  items: ['x.json~jsonpath', '$.items[*]']
mappings:
  item:
    sources: items
    s: ex:$(n)
    po: [[ex:n, $(n)]]
"""
    mapping = compile_mapping(text, file="m.yml", source_id="t", iris=IRIS)
    doc = morph_document(yaml.safe_load(text), mapping, tmp_path / "r.json", "t")
    assert doc["mappings"]["item"]["sources"] == [
        [f"{tmp_path / 'r.json'}~jsonpath", "$[*].items[*]"]
    ]


def test_values_json_has_no_type_for_are_written_as_text(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_records(
        [{"a": Decimal("43.7700"), "d": dt.date(2026, 3, 5), "t": dt.datetime(2026, 3, 5, 8)}], path
    )
    assert json.loads(path.read_text()) == [
        {"a": "43.7700", "d": "2026-03-05", "t": "2026-03-05T08:00:00"}
    ]


def test_differences_are_classified() -> None:
    ex = "http://example.com/"
    hub, morph = Graph(), Graph()
    hub.add(
        (
            URIRef(ex + "a"),
            URIRef(ex + "n"),
            Literal("120", datatype="http://www.w3.org/2001/XMLSchema#integer"),
        )
    )
    morph.add((URIRef(ex + "a"), URIRef(ex + "n"), Literal("120")))
    hub.add((URIRef(ex + "Città"), URIRef(ex + "p"), Literal("x")))
    morph.add((URIRef(ex + "Citt%C3%A0"), URIRef(ex + "p"), Literal("x")))
    hub.add((URIRef(ex + "a"), URIRef(ex + "q"), Literal("only here")))
    result = compare(hub, morph)
    assert not result.same
    assert {r.label: n for r, n in result.explained.items()} == {
        "natural datatype": 1,
        "IRI-safe encoding": 1,
    }
    assert result.only_hub == [(URIRef(ex + "a"), URIRef(ex + "q"), Literal("only here"))]
    assert result.labels() == ["natural datatype", "IRI-safe encoding", "unexplained"]
    assert compare(hub, hub).same
