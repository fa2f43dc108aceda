"""SHACL Core over an in-memory `DataGraph`: each shape's constraints as Python checks.

A shape is prepared once (its value checks as closures, its class closures as sets); then
each focus node costs a few dictionary lookups per property shape. Nested shapes (sh:node,
sh:not, sh:and, sh:or, sh:xone) ask "does this node conform", answered by the same code and
remembered per (shape, node).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from hub.validation.graph import RDF_TYPE, DataGraph
from hub.validation.literals import Comparer, datatype_check
from hub.validation.shapes import Constraint, Shape, Shapes, ShapesError, Targets, compile_pattern
from hub.validation.terms import canonical_literal, language, text

# Constraints checked value node by value node (sh:hasValue too, on node shapes).
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
_SHAPE_REFS = ("sh:node", "sh:not", "sh:and", "sh:or", "sh:xone")
_NODE_KIND = {
    "IRI": "<",
    "BlankNode": "_",
    "Literal": '"',
    "BlankNodeOrIRI": "<_",
    "BlankNodeOrLiteral": '_"',
    "IRIOrLiteral": '<"',
}

# Value-level constraints that look at the value alone (sh:disjoint needs the focus node).
_VALUE_ALONE = (VALUE_LEVEL - {"sh:disjoint"}) | {"sh:hasValue"}
_NONE: dict[str, list[str]] = {}


@dataclass(frozen=True, slots=True)
class Result:
    """One SHACL result: a constraint of a shape that a focus node (and value) breaks."""

    shape: Shape
    constraint: Constraint
    focus: str
    value: str | None
    path: str | None = None  # the predicate, for sh:closed (the shape has no path)
    extra: str = ""  # the count (sh:minCount, sh:maxCount) or language (sh:uniqueLang)


def term(sparql: str) -> str:
    """A term from the shapes (`<iri>` or a SPARQL literal) in the data's canonical spelling."""
    return canonical_literal(sparql) if sparql[0] == '"' else sparql


def check_references(shapes: Shapes) -> None:
    """Refuse shapes that refer to themselves (through sh:property, sh:node, sh:and ...)."""
    done: set[str] = set()

    def visit(shape_id: str, stack: tuple[str, ...]) -> None:
        if shape_id in stack:
            raise ShapesError(
                shapes.source,
                "refers to itself (through sh:property, sh:node, sh:and, sh:or, sh:xone or "
                "sh:not); recursive shapes are not supported",
                shape=shapes.shapes[shape_id].name,
            )
        if shape_id in done:
            return
        shape = shapes.shapes[shape_id]
        refs = list(shape.properties)
        for c in shape.constraints:
            if c.name in _SHAPE_REFS:
                refs.extend(c.value)  # type: ignore[arg-type]
        for ref in refs:
            visit(ref, (*stack, shape_id))
        done.add(shape_id)

    for shape_id in shapes.shapes:
        visit(shape_id, ())


