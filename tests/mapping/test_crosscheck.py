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
from bench.rml_test_cases import run_case
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


RML_CASE = """
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ql: <http://semweb.mmlab.be/ns/ql#> .
@prefix ex: <http://example.com/> .
@base <http://example.com/base/> .

<People> rml:logicalSource [ rml:source "people.csv"; rml:referenceFormulation ql:CSV ];
  rr:subjectMap [ rr:template "http://example.com/person/{id}"; rr:class ex:Person ];
  rr:predicateObjectMap [ rr:predicate ex:name;
    rr:objectMap [ rml:reference "name"; rr:language "it" ] ],
  [ rr:predicate ex:team;
    rr:objectMap [ rr:parentTriplesMap <Teams>;
      rr:joinCondition [ rr:child "team"; rr:parent "code" ] ] ] .

<Teams> rml:logicalSource [ rml:source "teams.csv"; rml:referenceFormulation ql:CSV ];
  rr:subjectMap [ rr:template "http://example.com/team/{code}" ];
  rr:predicateObjectMap [ rr:predicate ex:label; rr:objectMap [ rml:reference "label" ] ] .
"""


def _rml_case(folder: Path, expected: str | None) -> Path:
    folder.mkdir()
    (folder / "mapping.ttl").write_text(RML_CASE, encoding="utf-8")
    (folder / "people.csv").write_text("id,name,team\n1,Ada,t1\n2,Bruno,t9\n", encoding="utf-8")
    (folder / "teams.csv").write_text("code,label,id\nt1,Vela,3\n", encoding="utf-8")
    if expected is not None:
        (folder / "output.nq").write_text(expected, encoding="utf-8")
    return folder


def test_an_rml_case_is_translated_and_run(tmp_path: Path) -> None:
    """Two CSV files (with a shared column `id`), a class, a language and a join: each
    mapping sees only its own file's rows, as RML reads two files."""

    ex = "http://example.com/"
    expected = "\n".join(
        [
            f'<{ex}person/1> <{ex}name> "Ada"@it .',
            f'<{ex}person/2> <{ex}name> "Bruno"@it .',
            f"<{ex}person/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ex}Person> .",
            f"<{ex}person/2> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ex}Person> .",
            f"<{ex}person/1> <{ex}team> <{ex}team/t1> .",
            f'<{ex}team/t1> <{ex}label> "Vela" .',
        ]
    )
    features, outcome = run_case(_rml_case(tmp_path / "RMLTC9001a-CSV", expected), {})
    assert (outcome.status, outcome.why) == ("pass", "")
    assert {"join", "class", "language"} <= set(features.split(", "))
    # one triple less expected: the comparison notices
    wrong = expected.rsplit("\n", 1)[0]
    _, outcome = run_case(_rml_case(tmp_path / "RMLTC9001b-CSV", wrong), {})
    assert outcome.status == "fail" and "Vela" in outcome.why


def test_an_rml_case_expecting_an_error(tmp_path: Path) -> None:
    case = _rml_case(tmp_path / "RMLTC9002a-CSV", None)
    (case / "teams.csv").unlink()
    _, outcome = run_case(case, {})
    assert outcome.status == "pass" and "teams.csv" in outcome.why


def test_a_function_morph_kgc_does_not_know_is_left_out_by_name() -> None:
    from bench.crosscheck_morph_kgc import _UNKNOWN_FUNCTION, _drop_entries

    iri = "KeyError: 'https://w3id.org/imec/idlab/function#normalizeDate'"
    call = 'KeyError: "http://users.ugent.be/~bjdmeest/function/grel.ttl#string_split(valueParameter = $(tags))"'
    assert _UNKNOWN_FUNCTION.search(iri).group(1) == "normalizeDate"
    assert _UNKNOWN_FUNCTION.search(call).group(1) == "string_split"
    doc = {
        "mappings": {
            "m": {"po": [["ex:a", "$(a)"], ["ex:t", "grel:string_split($(tags), ';')"]]},
            "n": {"s": "ex:$(id)"},
        }
    }
    assert _drop_entries(doc, "string_split") == ["m: 1 `po` entries"]
    assert doc["mappings"]["m"]["po"] == [["ex:a", "$(a)"]]
