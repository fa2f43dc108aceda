"""Loading shapes: what is refused, and why, before any graph is validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import HubError
from hub.validation import ShapesError, load_shapes
from tests.validation.conftest import DATA

REPO = Path(__file__).resolve().parents[2]
PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/ns#> .
"""


def test_unsupported_feature_is_refused_by_name(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        PREFIXES
        + """
        ex:S a sh:NodeShape ; sh:targetClass ex:Place ;
            sh:property [ sh:path ex:name ; sh:qualifiedValueShape [ sh:datatype xsd:string ] ;
                          sh:qualifiedMinCount 1 ] .
    """
    )
    with pytest.raises(ShapesError) as caught:
        load_shapes(shapes)
    error = caught.value
    assert isinstance(error, HubError)
    assert error.file == str(shapes)
    assert error.feature in ("sh:qualifiedMinCount", "sh:qualifiedValueShape")
    assert "ex:S (property ex:name)" in str(error)
    assert "not checked" in str(error)


def test_sparql_constraints_are_refused() -> None:
    with pytest.raises(ShapesError, match="sh:sparql"):
        load_shapes(
            PREFIXES
            + """
            ex:S a sh:NodeShape ; sh:targetClass ex:Place ;
                sh:sparql [ sh:select "SELECT $this WHERE { }" ] .
        """
        )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('sh:property [ sh:path ex:p ; sh:minCount "one" ]', "non-negative integer"),
        ('sh:property [ sh:path ex:p ; sh:pattern "[a-" ]', "not a valid regular expression"),
        ("sh:property [ sh:path ex:p ; sh:nodeKind ex:Thing ]", "not a SHACL node kind"),
        ('sh:property [ sh:path ex:p ; sh:datatype "string" ]', "must be an IRI"),
        ("sh:minCount 1", "needs a property shape"),
        ("sh:node ex:Missing", "not defined"),
        ("sh:node ex:S", "recursive"),
        (
            "sh:property [ sh:path ex:p ; sh:node [ sh:property [ sh:path ex:p ] ; sh:node ex:S ] ]",
            "recursive",
        ),
    ],
)
def test_malformed_or_uncompilable_shapes_are_refused(body: str, reason: str) -> None:
    with pytest.raises(ShapesError, match=reason):
        load_shapes(PREFIXES + f"ex:S a sh:NodeShape ; sh:targetClass ex:Place ; {body} .")


def test_counts_inside_nested_shapes_are_supported() -> None:
    """The SPARQL compiler refused counts above 4 inside sh:node & co.; the validator runs them."""
    shapes = load_shapes(
        PREFIXES + "ex:S a sh:NodeShape ; sh:targetClass ex:Place ; "
        "sh:property [ sh:path ex:p ; sh:node [ sh:property [ sh:path ex:q ; sh:minCount 9 ] ] ] ."
    )
    assert len(shapes.targeted) == 1


def test_unreadable_sources() -> None:
    with pytest.raises(ShapesError, match="cannot be read"):
        load_shapes("no/such/shapes.ttl")
    with pytest.raises(ShapesError, match="not valid Turtle"):
        load_shapes(PREFIXES + "ex:S a sh:NodeShape ; ;; ]")


def test_text_and_file_load_alike() -> None:
    path = DATA / "shapes_core.ttl"
    from_file, from_text = load_shapes(path), load_shapes(path.read_text())
    names = sorted(s.name for s in from_file.shapes.values())
    assert names == sorted(s.name for s in from_text.shapes.values())
    assert from_file.source == str(path) and from_text.source == "<shapes text>"


def test_deactivated_and_targets_are_read() -> None:
    shapes = load_shapes(DATA / "shapes_targets.ttl")
    region = shapes.shapes["http://example.org/ns#Region"]
    assert region.targets.classes == ("http://example.org/ns#Region",)  # implicit class target
    organization = shapes.shapes["http://example.org/ns#Organization"]
    assert organization.targets.classes == ("http://example.org/ns#Organization",)
    off = load_shapes(DATA / "shapes_core.ttl").shapes["http://example.org/ns#OffShape"]
    assert off.deactivated


@pytest.mark.skipif(not (REPO / "ontology" / "shapes.ttl").exists(), reason="no project shapes yet")
def test_project_shapes_are_fully_supported() -> None:
    shapes = load_shapes(REPO / "ontology" / "shapes.ttl")
    assert shapes.targeted
