"""Results in the stewards' languages: sh:message in it/fr/en, the offending value, groups."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from hub.store.oxigraph import OxigraphStore
from hub.validation import Shapes, ValidationReport, Violation, load_shapes, validate_graph
from tests.validation.conftest import DATA, GRAPH

SHAPES_TTL = Path(__file__).resolve().parents[2] / "ontology" / "shapes.ttl"
MHS = "https://w3id.org/marittimo-hub/shapes#"
SH_MESSAGE = URIRef("http://www.w3.org/ns/shacl#message")
TEST_ID = "https://hub.example.org/id/test/"
EX = "http://example.org/ns#"


def messages_in_file(shape: str) -> dict[str, str]:
    """The shape's sh:message by language, read straight from the Turtle with rdflib."""
    graph = Graph().parse(SHAPES_TTL, format="turtle")
    found = graph.objects(URIRef(MHS + shape), SH_MESSAGE)
    return {m.language: str(m) for m in found if isinstance(m, Literal)}


@pytest.fixture(scope="module")
def hub_shapes() -> Shapes:
    return load_shapes(SHAPES_TTL)


@pytest.fixture
def steward_report(staged: Callable[[str], OxigraphStore], hub_shapes: Shapes) -> ValidationReport:
    return validate_graph(staged("steward_places.ttl"), GRAPH, hub_shapes)


def only(report: ValidationReport, focus: str, shape: str, constraint: str) -> Violation:
    [v] = [
        v
        for v in report.violations
        if v.focus_node == focus and v.shape == shape and v.constraint == constraint
    ]
    return v


def test_shapes_are_parsed_by_language(hub_shapes: Shapes) -> None:
    shape = hub_shapes.shapes[MHS + "latitude"]
    assert shape.message_by_lang == messages_in_file("latitude")
    assert set(shape.message_by_lang) == {"en", "it", "fr"}
    assert shape.messages[0] == shape.message_by_lang["en"]  # the tuple still puts English first


def test_untagged_message_stands_in_for_english() -> None:
    shapes = load_shapes("""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <http://example.org/ns#> .
        ex:A a sh:NodeShape ; sh:targetClass ex:T ;
            sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message "plain", "piano"@IT ] .
        ex:B a sh:NodeShape ; sh:targetClass ex:T ;
            sh:property [ sh:path ex:q ; sh:minCount 1 ; sh:message "plain", "English"@en ] .
    """)
    by_path = {s.path.display: s.message_by_lang for s in shapes.shapes.values() if s.path}
    assert by_path == {"ex:p": {"en": "plain", "it": "piano"}, "ex:q": {"en": "English"}}


def test_bad_value_reads_in_italian_french_and_english(steward_report: ValidationReport) -> None:
    expected = messages_in_file("latitude")
    v = only(steward_report, TEST_ID + "torre", "mhs:latitude", "sh:datatype")
    assert v.value == '"12,5"'
    assert v.messages == expected
    italian, french = v.text("it"), v.text("fr")
    assert expected["it"] in italian and expected["en"] not in italian
    assert expected["fr"] in french and expected["en"] not in french
    for text in (italian, french, v.message):
        assert '"12,5"' in text
        assert text.startswith(f"<{TEST_ID}torre>: ")
        assert text.endswith(" — shape mhs:latitude")
    assert italian == (
        f'<{TEST_ID}torre>: {expected["it"]} (sh:datatype xsd:decimal) — valore "12,5"'
        " — shape mhs:latitude"
    )
    # `message` stays the English sentence, now with the value in it.
    assert v.message == v.text() == v.text("en")
    assert expected["en"] in v.message and 'value "12,5"' in v.message


def test_language_fallbacks(steward_report: ValidationReport) -> None:
    v = only(steward_report, TEST_ID + "addr", "mhs:PostalAddressShape", "sh:pattern")
    assert '"2020"' in v.text("fr")
    assert v.text("fr-CA") == v.text("FR") == v.text("fr")  # region and case are ignored
    assert v.text("de") == v.text("en")  # no German message: English


