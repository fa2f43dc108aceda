"""Benchmark: SHACL validation of a staged graph in the store vs pySHACL.

Generates tourism-like entities (7 triples each, about 1% of them broken in some way),
bulk-loads them into an on-disk Oxigraph store as a named graph, validates them with
`hub.validation.validate_graph`, and validates a small slice with pySHACL for comparison
(pySHACL works in memory on an rdflib graph and is far too slow for the large graph).

    /work/venv/bin/python bench/bench_validation.py [--entities 200000] [--small 2000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyshacl  # noqa: E402
import rdflib  # noqa: E402

from hub.store.oxigraph import OxigraphStore  # noqa: E402
from hub.validation import load_shapes, validate_graph  # noqa: E402

EX = "http://example.org/ns#"
ID = "http://example.org/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
GRAPH = "https://hub.example.org/graph/bench/version/run-1"

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix ex: <http://example.org/ns#> .

ex:PlaceShape a sh:NodeShape ;
    sh:targetClass ex:Place ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype rdf:langString ;
                  sh:languageIn ( "it" "fr" "en" ) ; sh:uniqueLang true ; sh:maxLength 80 ] ;
    sh:property [ sh:path ex:latitude ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:decimal ;
                  sh:minInclusive -90 ; sh:maxInclusive 90 ] ;
    sh:property [ sh:path ex:longitude ; sh:minCount 1 ; sh:maxCount 1 ;
                  sh:datatype xsd:decimal ; sh:minInclusive -180 ; sh:maxInclusive 180 ] ;
    sh:property [ sh:path ex:code ; sh:minCount 1 ; sh:pattern "^[A-Z]{2}-[0-9]+$" ;
                  sh:nodeKind sh:Literal ] ;
    sh:property [ sh:path ex:region ; sh:maxCount 1 ; sh:nodeKind sh:IRI ;
                  sh:in ( ex:Tuscany ex:Liguria ex:Sardinia ex:Corsica ex:Provence ) ;
                  sh:severity sh:Warning ] .
"""

_REGIONS = ["Tuscany", "Liguria", "Sardinia", "Corsica", "Provence"]
_CLASSES = ["Place", "Lodging", "Hotel", "Restaurant"]


def entity(i: int, rnd: random.Random) -> list[str]:
    """The 7 N-Triples lines of entity `i`, broken in one way about 1% of the time."""
    s = f"<{ID}e{i}>"
    broken = rnd.random() < 0.01
    kind = rnd.randrange(6) if broken else -1
    lat = rnd.uniform(41.0, 44.5) if kind != 0 else 95.5
    lines = [
        f"{s} <{RDF_TYPE}> <{EX}{_CLASSES[i % 4]}> .",
        f'{s} <{EX}name> "Luogo {i}"@it .',
        f'{s} <{EX}name> "Lieu {i}"@{"fr" if kind != 1 else "de"} .',
        f'{s} <{EX}latitude> "{lat:.5f}"^^<{XSD}decimal> .',
        f'{s} <{EX}longitude> "{rnd.uniform(8.0, 10.5) if kind != 2 else "abc"}"^^<{XSD}decimal> .'
        if kind != 2
        else f'{s} <{EX}longitude> "abc"^^<{XSD}decimal> .',
        f'{s} <{EX}code> "{"IT" if kind != 3 else "it"}-{i}" .',
        f"{s} <{EX}region> <{EX}{_REGIONS[i % 5] if kind != 4 else 'Elba'}> ."
        if kind != 5
        else f'{s} <{EX}region> "Toscana" .',
    ]
    return lines


def ntriples(n: int, seed: int = 7, chunk: int = 50_000) -> list[bytes]:
    """The graph as N-Triples chunks (plus the class hierarchy)."""
    rnd = random.Random(seed)
    chunks: list[bytes] = []
    buf = [
        f"<{EX}Lodging> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{EX}Place> .",
        f"<{EX}Hotel> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{EX}Lodging> .",
        f"<{EX}Restaurant> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{EX}Place> .",
    ]
    for i in range(n):
        buf.extend(entity(i, rnd))
        if len(buf) >= chunk:
            chunks.append(("\n".join(buf) + "\n").encode())
            buf = []
    if buf:
        chunks.append(("\n".join(buf) + "\n").encode())
    return chunks


def main() -> None:
    """Print load and validation figures for the big graph and the pySHACL comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=10_000, help="entities given to pySHACL")
    args = parser.parse_args()
    shapes = load_shapes(SHAPES)
    tmp = Path(tempfile.mkdtemp(prefix="bench-validation-"))
    try:
        # -- the large graph, on disk ----------------------------------------------------
        chunks = ntriples(args.entities)
        store = OxigraphStore(tmp / "store")
        t0 = time.perf_counter()
        store.bulk_load(chunks, GRAPH)
        load_s = time.perf_counter() - t0
        size = store.graph_size(GRAPH)
        print(
            f"graph: {args.entities:,} entities, {size:,} triples; bulk load {load_s:.1f} s "
            f"({size / load_s:,.0f} triples/s)"
        )
        report = validate_graph(store, GRAPH, shapes, limit=1000)
        print(
            f"hub validate_graph: {report.seconds:.1f} s, {report.queries} queries, "
            f"{size / report.seconds:,.0f} triples/s; {report.summary()}"
        )
        for c in sorted(report.counts, key=lambda c: (c.path or "", c.constraint)):
            print(f"    {c.count:6,}  {c.severity:12} {c.constraint:16} {c.path}")
        store.close()

        # -- the small graph: pySHACL vs hub on the same data ---------------------------
        small = ntriples(args.small, seed=11)
        data = rdflib.Graph()
        for chunk in small:
            data.parse(data=chunk.decode(), format="nt")
        shapes_graph = rdflib.Graph().parse(data=SHAPES, format="turtle")
        t0 = time.perf_counter()
        conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes_graph, inference="none")
        py_s = time.perf_counter() - t0
        sh = "http://www.w3.org/ns/shacl#"
        py_counts: Counter[tuple[str, str]] = Counter()
        for r in results.objects(None, rdflib.URIRef(sh + "result")):
            path = results.value(r, rdflib.URIRef(sh + "resultPath"))
            comp = results.value(r, rdflib.URIRef(sh + "sourceConstraintComponent"))
            py_counts[(str(path), str(comp))] += 1
        small_store = OxigraphStore(tmp / "small")
        small_store.bulk_load(small, GRAPH)
        small_report = validate_graph(small_store, GRAPH, shapes, limit=100_000)
        hub_counts: Counter[tuple[str, str]] = Counter()
        for v in small_report.violations:
            hub_counts[(str(v.path), v.component)] += 1
        n = len(data)
        print(f"small graph: {args.small:,} entities, {n:,} triples")
        print(
            f"pySHACL: {py_s:.2f} s, {n / py_s:,.0f} triples/s, {sum(py_counts.values())} results"
        )
        print(
            f"hub:     {small_report.seconds:.2f} s, {n / small_report.seconds:,.0f} triples/s, "
            f"{small_report.violation_count} results"
        )
        for key in sorted(set(py_counts) | set(hub_counts)):
            mark = "" if py_counts[key] == hub_counts[key] else "   <- differs"
            print(
                f"    pySHACL {py_counts[key]:5}  hub {hub_counts[key]:5}  "
                f"{key[1].split('#')[1]:34} {key[0]}{mark}"
            )
        print(
            '    (differences: an ill-typed literal such as "abc"^^xsd:decimal compared with a '
            "bound is a result in SPARQL; pySHACL compares its text)"
        )
        small_store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
