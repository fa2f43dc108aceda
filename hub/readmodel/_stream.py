"""A source's entities read from its sorted version file in one pass, each with its lines.

The version file is sorted, so the lines of an entity `<E>` and of its sub-resources
(`<E/address>`, `<E#geo>`, `<E?x>`) all lie between `<E#` and `<E?`; only entities
whose IRI extends `E` (`<E0>`, `<E-b>`) can sit among them, and those ranges nest.
A stack of open entities therefore hands each one over, complete, as soon as the
file moves past its range: no staging table, no sort, memory bounded by the nesting.
Skolem (blank) nodes are elsewhere in the file; their lines are gathered first, by
the owner the change feed's grouping gives them. That walk is the change feed's
(`hub.feed._derive.owner_groups`); this module keeps the entities. A linked node
an entity does not own (a geometry minted by another source) is found by binary
search in the file.

What the entity keeps is decided by `_extract._entity`, as for the change set's
update, so a rebuild and an update give the same rows (tests/readmodel).
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator, Mapping
from operator import itemgetter
from pathlib import Path

import pyoxigraph as ox

from hub.feed._derive import Grouping, owner_groups
from hub.readmodel._extract import (
    ADDRESS,
    GEO_NODE,
    HAS_GEOMETRY,
    LAT,
    LINKED,
    LOCALITY,
    LON,
    PREDICATES,
    TYPE,
    WKT,
    Entity,
    _entity,
    is_entity_type,
)

_WANTED = {f"<{iri}>".encode(): code for iri, code in PREDICATES.items()}
_LINKS = (HAS_GEOMETRY, GEO_NODE, ADDRESS)
_LINKED_VALUES = (WKT, LAT, LON, LOCALITY)

Staged = tuple[str, int, str, str | None]
"""(subject, predicate code, value, language) of one wanted triple."""
_CODE_AND_VALUE = itemgetter(1, 2)  # a subject's rows in the order `staged_entities` gives


def parse_wanted(line: bytes) -> Staged | None:
    """The subject, predicate code, object value and language of a line, if the API needs it.

    Lines are the hub's own N-Triples (`<s> <p> o .`); a literal with escapes is read
    by pyoxigraph, the others directly.
    """
    cut = line.find(b"> <")
    end = line.find(b"> ", cut + 3) if cut > 0 else -1
    if end < 0 or not line.startswith(b"<") or not line.rstrip().endswith(b"."):
        raise SyntaxError(f"not an N-Triples line of the hub: {line[:300]!r}")
    code = _WANTED.get(line[cut + 2 : end + 1])
    if code is None:
        return None
    subject = line[1:cut].decode("utf-8")
    obj = line[end + 2 :].rstrip()[:-1].rstrip()
    if obj.startswith(b"<"):
        return subject, code, obj[1:-1].decode("utf-8"), None
    if not obj.startswith(b'"'):
        return subject, code, obj.decode("utf-8"), None
    close = obj.rfind(b'"')
    lexical = obj[1:close]
    if b"\\" in lexical:
        return _parsed(line, code)
    suffix = obj[close + 1 :]
    lang = suffix[1:].decode("ascii") if suffix.startswith(b"@") else None
    return subject, code, lexical.decode("utf-8"), lang


def _parsed(line: bytes, code: int) -> Staged | None:
    for triple in ox.parse(input=line + b"\n", format=ox.RdfFormat.N_TRIPLES):
        obj = triple.object
        lang = obj.language if isinstance(obj, ox.Literal) else None
        return triple.subject.value, code, obj.value, lang
    return None


def lines_starting(data: mmap.mmap | bytes, key: bytes) -> Iterator[bytes]:
    """The lines of a sorted file that start with `key` (binary search, then read on)."""
    lo, hi = 0, len(data)
    while lo < hi:  # the first line not below `key`
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", 0, mid) + 1
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        if data[start:end] < key:
            lo = end + 1
        else:
            hi = start
    while lo < len(data):
        end = data.find(b"\n", lo)
        end = len(data) if end < 0 else end
        line = data[lo:end]
        if not line.startswith(key):
            return
        yield line.strip()
        lo = end + 1


class _Lookup:
    """The lines of any subject of the sorted file, by binary search (linked nodes)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        size = path.stat().st_size
        self._data = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

    def lines(self, subject: str) -> list[bytes]:
        return list(lines_starting(self._data, b"<" + subject.encode("utf-8") + b"> "))

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()
        self._file.close()


def stream_entities(
    path: Path, grouping: Grouping, hub_classes: Mapping[str, tuple[str, ...]]
) -> Iterator[tuple[Entity, list[bytes]]]:
    """Every entity of the version (children before the entities their IRIs extend), with
    its lines sorted: its node's, its sub-resources' and its skolem nodes'."""
    prefix = grouping.prefix
    lookup = _Lookup(path)
    try:
        for owner, lines in owner_groups(path, grouping):
            if owner.startswith(prefix) and len(owner) > len(prefix):
                yield from _entities(owner, lines, prefix, hub_classes, lookup)
    finally:
        lookup.close()


def _entities(
    owner: str,
    lines: list[bytes],
    prefix: str,
    hub_classes: Mapping[str, tuple[str, ...]],
    lookup: _Lookup,
) -> Iterator[tuple[Entity, list[bytes]]]:
    """The entities among one owner's lines (the owner, and any sub-resource typed as an
    entity, which keeps no lines of its own, as in a change set's update)."""
    by_subject: dict[str, list[Staged]] = {}
    for line in lines:
        staged = parse_wanted(line)
        if staged is not None:
            by_subject.setdefault(staged[0], []).append(staged)
    found = [
        subject
        for subject, rows in by_subject.items()
        if subject.startswith(prefix)
        and len(subject) > len(prefix)
        and any(code == TYPE and is_entity_type(value, hub_classes) for _, code, value, _ in rows)
    ]
    if not found:
        return
    lines.sort()
    for subject in sorted(found):
        rows = list(by_subject[subject])
        for _, code, node, _ in by_subject[subject]:
            if code not in _LINKS:
                continue
            linked = by_subject.get(node)
            if linked is None and node not in by_subject:
                linked = [s for s in map(parse_wanted, lookup.lines(node)) if s is not None]
            rows.extend(
                (subject, value_code + LINKED, value, lang)
                for _, value_code, value, lang in linked or ()
                if value_code in _LINKED_VALUES
            )
        rows.sort(key=_CODE_AND_VALUE)
        yield _entity(subject, prefix, iter(rows), hub_classes), lines if subject == owner else []
