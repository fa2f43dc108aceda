"""/sparql negotiates every result format, and each one parses back to the same answer."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from tests.api.api_sample import ALPHA, BETA, GRAPH_B

SELECT = "SELECT ?s ?name WHERE { ?s <http://schema.org/name> ?name } ORDER BY ?s ?name"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
RES = "{http://www.w3.org/2005/sparql-results#}"

EXPECTED_ROWS = [
    ("https://hub.example.org/id/alpha/faro", "Faro di Livorno"),
    ("https://hub.example.org/id/alpha/torre", "Torre di Calafuria"),
    ("https://hub.example.org/id/alpha/torre", "Tour de Calafuria"),
    ("https://hub.example.org/id/beta/mer", 'Hôtel "La Mer", Calvi'),
]


def expected_graph() -> rdflib.Graph:
    """Both sample graphs merged, as the union default graph holds them."""
    g = rdflib.Graph()
    g.parse(data=ALPHA, format="turtle")
    g.parse(data=BETA, format="turtle")
    return g


def rows_from(media_type: str, body: bytes) -> list[tuple[str, str]]:
    """(?s, ?name) rows of a SELECT result in any of the four result formats."""
    text = body.decode("utf-8")
    if media_type == "application/sparql-results+json":
        data = json.loads(text)
        assert data["head"]["vars"] == ["s", "name"]
        return [(b["s"]["value"], b["name"]["value"]) for b in data["results"]["bindings"]]
    if media_type == "application/sparql-results+xml":
        root = ET.fromstring(body)
        assert [v.get("name") for v in root.iter(f"{RES}variable")] == ["s", "name"]
        rows = []
        for result in root.iter(f"{RES}result"):
            values = {b.get("name"): next(iter(b)).text for b in result.iter(f"{RES}binding")}
            rows.append((values["s"], values["name"]))
        return rows
    if media_type == "text/csv":
        table = list(csv.reader(io.StringIO(text, newline="")))
        assert table[0] == ["s", "name"]
        return [(r[0], r[1]) for r in table[1:]]
    assert media_type == "text/tab-separated-values"
    lines = text.rstrip("\n").split("\n")
    assert lines[0].split("\t") == ["?s", "?name"]
    rows = []
    for line in lines[1:]:
        s, name = line.split("\t")
        # TSV writes terms in Turtle syntax: <iri> and "literal"@lang
        term = rdflib.util.from_n3(name)
        rows.append((s.strip("<>"), str(term)))
    return rows


RESULT_TYPES = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
]


@pytest.mark.parametrize("media_type", RESULT_TYPES)
def test_select_in_every_result_format(client: TestClient, media_type: str) -> None:
    res = client.get("/sparql", params={"query": SELECT}, headers={"Accept": media_type})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in res.headers["vary"]
    assert rows_from(media_type, res.content) == EXPECTED_ROWS


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
    ],
)
def test_format_parameter_overrides_accept(client: TestClient, name: str, media_type: str) -> None:
    res = client.get(
        "/sparql", params={"query": SELECT, "format": name}, headers={"Accept": "text/turtle"}
    )
    assert res.status_code == 200, res.text
    assert rows_from(media_type, res.content) == EXPECTED_ROWS


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/sparql-results+json", b'"boolean":true'),
        ("application/sparql-results+xml", b"<boolean>true</boolean>"),
        ("text/csv", b"true"),
        ("text/tab-separated-values", b"true"),
    ],
)
def test_ask_in_every_result_format(client: TestClient, media_type: str, expected: bytes) -> None:
    query = "ASK { ?s a <http://schema.org/LodgingBusiness> }"
    res = client.get("/sparql", params={"query": query}, headers={"Accept": media_type})
    assert res.status_code == 200
    assert expected in res.content.replace(b" ", b"")
    if media_type == "application/sparql-results+json":
        assert res.json() == {"head": {}, "boolean": True}


def test_ask_false(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": "ASK { ?s a <urn:nothing> }"})
    assert res.json()["boolean"] is False


@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_in_every_graph_format(
    client: TestClient, media_type: str, rdflib_format: str
) -> None:
    res = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": media_type})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].split(";")[0] == media_type
    got = rdflib.Graph().parse(data=res.content, format=rdflib_format)
    assert isomorphic(got, expected_graph())


@pytest.mark.parametrize(
    ("name", "rdflib_format"),
    [("turtle", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")],
)
def test_graph_format_parameter(client: TestClient, name: str, rdflib_format: str) -> None:
    res = client.get("/sparql", params={"query": CONSTRUCT, "format": name})
    assert res.status_code == 200, res.text
    got = rdflib.Graph().parse(data=res.content, format=rdflib_format)
    assert isomorphic(got, expected_graph())


def test_describe_defaults_to_turtle(client: TestClient) -> None:
    query = "DESCRIBE <https://hub.example.org/id/beta/mer>"
    res = client.get("/sparql", params={"query": query, "default-graph-uri": GRAPH_B})
    assert res.headers["content-type"].startswith("text/turtle")
    got = rdflib.Graph().parse(data=res.content, format="turtle")
    assert isomorphic(got, rdflib.Graph().parse(data=BETA, format="turtle"))


@pytest.mark.parametrize(
    ("accept", "select_type", "construct_type"),
    [
        (None, "application/sparql-results+json", "text/turtle"),
        ("*/*", "application/sparql-results+json", "text/turtle"),
        ("text/*", "text/csv", "text/turtle"),
        (
            "text/csv;q=0.5, application/sparql-results+xml;q=0.9, */*;q=0.1",
            "application/sparql-results+xml",
            "text/turtle",
        ),
        ("text/csv, */*;q=0.1", "text/csv", "text/turtle"),
        ("application/json", "application/sparql-results+json", "application/ld+json"),
        ("application/xml", "application/sparql-results+xml", "application/rdf+xml"),
        (
            "application/n-triples, text/tab-separated-values;q=0.8",
            "text/tab-separated-values",
            "application/n-triples",
        ),
        ("text/turtle;q=0, */*", "application/sparql-results+json", "application/n-triples"),
    ],
)
def test_accept_negotiation_with_q_values(
    client: TestClient, accept: str | None, select_type: str, construct_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    for query, expected in ((SELECT, select_type), (CONSTRUCT, construct_type)):
        res = client.get("/sparql", params={"query": query}, headers=headers)
        assert res.status_code == 200, (accept, res.text)
        assert res.headers["content-type"].split(";")[0] == expected, accept


def test_unacceptable_accept_is_406_listing_formats(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert res.status_code == 406
    message = res.text
    for media_type in RESULT_TYPES:
        assert media_type in message


def test_graph_format_for_select_is_406(client: TestClient) -> None:
    res = client.get(
        "/sparql",
        params={"query": SELECT, "format": "turtle"},
        headers={"Accept": "application/json"},
    )
    assert res.status_code == 406
    assert "text/csv (format=csv)" in res.json()["error"]["message"]


def test_results_format_for_construct_is_406(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert res.status_code == 406
    assert "text/turtle" in res.text


def test_unknown_format_parameter_is_400(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": SELECT, "format": "yaml"})
    assert res.status_code == 400
    assert "format=yaml is unknown" in res.json()["error"]["message"]
