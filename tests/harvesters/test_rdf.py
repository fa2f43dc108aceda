"""The `rdf` harvester on real RDF files of every format, local and over loopback HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from harvesters import HarvestContext, get_harvester
from hub.errors import HarvestError
from hub.validation import load_shapes, validate_graph

harvest_rdf = get_harvester("rdf")
REPO = Path(__file__).resolve().parents[2]

# The same little graph in every format: a language-tagged name, a typed number, an
# IRI, a blank node and a literal with a quote and a line break.
TURTLE = """@prefix ex: <https://sistina.example/ontologia#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://sistina.example/beni/sis-001> a ex:Bene ;
    ex:nome "Necropoli di Populonia"@it , "Nécropole de Populonia"@fr ;
    ex:lat "42.992"^^xsd:double ;
    ex:nota "una \\"nota\\"\\nsu due righe" ;
    ex:indirizzo [ ex:comune "Piombino" ] .
"""
NTRIPLES = """<https://sistina.example/beni/sis-001> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://sistina.example/ontologia#Bene> .
<https://sistina.example/beni/sis-001> <https://sistina.example/ontologia#nome> "Necropoli di Populonia"@it .
<https://sistina.example/beni/sis-001> <https://sistina.example/ontologia#nome> "Nécropole de Populonia"@fr .
<https://sistina.example/beni/sis-001> <https://sistina.example/ontologia#lat> "42.992"^^<http://www.w3.org/2001/XMLSchema#double> .
<https://sistina.example/beni/sis-001> <https://sistina.example/ontologia#nota> "una \\"nota\\"\\nsu due righe" .
<https://sistina.example/beni/sis-001> <https://sistina.example/ontologia#indirizzo> _:a .
_:a <https://sistina.example/ontologia#comune> "Piombino" .
"""
NQUADS = "".join(
    line[:-2] + " <https://sistina.example/grafo> .\n" if n % 2 else line
    for n, line in enumerate(NTRIPLES.splitlines(keepends=True))
)
TRIG = """@prefix ex: <https://sistina.example/ontologia#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://sistina.example/beni/sis-001> a ex:Bene ; ex:lat "42.992"^^xsd:double .
<https://sistina.example/grafo> {
  <https://sistina.example/beni/sis-001>
    ex:nome "Necropoli di Populonia"@it , "Nécropole de Populonia"@fr ;
    ex:nota "una \\"nota\\"\\nsu due righe" ;
    ex:indirizzo [ ex:comune "Piombino" ] .
}
"""
JSONLD = """{
  "@context": {"ex": "https://sistina.example/ontologia#",
               "xsd": "http://www.w3.org/2001/XMLSchema#"},
  "@id": "https://sistina.example/beni/sis-001",
  "@type": "ex:Bene",
  "ex:nome": [{"@value": "Necropoli di Populonia", "@language": "it"},
              {"@value": "Nécropole de Populonia", "@language": "fr"}],
  "ex:lat": {"@value": "42.992", "@type": "xsd:double"},
  "ex:nota": "una \\"nota\\"\\nsu due righe",
  "ex:indirizzo": {"ex:comune": "Piombino"}
}
"""
RDFXML = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:ex="https://sistina.example/ontologia#">
  <ex:Bene rdf:about="https://sistina.example/beni/sis-001">
    <ex:nome xml:lang="it">Necropoli di Populonia</ex:nome>
    <ex:nome xml:lang="fr">Nécropole de Populonia</ex:nome>
    <ex:lat rdf:datatype="http://www.w3.org/2001/XMLSchema#double">42.992</ex:lat>
    <ex:nota>una "nota"
su due righe</ex:nota>
    <ex:indirizzo><rdf:Description><ex:comune>Piombino</ex:comune></rdf:Description></ex:indirizzo>
  </ex:Bene>
</rdf:RDF>
"""
FILES = {
    "beni.ttl": TURTLE,
    "beni.nt": NTRIPLES,
    "beni.nq": NQUADS,
    "beni.trig": TRIG,
    "beni.jsonld": JSONLD,
    "beni.rdf": RDFXML,
}


def expected() -> rdflib.Graph:
    return rdflib.Graph().parse(data=TURTLE, format="turtle")


