"""Specialised Python for a compiled mapping: per triples map, a function written and compiled once.

The runner's renderers interpret a term map for every value. This module writes, for
each triples map, the source of one function that maps a node (a dict) with the
mapping's constants (predicates, classes, template text, datatype and language tags)
written into f-strings, each reference read with `node.get`, and the datatype's
lexical check chosen when the mapping is compiled; then `compile()`s it once.

The fast code covers the common case: a reference gives one non-empty text. Anything
else (a list or a number, functions, a language or datatype from the data, a value
that fails its check) goes to the term's interpreted renderer, which makes the same
terms or raises the same RecordError; a node that is not a dict, or whose subject is
not one IRI, goes to the interpreted code of the whole triples map. Lines come out in
the interpreted order, so both paths give the same bytes.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.mapping.model import FunctionCall, Reference, TermMap
from hub.mapping.terms import (
    ABSOLUTE_IRI,
    DAY_CHECKED,
    LEXICAL_CHECKS,
    RANGE_CHECKS,
    UNRESERVED_ASCII,
    day_exists,
    escape_literal,
    iri_safe,
)
from hub.util.jsonpath import parse_path

Append = Callable[[str], None]
Renderer = Callable[[Any], list[str]]
KeysOf = Callable[[Any], list[tuple[str, ...]]]
NodeMapper = Callable[[Any, Append, "list[Any] | None"], None]
MAX_FAST_REFERENCES = 8  # a longer template is left to the interpreted renderer
# escape_literal's own test, written inline (four `in` tests beat a regular expression here)
_NEEDS_ESCAPE_TEST = "('\"' in {v} or '\\\\' in {v} or '\\n' in {v} or '\\r' in {v})"


class _Many:
    """A path that selected several values: never text, so the fast code hands it on."""


MANY = _Many()


@dataclass
class ObjectPlan:
    """One object of a triples map, with its predicates and how to render it interpreted."""

    predicates: list[str]  # N-Triples IRIs, `<...>`
    render: Renderer  # the term alone, interpreted (its conditions are in `conditions`)
    term: TermMap | None = None  # None: only `render` knows (another mapping's subjects)
    conditions: list[list[FunctionCall]] = field(default_factory=list)


@dataclass
class NodePlan:
    """What the fast code of one triples map needs, and its interpreted fallback."""

    subject: TermMap | None  # None: several subject maps (left to `interpreted`)
    condition: list[FunctionCall] | None
    objects: list[ObjectPlan]
    interpreted: NodeMapper  # the same node through the interpreted renderers
    select_nodes: Callable[[Any], list[Any]] | None  # None: the record is the node
    children: list[tuple[int, KeysOf]] = field(default_factory=list)
    parents: list[tuple[int, KeysOf]] = field(default_factory=list)


def _literal(text: str) -> str:
    """`text` as the body of a double-quoted Python f-string literal."""
    out = []
    for char in text:
        if char in "{}":
            out.append(char * 2)
        elif char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


class _Source:
    """The Python source being written, and the objects its names refer to."""

    def __init__(self, holds: Callable[[list[FunctionCall], Any], bool]) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "holds": holds,
            "escape_literal": escape_literal,
            "iri_safe": iri_safe,
            "day_exists": day_exists,
            "SAFE": UNRESERVED_ASCII.match,
            "ABSOLUTE": ABSOLUTE_IRI.match,
            "MANY": MANY,
        }
        self._count = 0

    def bind(self, value: Any, stem: str) -> str:
        """A global name for `value` in the generated module."""
        self._count += 1
        name = f"{stem}{self._count}"
        self.namespace[name] = value
        return name

    def variable(self, stem: str) -> str:
        self._count += 1
        return f"{stem}{self._count}"

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def build(self, name: str, filename: str) -> Any:
        self.text = "\n".join(self.lines) + "\n"
        code = compile(self.text, filename, "exec")
        # tracebacks through the generated code show its lines
        linecache.cache[filename] = (len(self.text), None, self.text.splitlines(True), filename)
        exec(code, self.namespace)  # noqa: S102 - our own generated source
        return self.namespace[name]


def fstring(pieces: list[tuple[bool, str]]) -> str:
    """An f-string of constant texts and variables: [(is_variable, text_or_name), ...]."""
    return 'f"' + "".join("{" + t + "}" if var else _literal(t) for var, t in pieces) + '"'


class _Values:
    """The references a triples map's fast code reads, each path read once per node.

    Reading is free of side effects (`node.get`, a compiled path), so every path is read
    at the top of the function, and its IRI-safe form is made there when a template
    needs it; the terms then count their own references' hits, as interpreted.
    """

    def __init__(self, src: _Source) -> None:
        self.src = src
        self.raw: dict[str, str] = {}  # path -> variable
        self.safe: dict[str, str] = {}
        self.refs: dict[str, Reference] = {}

    def need(self, ref: Reference, encoded: bool) -> None:
        if ref.path not in self.raw:
            self.raw[ref.path] = self.src.variable("x")
            self.refs[ref.path] = ref
        if encoded and ref.path not in self.safe:
            self.safe[ref.path] = self.src.variable("e")

    def write(self, indent: int) -> None:
        """Lines setting each variable: the one value found, None when none, MANY when several."""
        for path, var in self.raw.items():
            self._fetch(indent, self.refs[path], var)
            encoded = self.safe.get(path)
            if encoded is not None:
                self.src.add(
                    indent,
                    f"{encoded} = ({var} if SAFE({var}) is not None else iri_safe({var})) "
                    f"if {var}.__class__ is str else None",
                )

    def _fetch(self, indent: int, ref: Reference, var: str) -> None:
        src = self.src
        steps = parse_path(ref.path)
        if len(steps) == 1 and steps[0][0] == "key":
            src.add(indent, f"{var} = node.get({steps[0][1]!r})")
            return
        if steps and all(kind == "key" for kind, _ in steps):
            # a dotted path: a column literally named `a.b` wins over a -> b (compile_path)
            if not ref.path.startswith("$"):
                missing = src.bind(object(), "MISSING")
                src.add(indent, f"{var} = node.get({ref.path!r}, {missing})")
                src.add(indent, f"if {var} is {missing}:")
                indent += 1
            src.add(indent, f"{var} = node.get({steps[0][1]!r})")
            for _, key in steps[1:]:
                src.add(indent, f"{var} = {var}.get({key!r}) if isinstance({var}, dict) else None")
            return
        select = src.bind(ref.select, "SELECT")
        src.add(indent, f"{var} = {select}(node)")
        src.add(indent, f"{var} = ({var}[0] if len({var}) == 1 else MANY) if {var} else None")


def _fetchable(parts: list[Any]) -> bool:
    refs = [p for p in parts if not isinstance(p, str)]
    return 0 < len(refs) <= MAX_FAST_REFERENCES and all(isinstance(p, Reference) for p in refs)


def _check(src: _Source, datatype: str | None, var: str) -> str:
    """The condition a text must meet for `datatype` ("" when none): coerce_lexical's checks."""
    if datatype is None:
        return ""
    tests = []
    check = LEXICAL_CHECKS.get(datatype)
    if check is not None:
        tests.append(f"{src.bind(check.match, 'LEXICAL')}({var}) is not None")
    if datatype in DAY_CHECKED:
        tests.append(f"day_exists({var})")
    bounds = RANGE_CHECKS.get(datatype)
    if bounds is not None:
        tests.append(f"{bounds[0]} <= int({var}) <= {bounds[1]}")
    return " and ".join(tests)


