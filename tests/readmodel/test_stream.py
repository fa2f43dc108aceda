"""The one-pass reader of a version file hands over every entity, complete, with its lines.

Entity IRIs that extend one another (`a`, `a1`, `a10`, `a-b`) interleave in a sorted
file with their sub-resources; skolem nodes sort elsewhere; a geometry may belong to
another graph's IRI. Each case is checked against a reference grouping of the same
lines by the change feed's owner rule, and against pyoxigraph for the values read.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from hub.feed._derive import group_version
from hub.readmodel._stream import parse_wanted, stream_entities

PREFIX = "https://hub.example.org/id/src/"
GENID = "https://hub.example.org/.well-known/genid/src/"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
S = "http://schema.org/"


def _entity(key: str, name: str, kind: str = "Place") -> list[str]:
    node = f"<{PREFIX}{key}>"
    return [f"{node} {TYPE} <{S}{kind}> .", f'{node} <{S}name> "{name}"@it .']


LINES = [
    *_entity("a", "A"),
    f"<{PREFIX}a> <{S}address> <{PREFIX}a/address> .",
    f'<{PREFIX}a/address> <{S}addressLocality> "Bastia" .',
    f"<{PREFIX}a> <{S}geo> <{PREFIX}a#geo> .",
    f'<{PREFIX}a#geo> <{S}latitude> "42.7"^^<http://www.w3.org/2001/XMLSchema#decimal> .',
    f'<{PREFIX}a#geo> <{S}longitude> "9.45"^^<http://www.w3.org/2001/XMLSchema#decimal> .',
    f'<{PREFIX}a?v=1> <{S}description> "a variant" .',
    f"<{PREFIX}a> <{S}offers> <{GENID}o1> .",
    f'<{GENID}o1> <{S}price> "5" .',
    f"<{GENID}o1> <{S}seller> <{GENID}o2> .",
    f'<{GENID}o2> <{S}name> "seller" .',
    *_entity("a1", "A1"),
    *_entity("a10", "A10"),
    *_entity("a-b", 'A \\"quoted\\"\\nline \\u00E8'),
    *_entity("a!x", "before a's range"),
    *_entity("aZ", "after a's range"),
    *_entity("a/sub", "a typed sub-resource", "Event"),
    *_entity("b", "B"),
    f"<{PREFIX}b> <http://www.opengis.net/ont/geosparql#hasGeometry> <https://other.org/g/1> .",
    '<https://other.org/g/1> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(8.5 44.1)" .',
    f'<https://other.org/x> <{S}name> "a foreign subject" .',
]


@pytest.fixture
def version(tmp_path: Path) -> Path:
    path = tmp_path / "version.nt"
    path.write_bytes(b"".join(sorted(line.encode() + b"\n" for line in LINES)))
    return path


def test_each_entity_comes_with_exactly_the_lines_its_owner_groups(version: Path) -> None:
    grouping = group_version(version, PREFIX)
    streamed = {entity.iri: lines for entity, lines in stream_entities(version, grouping, {})}
    expected: dict[str, list[bytes]] = {}
    for raw in sorted(version.read_bytes().splitlines()):
        subject = raw[1 : raw.index(b">")].decode()
        expected.setdefault(grouping.owner(subject), []).append(raw)
    keys = ["a", "a1", "a10", "a-b", "a!x", "aZ", "b"]
    assert set(streamed) == {PREFIX + k for k in keys} | {PREFIX + "a/sub"}
    for key in keys:
        assert streamed[PREFIX + key] == expected[PREFIX + key], key
    assert streamed[PREFIX + "a/sub"] == []  # an entity, but its lines are a's
    assert any(b"o2" in line and b"seller" in line for line in streamed[PREFIX + "a"])


def test_values_are_read_as_pyoxigraph_reads_them(version: Path) -> None:
    entities = {
        e.iri[len(PREFIX) :]: e
        for e, _ in stream_entities(version, group_version(version, PREFIX), {})
    }
    a = entities["a"]
    assert a.municipalities == ["Bastia"]  # through the address it owns
    assert (a.shape.lat, a.shape.lon) == (42.7, 9.45)  # through its own #geo node
    assert entities["b"].shape.lon == 8.5  # a geometry under another IRI, found by search
    assert entities["a-b"].names == {"it": 'A "quoted"\nline è'}
    for raw in version.read_bytes().splitlines():
        parsed = parse_wanted(raw)
        if parsed is None:
            continue
        triple = next(iter(ox.parse(input=raw + b"\n", format=ox.RdfFormat.N_TRIPLES)))
        lang = triple.object.language if isinstance(triple.object, ox.Literal) else None
        assert parsed[::2] == (triple.subject.value, triple.object.value), raw
        assert parsed[3] == lang, raw


def test_a_broken_line_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.nt"
    path.write_bytes(f"<{PREFIX}a> <oops\n".encode())
    with pytest.raises(SyntaxError, match="oops"):
        list(stream_entities(path, group_version(path, PREFIX), {}))
