"""Compile shapes into SPARQL: a few queries per shape, each over the whole staged graph.

A `Plan` is one graph pattern that binds the focus node `?this` (and the value `?value`, the
count `?n`, ...) plus one boolean `?bK` per constraint, true when that constraint is violated.
The runner asks each plan for its counts (one aggregate query) and, when something is wrong,
for the first rows (the same pattern, filtered, with LIMIT). Constraints on the values of a
shape share one plan, so a property shape costs one scan of its values whatever it checks.

Nested shapes (sh:node, sh:not, sh:and, sh:or, sh:xone) become boolean expressions with
EXISTS patterns ("does ?x conform to S"), evaluated per value node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.iris import RDF, RDFS, XSD
from hub.validation.shapes import Constraint, Shape, Shapes, ShapesError, Targets, _escape

# Constraints checked value node by value node.
VALUE_LEVEL = {
    "sh:datatype",
    "sh:nodeKind",
    "sh:class",
    "sh:in",
    "sh:pattern",
    "sh:minLength",
    "sh:maxLength",
    "sh:minInclusive",
    "sh:maxInclusive",
    "sh:minExclusive",
    "sh:maxExclusive",
    "sh:languageIn",
    "sh:disjoint",
    "sh:node",
    "sh:not",
    "sh:and",
    "sh:or",
    "sh:xone",
}
_SHAPE_REFS = {"sh:node", "sh:not", "sh:and", "sh:or", "sh:xone"}

# Oxigraph stores valid literals of these types as xsd:integer (oxigraph issue #1413), so a
# staged graph cannot tell "5"^^xsd:int from "5"^^xsd:integer: both are accepted, in range.
INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    XSD + "integer": (None, None),
    XSD + "long": (-(2**63), 2**63 - 1),
    XSD + "int": (-(2**31), 2**31 - 1),
    XSD + "short": (-(2**15), 2**15 - 1),
    XSD + "byte": (-128, 127),
    XSD + "unsignedLong": (0, 2**64 - 1),
    XSD + "unsignedInt": (0, 2**32 - 1),
    XSD + "unsignedShort": (0, 2**16 - 1),
    XSD + "unsignedByte": (0, 255),
    XSD + "nonNegativeInteger": (0, None),
    XSD + "positiveInteger": (1, None),
    XSD + "nonPositiveInteger": (None, 0),
    XSD + "negativeInteger": (None, -1),
}
# Datatypes whose well-formedness SPARQL can test by casting a literal to its own type.
CASTABLE = {
    XSD + t
    for t in [
        "boolean",
        "decimal",
        "float",
        "double",
        "date",
        "dateTime",
        "time",
        "duration",
        "dayTimeDuration",
        "yearMonthDuration",
        "gYear",
        "gYearMonth",
        "gMonth",
        "gDay",
        "gMonthDay",
    ]
}
_LEXICAL = {XSD + "hexBinary": "^([0-9a-fA-F]{2})*$"}
_NODE_KIND = {
    "IRI": "!isIRI({v})",
    "BlankNode": "!isBlank({v})",
    "Literal": "!isLiteral({v})",
    "BlankNodeOrIRI": "isLiteral({v})",
    "BlankNodeOrLiteral": "isIRI({v})",
    "IRIOrLiteral": "isBlank({v})",
}
_COMPARE = {
    "sh:minInclusive": "<=",
    "sh:minExclusive": "<",
    "sh:maxInclusive": ">=",
    "sh:maxExclusive": ">",
}

Pattern = Callable[[str], str]  # a graph pattern about the given variable


@dataclass(frozen=True)
class Focus:
    """The focus nodes of a shape, as two patterns about a variable.

    `bind` binds the variable to each focus node once (to start a query from the focus nodes);
    `test` only matches when the already bound variable is a focus node (inside FILTER EXISTS,
    to keep the few rows that break a constraint after scanning one predicate).
    """

    bind: Pattern
    test: Pattern


@dataclass(frozen=True)
class Check:
    """One constraint and the SPARQL expression that is true when it is violated."""

    constraint: Constraint
    expr: str


@dataclass
class Plan:
    """A graph pattern whose rows are the results of some constraints of one shape.

    Each row binds `?this`, maybe the value / path / extra variables, and `?bK` (true when
    `checks[K]` is violated by that row); rows where no `?bK` is true never come out.
    """

    shape: Shape
    where: str
    checks: list[Check]
    value_var: str | None = "value"
    path_var: str | None = None
    extra_var: str | None = None

    def count_query(self) -> str:
        """One aggregate query: how many rows violate each constraint."""
        sums = " ".join(f"(SUM(IF(?b{i}, 1, 0)) AS ?c{i})" for i in range(len(self.checks)))
        return f"SELECT {sums} WHERE {{\n{self.where}\n}}"

    def detail_query(self, limit: int) -> str:
        """The first `limit` rows."""
        names = ["?this"] + [
            f"?{v}" for v in (self.value_var, self.path_var, self.extra_var) if v and v != "this"
        ]
        names += [f"?b{i}" for i in range(len(self.checks))]
        return f"SELECT {' '.join(names)} WHERE {{\n{self.where}\n}} LIMIT {limit}"


def _binds(checks: list[Check]) -> str:
    """BIND each check to ?bK (an error counts as a violation) and keep rows that break one."""
    binds = " ".join(f"BIND(COALESCE({c.expr}, true) AS ?b{i})" for i, c in enumerate(checks))
    any_bad = " || ".join(f"?b{i}" for i in range(len(checks)))
    return f"{binds}\n  FILTER({any_bad})"


class Compiler:
    """Builds the plans that validate `graph` against `shapes`."""

    def __init__(self, shapes: Shapes, graph: str, closures: dict[str, tuple[str, ...]]) -> None:
        self.shapes = shapes
        self.g = f"<{graph}>"
        self.closures = closures
        self._counter = 0

    def fresh(self, base: str) -> str:
        """A variable name not used anywhere else in the query."""
        self._counter += 1
        return f"?{base}_{self._counter}"

    # -- focus nodes -------------------------------------------------------------------
    def targets(self, targets: Targets) -> Focus:
        """The focus nodes of a shape's own target declarations."""
        g, rdf_type = self.g, f"<{RDF}type>"

        def parts(var: str) -> tuple[list[str], bool]:
            out: list[str] = []
            repeats = False  # can one node come out twice?
            if targets.nodes:
                out.append(f"VALUES {var} {{ {' '.join(targets.nodes)} }}")
            for cls in targets.classes:
                types = self.closures.get(cls, (cls,))
                if len(types) == 1:
                    out.append(f"GRAPH {g} {{ {var} {rdf_type} <{types[0]}> }}")
                else:
                    t = self.fresh("type")
                    values = " ".join(f"<{c}>" for c in types)
                    out.append(f"VALUES {t} {{ {values} }} GRAPH {g} {{ {var} {rdf_type} {t} }}")
                    repeats = True
            for pred in targets.subjects_of:
                out.append(f"GRAPH {g} {{ {var} <{pred}> {self.fresh('o')} }}")
                repeats = True
            for pred in targets.objects_of:
                out.append(f"GRAPH {g} {{ {self.fresh('s')} <{pred}> {var} }}")
                repeats = True
            return out, repeats or len(out) > 1

        def bind(var: str) -> str:
            found, repeats = parts(var)
            if not repeats:
                return f"  {{ {found[0]} }}"
            union = " UNION ".join(f"{{ {p} }}" for p in found)
            return f"  {{ SELECT DISTINCT {var} WHERE {{ {union} }} }}"

        def test(var: str) -> str:
            found, _ = parts(var)
            return found[0] if len(found) == 1 else " UNION ".join(f"{{ {p} }}" for p in found)

        return Focus(bind, test)

    def values_of(self, shape: Shape, focus: Focus) -> Focus:
        """The value nodes of `shape` at the focus nodes of `focus` (the focus nodes themselves
        for a node shape): the focus nodes of the shapes in its sh:property."""
        if shape.path is None:
            return focus
        path = shape.path.sparql

        def bind(var: str) -> str:
            up = self.fresh("up")
            return (
                f"  {{ SELECT DISTINCT {var} WHERE {{\n{focus.bind(up)}\n"
                f"    GRAPH {self.g} {{ {up} {path} {var} }} }} }}"
            )

        def test(var: str) -> str:
            up = self.fresh("up")
            return f"GRAPH {self.g} {{ {up} {path} {var} }} {focus.test(up)}"

        return Focus(bind, test)

    # -- plans -------------------------------------------------------------------------
    def plans(self) -> list[Plan]:
        """Every plan, shape by shape, for the shapes that have targets."""
        out: list[Plan] = []
        for shape in self.shapes.targeted:
            if not shape.deactivated:
                self._plans_for(shape, self.targets(shape.targets), out, ())
        return out

    def _plans_for(
        self, shape: Shape, focus: Focus, out: list[Plan], stack: tuple[str, ...]
    ) -> None:
        if shape.id in stack:
            raise ShapesError(
                self.shapes.source,
                "refers to itself through sh:property; recursive shapes are not supported",
                shape=shape.name,
            )
        by_kind: dict[str, list[Constraint]] = {}
        for c in shape.constraints:
            by_kind.setdefault("value" if c.name in VALUE_LEVEL else c.name, []).append(c)
        if shape.path is None:
            self._node_plans(shape, focus, by_kind, out)
        else:
            self._value_plan(shape, focus, by_kind.get("value", []), out)
            self._count_plans(shape, focus, by_kind, out)
            self._pair_plans(shape, focus, by_kind, out)
        children = self.values_of(shape, focus)
        for child_id in shape.properties:
            child = self.shapes.shapes[child_id]
            if not child.deactivated:
                self._plans_for(child, children, out, (*stack, shape.id))

    def _node_plans(
        self, shape: Shape, focus: Focus, by_kind: dict[str, list[Constraint]], out: list[Plan]
    ) -> None:
        """Node shapes: the value node is the focus node itself."""
        g = self.g
        checks = [
            Check(c, self.value_bad(c, "?this", "?this", shape, ()))
            for c in by_kind.get("value", []) + by_kind.get("sh:hasValue", [])
        ]
        if checks:
            out.append(
                Plan(shape, f"{focus.bind('?this')}\n  {_binds(checks)}", checks, value_var="this")
            )
        for c in by_kind.get("sh:closed", []):
            keep = ", ".join(f"<{p}>" for p in sorted(self.allowed(shape)))
            not_in = f"FILTER(?path NOT IN ({keep}))" if keep else ""
            where = (
                f"  {{ SELECT ?this ?path ?value WHERE {{ GRAPH {g} {{ ?this ?path ?value }} "
                f"{not_in} }} }}\n  FILTER EXISTS {{ {focus.test('?this')} }}\n"
                f"  BIND(true AS ?b0)"
            )
            out.append(Plan(shape, where, [Check(c, "true")], path_var="path"))
        for c in by_kind.get("sh:equals", []):
            other = f"<{c.value}>"
            where = (
                f"{focus.bind('?this')}\n  {{ BIND(?this AS ?value) FILTER NOT EXISTS "
                f"{{ GRAPH {g} {{ ?this {other} ?this }} }} }}\n  UNION {{ GRAPH {g} "
                f"{{ ?this {other} ?value }} FILTER(!sameTerm(?value, ?this)) }}\n"
                f"  BIND(true AS ?b0)"
            )
            out.append(Plan(shape, where, [Check(c, "true")]))

    def allowed(self, shape: Shape) -> set[str]:
        """The predicates a closed node shape allows: its property paths and ignored ones."""
        found = {
            self.shapes.shapes[p].path.iri
            for p in shape.properties  # type: ignore[union-attr]
            if self.shapes.shapes[p].path is not None
        }
        return {p for p in found if p is not None} | set(shape.ignored)

    def _value_plan(
        self, shape: Shape, focus: Focus, constraints: list[Constraint], out: list[Plan]
    ) -> None:
        """All value-level constraints of a property shape in one plan."""
        if not constraints:
            return
        g, path = self.g, shape.path  # type: ignore[assignment]
        checks = [Check(c, self.value_bad(c, "?value", "?this", shape, ())) for c in constraints]
        pair = f"GRAPH {g} {{ ?this {path.sparql} ?value }}"
        distinct = "" if path.iri else "DISTINCT "
        if path.closure:  # start from the focus nodes
            where = (
                f"  {{ SELECT DISTINCT ?this ?value WHERE {{\n{focus.bind('?this')}\n"
                f"    {pair} }} }}\n  {_binds(checks)}"
            )
        else:  # scan the predicate, keep the few bad rows, then check they are focus nodes
            names = " ".join(f"?b{i}" for i in range(len(checks)))
            where = (
                f"  {{ SELECT {distinct}?this ?value {names} WHERE {{\n    {pair}\n"
                f"    {_binds(checks)} }} }}\n  FILTER EXISTS {{ {focus.test('?this')} }}"
            )
        out.append(Plan(shape, where, checks))

    def _count_plans(
        self, shape: Shape, focus: Focus, by_kind: dict[str, list[Constraint]], out: list[Plan]
    ) -> None:
        g, path = self.g, shape.path  # type: ignore[assignment]
        p = path.sparql
        mins = [c for c in by_kind.get("sh:minCount", []) if c.value]
        maxes = by_kind.get("sh:maxCount", [])
        if path.closure or any(c.value != 1 for c in mins):
            counted = mins + maxes
            if counted:  # general form: count the values of every focus node
                checks = [
                    Check(c, f"?n {'<' if c.name == 'sh:minCount' else '>'} {c.value}")
                    for c in counted
                ]
                where = (
                    f"  {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{\n"
                    f"{focus.bind('?this')}\n    OPTIONAL {{ GRAPH {g} {{ ?this {p} ?value }} }}"
                    f"\n  }} GROUP BY ?this }}\n  {_binds(checks)}"
                )
                out.append(Plan(shape, where, checks, value_var=None, extra_var="n"))
        else:
            if mins:  # focus nodes without any value
                checks = [Check(c, "true") for c in mins]
                where = (
                    f"{focus.bind('?this')}\n  MINUS {{ GRAPH {g} {{ ?this {p} ?value }} }}\n"
                    f"  BIND(0 AS ?n) {_binds(checks)}"
                )
                out.append(Plan(shape, where, checks, value_var=None, extra_var="n"))
            if maxes:  # nodes with too many values, then whether they are focus nodes
                least = min(int(c.value) for c in maxes)  # type: ignore[call-overload]
                checks = [Check(c, f"?n > {c.value}") for c in maxes]
                where = (
                    f"  {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ GRAPH {g} "
                    f"{{ ?this {p} ?value }} }} GROUP BY ?this HAVING "
                    f"(COUNT(DISTINCT ?value) > {least}) }}\n"
                    f"  FILTER EXISTS {{ {focus.test('?this')} }}\n  {_binds(checks)}"
                )
                out.append(Plan(shape, where, checks, value_var=None, extra_var="n"))
        for c in by_kind.get("sh:hasValue", []):
            if c.value is None:  # a blank node in the shapes graph: no data node equals it
                where = f"{focus.bind('?this')}\n  BIND(true AS ?b0)"
            elif path.closure:
                where = (
                    f"{focus.bind('?this')}\n  FILTER NOT EXISTS {{ GRAPH {g} {{ ?this {p} "
                    f"{c.value} }} }}\n  BIND(true AS ?b0)"
                )
            else:
                where = (
                    f"{focus.bind('?this')}\n  MINUS {{ GRAPH {g} {{ ?this {p} {c.value} }} }}"
                    f"\n  BIND(true AS ?b0)"
                )
            out.append(Plan(shape, where, [Check(c, "true")], value_var=None))
        for c in by_kind.get("sh:uniqueLang", []):
            if not c.value:
                continue
            scan = f"GRAPH {g} {{ ?this {p} ?value }}"
            if path.closure:
                scan = f"{focus.bind('?this')}\n    {scan}"
                test = ""
            else:
                test = f"\n  FILTER EXISTS {{ {focus.test('?this')} }}"
            where = (
                f"  {{ SELECT ?this ?lang WHERE {{\n    {scan}\n"
                f'    BIND(LCASE(LANG(?value)) AS ?lang) FILTER(?lang != "")\n'
                f"  }} GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?value) > 1) }}{test}\n"
                f"  BIND(true AS ?b0)"
            )
            out.append(Plan(shape, where, [Check(c, "true")], value_var=None, extra_var="lang"))

    def _pair_plans(
        self, shape: Shape, focus: Focus, by_kind: dict[str, list[Constraint]], out: list[Plan]
    ) -> None:
        """sh:equals, sh:lessThan, sh:lessThanOrEquals (sh:disjoint is value-level)."""
        g, p = self.g, shape.path.sparql  # type: ignore[union-attr]
        for c in by_kind.get("sh:equals", []):
            other = f"<{c.value}>"
            where = (
                f"{focus.bind('?this')}\n  {{ GRAPH {g} {{ ?this {p} ?value }} FILTER NOT EXISTS "
                f"{{ GRAPH {g} {{ ?this {other} ?value }} }} }}\n  UNION {{ GRAPH {g} "
                f"{{ ?this {other} ?value }} FILTER NOT EXISTS {{ GRAPH {g} "
                f"{{ ?this {p} ?value }} }} }}\n  BIND(true AS ?b0)"
            )
            out.append(Plan(shape, where, [Check(c, "true")]))
        for name in ("sh:lessThan", "sh:lessThanOrEquals"):
            op = "<" if name == "sh:lessThan" else "<="
            for c in by_kind.get(name, []):
                check = Check(c, f"!COALESCE(?value {op} ?other, false)")
                where = (
                    f"{focus.bind('?this')}\n  GRAPH {g} {{ ?this {p} ?value . "
                    f"?this <{c.value}> ?other }}\n  {_binds([check])}"
                )
                out.append(Plan(shape, where, [check]))

    # -- expressions -------------------------------------------------------------------
    def value_bad(
        self, c: Constraint, v: str, this: str, shape: Shape, stack: tuple[str, ...]
    ) -> str:
        """A boolean expression, true when value node `v` (of focus `this`) violates `c`."""
        name, value = c.name, c.value
        if name == "sh:datatype":
            return f"!COALESCE({self.datatype_ok(str(value), v)}, false)"
        if name == "sh:nodeKind":
            return _NODE_KIND[str(value)].format(v=v)
        if name == "sh:class":
            return f"(isLiteral({v}) || NOT EXISTS {{ {self.instance_of(v, str(value))} }})"
        if name == "sh:in":
            if not value:
                return "true"
            return "!(" + " || ".join(f"sameTerm({v}, {t})" for t in value) + ")"  # type: ignore[union-attr]
        if name == "sh:pattern":
            return (
                f'(isBlank({v}) || !REGEX(STR({v}), "{_escape(str(value))}", "{_escape(c.flags)}"))'
            )
        if name == "sh:minLength":
            return f"(isBlank({v}) || STRLEN(STR({v})) < {value})"
        if name == "sh:maxLength":
            return f"(isBlank({v}) || STRLEN(STR({v})) > {value})"
        if name in _COMPARE:
            return f"!COALESCE({value} {_COMPARE[name]} {v}, false)"
        if name == "sh:languageIn":
            if "*" in value:  # type: ignore[operator]
                ok = f'LANG({v}) != ""'
            else:
                ok = (
                    " || ".join(f'langMatches(LANG({v}), "{_escape(t)}")' for t in value) or "false"
                )  # type: ignore[union-attr]
            return f"!COALESCE(isLiteral({v}) && ({ok}), false)"
        if name == "sh:disjoint":
            return f"EXISTS {{ GRAPH {self.g} {{ {this} <{value}> {v} }} }}"
        if name == "sh:hasValue":
            return f"!sameTerm({v}, {value})" if value else "true"
        refs: tuple[str, ...] = value  # type: ignore[assignment]
        parts = [self.conforms(ref, v, (*stack, shape.id)) for ref in refs]
        if name == "sh:node":
            return f"!{parts[0]}"
        if name == "sh:not":
            return parts[0]
        if name == "sh:and":
            return "!(" + " && ".join(parts) + ")" if parts else "false"
        if name == "sh:or":
            return "!(" + " || ".join(parts) + ")" if parts else "true"
        if name == "sh:xone":
            return (
                "((" + " + ".join(f"IF({p}, 1, 0)" for p in parts) + ") != 1)" if parts else "true"
            )
        raise AssertionError(f"no expression for {name}")

    def instance_of(self, v: str, cls: str) -> str:
        """A pattern that matches when `v` has rdf:type `cls` or one of its subclasses."""
        types = self.closures.get(cls, (cls,))
        if len(types) == 1:
            return f"GRAPH {self.g} {{ {v} <{RDF}type> <{types[0]}> }}"
        t = self.fresh("type")
        return (
            f"GRAPH {self.g} {{ {v} <{RDF}type> {t} }} "
            f"VALUES {t} {{ {' '.join(f'<{x}>' for x in types)} }}"
        )

    def datatype_ok(self, dt: str, v: str) -> str:
        """True when `v` is a well-formed literal of datatype `dt` (may raise errors)."""
        dtype = f"DATATYPE({v})"
        if dt == RDFS + "Literal":  # pySHACL accepts every literal for rdfs:Literal
            return f"isLiteral({v})"
        if dt == RDF + "langString":
            return f'(isLiteral({v}) && LANG({v}) != "")'
        if dt == XSD + "string":
            return f"(isLiteral({v}) && sameTerm({dtype}, <{XSD}string>))"
        if dt in INTEGER_RANGES:
            lo, hi = INTEGER_RANGES[dt]

            def in_range(num: str) -> str:
                tests = ([f"{num} >= {lo}"] if lo is not None else []) + (
                    [f"{num} <= {hi}"] if hi is not None else []
                )
                return "".join(f" && {t}" for t in tests)

            stored = (
                f"(sameTerm({dtype}, <{XSD}integer>) && isLiteral(<{XSD}integer>({v}))"
                f"{in_range(v)})"
            )
            if dt == XSD + "integer":
                return f"(isLiteral({v}) && {stored})"
            num = f"<{XSD}integer>(STR({v}))"
            kept = f'(sameTerm({dtype}, <{dt}>) && REGEX(STR({v}), "^[+-]?[0-9]+$"){in_range(num)})'
            return f"(isLiteral({v}) && ({stored} || {kept}))"
        if dt == XSD + "dateTimeStamp":  # stored by Oxigraph as xsd:dateTime
            dt_cast = f"<{XSD}dateTime>"
            return (
                f"(isLiteral({v}) && (sameTerm({dtype}, {dt_cast}) || sameTerm({dtype}, <{dt}>))"
                f' && TZ({dt_cast}(STR({v}))) != "")'
            )
        if dt in CASTABLE:
            return f"(isLiteral({v}) && sameTerm({dtype}, <{dt}>) && isLiteral(<{dt}>({v})))"
        if dt in _LEXICAL:
            return (
                f"(isLiteral({v}) && sameTerm({dtype}, <{dt}>) && "
                f'REGEX(STR({v}), "{_LEXICAL[dt]}"))'
            )
        return f"(isLiteral({v}) && sameTerm({dtype}, <{dt}>))"

    def conforms(self, shape_id: str, x: str, stack: tuple[str, ...]) -> str:
        """A boolean expression, true when node `x` conforms to the shape `shape_id`."""
        shape = self.shapes.shapes[shape_id]
        if shape.deactivated:
            return "true"
        if shape_id in stack:
            raise ShapesError(
                self.shapes.source,
                "refers to itself (through sh:node, sh:and, "
                "sh:or, sh:xone, sh:not or sh:property); recursive shapes are not "
                "supported",
                shape=shape.name,
            )
        stack = (*stack, shape_id)
        g = self.g
        parts: list[str] = []
        if shape.path is None:
            for c in shape.constraints:
                if c.name in VALUE_LEVEL or c.name == "sh:hasValue":
                    parts.append(f"!COALESCE({self.value_bad(c, x, x, shape, stack)}, true)")
                elif c.name == "sh:closed":
                    allowed = {
                        self.shapes.shapes[p].path.iri
                        for p in shape.properties
                        if self.shapes.shapes[p].path is not None
                    } - {None}
                    allowed |= set(shape.ignored)
                    p = self.fresh("p")
                    keep = ", ".join(f"<{a}>" for a in sorted(allowed))  # type: ignore[type-var]
                    cond = f"FILTER({p} NOT IN ({keep}))" if keep else ""
                    parts.append(
                        f"NOT EXISTS {{ GRAPH {g} {{ {x} {p} {self.fresh('o')} }} {cond} }}"
                    )
                elif c.name == "sh:equals":
                    a = self.fresh("a")
                    parts.append(
                        f"NOT EXISTS {{ GRAPH {g} {{ {x} <{c.value}> {a} }} "
                        f"FILTER(!sameTerm({a}, {x})) }}"
                    )
                    parts.append(f"EXISTS {{ GRAPH {g} {{ {x} <{c.value}> {x} }} }}")
            values_of = x
        else:
            parts.extend(self._property_conforms(shape, x, stack))
            values_of = None
        for child_id in shape.properties:
            if values_of is not None:
                parts.append(self.conforms(child_id, x, stack))
            else:
                v = self.fresh("v")
                path = shape.path.sparql  # type: ignore[union-attr]
                parts.append(
                    f"NOT EXISTS {{ GRAPH {g} {{ {x} {path} {v} }} "
                    f"FILTER(!{self.conforms(child_id, v, stack)}) }}"
                )
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def _property_conforms(self, shape: Shape, x: str, stack: tuple[str, ...]) -> list[str]:
        g, path = self.g, shape.path.sparql  # type: ignore[union-attr]
        parts: list[str] = []
        v = self.fresh("v")
        bad = [
            f"COALESCE({self.value_bad(c, v, x, shape, stack)}, true)"
            for c in shape.constraints
            if c.name in VALUE_LEVEL
        ]
        if bad:
            parts.append(
                f"NOT EXISTS {{ GRAPH {g} {{ {x} {path} {v} }} FILTER({' || '.join(bad)}) }}"
            )
        for c in shape.constraints:
            if c.name == "sh:minCount" and c.value:
                parts.append(f"EXISTS {{ {self._distinct_values(shape, x, int(c.value))} }}")  # type: ignore[call-overload]
            elif c.name == "sh:maxCount":
                parts.append(
                    f"NOT EXISTS {{ {self._distinct_values(shape, x, int(c.value) + 1)} }}"
                )  # type: ignore[call-overload]
            elif c.name == "sh:hasValue":
                parts.append(
                    f"EXISTS {{ GRAPH {g} {{ {x} {path} {c.value} }} }}" if c.value else "false"
                )
            elif c.name == "sh:uniqueLang" and c.value:
                a, b = self.fresh("a"), self.fresh("b")
                parts.append(
                    f"NOT EXISTS {{ GRAPH {g} {{ {x} {path} {a} . {x} {path} {b} }} "
                    f'FILTER(!sameTerm({a}, {b}) && LANG({a}) != "" && '
                    f"LCASE(LANG({a})) = LCASE(LANG({b}))) }}"
                )
            elif c.name == "sh:equals":
                a = self.fresh("a")
                other = f"<{c.value}>"
                parts.append(
                    f"NOT EXISTS {{ GRAPH {g} {{ {x} {path} {a} }} FILTER NOT EXISTS "
                    f"{{ GRAPH {g} {{ {x} {other} {a} }} }} }}"
                )
                parts.append(
                    f"NOT EXISTS {{ GRAPH {g} {{ {x} {other} {a} }} FILTER NOT EXISTS "
                    f"{{ GRAPH {g} {{ {x} {path} {a} }} }} }}"
                )
            elif c.name in ("sh:lessThan", "sh:lessThanOrEquals"):
                a, b = self.fresh("a"), self.fresh("b")
                op = "<" if c.name == "sh:lessThan" else "<="
                parts.append(
                    f"NOT EXISTS {{ GRAPH {g} {{ {x} {path} {a} . {x} <{c.value}> {b} }} "
                    f"FILTER(!COALESCE({a} {op} {b}, false)) }}"
                )
        return parts

    def _distinct_values(self, shape: Shape, x: str, n: int) -> str:
        """A pattern matching when `x` has at least `n` distinct values for the shape's path."""
        if n > 4:
            raise ShapesError(
                self.shapes.source,
                "sh:minCount above 4 or sh:maxCount above 3 in a shape used through sh:node, "
                "sh:and, sh:or, sh:xone or sh:not is not supported; check the count in a "
                "property shape of its own",
                shape=shape.name,
                feature="nested count",
            )
        names = [self.fresh("n") for _ in range(n)]
        path = shape.path.sparql  # type: ignore[union-attr]
        triples = " . ".join(f"{x} {path} {a}" for a in names)
        distinct = [f"!sameTerm({a}, {b})" for i, a in enumerate(names) for b in names[i + 1 :]]
        cond = f" FILTER({' && '.join(distinct)})" if distinct else ""
        return f"GRAPH {self.g} {{ {triples} }}{cond}"


def classes_used(shapes: Shapes) -> set[str]:
    """Every class named by a target or an sh:class constraint (their subclasses are looked up
    in the data graph before compiling)."""
    found: set[str] = set()
    for shape in shapes.shapes.values():
        found.update(shape.targets.classes)
        found.update(str(c.value) for c in shape.constraints if c.name == "sh:class")
    return found