class _TermWriter:
    """Writes the fast code of one term map: its one term for the node, or the fallback."""

    def __init__(self, src: _Source, term: TermMap, values: _Values) -> None:
        self.src = src
        self.term = term
        self.values = values

    def fast(self) -> bool:
        """True when the term has a fast path (else only its interpreted renderer is used)."""
        term = self.term
        if term.language_parts is not None or term.datatype_parts is not None:
            return False
        if term.constant is not None:
            return True
        return _fetchable(term.parts)

    def constant(self) -> str | None:
        """The N-Triples term of a constant term map (None when it is not constant)."""
        term = self.term
        if term.constant is None or not self.fast():
            return None
        if term.kind == "iri":
            return f"<{term.constant}>"
        suffix = f"@{term.language}" if term.language else ""
        suffix = suffix or (f"^^<{term.datatype}>" if term.datatype else "")
        return f'"{escape_literal(term.constant)}"{suffix}'

    def declare(self) -> None:
        """Ask for the references the fast code reads (before `_Values.write`)."""
        template = self.term.kind == "iri" and len(self.term.parts) > 1
        for part in self.term.parts:
            if isinstance(part, Reference):
                self.values.need(part, encoded=template)

    def write(
        self,
        indent: int,
        on_term: Callable[[int, list[tuple[bool, str]]], None],
        on_other: Callable[[int], None],
        on_missing: Callable[[int], None] | None = None,
    ) -> None:
        """Lines that give the term to `on_term` (as f-string pieces), or else call `on_other`.

        `on_other` is written where the values are not one text each, or fail a check:
        the interpreted renderer decides there (no terms, several, or a RecordError).
        A single reference with no value makes no term, as interpreted (`on_missing`).
        """
        src, term, values = self.src, self.term, self.values
        parts = term.parts
        refs = [p for p in parts if isinstance(p, Reference)]
        variables = [values.raw[ref.path] for ref in refs]
        ready = " and ".join(f"{v}.__class__ is str and {v}" for v in variables)
        src.add(indent, f"if {ready}:")
        inner = indent + 1
        for ref in refs:
            src.add(inner, f"{src.bind(ref, 'REF')}.hits += 1")
        final: list[str] = []
        if term.kind == "iri" and len(parts) == 1:  # a reference: as is, must be absolute
            out = src.variable("o")
            src.add(inner, f"{out} = {variables[0]}.strip()")
            test = f"ABSOLUTE({out}) is not None"
            pieces = [(False, "<"), (True, out), (False, ">")]
        elif term.kind == "iri":  # a template: each value percent-encoded as RML says
            encoded = iter(values.safe[ref.path] for ref in refs)
            test = ""
            pieces = [(False, "<")]
            pieces += [(False, p) if isinstance(p, str) else (True, next(encoded)) for p in parts]
            pieces.append((False, ">"))
        else:
            raw = iter(variables)
            text_pieces = [(False, p) if isinstance(p, str) else (True, next(raw)) for p in parts]
            if len(parts) == 1:
                text = variables[0]
            else:
                text = src.variable("t")
                src.add(inner, f"{text} = {fstring(text_pieces)}")
            test = _check(src, term.datatype, text)
            suffix = f"@{term.language}" if term.language else ""
            suffix = suffix or (f"^^<{term.datatype}>" if term.datatype else "")
            escaped = src.variable("l")
            needs = _NEEDS_ESCAPE_TEST.format(v=text)
            final.append(f"{escaped} = escape_literal({text}) if {needs} else {text}")
            pieces = [(False, '"'), (True, escaped), (False, '"' + suffix)]
        if test:
            src.add(inner, f"if {test}:")
            inner += 1
        for line in final:
            src.add(inner, line)
        on_term(inner, pieces)
        if test:
            src.add(inner - 1, "else:")
            on_other(inner)
        if len(variables) == 1:
            var = variables[0]
            src.add(indent, f"elif {var} is not None and {var} != '':")
            on_other(indent + 1)
            if on_missing is not None:
                src.add(indent, "else:")
                on_missing(indent + 1)
        else:
            src.add(indent, "else:")
            on_other(indent + 1)