def as_graph(chunks: list[bytes]) -> rdflib.Graph:
    """The harvested N-Triples as an rdflib graph (parsing them checks they are valid)."""
    return rdflib.Graph().parse(data=b"".join(chunks).decode("utf-8"), format="nt")


def harvest(options: dict[str, Any], root: Path, context: HarvestContext | None = None) -> list:
    """All chunks of an `rdf` source called `test`."""
    return list(harvest_rdf("test", options, root=root, context=context))


# --- every format -------------------------------------------------------------------


def test_rdf_kind_produces_ntriples() -> None:
    assert harvest_rdf.produces == "ntriples"
    assert get_harvester("sparql").produces == "ntriples"


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_format_by_extension_gives_the_same_triples(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(FILES[name], encoding="utf-8")
    chunks = harvest({"path": name}, tmp_path)
    assert all(isinstance(c, bytes) and c.endswith(b" .\n") for c in chunks)
    assert isomorphic(as_graph(chunks), expected())  # quads lose their graph name


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.txt", "turtle"), ("b.data", "ntriples"), ("c.json", "jsonld"), ("d.xml", "rdfxml")],
)
def test_format_option_overrides_the_extension(tmp_path: Path, name: str, fmt: str) -> None:
    text = {"turtle": TURTLE, "ntriples": NTRIPLES, "jsonld": JSONLD, "rdfxml": RDFXML}[fmt]
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert isomorphic(as_graph(harvest({"path": name, "format": fmt}, tmp_path)), expected())


def test_chunks_hold_about_ten_thousand_complete_lines(tmp_path: Path) -> None:
    with (tmp_path / "big.nt").open("w", encoding="utf-8") as out:
        for i in range(25_000):
            out.write(f'<https://e.example/{i}> <https://e.example/p> "valore {i}" .\n')
    chunks = harvest({"path": "big.nt"}, tmp_path)
    assert [c.count(b"\n") for c in chunks] == [10_000, 10_000, 5_000]
    assert chunks[1].startswith(b"<https://e.example/10000> ")


def test_blank_nodes_get_fresh_labels(tmp_path: Path) -> None:
    (tmp_path / "b.ttl").write_text("_:b0 <https://e.example/p> _:b0 .\n", encoding="utf-8")
    first, second = harvest({"path": "b.ttl"}, tmp_path), harvest({"path": "b.ttl"}, tmp_path)
    assert b"_:b0 " not in first[0]
    assert first != second
    label = first[0].split()[0]
    assert first[0].split()[2] == label  # one node stays one node


def test_base_iri_resolves_relative_iris(tmp_path: Path) -> None:
    (tmp_path / "rel.ttl").write_text('<beni/1> <#nome> "Luni" .\n', encoding="utf-8")
    chunks = harvest({"path": "rel.ttl", "base_iri": "https://sistina.example/"}, tmp_path)
    assert chunks == [
        b'<https://sistina.example/beni/1> <https://sistina.example/#nome> "Luni" .\n'
    ]
    with pytest.raises(HarvestError, match=r"rel.ttl is not valid turtle: .*set options.base_iri"):
        harvest({"path": "rel.ttl"}, tmp_path)


# --- errors -------------------------------------------------------------------------


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    text = '@prefix ex: <https://e.example/> .\nex:a ex:p "uno" .\nex:b ex:p .\n'
    (tmp_path / "bad.ttl").write_text(text, encoding="utf-8")
    with pytest.raises(HarvestError) as caught:
        harvest({"path": "bad.ttl"}, tmp_path)
    message = str(caught.value)
    assert message.startswith("source `test`: bad.ttl is not valid turtle: ")
    assert "line 3" in message and "set options.format" in message


def test_jsonld_with_a_remote_context_says_to_inline_it(tmp_path: Path) -> None:
    (tmp_path / "r.jsonld").write_text(
        '{"@context": "https://schema.org/", "@id": "https://e.example/a", "name": "x"}',
        encoding="utf-8",
    )
    with pytest.raises(HarvestError, match=r"r.jsonld: the JSON-LD uses a remote @context"):
        harvest({"path": "r.jsonld"}, tmp_path)