def test_shapes_without_messages_keep_the_generated_sentence(
    staged: Callable[[str], OxigraphStore],
) -> None:
    report = validate_graph(
        staged("data_places_bad.ttl"), GRAPH, load_shapes(DATA / "shapes_core.ttl")
    )
    [v] = [
        v for v in report.violations if v.path == EX + "longitude" and v.constraint == "sh:datatype"
    ]
    assert v.messages == {}
    assert v.text("it") == v.text("fr") == v.message
    assert v.message.count('"abc"^^xsd:decimal') == 1  # the sentence names it, once
    # ex:StatusShape has English and Italian only: French falls back to English.
    status = [v for v in report.violations if v.path == EX + "status" and v.value]
    assert status
    for v in status:
        assert "stato non valido" in v.text("it") and "valore" in v.text("it")
        assert v.text("fr") == v.text("en") == v.message
        assert "status must be open, closed or seasonal" in v.message


def test_violation_built_by_hand_still_works() -> None:
    v = Violation("urn:x", None, None, "sh:minCount", "ex:S", "sh:Violation", "urn:x: broken")
    assert v.messages == {} and v.text("it") == "urn:x: broken"
    assert len({v, v}) == 1  # still hashable, with a dict field


@pytest.mark.parametrize("limit", [0, 2, 7])
def test_groups_count_exactly_past_the_limit(
    staged: Callable[[str], OxigraphStore], limit: int
) -> None:
    store = staged("data_places_bad.ttl")
    shapes = load_shapes(DATA / "shapes_core.ttl")
    full = validate_graph(store, GRAPH, shapes, limit=10_000)
    cut = validate_graph(store, GRAPH, shapes, limit=limit)
    exact = {(g["shape"], g["path"], g["constraint"], g["severity"]): g for g in full.groups()}
    groups = cut.groups()
    assert {(g["shape"], g["path"], g["constraint"], g["severity"]) for g in groups} == set(exact)
    for g in groups:
        key = (g["shape"], g["path"], g["constraint"], g["severity"])
        assert g["count"] == exact[key]["count"]
        assert g["message"] == exact[key]["message"]
        assert len(g["examples"]) <= min(g["count"], 5)
    assert sum(g["count"] for g in groups) == full.violation_count
    assert sum(len(g["examples"]) for g in groups) == limit
    # More results exist than are listed, and some group says so.
    assert any(g["count"] > len(g["examples"]) for g in groups)


def test_groups_order_examples_and_language(staged: Callable[[str], OxigraphStore]) -> None:
    report = validate_graph(
        staged("data_places_bad.ttl"), GRAPH, load_shapes(DATA / "shapes_core.ttl")
    )
    groups = report.groups("it", examples=1)
    rank = {"sh:Violation": 0, "sh:Warning": 1, "sh:Info": 2}
    order = [(rank[g["severity"]], -g["count"]) for g in groups]
    assert order == sorted(order)
    assert groups[0]["severity"] == "sh:Violation" and groups[-1]["severity"] == "sh:Info"
    assert all(len(g["examples"]) == 1 for g in groups)
    [status] = [g for g in groups if g["shape"] == "ex:StatusShape" and g["constraint"] == "sh:in"]
    assert status["message"] == "stato non valido" and status["count"] == 1
    assert status["examples"] == [
        {
            "focus": "http://example.org/id/b3",
            "path": EX + "status",
            "value": '"Open"',
        }
    ]
    [stars] = [g for g in groups if g["path"] == EX + "stars" and g["constraint"] == "sh:datatype"]
    assert stars["message"].startswith("ex:stars value")  # no sh:message: generated, in English
    assert stars["rule"] == "sh:datatype xsd:integer"
    assert len(report.groups(examples=5)[0]["examples"]) == min(groups[0]["count"], 5)


def test_report_dict_has_groups(steward_report: ValidationReport) -> None:
    data = json.loads(json.dumps(steward_report.as_dict()))
    assert data["groups"] == steward_report.groups("en")
    assert sum(g["count"] for g in data["groups"]) == data["violation_count"]
    [lat] = [v for v in data["violations"] if v["shape"] == "mhs:latitude"][:1]
    assert set(lat["messages"]) == {"en", "it", "fr"}