def specialise(plans: list[NodePlan], holds: Any, filename: str) -> NodeMapper:
    """One function mapping a record into `append`: the specialised code of every triples map."""
    src = _Source(holds)
    for index, plan in enumerate(plans):
        _triples_map(src, index, plan)
    src.add(0, "def map_record(record, a, found):")
    for index, plan in enumerate(plans):
        if plan.select_nodes is None:
            src.add(1, f"tm{index}(record, a, found)")
        else:
            select = src.bind(plan.select_nodes, "NODES")
            src.add(1, f"for node in {select}(record):")
            src.add(2, f"tm{index}(node, a, found)")
    if not plans:
        src.add(1, "pass")
    return src.build("map_record", f"<mapping {filename}>")  # type: ignore[no-any-return]


def _emit(src: _Source, indent: int, predicates: list[str], term: list[tuple[bool, str]]) -> None:
    """One line per predicate: the subject `s`, the predicate, the term's pieces."""
    if len(predicates) > 1 and any(var for var, _ in term):
        name = src.variable("o")
        src.add(indent, f"{name} = {fstring(term)}")
        term = [(True, name)]
    for predicate in predicates:
        pieces = [(True, "s"), (False, f" {predicate} "), *term, (False, " .\n")]
        src.add(indent, f"a({fstring(pieces)})")


