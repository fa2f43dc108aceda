"""Run compiled shapes over a staged named graph in the store and collect the report."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path as FsPath

import pyoxigraph as ox

from hub.errors import HubError
from hub.iris import RDFS
from hub.store.oxigraph import OxigraphStore
from hub.validation.compile import Compiler, Plan, classes_used
from hub.validation.report import ConstraintCount, ValidationReport, Violation
from hub.validation.shapes import _BARE, Constraint, Namer, Shape, Shapes, parse_shapes

_NUMBER_OR_BOOL = re.compile(r"^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|true|false)$")


def load_shapes(source: str | FsPath) -> Shapes:
    """Parse a SHACL shapes file (path) or Turtle text once, refusing what cannot be checked.

    >>> shapes = load_shapes("ontology/shapes.ttl")  # doctest: +SKIP
    """
    shapes = parse_shapes(source)
    # Compile once against a placeholder graph so unsupported combinations (recursive shapes,
    # large counts inside sh:or ...) fail now, not in the middle of a pipeline run.
    Compiler(shapes, "urn:x-hub:shapes-check", {}).plans()
    return shapes


def validate_graph(
    store: OxigraphStore, graph: str, shapes: Shapes, *, limit: int = 1000
) -> ValidationReport:
    """Validate named graph `graph` of `store` against `shapes`, listing at most `limit` results.

    Counts are exact whatever the limit; the query patterns always name the graph, so other
    graphs in the store are never read.
    """
    started = time.perf_counter()
    limit = max(limit, 0)
    report = ValidationReport(graph=graph, limit=limit)
    runner = _Runner(store, report)
    closures = runner.closures(graph, classes_used(shapes))
    namer = Namer(shapes.prefixes)
    counts: dict[tuple[str, str | None, str, str], int] = {}
    about: dict[tuple[str, str | None, str, str], ConstraintCount] = {}
    for plan in Compiler(shapes, graph, closures).plans():
        # Rows are results only, so the detail query usually answers everything; the
        # aggregate query runs only when there are more rows than the report may list.
        room = limit - len(report.violations)
        rows = runner.rows(plan.detail_query(room + 1)) if room > 0 else []
        if room > 0 and len(rows) <= room:
            found = [sum(1 for r in rows if _true(r.get(f"b{i}"))) for i in range(len(plan.checks))]
        else:
            row = runner.one(plan.count_query())
            found = [
                int(row[f"c{i}"].value) if f"c{i}" in row else 0 for i in range(len(plan.checks))
            ]
        for row in rows[:room]:
            report.violations.extend(_violations(plan, row, namer))
        del report.violations[limit:]
        path = plan.shape.path.report if plan.shape.path else None
        for check, n in zip(plan.checks, found, strict=True):
            if n:
                key = (plan.shape.name, path, check.constraint.name, plan.shape.severity)
                counts[key] = counts.get(key, 0) + n
                about.setdefault(key, _about(plan.shape, check.constraint, key))
    report.counts = [replace(about[key], count=n) for key, n in counts.items()]
    report.seconds = time.perf_counter() - started
    return report


class _Runner:
    """Sends queries to the store, counting them and turning store failures into HubErrors."""

    def __init__(self, store: OxigraphStore, report: ValidationReport) -> None:
        self.store = store
        self.report = report

    def rows(self, sparql: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        self.report.queries += 1
        try:
            return self.store.select(sparql)
        except (RuntimeError, OSError) as exc:  # raised while iterating the solutions
            raise HubError(
                f"validation of {self.report.graph} failed in the store: {exc}\nquery:\n{sparql}"
            ) from None

    def one(self, sparql: str) -> dict:
        rows = self.rows(sparql)
        return rows[0] if rows else {}

    def closures(self, graph: str, classes: set[str]) -> dict[str, tuple[str, ...]]:
        """Each class with its subclasses in the data graph (rdfs:subClassOf, transitively)."""
        out = {c: {c} for c in classes}
        if classes:
            values = " ".join(f"<{c}>" for c in sorted(classes))
            query = (
                f"SELECT ?c ?sub WHERE {{ VALUES ?c {{ {values} }} "
                f"GRAPH <{graph}> {{ ?sub <{RDFS}subClassOf>+ ?c }} }}"
            )
            for row in self.rows(query):
                if isinstance(row["sub"], ox.NamedNode):
                    out[row["c"].value].add(row["sub"].value)
        return {c: (c, *sorted(subs - {c})) for c, subs in out.items()}


def _true(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> bool:
    return isinstance(term, ox.Literal) and term.value == "true"


def _plain(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)  # _:id for blank nodes, N-Triples for literals


def _short(term: ox.NamedNode | ox.BlankNode | ox.Literal | None, namer: Namer) -> str:
    if isinstance(term, ox.NamedNode):
        return namer.short(term.value)
    if isinstance(term, ox.Literal):
        lexical = term.value if len(term.value) <= 60 else term.value[:57] + "..."
        lexical = '"' + lexical.replace('"', '\\"').replace("\n", "\\n") + '"'
        if term.language:
            return f"{lexical}@{term.language}"
        if term.datatype.value in _BARE and _NUMBER_OR_BOOL.match(term.value):
            return term.value
        if term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            return f"{lexical}^^{namer.short(term.datatype.value)}"
        return lexical
    return str(term)


def _violations(plan: Plan, row: dict, namer: Namer) -> list[Violation]:
    shape = plan.shape
    focus = row["this"]
    value = row.get(plan.value_var) if plan.value_var else None
    path_term = row.get(plan.path_var) if plan.path_var else None
    extra = row.get(plan.extra_var) if plan.extra_var else None
    if path_term is not None:
        path, path_text = _plain(path_term), _short(path_term, namer)
    elif shape.path is not None:
        path, path_text = shape.path.report, shape.path.display
    else:
        path, path_text = None, ""
    out = []
    for i, check in enumerate(plan.checks):
        if not _true(row.get(f"b{i}")):
            continue
        detail = _describe(
            check.constraint,
            shape,
            path_text,
            _short(value, namer),
            extra.value if extra is not None else "",
        )
        violation = Violation(
            focus_node=_plain(focus) or "",
            path=path,
            value=_plain(value),
            constraint=check.constraint.name,
            shape=shape.name,
            severity=shape.severity,
            message="",
            messages=shape.message_by_lang,
            focus_text=_short(focus, namer),
            value_text=_short(value, namer) if value is not None else None,
            rule=f"{check.constraint.name} {check.constraint.display}",
            description=detail,
        )
        out.append(replace(violation, message=violation.text("en")))
    return out


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