def test_missing_file_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(HarvestError, match=r"file dump.ttl not found .*check options.path"):
        harvest({"path": "dump.ttl"}, tmp_path)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "set exactly one of options.path"),
        ({"path": "a.ttl", "url": "http://x/a.ttl"}, "set exactly one of options.path"),
        ({"path": "a.ttl", "format": "n3"}, "options.format `n3` is not one of turtle, ntriples"),
        ({"path": "a.txt"}, "cannot tell the RDF format of a.txt"),
        (
            {"path": "a.ttl", "base_iri": "relative/"},
            "options.base_iri `relative/` is not an absolute IRI",
        ),
        ({"url": "ftp://x/a.ttl"}, "is not an http(s) URL"),
        ({"path": "a.ttl", "graph": "x"}, "options.graph is not an option of kind `rdf`"),
    ],
)
def test_bad_options_are_refused_when_called(options: dict[str, Any], message: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest_rdf("test", options, root=Path("."))
    assert message in str(caught.value)


# --- over HTTP ----------------------------------------------------------------------


def test_over_http_format_from_content_type_and_base_from_url(file_server: Any) -> None:
    body = b'<beni/1> <https://e.example/p> "Luni"@it .\n'
    url = file_server.route("export/dump", body, {"Content-Type": "text/turtle; charset=utf-8"})
    chunks = harvest({"url": url}, Path("."))
    assert chunks == [
        f'<{file_server.base}/export/beni/1> <https://e.example/p> "Luni"@it .\n'.encode()
    ]


def test_over_http_is_conditional(file_server: Any) -> None:
    (file_server.folder / "beni.rdf").write_text(RDFXML, encoding="utf-8")
    options = {"url": file_server.url("beni.rdf")}
    first = HarvestContext()
    assert isomorphic(as_graph(harvest(options, Path("."), first)), expected())
    second = HarvestContext(previous=first.state)
    assert harvest(options, Path("."), second) == []
    assert second.unchanged


def test_over_http_cut_short_is_an_error(file_server: Any) -> None:
    body = b"".join(
        b'<https://e.example/%d> <https://e.example/p> "x" .\n' % i for i in range(2000)
    )
    headers = {"Content-Type": "application/n-triples", "Content-Length": str(2 * len(body))}
    url = file_server.route("cut.nt", body, headers)
    with pytest.raises(HarvestError, match=r"the download of .*cut.nt broke off after"):
        harvest({"url": url, "retries": 0}, Path("."))


def test_over_http_unknown_content_type_asks_for_format(file_server: Any) -> None:
    url = file_server.route("dump", b"x", {"Content-Type": "application/octet-stream"})
    with pytest.raises(HarvestError, match=r"cannot tell the RDF format .*set options.format"):
        harvest({"url": url}, Path("."))


# --- the demo dump and its CONSTRUCT mapping ----------------------------------------


def test_sistina_demo_dump_maps_to_hub_rdf_that_conforms(store: Any) -> None:
    chunks = harvest({"path": "hub/demo/data/sistina-heritage.ttl"}, REPO)
    staging = ox.Store()
    staging.load(b"".join(chunks), format=ox.RdfFormat.N_TRIPLES)
    base = "https://hub.example.org/"
    query = (REPO / "mappings" / "sistina-heritage.rq").read_text(encoding="utf-8")
    for token, prefix in (
        ("id", "id/sistina-heritage/"),
        ("hubid", "id/"),
        ("programme", "id/programme/"),
    ):
        query = query.replace("{{" + token + "}}", base + prefix)
    triples = list(staging.query(query))
    graph = base + "graph/sistina-heritage"
    store.bulk_load([ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)], graph)
    report = validate_graph(store, graph, load_shapes(REPO / "ontology" / "shapes.ttl"))
    assert report.violation_count == 0, report.summary()
    attractions = [
        t for t in triples if t.object == ox.NamedNode("http://schema.org/TouristAttraction")
    ]
    assert len(attractions) == 15
    luni = ox.NamedNode(base + "id/sistina-heritage/SIS-006")
    region = [
        t.object for t in triples if t.subject == luni and t.predicate.value.endswith("#region")
    ]
    assert region == [ox.NamedNode(base + "id/programme/region/liguria")]
