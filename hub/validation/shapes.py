"""Read a SHACL shapes graph (Turtle, with rdflib) into a small model the validator runs.

Everything the validator cannot check is refused here, by name, so that nobody believes a
constraint was checked when it was not (see `UNSUPPORTED`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from hub.errors import HubError
from hub.iris import PREFIXES, SH, XSD

SHNS = SH
_SH = {
    name: URIRef(SH + name)
    for name in [
        "NodeShape",
        "PropertyShape",
        "targetClass",
        "targetNode",
        "targetSubjectsOf",
        "targetObjectsOf",
        "path",
        "property",
        "severity",
        "message",
        "deactivated",
        "name",
        "description",
        "order",
        "group",
        "defaultValue",
        "minCount",
        "maxCount",
        "datatype",
        "nodeKind",
        "class",
        "in",
        "pattern",
        "flags",
        "minLength",
        "maxLength",
        "minInclusive",
        "maxInclusive",
        "minExclusive",
        "maxExclusive",
        "languageIn",
        "uniqueLang",
        "hasValue",
        "closed",
        "ignoredProperties",
        "equals",
        "disjoint",
        "lessThan",
        "lessThanOrEquals",
        "node",
        "not",
        "and",
        "or",
        "xone",
        "inversePath",
        "alternativePath",
        "zeroOrMorePath",
        "oneOrMorePath",
        "zeroOrOnePath",
        "Violation",
        "IRI",
        "BlankNode",
        "Literal",
        "BlankNodeOrIRI",
        "BlankNodeOrLiteral",
        "IRIOrLiteral",
        "qualifiedValueShape",
    ]
}

# Parameters that describe a shape but constrain nothing.
_DESCRIPTIVE = {
    "severity",
    "message",
    "deactivated",
    "name",
    "description",
    "order",
    "group",
    "defaultValue",
    "path",
    "property",
    "targetClass",
    "targetNode",
    "targetSubjectsOf",
    "targetObjectsOf",
    "flags",
    "ignoredProperties",
}
# Constraint parameters taking one value each (several values make several constraints).
_SINGLE = [
    "minCount",
    "maxCount",
    "datatype",
    "nodeKind",
    "class",
    "pattern",
    "minLength",
    "maxLength",
    "minInclusive",
    "maxInclusive",
    "minExclusive",
    "maxExclusive",
    "uniqueLang",
    "hasValue",
    "closed",
    "equals",
    "disjoint",
    "lessThan",
    "lessThanOrEquals",
    "node",
    "not",
]
_LIST = ["in", "languageIn", "and", "or", "xone"]
SUPPORTED = set(_SINGLE) | set(_LIST) | _DESCRIPTIVE

#: SHACL features that `load_shapes` refuses, with the reason given to the user.
UNSUPPORTED = {
    "qualifiedValueShape": "the hub's validator does not run qualified value shapes yet",
    "qualifiedMinCount": "the hub's validator does not run qualified value shapes yet",
    "qualifiedMaxCount": "the hub's validator does not run qualified value shapes yet",
    "qualifiedValueShapesDisjoint": "the hub's validator does not run qualified value shapes yet",
    "sparql": "SPARQL-based constraints are not run by the hub's validator",
    "target": "SHACL-AF custom targets are not supported",
    "rule": "SHACL-AF rules are not run by the hub's validator",
}

XSD_STRING = XSD + "string"
# Datatypes Turtle writes without quotes.
_BARE = {XSD + "integer", XSD + "decimal", XSD + "double", XSD + "boolean"}
_NODE_KINDS = {
    "IRI",
    "BlankNode",
    "Literal",
    "BlankNodeOrIRI",
    "BlankNodeOrLiteral",
    "IRIOrLiteral",
}
_MAX_NESTED_COUNT = 4


class ShapesError(HubError):
    """A shapes file cannot be read, or uses a SHACL feature the validator does not check."""

    def __init__(
        self, file: str, message: str, *, shape: str | None = None, feature: str | None = None
    ) -> None:
        self.file = file
        self.shape = shape
        self.feature = feature
        self.reason = message
        where = f"{file}: shape {shape}" if shape else file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Path:
    """A SHACL property path as a SPARQL property path (`sparql`) and as people read it."""

    sparql: str
    display: str
    iri: str | None = None
    closure: bool = False  # uses *, + or ? (reached nodes are found by walking the graph)
    #: The path as a tree the validator walks: ("iri", "<p>"), ("inverse", sub),
    #: ("sequence", subs), ("alternative", subs), ("zeroOrMore" | "oneOrMore" | "zeroOrOne", sub).
    tree: tuple = field(default=(), compare=False)

    @property
    def report(self) -> str:
        """The path as reported in a `Violation`: the IRI, or the SPARQL path when complex."""
        return self.iri if self.iri is not None else self.sparql


@dataclass(frozen=True)
class Constraint:
    """One constraint: a parameter such as `sh:minCount` and its parsed value.

    `value` is an int (counts, lengths), a bool, a SPARQL term (`<iri>`, `"lit"^^<dt>`), a
    tuple of SPARQL terms (`sh:in`, `sh:languageIn` as strings), or a tuple of shape ids
    (`sh:node`, `sh:not`, `sh:and`, `sh:or`, `sh:xone`). `display` is the value as written.
    """

    name: str
    value: object
    display: str
    flags: str = ""


@dataclass(frozen=True)
class Targets:
    """The target declarations of a shape (implicit class targets are in `classes`)."""

    nodes: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    subjects_of: tuple[str, ...] = ()
    objects_of: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.nodes or self.classes or self.subjects_of or self.objects_of)


@dataclass
class Shape:
    """A node shape (`path` is None) or a property shape, with its own constraints."""

    id: str
    name: str
    path: Path | None
    targets: Targets
    constraints: list[Constraint]
    properties: list[str]
    severity: str
    severity_iri: str
    messages: tuple[str, ...] = ()
    deactivated: bool = False
    ignored: tuple[str, ...] = ()
    #: sh:message by language tag (lower case); an untagged message stands in for "en".
    message_by_lang: dict[str, str] = field(default_factory=dict)

    @property
    def is_property(self) -> bool:
        """True for a property shape."""
        return self.path is not None


@dataclass
class Shapes:
    """A parsed shapes graph: every shape by id, and where it came from."""

    source: str
    shapes: dict[str, Shape] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)

    @property
    def targeted(self) -> list[Shape]:
        """Shapes with targets of their own, in a stable order."""
        return [s for s in self.shapes.values() if s.targets]

    def __len__(self) -> int:
        return len(self.shapes)


# -- terms -----------------------------------------------------------------------------
def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def sparql_term(term: URIRef | Literal) -> str:
    """An rdflib IRI or literal written as a SPARQL term."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    lexical = f'"{_escape(str(term))}"'
    if term.language:
        return f"{lexical}@{term.language}"
    if term.datatype is not None:
        return f"{lexical}^^<{term.datatype}>"
    return lexical