class Evaluator:
    """The results of `shapes` on `graph`, shape by shape, focus node by focus node."""

    def __init__(
        self,
        graph: DataGraph,
        shapes: Shapes,
        comparer: Comparer | None = None,
        *,
        stored: bool = False,
    ) -> None:
        """`stored`: the graph was read out of Oxigraph (see `literals.datatype_ok`)."""
        self.g = graph
        self.stored = stored
        self.shapes = shapes
        self.compare = comparer or Comparer()
        self._checks: dict[str, list[tuple[Constraint, Callable[..., bool]]]] = {}
        self._classes: dict[str, frozenset[str]] = {}
        self._conforms: dict[tuple[str, str], bool] = {}

    def results(self) -> Iterator[Result]:
        """Every result, for the shapes that have targets."""
        for shape in self.shapes.targeted:
            if not shape.deactivated:
                yield from self.shape_results(shape, self.focus_nodes(shape.targets))

    # -- focus and value nodes ---------------------------------------------
    def focus_nodes(self, targets: Targets) -> list[str]:
        """The focus nodes of a shape's targets, each once."""
        g = self.g
        found: dict[str, None] = dict.fromkeys(term(n) for n in targets.nodes)
        for cls in targets.classes:
            for sub in self.classes(cls):
                found.update(dict.fromkeys(g.subjects(sub, RDF_TYPE)))
        for predicate in targets.subjects_of:
            found.update(dict.fromkeys(g.subjects_of(f"<{predicate}>")))
        for predicate in targets.objects_of:
            found.update(dict.fromkeys(g.objects_of(f"<{predicate}>")))
        return list(found)

    def classes(self, cls: str) -> frozenset[str]:
        """`cls` and its subclasses in the data graph (rdfs:subClassOf+, as pySHACL reads it)."""
        found = self._classes.get(cls)
        if found is None:
            found = self._classes[cls] = frozenset(self.g.subclasses(f"<{cls}>"))
        return found

    def values(self, node: str, tree: tuple) -> list[str]:
        """The value nodes of a path at `node`, each once."""
        if tree[0] == "iri":
            return self.g.objects(node, tree[1])
        return list(self._walk(tree, {node: None}, inverse=False))

    def _walk(self, tree: tuple, nodes: dict[str, None], *, inverse: bool) -> dict[str, None]:
        kind, arg = tree
        out: dict[str, None] = {}
        if kind == "iri":
            step = self.g.subjects if inverse else self.g.objects
            for node in nodes:
                out.update(dict.fromkeys(step(node, arg)))
            return out
        if kind == "inverse":
            return self._walk(arg, nodes, inverse=not inverse)
        if kind == "sequence":
            for part in reversed(arg) if inverse else arg:
                nodes = self._walk(part, nodes, inverse=inverse)
            return nodes
        if kind == "alternative":
            for part in arg:
                out.update(self._walk(part, nodes, inverse=inverse))
            return out
        if kind == "zeroOrOnePath":
            out.update(nodes)
            out.update(self._walk(arg, nodes, inverse=inverse))
            return out
        # zeroOrMorePath, oneOrMorePath: everything reachable in one or more steps
        frontier = nodes
        while frontier:
            frontier = {n: None for n in self._walk(arg, frontier, inverse=inverse) if n not in out}
            out.update(frontier)
        if kind == "zeroOrMorePath":
            out = {**nodes, **out}
        return out

    # -- shapes ------------------------------------------------------------
    def shape_results(
        self, shape: Shape, focus: Iterable[str], rows: list[dict[str, list[str]]] | None = None
    ) -> Iterator[Result]:
        """The results of `shape` (and of its sh:property shapes) at the given focus nodes.

        `rows`: each focus node's predicates and objects, when the caller has them already.
        """
        if shape.deactivated:
            return
        focus = list(focus)
        if shape.path is None:
            yield from self._node_results(shape, focus)
            inner: dict[str, None] = dict.fromkeys(focus)
            if rows is None and shape.properties:
                spo = self.g.spo.get
                rows = [spo(f, _NONE) for f in focus]
        else:
            inner = {}
            yield from self._property_results(
                shape, focus, rows, inner if shape.properties else None
            )
            rows = None
        for child_id in shape.properties:
            yield from self.shape_results(self.shapes.shapes[child_id], inner, rows)

    def conforms(self, shape_id: str, node: str) -> bool:
        """True when `node` conforms to the shape (for sh:node, sh:not, sh:and ...)."""
        key = (shape_id, node)
        known = self._conforms.get(key)
        if known is None:
            shape = self.shapes.shapes[shape_id]
            known = next(iter(self.shape_results(shape, [node])), None) is None
            self._conforms[key] = known
        return known

    def _node_results(self, shape: Shape, focus: list[str]) -> Iterator[Result]:
        checks = self.value_checks(shape)
        closed = [c for c in shape.constraints if c.name == "sh:closed"]
        equals = [c for c in shape.constraints if c.name == "sh:equals"]
        allowed = self.allowed(shape) if closed else set()
        for f in focus:
            for c, ok in checks:
                if not (ok(f) if c.name in _VALUE_ALONE else ok(f, f)):
                    yield Result(shape, c, f, f)
            for c in closed:
                for predicate, objects in self.g.predicate_objects(f).items():
                    if predicate not in allowed:
                        for o in objects:
                            yield Result(shape, c, f, o, path=predicate)
            for c in equals:
                others = self.g.objects(f, f"<{c.value}>")
                if f not in others:
                    yield Result(shape, c, f, f)
                for o in others:
                    if o != f:
                        yield Result(shape, c, f, o)

    def allowed(self, shape: Shape) -> set[str]:
        """The predicates a closed node shape allows: its properties' paths and ignored ones."""
        found = {
            f"<{child.path.iri}>"
            for child in (self.shapes.shapes[p] for p in shape.properties)
            if child.path is not None and child.path.iri is not None
        }
        return found | {f"<{p}>" for p in shape.ignored}

    def _property_results(
        self,
        shape: Shape,
        focus: list[str],
        rows: list[dict[str, list[str]]] | None,
        inner: dict[str, None] | None,
    ) -> Iterator[Result]:
        assert shape.path is not None
        tree = shape.path.tree
        g, compare = self.g, self.compare
        by_name: dict[str, list[Constraint]] = {}
        for c in shape.constraints:
            if c.name not in VALUE_LEVEL:
                by_name.setdefault(c.name, []).append(c)
        mins = [c for c in by_name.get("sh:minCount", []) if c.value]
        maxes = by_name.get("sh:maxCount", [])
        has_value = [
            (c, term(c.value) if c.value else None) for c in by_name.get("sh:hasValue", [])
        ]
        unique = [c for c in by_name.get("sh:uniqueLang", []) if c.value]
        equals = by_name.get("sh:equals", [])
        pairs = [
            (c, c.name == "sh:lessThanOrEquals")
            for c in by_name.get("sh:lessThan", []) + by_name.get("sh:lessThanOrEquals", [])
        ]
        # Most constraints look at the value alone; sh:disjoint & co. need the focus node too.
        checks = self.value_checks(shape)
        alone = [(c, ok) for c, ok in checks if c.name in _VALUE_ALONE]
        paired = [(c, ok) for c, ok in checks if c.name not in _VALUE_ALONE]
        predicate = tree[1] if tree[0] == "iri" else None
        if predicate is None:
            found = (self.values(f, tree) for f in focus)
        elif rows is not None:
            found = (row.get(predicate, ()) for row in rows)
        else:
            spo = g.spo.get
            found = (spo(f, _NONE).get(predicate, ()) for f in focus)
        for f, values in zip(focus, found, strict=True):
            if inner is not None:
                inner.update(dict.fromkeys(values))
            if mins or maxes:
                n = len(values)
                for c in mins:
                    if n < c.value:  # type: ignore[operator]
                        yield Result(shape, c, f, None, extra=str(n))
                for c in maxes:
                    if n > c.value:  # type: ignore[operator]
                        yield Result(shape, c, f, None, extra=str(n))
            if not values:
                if has_value:
                    for c, _ in has_value:
                        yield Result(shape, c, f, None)
                if not equals:
                    continue
            for c, wanted in has_value:
                if values and (wanted is None or wanted not in values):
                    yield Result(shape, c, f, None)
            for c in unique:
                seen: dict[str, int] = {}
                for v in values:
                    lang = language(v)
                    if lang:
                        seen[lang] = seen.get(lang, 0) + 1
                for lang, count in seen.items():
                    if count > 1:
                        yield Result(shape, c, f, None, extra=lang)
            for c in equals:
                others = g.objects(f, f"<{c.value}>")
                for v in values:
                    if v not in others:
                        yield Result(shape, c, f, v)
                for o in others:
                    if o not in values:
                        yield Result(shape, c, f, o)
            for c, or_equal in pairs:
                others = g.objects(f, f"<{c.value}>")
                for v in values:
                    for o in others:
                        if not compare.less(v, o, or_equal=or_equal):
                            yield Result(shape, c, f, v)
            for v in values:
                for c, alone_ok in alone:
                    if not alone_ok(v):
                        yield Result(shape, c, f, v)
                for c, ok in paired:
                    if not ok(f, v):
                        yield Result(shape, c, f, v)

    # -- value checks ------------------------------------------------------
    def value_checks(self, shape: Shape) -> list[tuple[Constraint, Callable[..., bool]]]:
        """The shape's value-level constraints as (constraint, test) pairs (see `_check`)."""
        found = self._checks.get(shape.id)
        if found is None:
            names = VALUE_LEVEL if shape.path is not None else VALUE_LEVEL | {"sh:hasValue"}
            found = [(c, self._check(c)) for c in shape.constraints if c.name in names]
            self._checks[shape.id] = found
        return found

    def _check(self, c: Constraint) -> Callable[..., bool]:  # noqa: C901, PLR0911, PLR0912
        """True when a value satisfies `c`: `ok(value)`, or `ok(focus, value)` for sh:disjoint."""
        name, value, g = c.name, c.value, self.g
        if name == "sh:datatype":
            return datatype_check(str(value), stored=self.stored)
        if name == "sh:nodeKind":
            kinds = _NODE_KIND[str(value)]
            return lambda v: v[0] in kinds
        if name == "sh:class":
            classes = self.classes(str(value))
            return lambda v: v[0] != '"' and not classes.isdisjoint(g.objects(v, RDF_TYPE))
        if name == "sh:in":
            members = {term(t) for t in value}  # type: ignore[union-attr]
            return members.__contains__
        if name == "sh:pattern":
            search = compile_pattern(str(value), c.flags).search
            return lambda v: v[0] != "_" and search(text(v)) is not None
        if name == "sh:minLength":
            return lambda v: v[0] != "_" and len(text(v)) >= value  # type: ignore[operator]
        if name == "sh:maxLength":
            return lambda v: v[0] != "_" and len(text(v)) <= value  # type: ignore[operator]
        if name in ("sh:minInclusive", "sh:minExclusive", "sh:maxInclusive", "sh:maxExclusive"):
            return self.compare.bound(
                term(str(value)),
                lower=name.startswith("sh:min"),
                inclusive=name.endswith("Inclusive"),
            )
        if name == "sh:languageIn":
            ranges = [str(r).lower() for r in value]  # type: ignore[union-attr]
            return lambda v: _language_in(v, ranges)
        if name == "sh:disjoint":
            other = f"<{value}>"
            return lambda f, v: v not in g.objects(f, other)
        if name == "sh:hasValue":  # on a node shape: the focus node itself must be the value
            wanted = term(str(value)) if value else None
            return lambda v: v == wanted
        refs: tuple[str, ...] = value  # type: ignore[assignment]
        conforms = self.conforms
        if name == "sh:node":
            return lambda v: conforms(refs[0], v)
        if name == "sh:not":
            return lambda v: not conforms(refs[0], v)
        if name == "sh:and":
            return lambda v: all(conforms(r, v) for r in refs)
        if name == "sh:or":
            return lambda v: any(conforms(r, v) for r in refs)
        if name == "sh:xone":
            return lambda v: sum(conforms(r, v) for r in refs) == 1
        raise AssertionError(f"no check for {name}")


def _language_in(value: str, ranges: list[str]) -> bool:
    """SPARQL langMatches against any of `ranges` (basic filtering, RFC 4647)."""
    lang = language(value)
    if not lang:
        return False
    return any(r == "*" or lang == r or lang.startswith(r + "-") for r in ranges)
