"""The compiled form of a YARRRML mapping: what the runner executes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class Reference:
    """A `$(path)` reference, relative to the iterated node; counts the values it found."""

    path: str
    select: Callable[[Any], list[Any]]
    line: int
    hits: int = 0


@dataclass
class TermMap:
    """How one subject or object term is made for each node."""

    kind: Literal["iri", "literal"]
    line: int
    constant: str | None = None
    parts: list[str | Reference] = field(default_factory=list)
    datatype: str | None = None
    language: str | None = None

    @property
    def references(self) -> list[Reference]:
        return [part for part in self.parts if isinstance(part, Reference)]


@dataclass
class PredicateObjectMap:
    predicates: list[str]
    objects: list[TermMap]
    line: int


@dataclass
class TriplesMap:
    """One entry of `mappings:`: an iterator, a subject, its predicates and objects."""

    name: str
    line: int
    iterator: str
    select_nodes: Callable[[Any], list[Any]]
    subject: TermMap
    predicate_objects: list[PredicateObjectMap]


@dataclass
class Mapping:
    """A whole mapping file, compiled."""

    file: str
    sha256: str
    prefixes: dict[str, str]
    triples_maps: list[TriplesMap]

    def references(self) -> list[Reference]:
        refs: list[Reference] = []
        for tmap in self.triples_maps:
            refs.extend(tmap.subject.references)
            for pom in tmap.predicate_objects:
                for obj in pom.objects:
                    refs.extend(obj.references)
        return refs
