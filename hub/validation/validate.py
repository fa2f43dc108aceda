"""Validate a staged graph against loaded shapes and collect the report.

`validate_ntriples` reads the N-Triples the mapping wrote (the file the staging store was
loaded from); `validate_graph` reads a graph out of a store first, which is slower (about
15 s per 1M triples in Oxigraph) and meant for small graphs and tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path as FsPath

from hub.store.oxigraph import OxigraphStore
from hub.validation.engine import Evaluator, Result, check_references
from hub.validation.graph import DataGraph
from hub.validation.literals import Comparer
from hub.validation.report import ConstraintCount, ValidationReport, Violation
from hub.validation.shapes import _BARE, Constraint, Namer, Shape, Shapes, parse_shapes
from hub.validation.terms import XSD_STRING, parts, plain

_NUMBER_OR_BOOL = re.compile(r"^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|true|false)$")


def load_shapes(source: str | FsPath) -> Shapes:
    """Parse a SHACL shapes file (path) or Turtle text once, refusing what cannot be checked.

    >>> shapes = load_shapes("ontology/shapes.ttl")  # doctest: +SKIP
    """
    shapes = parse_shapes(source)
    check_references(shapes)  # recursive shapes fail now, not in the middle of a run
    return shapes


def validate_ntriples(
    source: FsPath | bytes | Iterable[bytes], shapes: Shapes, *, graph: str, limit: int = 1000
) -> ValidationReport:
    """Validate the N-Triples in `source` (a file, bytes or chunks), reported as graph `graph`.

    Counts are exact whatever the limit; at most `limit` results are listed.

    >>> report = validate_ntriples(Path("version.nt"), shapes, graph=live)  # doctest: +SKIP
    """
    started = time.perf_counter()
    data = DataGraph.from_ntriples(source)
    return _validate(data, shapes, graph, limit, started, stored=False)


def validate_graph(
    store: OxigraphStore, graph: str, shapes: Shapes, *, limit: int = 1000
) -> ValidationReport:
    """Validate named graph `graph` of `store` (read out of the store: prefer
    `validate_ntriples` on the file it was loaded from for big graphs)."""
    started = time.perf_counter()
    data = DataGraph.from_ntriples(store.dump_graph(graph))
    return _validate(data, shapes, graph, limit, started, stored=True)


def _validate(
    data: DataGraph, shapes: Shapes, graph: str, limit: int, started: float, *, stored: bool
) -> ValidationReport:
    limit = max(limit, 0)
    report = ValidationReport(graph=graph, limit=limit)
    namer = Namer(shapes.prefixes)
    comparer = Comparer()
    counts: dict[tuple[str, str | None, str, str], int] = {}
    about: dict[tuple[str, str | None, str, str], ConstraintCount] = {}
    for result in Evaluator(data, shapes, comparer, stored=stored).results():
        shape, c = result.shape, result.constraint
        path = shape.path.report if shape.path is not None else None
        key = (shape.name, path, c.name, shape.severity)
        n = counts.get(key)
        if n is None:
            about[key] = _about(shape, c, key)
            n = 0
        counts[key] = n + 1
        if len(report.violations) < limit:
            report.violations.append(_violation(result, namer))
    report.counts = [replace(about[key], count=n) for key, n in counts.items()]
    report.queries = comparer.queries
    report.triples = data.triples
    report.seconds = time.perf_counter() - started
    return report


def _short(term: str | None, namer: Namer) -> str:
    """A term as people read it: `id:b1`, `"12,5"`, `"Pisa"@it`, `12.5`."""
    if term is None:
        return "None"
    if term[0] == "<":
        return namer.short(term[1:-1])
    if term[0] != '"':
        return term
    lexical, lang, datatype = parts(term)
    shown = lexical if len(lexical) <= 60 else lexical[:57] + "..."
    shown = '"' + shown.replace('"', '\\"').replace("\n", "\\n") + '"'
    if lang:
        return f"{shown}@{lang}"
    if datatype in _BARE and _NUMBER_OR_BOOL.match(lexical):
        return lexical
    if datatype != XSD_STRING:
        return f"{shown}^^{namer.short(datatype)}"
    return shown


def _violation(result: Result, namer: Namer) -> Violation:
    shape, c, value = result.shape, result.constraint, result.value
    if result.path is not None:
        path, path_text = plain(result.path), _short(result.path, namer)
    elif shape.path is not None:
        path, path_text = shape.path.report, shape.path.display
    else:
        path, path_text = None, ""
    violation = Violation(
        focus_node=plain(result.focus),
        path=path,
        value=plain(value) if value is not None else None,
        constraint=c.name,
        shape=shape.name,
        severity=shape.severity,
        message="",
        messages=shape.message_by_lang,
        focus_text=_short(result.focus, namer),
        value_text=_short(value, namer) if value is not None else None,
        rule=f"{c.name} {c.display}",
        description=_describe(c, shape, path_text, _short(value, namer), result.extra),
    )
    return replace(violation, message=violation.text("en"))


def _about(shape: Shape, c: Constraint, key: tuple[str, str | None, str, str]) -> ConstraintCount:
    """A count's messages, rule and generated sentence; the count itself is filled in later."""
    path = shape.path.display if shape.path is not None else "…"
    return ConstraintCount(
        *key,
        count=0,
        messages=shape.message_by_lang,
        rule=f"{c.name} {c.display}",
        description=_describe(c, shape, path, "…", "…"),
    )


