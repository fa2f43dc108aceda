"""Malformed mapping files are rejected before a run, naming file and line."""

from __future__ import annotations

import pytest

from hub.errors import MappingError
from hub.iris import Iris
from hub.mapping.compile import compile_mapping

IRIS = Iris("https://hub.example.org/")


def compile_text(text: str):
    return compile_mapping(text, file="mappings/x.yml", source_id="x", iris=IRIS)


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [shema:name, $(n)]\n",
            5,
            "did you mean `schema:`",
        ),
        ("mappings:\n  m:\n    s: id:$(id)\n    po: [[schema:name, $(n)]\n", 5, "at line 4)"),
        ("mappings:\n  m:\n    po:\n      - [schema:name, $(n)]\n", 2, "needs a subject"),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    pp:\n      - [a, schema:Place]\n",
            4,
            "did you mean `po`",
        ),
        ("mappings:\n  m:\n    s: id:$(id\n", 3, "not closed"),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:name, $(n), 'it fr~lang']\n",
            5,
            "not a language tag",
        ),
        (
            "mappings:\n  m:\n    s: id:$(id)\n    po:\n      - [schema:name]\n",
            5,
            "[predicate, object]",
        ),
        ("prefixes:\n  id: https://x.example/\nmappings:\n  m:\n    s: id:$(id)\n", 2, "built in"),
        (
            "prefixes:\n  schema: https://schema.org/\nmappings:\n  m:\n    s: id:$(id)\n",
            2,
            "schema.org is http://schema.org/",
        ),
        ("mappings:\n  m:\n    s: id:$(a[?(@.x)])\n", 3, "supported subset"),
        ("mappings:\n  m:\n    s: $(id)/x\n", 3, "must start with a prefix or an IRI"),
        ("sourcez: []\nmappings: {}\n", 1, "unknown top-level key"),
        ("sources: []\nmappings: {}\n", 1, "a map of named sources"),
        ("- just\n- a list\n", 1, "YAML map"),
    ],
)
def test_malformed_mapping_names_file_and_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(MappingError) as info:
        compile_text(text)
    assert info.value.file == "mappings/x.yml"
    assert info.value.line == line, str(info.value)
    assert needle in str(info.value)
    assert str(info.value).startswith(f"mappings/x.yml line {line}:")


def test_valid_mapping_records_hash_and_prefixes() -> None:
    mapping = compile_text(
        "prefixes:\n  ex: https://ex.example/\nmappings:\n  m:\n    s: ex:$(id)\n"
    )
    assert len(mapping.sha256) == 64
    assert mapping.triples_maps[0].subject.parts[0] == "https://ex.example/"


def test_a_construct_mapping_in_the_other_schema_spelling_is_refused(tmp_path) -> None:
    from hub.pipeline.construct import load_construct

    rq = tmp_path / "x.rq"
    rq.write_text(
        "PREFIX s: <http://schema.org/>\nPREFIX o: <https://schema.org/>\n"
        "CONSTRUCT { ?x a o:Place } WHERE { ?x a s:Place }\n",
        encoding="utf-8",
    )
    with pytest.raises(
        MappingError, match=r"x.rq line 2: .*write PREFIX schema: <http://schema.org/>"
    ):
        load_construct(rq, source_id="x", iris=IRIS, display="x.rq")
