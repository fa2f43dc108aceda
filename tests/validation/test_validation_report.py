"""Report fields, severities, messages and the result limit."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

import hub.validation
from hub.store.oxigraph import OxigraphStore
from hub.validation import ValidationReport, Violation, load_shapes, validate_graph
from tests.validation.conftest import DATA, GRAPH

ID = "http://example.org/id/"
EX = "http://example.org/ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture
def bad_report(staged: Callable[[str], OxigraphStore]) -> ValidationReport:
    return validate_graph(
        staged("data_places_bad.ttl"), GRAPH, load_shapes(DATA / "shapes_core.ttl")
    )


def test_public_api() -> None:
    assert {"load_shapes", "validate_graph", "ValidationReport", "Violation", "ShapesError"} <= set(
        hub.validation.__all__
    )
    for name in hub.validation.__all__:
        assert getattr(hub.validation, name) is not None


def test_violation_fields_and_message(bad_report: ValidationReport) -> None:
    missing = [
        v for v in bad_report.violations if v.focus_node == ID + "b1" and v.path == EX + "name"
    ]
    assert missing == [
        Violation(
            focus_node=ID + "b1",
            path=EX + "name",
            value=None,
            constraint="sh:minCount",
            shape="ex:PlaceShape",
            severity="sh:Violation",
            message="<http://example.org/id/b1>: ex:name is required (sh:minCount 1) — shape ex:PlaceShape",
        )
    ]
    assert missing[0].component == "http://www.w3.org/ns/shacl#MinCountConstraintComponent"


def test_literal_values_are_ntriples(bad_report: ValidationReport) -> None:
    wrong = {
        v.value
        for v in bad_report.violations
        if v.path == EX + "longitude" and v.constraint == "sh:datatype"
    }
    assert wrong == {f'"abc"^^<{XSD}decimal>'}
    [v] = [
        v
        for v in bad_report.violations
        if v.path == EX + "longitude" and v.constraint == "sh:datatype"
    ]
    assert v.message == (
        f'<{ID}b2>: ex:longitude value "abc"^^xsd:decimal is not a valid xsd:decimal '
        "(sh:datatype xsd:decimal) — shape ex:PlaceShape"
    )


def test_severities_are_counted_apart(bad_report: ValidationReport) -> None:
    assert not bad_report.conforms
    assert bad_report.warning_count == 2  # ex:StatusShape: "Open" not in the list, two values
    assert bad_report.info_count == 6  # ex:stars: 0 and 6 out of range, "5" a string, 4.0 a decimal
    assert bad_report.error_count == bad_report.violation_count - 8
    severities = {v.severity for v in bad_report.violations}
    assert severities == {"sh:Violation", "sh:Warning", "sh:Info"}


def test_sh_message_replaces_the_generic_text(bad_report: ValidationReport) -> None:
    status = [v for v in bad_report.violations if v.path == EX + "status"]
    assert {v.shape for v in status} == {"ex:StatusShape"}
    assert all("status must be open, closed or seasonal" in v.message for v in status)


def test_warnings_alone_do_not_fail_a_run(staged: Callable[[str], OxigraphStore]) -> None:
    shapes = load_shapes("""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <http://example.org/ns#> .
        ex:S a sh:NodeShape ; sh:targetClass ex:Place ; sh:severity sh:Warning ;
            sh:property [ sh:path ex:nothing ; sh:minCount 1 ; sh:severity sh:Warning ] .
    """)
    report = validate_graph(staged("data_ok.ttl"), GRAPH, shapes)
    assert not report.conforms
    assert report.error_count == 0 and report.warning_count == report.violation_count == 2


@pytest.mark.parametrize("limit", [0, 1, 5, 17])
def test_limit_lists_fewer_but_counts_all(
    staged: Callable[[str], OxigraphStore], limit: int
) -> None:
    store = staged("data_places_bad.ttl")
    shapes = load_shapes(DATA / "shapes_core.ttl")
    full = validate_graph(store, GRAPH, shapes, limit=10_000)
    cut = validate_graph(store, GRAPH, shapes, limit=limit)
    assert len(cut.violations) == limit
    assert cut.violation_count == full.violation_count
    assert (cut.error_count, cut.warning_count, cut.info_count) == (
        full.error_count,
        full.warning_count,
        full.info_count,
    )
    assert cut.truncated and not full.truncated
    assert set(cut.violations) <= set(full.violations)
    assert sorted((c.constraint, c.path, c.count) for c in cut.counts) == sorted(
        (c.constraint, c.path, c.count) for c in full.counts
    )


def test_empty_or_missing_graph_conforms(staged: Callable[[str], OxigraphStore]) -> None:
    store = staged("data_ok.ttl")
    report = validate_graph(
        store, "https://hub.example.org/graph/none", load_shapes(DATA / "shapes_core.ttl")
    )
    assert report.conforms and report.violation_count == 0


def test_report_as_dict_is_json(bad_report: ValidationReport) -> None:
    data = json.loads(json.dumps(bad_report.as_dict()))
    assert data["violation_count"] == bad_report.violation_count
    assert data["violations"][0]["focus_node"].startswith("http")
    assert "does not conform" in bad_report.summary()