def _triples_map(src: _Source, index: int, plan: NodePlan) -> None:
    interpreted = src.bind(plan.interpreted, "INTERPRETED")
    fallback = f"return {interpreted}(node, a, found)"
    src.add(0, f"def tm{index}(node, a, found):")
    src.add(1, "if not isinstance(node, dict):")
    src.add(2, fallback)
    values = _Values(src)
    subject = _TermWriter(src, plan.subject, values) if plan.subject is not None else None
    if subject is None or not subject.fast():
        src.add(1, fallback)  # several subjects, or one from a function: interpreted
        src.add(0, "")
        return
    if plan.condition:
        src.add(1, f"if not holds({src.bind(plan.condition, 'CONDITION')}, node):")
        src.add(2, "return")
    writers = [
        _TermWriter(src, obj.term, values) if obj.term is not None else None for obj in plan.objects
    ]
    for writer in [subject, *writers]:
        if writer is not None and writer.fast() and writer.constant() is None:
            writer.declare()
    values.write(1)
    constant = subject.constant()
    if constant is not None:
        src.add(1, f"s = {fstring([(False, constant)])}")
    else:

        def subject_is(indent: int, pieces: list[tuple[bool, str]]) -> None:
            src.add(indent, f"s = {fstring(pieces)}")

        def give_up(indent: int) -> None:
            src.add(indent, fallback)

        def no_subject(indent: int) -> None:  # no value: no subject, nothing for this node
            src.add(indent, "return")

        subject.write(1, subject_is, give_up, no_subject)
    for obj, writer in zip(plan.objects, writers, strict=True):
        _object(src, 1, obj, writer)
    if plan.children or plan.parents:
        src.add(1, "if found is not None:")
        src.add(2, "subjects = [s]")
        for side, links in ((False, plan.children), (True, plan.parents)):
            for join_id, keys_of in links:
                name = src.bind(keys_of, "KEYS")
                src.add(2, f"keys = {name}(node)")
                src.add(2, "if keys:")
                src.add(3, f"found.append(({side}, {join_id}, subjects, keys))")
    src.add(0, "")


def _object(src: _Source, indent: int, obj: ObjectPlan, writer: _TermWriter | None) -> None:
    for condition in obj.conditions:
        src.add(indent, f"if holds({src.bind(condition, 'CONDITION')}, node):")
        indent += 1
    render = src.bind(obj.render, "RENDER")

    def interpreted(level: int) -> None:
        src.add(level, f"for o in {render}(node):")
        _emit(src, level + 1, obj.predicates, [(True, "o")])

    if writer is None or not writer.fast():
        interpreted(indent)
        return
    constant = writer.constant()
    if constant is not None:
        _emit(src, indent, obj.predicates, [(False, constant)])
        return
    writer.write(
        indent, lambda level, pieces: _emit(src, level, obj.predicates, pieces), interpreted
    )