class Namer:
    """Writes IRIs short, with the shapes file's prefixes and the hub's."""

    _LOCAL = re.compile(r"^[A-Za-z_][\w\-.]*$")

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        self._by_length = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def short(self, iri: str) -> str:
        """`http://schema.org/name` -> `schema:name` (or `<iri>` when no prefix fits)."""
        for prefix, ns in self._by_length:
            if ns and iri.startswith(ns):
                local = iri[len(ns) :]
                if self._LOCAL.match(local) and not local.endswith("."):
                    return f"{prefix}:{local}" if prefix else local
        return f"<{iri}>"

    def term(self, term: object) -> str:
        """Any rdflib term, short, as Turtle would write it."""
        if isinstance(term, URIRef):
            return self.short(str(term))
        if isinstance(term, Literal):
            if term.language:
                return f'"{term}"@{term.language}'
            if term.datatype is not None and str(term.datatype) in _BARE:
                return str(term)
            if term.datatype is not None and str(term.datatype) != XSD_STRING:
                return f'"{term}"^^{self.short(str(term.datatype))}'
            return f'"{term}"'
        return str(term)


# -- parsing ---------------------------------------------------------------------------
class _Parser:
    """Turns an rdflib shapes graph into `Shapes`, refusing what cannot be checked."""

    def __init__(self, graph: Graph, source: str) -> None:
        self.g = graph
        self.source = source
        prefixes = dict(PREFIXES)
        prefixes["sh"] = SH
        prefixes.update({p: str(ns) for p, ns in graph.namespaces()})
        self.namer = Namer(prefixes)
        self.ids: dict[object, str] = {}
        self.parents: dict[object, object] = {}

    def fail(self, message: str, node: object = None, feature: str | None = None) -> ShapesError:
        return ShapesError(
            self.source, message, shape=self.label(node) if node else None, feature=feature
        )

    def label(self, node: object) -> str:
        if isinstance(node, URIRef):
            return self.namer.short(str(node))
        parent = self.parents.get(node)
        if parent is not None:
            path = self.g.value(node, _SH["path"])
            where = self.path(path).display if path is not None else "?"
            return f"{self.label(parent)} (property {where})"
        return f"_:{node}"

    def shape_nodes(self) -> list[object]:
        g = self.g
        found: dict[object, None] = {}
        for kind in ("NodeShape", "PropertyShape"):
            found.update(dict.fromkeys(g.subjects(RDF.type, _SH[kind])))
        for pred in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "path"):
            found.update(dict.fromkeys(g.subjects(_SH[pred], None)))
        for parent, child in g.subject_objects(_SH["property"]):
            self.parents.setdefault(child, parent)
            found[child] = None
        for pred in ("node", "not", "qualifiedValueShape"):
            found.update(dict.fromkeys(g.objects(None, _SH[pred])))
        for pred in ("and", "or", "xone"):
            for lst in g.objects(None, _SH[pred]):
                found.update(dict.fromkeys(self.items(lst, None, pred)))
        return sorted(found, key=lambda n: (isinstance(n, BNode), str(n)))

    def items(self, lst: object, shape: object, pred: str) -> list:
        if lst != RDF.nil and self.g.value(lst, RDF.first) is None:
            raise self.fail(f"the value of sh:{pred} must be an RDF list", shape)
        return list(Collection(self.g, lst))

    def node_id(self, node: object) -> str:
        return str(node) if isinstance(node, URIRef) else f"_:{node}"

    def path(self, node: object) -> Path:
        g = self.g
        if isinstance(node, URIRef):
            return Path(
                f"<{node}>", self.namer.short(str(node)), str(node), tree=("iri", f"<{node}>")
            )
        if isinstance(node, Literal):
            raise self.fail(f"sh:path {node!r} is a literal; it must be an IRI or a path")
        if g.value(node, RDF.first) is not None:
            parts = [self.path(p) for p in Collection(g, node)]
            return Path(
                "(" + "/".join(p.sparql for p in parts) + ")",
                "/".join(p.display for p in parts),
                closure=any(p.closure for p in parts),
                tree=("sequence", tuple(p.tree for p in parts)),
            )
        for pred, op in (
            ("inversePath", "^"),
            ("alternativePath", "|"),
            ("zeroOrMorePath", "*"),
            ("oneOrMorePath", "+"),
            ("zeroOrOnePath", "?"),
        ):
            inner = g.value(node, _SH[pred])
            if inner is None:
                continue
            if op == "|":
                parts = [self.path(p) for p in Collection(g, inner)]
                return Path(
                    "(" + "|".join(p.sparql for p in parts) + ")",
                    "(" + "|".join(p.display for p in parts) + ")",
                    closure=any(p.closure for p in parts),
                    tree=("alternative", tuple(p.tree for p in parts)),
                )
            sub = self.path(inner)
            if op == "^":
                return Path(
                    f"^{sub.sparql}",
                    f"^{sub.display}",
                    closure=sub.closure,
                    tree=("inverse", sub.tree),
                )
            return Path(
                f"({sub.sparql}){op}", f"({sub.display}){op}", closure=True, tree=(pred, sub.tree)
            )
        raise self.fail("a blank node used as sh:path is not a SHACL path")

    # -- parameter values --------------------------------------------------------------
    def iri(self, node: object, value: object, pred: str) -> str:
        if not isinstance(value, URIRef):
            raise self.fail(f"sh:{pred} must be an IRI, found {self.namer.term(value)}", node)
        return str(value)

    def count(self, node: object, value: object, pred: str) -> int:
        if (
            not isinstance(value, Literal)
            or not isinstance(value.value, int)
            or isinstance(value.value, bool)
            or value.value < 0
        ):
            raise self.fail(
                f"sh:{pred} must be a non-negative integer, found {self.namer.term(value)}", node
            )
        return int(value.value)

    def boolean(self, node: object, value: object, pred: str) -> bool:
        if not isinstance(value, Literal) or not isinstance(value.value, bool):
            raise self.fail(
                f"sh:{pred} must be true or false, found {self.namer.term(value)}", node
            )
        return bool(value.value)

    def one(self, node: object, pred: str) -> object | None:
        values = list(self.g.objects(node, _SH[pred]))
        if len(values) > 1:
            raise self.fail(f"sh:{pred} is given {len(values)} times; give it once", node)
        return values[0] if values else None

    def constraint(self, node: object, pred: str, value: object, flags: str) -> Constraint:
        name = f"sh:{pred}"
        shown = self.namer.term(value)
        if pred in ("minCount", "maxCount", "minLength", "maxLength"):
            return Constraint(name, self.count(node, value, pred), shown)
        if pred in ("datatype", "class", "equals", "disjoint", "lessThan", "lessThanOrEquals"):
            return Constraint(name, self.iri(node, value, pred), shown)
        if pred == "nodeKind":
            kind = str(value)[len(SH) :] if str(value).startswith(SH) else ""
            if kind not in _NODE_KINDS:
                raise self.fail(f"sh:nodeKind {shown} is not a SHACL node kind", node)
            return Constraint(name, kind, shown)
        if pred in ("uniqueLang", "closed"):
            return Constraint(name, self.boolean(node, value, pred), shown)
        if pred == "pattern":
            if not isinstance(value, Literal):
                raise self.fail(f"sh:pattern must be a string, found {shown}", node)
            _check_regex(self, node, str(value), flags)
            return Constraint(name, str(value), shown, flags)
        if pred in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            if not isinstance(value, Literal):
                raise self.fail(f"sh:{pred} must be a literal, found {shown}", node)
            return Constraint(name, sparql_term(value), shown)
        if pred == "hasValue":
            term = None if isinstance(value, BNode) else sparql_term(value)
            return Constraint(name, term, shown)
        if pred in ("node", "not"):
            return Constraint(name, (self.node_id(value),), self.describe(value))
        if pred == "in":
            members = self.items(value, node, pred)
            terms = tuple(sparql_term(m) for m in members if not isinstance(m, BNode))
            return Constraint(
                name, terms, "(" + " ".join(self.namer.term(m) for m in members) + ")"
            )
        if pred == "languageIn":
            members = self.items(value, node, pred)
            if not all(isinstance(m, Literal) for m in members):
                raise self.fail('sh:languageIn must list strings such as "it"', node)
            return Constraint(
                name,
                tuple(str(m) for m in members),
                "(" + " ".join(f'"{m}"' for m in members) + ")",
            )
        # and / or / xone
        members = self.items(value, node, pred)
        return Constraint(
            name,
            tuple(self.node_id(m) for m in members),
            "(" + " ".join(self.describe(m) for m in members) + ")",
        )

    def describe(self, node: object) -> str:
        """A shape for messages: its name, or for a blank node what it says (`[sh:datatype
        xsd:string]`)."""
        if isinstance(node, URIRef) or node in self.parents:
            return self.label(node)
        said = []
        for p, o in sorted(self.g.predicate_objects(node)):
            if not str(p).startswith(SH):
                continue
            if isinstance(o, BNode) and self.g.value(o, RDF.first) is not None:
                shown = "(" + " ".join(self.namer.term(m) for m in Collection(self.g, o)) + ")"
            elif isinstance(o, BNode):
                shown = "[...]"
            else:
                shown = self.namer.term(o)
            said.append(f"{self.namer.short(str(p))} {shown}")
        text = "; ".join(said) or "a shape"
        return f"[{text if len(text) <= 60 else text[:57] + '...'}]"

    def shape(self, node: object) -> Shape:
        g = self.g
        unsupported = []
        for pred in set(g.predicates(node, None)):
            text = str(pred)
            if text.startswith(SH) and text[len(SH) :] not in SUPPORTED:
                unsupported.append(text[len(SH) :])
        if unsupported:
            feature = sorted(unsupported)[0]
            reason = UNSUPPORTED.get(feature, "the hub's validator does not know this parameter")
            raise self.fail(
                f"uses sh:{feature}, which is not checked ({reason}); remove it or express it "
                "with supported SHACL Core constraints",
                node,
                feature=f"sh:{feature}",
            )
        path_node = self.one(node, "path")
        path = self.path(path_node) if path_node is not None else None
        flags_value = self.one(node, "flags")
        flags = str(flags_value) if flags_value is not None else ""

        constraints: list[Constraint] = []
        for pred in _SINGLE + _LIST:
            values = sorted(g.objects(node, _SH[pred]), key=str)
            if pred in _LIST and len(values) > 1:
                raise self.fail(f"sh:{pred} is given {len(values)} times; give one list", node)
            for value in values:
                constraints.append(self.constraint(node, pred, value, flags))
        if path is None:
            for c in constraints:
                if c.name in (
                    "sh:minCount",
                    "sh:maxCount",
                    "sh:uniqueLang",
                    "sh:lessThan",
                    "sh:lessThanOrEquals",
                ):
                    raise self.fail(f"{c.name} needs a property shape (one with sh:path)", node)
        else:
            if any(c.name == "sh:closed" for c in constraints):
                raise self.fail("sh:closed belongs on node shapes, not on property shapes", node)

        return Shape(
            id=self.node_id(node),
            name=self.label(node)
            if isinstance(node, URIRef) or node not in self.parents
            else self.label(self.parents[node]),
            path=path,
            targets=self.targets(node),
            constraints=[c for c in constraints if not (c.name == "sh:closed" and not c.value)],
            properties=[self.node_id(p) for p in sorted(g.objects(node, _SH["property"]), key=str)],
            severity=self.namer.short(str(self.severity(node))),
            severity_iri=str(self.severity(node)),
            messages=self.messages(node),
            deactivated=self.deactivated(node),
            ignored=self.ignored(node),
            message_by_lang=self.message_by_lang(node),
        )

    def severity(self, node: object) -> URIRef:
        value = self.one(node, "severity")
        if value is None:
            return _SH["Violation"]
        return URIRef(self.iri(node, value, "severity"))

    def deactivated(self, node: object) -> bool:
        value = self.one(node, "deactivated")
        return False if value is None else self.boolean(node, value, "deactivated")

    def messages(self, node: object) -> tuple[str, ...]:
        values = [m for m in self.g.objects(node, _SH["message"]) if isinstance(m, Literal)]
        rank = {"en": 0, None: 1}
        values.sort(key=lambda m: (rank.get(m.language, 2), str(m)))
        return tuple(str(m) for m in values)

    def message_by_lang(self, node: object) -> dict[str, str]:
        values = [m for m in self.g.objects(node, _SH["message"]) if isinstance(m, Literal)]
        by_lang: dict[str, str] = {}
        # Sorted, so that two messages in one language resolve the same way on every load.
        for m in sorted(values, key=str):
            by_lang.setdefault((m.language or "").lower(), str(m))
        untagged = by_lang.pop("", None)
        if untagged is not None:
            by_lang.setdefault("en", untagged)
        return by_lang

    def ignored(self, node: object) -> tuple[str, ...]:
        value = self.one(node, "ignoredProperties")
        if value is None:
            return ()
        return tuple(
            self.iri(node, m, "ignoredProperties")
            for m in self.items(value, node, "ignoredProperties")
        )

    def targets(self, node: object) -> Targets:
        g = self.g
        nodes = []
        for value in g.objects(node, _SH["targetNode"]):
            if isinstance(value, BNode):
                raise self.fail("sh:targetNode must be an IRI or a literal", node)
            nodes.append(sparql_term(value))
        classes = [self.iri(node, v, "targetClass") for v in g.objects(node, _SH["targetClass"])]
        # Implicit class target, as pySHACL reads it: the shape is typed rdfs:Class, or typed
        # with a class the shapes graph declares a direct subclass of rdfs:Class.
        class_types = {RDFS.Class, *g.subjects(RDFS.subClassOf, RDFS.Class)}
        if isinstance(node, URIRef) and any(t in class_types for t in g.objects(node, RDF.type)):
            classes.append(str(node))
        return Targets(
            nodes=tuple(sorted(set(nodes))),
            classes=tuple(sorted(set(classes))),
            subjects_of=tuple(
                sorted(
                    {
                        self.iri(node, v, "targetSubjectsOf")
                        for v in g.objects(node, _SH["targetSubjectsOf"])
                    }
                )
            ),
            objects_of=tuple(
                sorted(
                    {
                        self.iri(node, v, "targetObjectsOf")
                        for v in g.objects(node, _SH["targetObjectsOf"])
                    }
                )
            ),
        )

    def parse(self) -> Shapes:
        shapes = Shapes(self.source, prefixes=self.namer.prefixes)
        for node in self.shape_nodes():
            shape = self.shape(node)
            shapes.shapes[shape.id] = shape
        for shape in shapes.shapes.values():
            for ref in _references(shape):
                # An IRI with no description at all is a shape that checks nothing: most
                # likely a typo, and it would pass silently, so refuse it.
                if not ref.startswith("_:") and (URIRef(ref), None, None) not in self.g:
                    raise ShapesError(
                        self.source,
                        f"refers to shape {self.namer.short(ref)}, which is not defined "
                        "in this file",
                        shape=shape.name,
                    )
        return shapes


