"""A record that cannot be mapped is reported with source, key, file, line and reason; the run goes on."""

from __future__ import annotations

from hub.iris import Iris
from hub.mapping.compile import compile_mapping
from hub.mapping.runner import MappingRunner

MAPPING = """\
mappings:
  place:
    s: id:$(id)
    po:
      - [a, schema:Place]
      - [schema:latitude, $(lat), xsd:decimal]
      - [schema:url, $(web)~iri]
      - [schema:startDate, $(start), xsd:date]
      - [schema:name, $(details)]
"""


def runner() -> MappingRunner:
    mapping = compile_mapping(
        MAPPING, file="mappings/x.yml", source_id="x", iris=Iris("https://h.example/")
    )
    return MappingRunner(mapping, source="x", record_key="id")


def test_bad_records_are_reported_and_the_rest_is_mapped() -> None:
    records = [
        {"id": "ok1", "lat": "43.5"},
        {"id": "comma", "lat": "43,5"},
        {"id": "noscheme", "lat": "1", "web": "www.example.org"},
        {"id": "baddate", "start": "31/12/2026"},
        {"id": "object", "details": {"it": "x", "fr": "y"}},
        {"lat": "2"},
        {"id": "ok2", "lat": 44.25, "web": "https://example.org/a b"},
        {"id": "float", "lat": 44.25, "web": "https://example.org/a"},
        {"id": "ok3", "start": "2026-12-31"},
    ]
    r = runner()
    data = b"".join(r.run(records)).decode()
    assert r.stats.records == 9
    assert r.stats.failed == 6
    messages = [f.message("x") for f in r.stats.failures]
    assert messages[0] == (
        "source `x`, record `comma` (record #2): mappings/x.yml line 6: value of `lat`: `43,5` is not a "
        "valid xsd:decimal (it uses a decimal comma; write it with a point, or fix it at the source)"
    )
    assert "record `noscheme` (record #3): mappings/x.yml line 7" in messages[1]
    assert "not an absolute IRI" in messages[1]
    assert "record `baddate` (record #4): mappings/x.yml line 8" in messages[2]
    assert "line 9" in messages[3] and "selects an object" in messages[3]
    # a record without its key is reported (it could not get a stable IRI)
    assert any(
        "record `#6 (no `id`)` (record #6)" in m and "the source's key" in m for m in messages
    )
    assert "<https://h.example/id/x/ok1>" in data
    assert '"44.25"^^<http://www.w3.org/2001/XMLSchema#decimal>' in data
    assert "ok2" not in data  # its url has a space: not an IRI, the record is left out
    assert "record `ok2` (record #7)" in messages[5]
    assert "<https://h.example/id/x/ok3> <http://schema.org/startDate>" in data
    assert "comma" not in data and "noscheme" not in data


def test_unmatched_reference_warns_with_suggestion() -> None:
    mapping = compile_mapping(
        "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:name, $(nmae)]\n",
        file="mappings/x.yml",
        source_id="x",
        iris=Iris("https://h.example/"),
    )
    r = MappingRunner(mapping, source="x", record_key="id")
    list(r.run([{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]))
    warnings = r.unmatched_references()
    assert len(warnings) == 1
    assert warnings[0].startswith("mappings/x.yml line 5: `nmae` matched no value")
    assert "did you mean `name`?" in warnings[0]


def test_a_column_named_with_dots_is_found_as_is() -> None:
    mapping = compile_mapping(
        "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:name, $(name.it)]\n      - [schema:alternateName, $(alt.it)]\n",
        file="mappings/x.yml",
        source_id="x",
        iris=Iris("https://h.example/"),
    )
    r = MappingRunner(mapping, source="x", record_key="id")
    data = b"".join(r.run([{"id": "1", "name.it": "Pisa", "alt": {"it": "Pisa centro"}}])).decode()
    assert '"Pisa"' in data and '"Pisa centro"' in data
