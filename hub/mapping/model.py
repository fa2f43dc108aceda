"""The compiled form of a YARRRML mapping: what the runner executes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class Reference:
    """A `$(path)` reference, relative to the iterated node; counts the values it found."""

    path: str
    select: Callable[[Any], list[Any]]
    line: int
    hits: int = 0
    iterator: bool = False  # a source's iterator (not a field): worded apart in warnings


@dataclass
class FunctionCall:
    """A function (GREL, IDLab, the hub's) applied to values of the node; works like a Reference.

    `select(node)` gives the function's values for the node (a list, maybe empty), so a
    term map whose value is a function is rendered exactly as a reference-valued one.
    """

    function: str  # its IRI
    path: str  # as written, for messages: `grel:toUpperCase($(name))`
    line: int
    select: Callable[[Any], list[Any]] = field(repr=False)
    arguments: list[Any] = field(default_factory=list)  # Reference | FunctionCall | str parts
    hits: int = 0

    def references(self) -> Iterator[Reference]:
        for argument in self.arguments:
            yield from _references_in(argument)


def _references_in(part: Any) -> Iterator[Reference]:
    if isinstance(part, Reference):
        yield part
    elif isinstance(part, FunctionCall):
        yield from part.references()
    elif isinstance(part, list):
        for item in part:
            yield from _references_in(item)


Part = str | Reference | FunctionCall


@dataclass
class TermMap:
    """How one subject or object term is made for each node.

    `parts` is a template (text and references) or a single FunctionCall; `language_parts`
    / `datatype_parts` are set when the language or datatype comes from the data.
    `condition`: the term is made only for nodes where every call is true.
    """

    kind: Literal["iri", "literal"]
    line: int
    constant: str | None = None
    parts: list[Part] = field(default_factory=list)
    datatype: str | None = None
    language: str | None = None
    language_parts: list[Part] | None = None
    datatype_parts: list[Part] | None = None
    condition: list[FunctionCall] | None = None
    language_line: int = 0  # where `language:` / `datatype:` is written (for messages)
    datatype_line: int = 0

    @property
    def references(self) -> list[Reference]:
        found: list[Reference] = []
        for group in (self.parts, self.language_parts or [], self.datatype_parts or []):
            found.extend(_references_in(group))
        for call in self.condition or []:
            found.extend(call.references())
        return found


@dataclass
class JoinCondition:
    """`equal` between a value of the child node and a value of the parent node."""

    child: list[Part]
    parent: list[Part]
    line: int


@dataclass
class RefObjectMap:
    """`{mapping: other, condition: ...}`: the objects are the subjects of another mapping."""

    parent: str  # the name of the parent mapping
    line: int
    joins: list[JoinCondition] = field(default_factory=list)

    @property
    def references(self) -> list[Reference]:
        found: list[Reference] = []
        for join in self.joins:
            found.extend(_references_in(join.child))
            found.extend(_references_in(join.parent))
        return found


@dataclass
class PredicateObjectMap:
    predicates: list[str]
    objects: list[TermMap | RefObjectMap]
    line: int
    condition: list[FunctionCall] | None = None


@dataclass
class LogicalSource:
    """One entry of a mapping's `sources`: how the harvested records are iterated."""

    formulation: Literal["csv", "jsonpath"]
    iterator: str
    line: int
    access: str | None = None  # the file named in the mapping; the hub reads hub.toml's
    name: str | None = None  # its key under the top-level `sources:`, if any


@dataclass
class TriplesMap:
    """One entry of `mappings:`: its sources, a subject, its predicates and objects."""

    name: str
    line: int
    iterator: str
    select_nodes: Callable[[Any], list[Any]]
    subject: TermMap
    predicate_objects: list[PredicateObjectMap]
    sources: list[LogicalSource] = field(default_factory=list)
    subjects: list[TermMap] = field(default_factory=list)  # more than one subject
    condition: list[FunctionCall] | None = None
    iterator_references: list[Reference] = field(default_factory=list)

    def all_subjects(self) -> list[TermMap]:
        return [self.subject, *self.subjects]


@dataclass
class Mapping:
    """A whole mapping file, compiled."""

    file: str
    sha256: str
    prefixes: dict[str, str]
    triples_maps: list[TriplesMap]
    sources: dict[str, LogicalSource] = field(default_factory=dict)

    def references(self) -> list[Reference]:
        refs: list[Reference] = []
        for tmap in self.triples_maps:
            refs.extend(tmap.iterator_references)
            for subject in tmap.all_subjects():
                refs.extend(subject.references)
            for call in tmap.condition or []:
                refs.extend(call.references())
            for pom in tmap.predicate_objects:
                for call in pom.condition or []:
                    refs.extend(call.references())
                for obj in pom.objects:
                    refs.extend(obj.references)
        return refs