def _references(shape: Shape) -> list[str]:
    refs = list(shape.properties)
    for c in shape.constraints:
        if c.name in ("sh:node", "sh:not", "sh:and", "sh:or", "sh:xone"):
            refs.extend(c.value)  # type: ignore[arg-type]
    return refs


_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def compile_pattern(pattern: str, flags: str) -> re.Pattern[str]:
    """sh:pattern with sh:flags (SPARQL REGEX flags i, m, s, x, q) as a Python regex, as
    pySHACL runs it; ValueError when it cannot be compiled."""
    unknown = set(flags) - set(_REGEX_FLAGS) - {"q"}
    if unknown:
        raise ValueError(f"unknown flag(s) {''.join(sorted(unknown))}")
    bits = 0
    for flag in flags:
        bits |= _REGEX_FLAGS.get(flag, 0)
    try:
        return re.compile(re.escape(pattern) if "q" in flags else pattern, bits)
    except re.error as exc:
        raise ValueError(str(exc)) from None


def _check_regex(parser: _Parser, node: object, pattern: str, flags: str) -> None:
    """Refuse a pattern that cannot be compiled (it would fail silently)."""
    try:
        compile_pattern(pattern, flags)
    except ValueError as exc:
        raise parser.fail(
            f"sh:pattern {pattern!r} with flags {flags!r} is not a valid regular "
            f"expression ({exc})",
            node,
        ) from None


def parse_shapes(source: str | FsPath) -> Shapes:
    """Parse a SHACL Turtle file (a path) or Turtle text into `Shapes`."""
    text, name = _read(source)
    # "core" only: rdflib's default bindings include `schema:` for https://schema.org/,
    # which would push the file's own `schema:` (http://schema.org/) to `schema1:`.
    graph = Graph(bind_namespaces="core")
    try:
        graph.parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises many kinds of parse errors
        raise ShapesError(name, f"is not valid Turtle: {exc}") from None
    return _Parser(graph, name).parse()


def _read(source: str | FsPath) -> tuple[str, str]:
    if isinstance(source, FsPath):
        path = source
    elif "\n" in source or source.lstrip().startswith(("@prefix", "PREFIX", "@base")):
        return source, "<shapes text>"
    else:
        path = FsPath(source)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise ShapesError(str(path), f"cannot be read ({exc.strerror}); check the path") from None
