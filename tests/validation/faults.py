"""Seeded faults in N-Triples: what a broken mapping or source does to a good graph.

Shared by tests/validation/test_demo_equivalence.py and bench/bench_validation.py:

    lines = demo_ntriples(root).splitlines()
    broken, injected = inject_faults(lines, seed=14, rate=0.3)

Each chosen entity gets one fault among those its triples allow: a required property
dropped, a wrong datatype or lexical form, coordinates out of range, a bad or missing
language tag, two names in one language, a second value where one is allowed, a literal
where an IRI belongs, a reference to something of the wrong class, a value outside sh:in.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from hub.store.oxigraph import OxigraphStore

SCHEMA = "http://schema.org/"
MH = "https://w3id.org/marittimo-hub/ns#"
GEO = "http://www.opengis.net/ont/geosparql#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
REGION = "https://hub.example.org/id/programme/region/"

Triple = tuple[str, str, str]
Fault = Callable[[str, list[Triple], random.Random], list[Triple]]


def _drop(predicate: str) -> Fault:
    def fault(s: str, triples: list[Triple], rnd: random.Random) -> list[Triple]:
        return [t for t in triples if t[1] != f"<{predicate}>"]

    return fault


def _replace(predicate: str, new: Callable[[str], str]) -> Fault:
    """The first value of `predicate` becomes `new(old value)`."""

    def fault(s: str, triples: list[Triple], rnd: random.Random) -> list[Triple]:
        out, done = [], False
        for t in triples:
            if not done and t[1] == f"<{predicate}>":
                t, done = (t[0], t[1], new(t[2])), True
            out.append(t)
        return out

    return fault


def _add(predicate: str, value: str) -> Fault:
    def fault(s: str, triples: list[Triple], rnd: random.Random) -> list[Triple]:
        return [*triples, (s, f"<{predicate}>", value)]

    return fault


def _lexical(term: str) -> str:
    return term[1 : term.rfind('"')]


def _comma_decimal(term: str) -> str:
    return f'"{_lexical(term).replace(".", ",")}"^^<{XSD}decimal>'


def _retag(lang: str | None) -> Callable[[str], str]:
    return lambda term: f'"{_lexical(term)}"' + (f"@{lang}" if lang else "")


def _second_name(s: str, triples: list[Triple], rnd: random.Random) -> list[Triple]:
    """Two schema:name values in one language (sh:uniqueLang)."""
    names = [t for t in triples if t[1] == f"<{SCHEMA}name>" and "@" in t[2]]
    if not names:
        return triples
    lang = names[0][2].rsplit("@", 1)[1]
    return [*triples, (s, f"<{SCHEMA}name>", f'"Altro nome {rnd.randrange(1000)}"@{lang}')]


#: (name, the predicate the entity must have, the fault)
FAULTS: list[tuple[str, str, Fault]] = [
    ("name missing", SCHEMA + "name", _drop(SCHEMA + "name")),
    ("identifier missing", SCHEMA + "identifier", _drop(SCHEMA + "identifier")),
    ("region missing", MH + "region", _drop(MH + "region")),
    ("locality missing", SCHEMA + "addressLocality", _drop(SCHEMA + "addressLocality")),
    ("latitude with a comma", SCHEMA + "latitude", _replace(SCHEMA + "latitude", _comma_decimal)),
    ("latitude as text", SCHEMA + "latitude", _replace(SCHEMA + "latitude", _retag(None))),
    (
        "latitude 95.5",
        SCHEMA + "latitude",
        _replace(SCHEMA + "latitude", lambda t: f'"95.5"^^<{XSD}decimal>'),
    ),
    (
        "longitude -181",
        SCHEMA + "longitude",
        _replace(SCHEMA + "longitude", lambda t: f'"-181"^^<{XSD}decimal>'),
    ),
    (
        "longitude swapped",
        SCHEMA + "longitude",
        _replace(SCHEMA + "longitude", lambda t: f'"43.1"^^<{XSD}decimal>'),
    ),
    ("name in German", SCHEMA + "name", _replace(SCHEMA + "name", _retag("de"))),
    ("name without language", SCHEMA + "name", _replace(SCHEMA + "name", _retag(None))),
    ("two names in one language", SCHEMA + "name", _second_name),
    ("two identifiers", SCHEMA + "identifier", _add(SCHEMA + "identifier", '"again-1"')),
    ("two regions", MH + "region", _add(MH + "region", f"<{REGION}liguria>")),
    ("region unknown", MH + "region", _replace(MH + "region", lambda t: f"<{REGION}lombardia>")),
    (
        "identifier typed",
        SCHEMA + "identifier",
        _replace(SCHEMA + "identifier", lambda t: f'"{_lexical(t)}"^^<{XSD}token>'),
    ),
    ("url as text", SCHEMA + "url", _replace(SCHEMA + "url", lambda t: f'"{t[1:-1]}"')),
    ("url ftp", SCHEMA + "url", _replace(SCHEMA + "url", lambda t: "<ftp://example.org/x>")),
    (
        "date modified bad",
        SCHEMA + "dateModified",
        _replace(SCHEMA + "dateModified", lambda t: f'"2024-02-30T10:00:00"^^<{XSD}dateTime>'),
    ),
    (
        "start date bad",
        SCHEMA + "startDate",
        _replace(SCHEMA + "startDate", lambda t: '"12/07/2025"'),
    ),
    (
        "postal code short",
        SCHEMA + "postalCode",
        _replace(SCHEMA + "postalCode", lambda t: '"5510"'),
    ),
    (
        "country unknown",
        SCHEMA + "addressCountry",
        _replace(SCHEMA + "addressCountry", lambda t: '"DE"'),
    ),
    ("wkt untyped", GEO + "asWKT", _replace(GEO + "asWKT", lambda t: f'"{_lexical(t)}"')),
    ("difficulty unknown", MH + "difficulty", _replace(MH + "difficulty", lambda t: '"extreme"')),
    (
        "length negative",
        MH + "lengthKm",
        _replace(MH + "lengthKm", lambda t: f'"-3.5"^^<{XSD}decimal>'),
    ),
    (
        "category bad",
        MH + "category",
        _replace(MH + "category", lambda t: "<https://example.org/cat/x>"),
    ),
    (
        "price as integer",
        SCHEMA + "price",
        _replace(SCHEMA + "price", lambda t: f'"{_lexical(t).split(".")[0]}"^^<{XSD}integer>'),
    ),
    (
        "programme of wrong class",
        MH + "programme",
        _replace(MH + "programme", lambda t: f"<{REGION}toscana>"),
    ),
    (
        "lead project of wrong class",
        MH + "leadProject",
        _replace(MH + "leadProject", lambda t: f"<{REGION}corse>"),
    ),
    (
        "status unknown",
        MH + "actionStatus",
        _replace(
            MH + "actionStatus",
            lambda t: "<https://w3id.org/marittimo-hub/action-status/forgotten>",
        ),
    ),
    (
        "description untagged",
        SCHEMA + "description",
        _replace(SCHEMA + "description", _retag(None)),
    ),
]

_LINE = re.compile(r"^(\S+) (\S+) (.*) \.$")


def inject_faults(
    lines: list[str], *, seed: int, rate: float, only: set[str] | None = None
) -> tuple[list[str], Counter[str]]:
    """`lines` (N-Triples) with a fault in about `rate` of the subjects; the faults by name.

    `only`: the names of the faults to choose from (all of `FAULTS` by default).
    """
    rnd = random.Random(seed)
    by_subject: dict[str, list[Triple]] = {}
    for line in lines:
        match = _LINE.match(line.strip())
        if match:
            s, p, o = match.groups()
            by_subject.setdefault(s, []).append((s, p, o))
    injected: Counter[str] = Counter()
    out: list[str] = []
    for s, triples in by_subject.items():
        if rnd.random() < rate:
            have = {p for _, p, _ in triples}
            choices = [
                (name, fault)
                for name, needs, fault in FAULTS
                if f"<{needs}>" in have and (only is None or name in only)
            ]
            if choices:
                name, fault = rnd.choice(choices)
                triples = fault(s, triples, rnd)
                injected[name] += 1
        out.extend(f"{s} {p} {o} ." for s, p, o in triples)
    return out, injected


def demo_ntriples(store: OxigraphStore) -> str:
    """The demo's published graphs (every source and the programme) as one N-Triples text."""
    graphs = [g for g in store.named_graphs() if not g.endswith("/meta")]
    return "".join(store.dump_graph(g).decode() for g in graphs)


Key = tuple[str, str | None, str, str]
"""(focus node, path, constraint component, source shape) of one SHACL result."""


def result_keys(results: Any, shapes_graph: Any, namer: Any) -> tuple[set[Key], int]:
    """pySHACL's results graph as (focus node, path, component, source shape) keys, each
    source shape named as the hub names it (a blank-node property shape by the node shape
    that lists it); and how many results there were."""
    from rdflib import BNode
    from rdflib.namespace import SH

    def name(shape: Any) -> str:
        if isinstance(shape, BNode):
            shape = next(shapes_graph.subjects(SH.property, shape))
        return namer.short(str(shape))

    keys: set[Key] = set()
    count = 0
    for result in results.objects(None, SH.result):
        count += 1
        path = results.value(result, SH.resultPath)
        keys.add(
            (
                str(results.value(result, SH.focusNode)),
                str(path) if path is not None else None,
                str(results.value(result, SH.sourceConstraintComponent)),
                name(results.value(result, SH.sourceShape)),
            )
        )
    return keys, count
