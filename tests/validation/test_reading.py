"""What the validator reads: N-Triples as any writer spells them, and XSD lexical forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import HubError
from hub.validation import load_shapes, validate_ntriples
from hub.validation.graph import DataGraph
from hub.validation.literals import XSD, well_formed

EX = "http://example.org/ns#"
SHAPES = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix ex: <{EX}> .
ex:S a sh:NodeShape ; sh:targetClass ex:Place ;
    sh:property [ sh:path ex:name ; sh:datatype rdf:langString ; sh:uniqueLang true ;
                  sh:languageIn ( "it" "fr" ) ] ;
    sh:property [ sh:path ex:code ; sh:datatype xsd:string ; sh:maxCount 1 ;
                  sh:pattern "^A\\\\s?1$" ] .
"""


def test_any_spelling_of_the_same_triples_reads_the_same(tmp_path: Path) -> None:
    canonical = (
        f"<{EX}a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Place> .\n"
        f'<{EX}a> <{EX}name> "Torre \\"Pisa\\""@it .\n'
        f'<{EX}a> <{EX}name> "Tour"@fr .\n'
        f'<{EX}a> <{EX}code> "A 1" .\n'
    )
    other = (
        "# a comment, a blank line, tabs, escapes, xsd:string spelled out, a tag in capitals\n\n"
        f"<{EX}a>\t<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>   <{EX}Place> .\n"
        f'<{EX}a> <{EX}name> "Torre \\u0022Pisa\\u0022"@IT .\r\n'
        f'<{EX}a> <{EX}name> "Tour"@fr .\n'
        f'<{EX}a> <{EX}name> "Tour"@fr .\n'  # the same triple twice counts once
        f'<{EX}a> <{EX}code> "A 1"^^<{XSD}string> .'  # no line end at the end
    )
    shapes = load_shapes(SHAPES)
    graphs = [DataGraph.from_ntriples(text.encode()) for text in (canonical, other)]
    assert graphs[0].spo == graphs[1].spo and graphs[1].triples == 4
    path = tmp_path / "other.nt"
    path.write_text(other, encoding="utf-8")
    chunks = [other.encode()[:50], other.encode()[50:]]  # cut inside a line
    for source in (canonical.encode(), path, chunks):
        report = validate_ntriples(source, shapes, graph="urn:g")
        assert report.conforms, report.violations
        assert report.triples == 4


def test_broken_ntriples_name_the_line() -> None:
    with pytest.raises(HubError, match="line 2: not N-Triples"):
        DataGraph.from_ntriples(f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p> oops .\n".encode())


@pytest.mark.parametrize(
    ("lexical", "datatype", "ok"),
    [
        ("12.5", "decimal", True),
        ("-.5", "decimal", True),
        ("12,5", "decimal", False),
        ("1e3", "decimal", False),
        (" 1", "decimal", False),
        ("1e3", "double", True),
        ("-INF", "double", True),
        ("1_000", "double", False),
        ("127", "byte", True),
        ("128", "byte", False),
        ("-1", "nonNegativeInteger", False),
        ("+7", "integer", True),
        ("1", "boolean", True),
        ("yes", "boolean", False),
        ("2024-02-29", "date", True),
        ("2023-02-29", "date", False),
        ("2000-02-29", "date", True),
        ("1900-02-29", "date", False),
        ("2024-04-31", "date", False),
        ("2024-01-01Z", "date", True),
        ("2024-01-01T10:00:00", "date", False),
        ("2024-01-01T24:00:00", "dateTime", True),
        ("2024-01-01T10:00:00+14:00", "dateTime", True),
        ("2024-01-01T10:00:00+15:00", "dateTime", False),
        ("2024-01-01", "dateTime", False),
        ("2024-01-01T10:00:00", "dateTimeStamp", False),
        ("2024-01-01T10:00:00Z", "dateTimeStamp", True),
        ("P1Y2M3DT4H5M6.5S", "duration", True),
        ("PT", "duration", False),
        ("P1YT", "duration", False),
        ("P", "duration", False),
        ("-P3D", "dayTimeDuration", True),
        ("P1Y", "dayTimeDuration", False),
        ("P1Y", "yearMonthDuration", True),
        ("--02-29", "gMonthDay", True),
        ("--02-30", "gMonthDay", False),
        ("0a1F", "hexBinary", True),
        ("0a1", "hexBinary", False),
        ("anything", "anyURI", True),  # no lexical check for other datatypes
    ],
)
def test_xsd_lexical_forms(lexical: str, datatype: str, ok: bool) -> None:
    assert well_formed(lexical, XSD + datatype) is ok
