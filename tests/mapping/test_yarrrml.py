"""YARRRML as written in the wild: what runs, and what is refused before a run (file, line, key)."""

from __future__ import annotations

import pytest

from hub.errors import MappingError
from hub.iris import Iris
from hub.mapping.compile import compile_mapping
from hub.mapping.runner import MappingRunner

IRIS = Iris("https://h.example/")
HEAD = "prefixes:\n  ex: http://example.com/\nmappings:\n  m:\n    s: ex:$(id)\n"


def compile_text(text: str):
    return compile_mapping(text, file="mappings/x.yml", source_id="x", iris=IRIS)


def run(text: str, records: list[dict], key: str | None = "id") -> tuple[str, MappingRunner]:
    runner = MappingRunner(compile_text(text), source="x", record_key=key)
    return b"".join(runner.run(records)).decode(), runner


# -- refused before the run, with file, line and key ----------------------------------
@pytest.mark.parametrize(
    ("text", "line", "needles"),
    [
        (HEAD + "    g: ex:graph\n", 6, ["`g:`", "own named graph"]),
        (
            HEAD + "    po:\n      - p: ex:p\n        o: $(a)\n        graphs: ex:g\n",
            9,
            ["`graphs:`", "own named graph"],
        ),
        ("targets:\n  t: [out.nt~void]\n" + HEAD, 1, ["`targets:`", "remove it"]),
        (
            HEAD + "    po:\n      - p: ex:p\n        i: ex:q\n        o: $(a)~iri\n",
            8,
            ["inverse predicates", "other way round"],
        ),
        (
            "mappings:\n  m:\n    s: ex:$(id)~blanknode\n",
            3,
            ["blank nodes are not supported"],
        ),
        (
            "sources:\n  s: [data.xml~xpath, /a/b]\nmappings:\n  m:\n    s: id:$(id)\n",
            2,
            ["`xpath` sources are not supported"],
        ),
        (
            "sources:\n  s:\n    access: db\n    query: SELECT 1\nmappings:\n  m:\n    s: id:$(id)\n",
            4,
            ["`query:`", "hub.toml"],
        ),
        (
            "sources:\n  s:\n    access: a.csv\n    delimiter: ';'\nmappings:\n  m:\n    s: id:$(id)\n",
            4,
            ["`delimiter:`", "options.delimiter"],
        ),
        (
            "sources:\n  s: [a.csv~csv, '$.x']\nmappings:\n  m:\n    s: id:$(id)\n",
            2,
            ["CSV source has no iterator"],
        ),
        ("mappings:\n  m:\n    sources: peple\n    s: id:$(id)\n", 3, ["no source named `peple`"]),
        (
            "sources:\n  people: [p.csv~csv]\nmappings:\n  m:\n    sources: peple\n    s: id:$(id)\n",
            5,
            ["did you mean `people`?"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:name, 'grel:toUperCase($(a))']\n",
            5,
            ["unknown function `grel:toUperCase`", "did you mean `grel:toUpperCase`"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - p: schema:name\n        o:\n"
            "          function: grel:toUpperCase\n          parameters:\n"
            "            - [grel:input, $(a)]\n",
            7,
            ["has no parameter `grel:input`", "grel:valueParameter"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - p: schema:name\n        o:\n"
            "          function: grel:string_replace\n          parameters:\n"
            "            - [grel:valueParameter, $(a)]\n",
            7,
            ["needs `grel:p_string_find`"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - p: schema:about\n        o:\n"
            "          mapping: other\n",
            7,
            ["`mapping: other` is not a mapping of this file"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - p: schema:about\n        o:\n"
            "          mapping: n\n          condition:\n            function: notEqual\n"
            "            parameters: [[str1, $(a)], [str2, $(b)]]\n  n:\n    s: id:$(b)\n",
            9,
            ["join condition is `function: equal`"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - p: schema:about\n        o:\n"
            "          mapping: n\n  n:\n    sources: [['x.json~jsonpath', '$.items[*]']]\n"
            "    s: id:$(b)\n",
            7,
            ["iterates other records", "join condition"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - p: schema:name\n        o:\n"
            "          valeu: $(a)\n",
            7,
            ["unknown key `valeu` in an object"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:age, $(a), xsd:integr]\n",
            5,
            ["`xsd:integr` is not an XSD datatype", "did you mean `xsd:integer`?"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:name, $(a), rdf:langString]\n",
            5,
            ["give a language instead"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:name, $(a), en_GB~lang]\n",
            5,
            ["`en_GB` is not a language tag", "BCP 47"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:age, 'forty', xsd:integer]\n",
            5,
            ["`forty` is not a valid xsd:integer"],
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - p: schema:name\n"
            "        o: $(a)\n        condition:\n          function: ex:isValid\n",
            8,
            ["unknown prefix `ex:`"],
        ),
    ],
)
def test_unsupported_is_refused_before_the_run(text: str, line: int, needles: list[str]) -> None:
    with pytest.raises(MappingError) as info:
        compile_text(text)
    assert info.value.file == "mappings/x.yml"
    assert info.value.line == line, str(info.value)
    for needle in needles:
        assert needle in str(info.value)


# -- bad values from the data: a RecordError per record, with file, line and value -----
DATA_TYPED = """\
prefixes:
  ex: http://example.com/
mappings:
  m:
    s: ex:$(id)
    po:
      - p: ex:label
        o:
          value: $(label)
          language: $(lang)
      - p: ex:amount
        o:
          value: $(amount)
          datatype: $(type)
"""


def test_language_and_datatype_from_data_are_checked_per_value() -> None:
    records = [
        {"id": "ok", "label": "Pisa", "lang": "it", "amount": "12", "type": "xsd:integer"},
        {"id": "full-iri", "amount": "1.5", "type": "http://www.w3.org/2001/XMLSchema#decimal"},
        {"id": "badlang", "label": "Pisa", "lang": "italiano!"},
        {"id": "unknown", "amount": "12", "type": "xsd:integr"},
        {"id": "lexical", "amount": "twelve", "type": "xsd:integer"},
        {"id": "range", "amount": "300", "type": "xsd:byte"},
        {"id": "noday", "amount": "2026-02-30", "type": "xsd:date"},
    ]
    data, runner = run(DATA_TYPED, records)
    assert '<http://example.com/ok> <http://example.com/label> "Pisa"@it .' in data
    assert '"12"^^<http://www.w3.org/2001/XMLSchema#integer>' in data
    assert '"1.5"^^<http://www.w3.org/2001/XMLSchema#decimal>' in data
    failures = {f.key: f for f in runner.stats.failures}
    assert sorted(failures) == ["badlang", "lexical", "noday", "range", "unknown"]
    bad_lang = failures["badlang"].error
    assert (bad_lang.file, bad_lang.line, bad_lang.value) == ("mappings/x.yml", 10, "italiano!")
    assert "is not a language tag" in bad_lang.reason
    public = failures["badlang"].message("x", hide_value=True)
    assert "italiano!" not in public and "‹value hidden›" in public
    unknown = failures["unknown"].error
    assert unknown.line == 14 and unknown.value == "xsd:integr"
    assert "did you mean `xsd:integer`?" in unknown.reason
    lexical = failures["lexical"].error
    assert (lexical.line, lexical.value) == (14, "twelve")
    assert "`twelve` is not a valid xsd:integer" in lexical.reason
    assert "out of the range of xsd:byte" in failures["range"].error.reason
    assert "no such day" in failures["noday"].error.reason


def test_a_function_that_cannot_use_a_value_fails_the_record() -> None:
    text = (
        "prefixes:\n  ex: http://example.com/\nmappings:\n  m:\n    s: ex:$(id)\n    po:\n"
        "      - p: ex:date\n        o:\n          function: grel:date_toDate\n"
        "          parameters:\n            - [grel:valueParameter, $(d)]\n"
        "            - [grel:p_string_pattern, dd/MM/yyyy]\n"
        "      - p: ex:kind\n        o:\n          function: mh:valueMap\n"
        "          parameters:\n            - [mh:value, $(k)]\n"
        "            - [mh:map, {a: alpha, b: beta}]\n"
    )
    records = [
        {"id": "1", "d": "05/03/2024", "k": "a"},
        {"id": "2", "d": "2024-03-05"},
        {"id": "3", "k": "z"},
    ]
    data, runner = run(text, records)
    assert '"2024-03-05"^^<http://www.w3.org/2001/XMLSchema#date>' in data
    assert '"alpha"' in data
    first, second = runner.stats.failures
    assert first.key == "2" and first.error.line == 9 and first.error.value == "2024-03-05"
    assert "does not match the date pattern `dd/MM/yyyy`" in first.error.reason
    assert second.key == "3" and second.error.line == 15 and second.error.value == "z"
    assert "not in the value map (a, b)" in second.error.reason


# -- functions, conditions, sources -------------------------------------------------
def test_function_forms() -> None:
    text = """\
prefixes:
  ex: http://example.com/
  grel: http://users.ugent.be/~bjdmeest/function/grel.ttl#
  idlab-fn: http://example.com/idlab/function/
mappings:
  m:
    s: ex:$(id)
    po:
      - [ex:a, 'grel:toUpperCase($(name))']
      - p: ex:b
        o:
          function: grel:string_replace(valueParameter = $(name), p_string_find = 'a', p_string_replace = 'o')
      - p: ex:c
        o:
          function: grel:array_join
          parameters:
            - [grel:p_array_a, '$(tags[*])']
            - [grel:p_string_sep, ' | ']
      - p: ex:d
        o:
          function: grel:toLowerCase
          parameters:
            - parameter: grel:valueParameter
              value:
                function: idlab-fn:concat
                parameters:
                  - [idlab-fn:str, $(name)]
                  - [idlab-fn:otherStr, $(id)]
                  - [idlab-fn:delimiter, '-']
      - p: ex:e
        o:
          function: idlab-fn:trueCondition
          parameters:
            - [idlab-fn:strBoolean, 'grel:string_contains($(name), an)']
            - [idlab-fn:str, has an]
      - p: ex:f
        o:
          type: iri
          function: grel:toLowerCase(grel:valueParameter = ex:kind/$(kind))
      - [ex:g, 'grel:string_length($(name))']
"""
    data, runner = run(text, [{"id": "7", "name": "Banana", "tags": ["x", "y"], "kind": "FRUIT"}])
    assert runner.stats.failed == 0, runner.stats.failures
    assert '<http://example.com/a> "BANANA" .' in data
    assert '<http://example.com/b> "Bonono" .' in data
    assert '<http://example.com/c> "x | y" .' in data
    assert '<http://example.com/d> "banana-7" .' in data
    assert '<http://example.com/e> "has an" .' in data
    assert "<http://example.com/f> <http://example.com/kind/fruit> ." in data
    assert '<http://example.com/g> "6"^^<http://www.w3.org/2001/XMLSchema#integer> .' in data


def test_conditions_on_mapping_predicate_object_and_object() -> None:
    text = """\
prefixes:
  ex: http://example.com/
mappings:
  m:
    s: ex:$(id)
    condition:
      function: notEqual
      parameters: [[str1, $(status)], [str2, deleted]]
    po:
      - p: ex:name
        o: $(name)
        condition:
          function: isNull
          parameters: [[idlab-fn:str, $(hidden)]]
      - p: ex:note
        o:
          - value: $(note)
            condition:
              function: grel:string_startsWith
              parameters: [[grel:valueParameter, $(note)], [grel:string_sub, 'ok']]
          - value: $(name)
"""
    records = [
        {"id": "1", "name": "A", "note": "ok then"},
        {"id": "2", "name": "B", "hidden": "yes", "note": "no"},
        {"id": "3", "name": "C", "status": "deleted"},
    ]
    data, _ = run(text, records)
    assert '<http://example.com/1> <http://example.com/name> "A" .' in data
    assert '<http://example.com/1> <http://example.com/note> "ok then" .' in data
    assert '<http://example.com/2> <http://example.com/name> "B"' not in data
    assert '<http://example.com/2> <http://example.com/note> "B" .' in data
    assert '"no"' not in data
    assert "<http://example.com/3>" not in data


def test_several_sources_in_one_mapping() -> None:
    text = """\
prefixes:
  ex: http://example.com/
sources:
  a: [people-2024.csv~csv]
  b: [people-2025.csv~csv]
mappings:
  person:
    sources: [a, b]
    s: ex:$(id)
    po:
      - [ex:name, $(name)]
  label:
    sources:
      - [doc.json~jsonpath, $]
      - [doc.json~jsonpath, '$.aliases[*]']
    s: ex:$(id)
    po:
      - [ex:label, $(name)]
"""
    data, runner = run(text, [{"id": "1", "name": "One", "aliases": [{"id": "1", "name": "Uno"}]}])
    # two CSV files with the same shape: one stream of rows, each row mapped once
    assert data.count('<http://example.com/name> "One"') == 1
    assert '<http://example.com/1> <http://example.com/label> "One" .' in data
    assert '<http://example.com/1> <http://example.com/label> "Uno" .' in data
    assert runner.stats.triples == 3


def test_an_iterator_that_matches_nothing_warns_with_a_hint() -> None:
    text = "mappings:\n  m:\n    sources: [[data.json~jsonpath, '$.items[*]']]\n    s: id:$(id)\n"
    _, runner = run(text, [{"id": "1"}, {"id": "2"}])
    (warning, *others) = runner.unmatched_references()
    assert warning.startswith("mappings/x.yml line 3: `$.items[*]` matched no value")
    assert "already splits the file into these records, write `$`" in warning


def test_joins_link_records_of_the_whole_run_but_not_failed_ones() -> None:
    text = """\
prefixes:
  ex: http://example.com/
mappings:
  stop:
    s: ex:stop/$(stop)
    po:
      - [ex:lat, $(lat), xsd:decimal]
      - p: ex:onRoute
        o:
          mapping: route
          condition:
            function: equal
            parameters:
              - [str1, $(route)]
              - [str2, $(code)]
  route:
    s: ex:route/$(code)
    po:
      - [ex:lat, $(lat), xsd:decimal]
"""
    records = [
        {"stop": "s1", "route": 10},
        {"stop": "s2", "route": "20"},
        {"code": "10"},
        {"code": "20", "lat": "4,5"},  # fails: its route is left out, and so the link to it
    ]
    data, runner = run(text, records, key=None)
    assert (
        "<http://example.com/stop/s1> <http://example.com/onRoute> <http://example.com/route/10> ."
        in data
    )
    assert "route/20" not in data
    assert runner.stats.failed == 1
    assert runner.stats.triples == data.count("\n")
    # a sample shows the record's own triples (links are made at the end of a run)
    assert runner.map_record({"stop": "s9", "route": "10"}) == []


def test_external_references_and_authors() -> None:
    text = """\
authors: Jane Doe <jane@example.com>
external:
  city: Livorno
prefixes:
  ex: http://example.com/
mappings:
  m:
    s: ex:$(id)
    po:
      - [ex:city, $(_city)]
      - [ex:field, $(\\_city)]
"""
    data, _ = run(text, [{"id": "1", "_city": "Pisa"}])
    assert '"Livorno"' in data and '"Pisa"' in data


def test_objects_as_value_datatype_pairs_and_po_level_language() -> None:
    text = """\
prefixes:
  ex: http://example.com/
mappings:
  m:
    s: ex:$(id)
    po:
      - predicates: [ex:name, ex:label]
        objects: [[$(it), it~lang], [$(n), xsd:integer]]
      - predicates: ex:title
        objects: $(it)
        language: it
"""
    data, runner = run(text, [{"id": "1", "it": "Pisa", "n": "3"}])
    assert runner.stats.triples == 5
    assert '<http://example.com/label> "Pisa"@it .' in data
    assert '<http://example.com/name> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .' in data
    assert '<http://example.com/title> "Pisa"@it .' in data


def test_a_language_name_is_not_a_language_tag() -> None:
    text = HEAD + "    po:\n      - [ex:label, $(label), $(lang)~lang]\n"
    records = [
        {"id": "code", "label": "Pisa", "lang": "en-GB"},
        {"id": "name", "label": "Pisa", "lang": "english"},  # well-formed BCP 47, not valid
        {"id": "four", "label": "Pisa", "lang": "engl"},
    ]
    data, runner = run(text, records)
    assert '"Pisa"@en-gb' in data or '"Pisa"@en-GB' in data
    assert sorted(f.key for f in runner.stats.failures) == ["four", "name"]
    with pytest.raises(MappingError, match="language"):
        compile_text(HEAD + "    po:\n      - [ex:label, $(label), english~lang]\n")


def test_a_class_in_long_form_after_a() -> None:
    long_form = HEAD + "    po:\n      - p: a\n        o: {value: ex:Place, type: iri}\n"
    short = HEAD + "    po:\n      - [a, {value: ex:Place, type: iri}]\n"
    plain = HEAD + "    po:\n      - [a, ex:Place]\n"
    expected = "<http://example.com/p1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    expected += "<http://example.com/Place> .\n"
    for text in (long_form, short, plain):
        assert run(text, [{"id": "p1"}])[0] == expected
    with pytest.raises(MappingError, match="takes a class"):
        compile_text(HEAD + "    po:\n      - p: a\n        o: {value: $(name), type: literal}\n")