def _describe(c: Constraint, shape: Shape, path: str, value: str, extra: str) -> str:
    """A sentence for a steward: what is wrong, and which constraint says so."""
    name, shown = c.name, c.display
    subject = f"{path} value {value}" if shape.path is not None else f"the node {value}"
    rule = f"({name} {shown})"
    if name == "sh:minCount":
        if c.value == 1:
            return f"{path} is required {rule}"
        return f"{path} has {extra} values, at least {shown} needed {rule}"
    if name == "sh:maxCount":
        return f"{path} has {extra} values, at most {shown} allowed {rule}"
    if name == "sh:hasValue":
        if shape.path is None:
            return f"the node must be {shown} {rule}"
        return f"{path} must include {shown} {rule}"
    if name == "sh:uniqueLang":
        return f'{path} has more than one value in language "{extra}" {rule}'
    if name == "sh:closed":
        return f"{path} is not allowed here: the shape is closed ({name} true)"
    if name == "sh:equals":
        return f"{subject} is not also a value of {shown} (or the reverse) {rule}"
    phrases = {
        "sh:datatype": f"is not a valid {shown}",
        "sh:nodeKind": f"is not of kind {shown}",
        "sh:class": f"is not a {shown}",
        "sh:in": "is not one of the allowed values",
        "sh:pattern": f"does not match {shown}",
        "sh:minLength": f"is shorter than {shown} characters",
        "sh:maxLength": f"is longer than {shown} characters",
        "sh:minInclusive": f"is not at least {shown}",
        "sh:minExclusive": f"is not above {shown}",
        "sh:maxInclusive": f"is not at most {shown}",
        "sh:maxExclusive": f"is not below {shown}",
        "sh:languageIn": f"is not in one of the languages {shown}",
        "sh:disjoint": f"is also a value of {shown}",
        "sh:lessThan": f"is not less than the values of {shown}",
        "sh:lessThanOrEquals": f"is not less than or equal to the values of {shown}",
        "sh:node": f"does not conform to shape {shown}",
        "sh:not": f"conforms to shape {shown}, which it must not",
        "sh:and": f"does not conform to all of {shown}",
        "sh:or": f"conforms to none of {shown}",
        "sh:xone": f"does not conform to exactly one of {shown}",
    }
    if name in ("sh:node", "sh:not", "sh:and", "sh:or", "sh:xone"):
        return f"{subject} {phrases[name]} ({name})"
    if name == "sh:in":
        if len(shown) <= 80:
            return f"{subject} is not one of {shown} ({name})"
        return f"{subject} {phrases[name]} ({name})"
    return f"{subject} {phrases[name]} {rule}"
