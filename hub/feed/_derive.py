"""Which entity each triple of a version belongs to, and a digest of every entity's triples.

An entity's triples are those whose subject is the entity, a sub-resource minted
under it (`<BASE/id/{source}/{key}/address>`, `…#geo`), or a skolem node
(`/.well-known/genid/`, a blank node of the source) reached from one of those. Any
other subject (an IRI the source does not mint) is its own group. Every triple of a
version thus belongs to exactly one group: replaying the groups rebuilds the version.
"""

from __future__ import annotations

import hashlib
import mmap
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SKOLEM = "/.well-known/genid/"
_OBJECT_IRI = re.compile(rb" <([^<>\s]*)> \.\s*$")
_MOD = 1 << 128


def owner_of(subject: str, prefix: str) -> str | None:
    """The entity IRI a subject belongs to by its IRI; None for a skolem node (decided by links)."""
    if SKOLEM in subject:
        return None
    if subject.startswith(prefix) and len(subject) > len(prefix):
        rest = subject[len(prefix) :]
        cuts = [i for i in (rest.find("/"), rest.find("#"), rest.find("?")) if i > 0]
        return prefix + rest[: min(cuts)] if cuts else subject
    return subject


def key_of(entity: str, prefix: str) -> str | None:
    """The source's own key of an entity IRI minted by the hub; None for other IRIs."""
    return (
        entity[len(prefix) :] if entity.startswith(prefix) and len(entity) > len(prefix) else None
    )


def _lines(path: Path) -> Iterator[tuple[bytes, str]]:
    """The triples of a version file, each with its subject IRI (one str per run of lines
    with the same subject: version files are sorted, so a subject's lines are together)."""
    for subject, lines in _runs(path):
        for line in lines:
            yield line, subject


def _runs(path: Path) -> Iterator[tuple[str, list[bytes]]]:
    """The triples of a sorted version file in runs of one subject: (subject IRI, its lines).

    A line starting with the run's `<subject>` belongs to it (an IRI holds no `>`): one
    test a line, where `_lines` cuts and compares each line's subject."""
    subject, lines, same = "", [], b"\x00"
    with path.open("rb") as data:
        for raw in data:
            if raw.startswith(same):
                lines.append(raw.strip())
                continue
            line = raw.strip()
            if not line.startswith(b"<"):  # blank, comment (or a malformed line)
                continue
            if lines:
                yield subject, lines
            end = line.index(b">")
            same = line[: end + 1]
            subject, lines = line[1:end].decode("utf-8"), [line]
    if lines:
        yield subject, lines


def _digest(line: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(line, digest_size=16).digest(), "big")


@dataclass
class Grouping:
    """The entities of one version: a digest each, and who owns each skolem node."""

    prefix: str
    digests: dict[str, int] = field(default_factory=dict)
    skolem_owner: dict[str, str] = field(default_factory=dict)
    _last: tuple[str | None, str] = field(default=(None, ""), repr=False, compare=False)

    def owner(self, subject: str) -> str:
        last = self._last  # one tuple, read and written whole: safe across threads
        if subject is last[0]:  # the same str object: the same run of lines
            return last[1]
        found = owner_of(subject, self.prefix)
        owner = found if found is not None else self.skolem_owner.get(subject, subject)
        self._last = (subject, owner)
        return owner

    def hexdigest(self, entity: str) -> str:
        return f"{self.digests[entity]:032x}"


_LAST: list[tuple[tuple[str, int, int, int, str], Grouping]] = []
_LAST_LOCK = threading.Lock()
_READING = threading.Lock()


def group_version(path: Path, prefix: str) -> Grouping:
    """Read a version file once: every entity's digest (a sum of its lines' hashes, order-free).

    Memory grows with the number of entities and skolem nodes, not with triples. The
    last grouping is kept until `forget_grouping()`: a publish's subscribers (read model,
    then change feed, which forgets it) ask for the same version one after the other.
    Version files are written once, never changed, so (path, inode, size, mtime) names
    one content.
    """
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, prefix)
    with _READING:  # the read model and the feed, prepared side by side, read it once
        with _LAST_LOCK:
            if _LAST and _LAST[0][0] == key:
                return _LAST[0][1]
        grouping = _group_version(path, prefix)
        with _LAST_LOCK:
            _LAST[:] = [(key, grouping)]
        return grouping


def owners_grouping(path: Path, prefix: str) -> Grouping:
    """What `Grouping.owner` needs of a version: the full grouping when the file holds skolem
    IRIs (their owners come from the links), else an empty one (owners follow from IRIs)
    found by one search of the file, not a read of every line."""
    if path.stat().st_size == 0:
        return Grouping(prefix)
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find(SKOLEM.encode()) < 0:
            return Grouping(prefix)
    return group_version(path, prefix)


def forget_grouping() -> None:
    """Let the kept grouping go (the last of a publish's readers calls this: it holds a
    dict entry per entity)."""
    with _LAST_LOCK:
        _LAST.clear()


def _group_version(path: Path, prefix: str) -> Grouping:
    grouping = Grouping(prefix)
    digests = grouping.digests
    skolems: dict[str, int] = {}
    parents: dict[str, set[str]] = {}
    skolem = SKOLEM.encode()
    last: str | None = None
    owner: str | None = None
    for line, subject in _lines(path):
        value = _digest(line)
        if subject is not last:
            last, owner = subject, owner_of(subject, prefix)
        if owner is None:
            skolems[subject] = (skolems.get(subject, 0) + value) % _MOD
        else:
            digests[owner] = (digests.get(owner, 0) + value) % _MOD
        if skolem in line:
            match = _OBJECT_IRI.search(line)
            if match and skolem in match.group(1):
                parents.setdefault(match.group(1).decode("utf-8"), set()).add(subject)
    for node, value in skolems.items():
        owner = _resolve(node, parents, prefix, grouping.skolem_owner)
        digests[owner] = (digests.get(owner, 0) + value) % _MOD
    return grouping


def _resolve(node: str, parents: dict[str, set[str]], prefix: str, known: dict[str, str]) -> str:
    """The entity a skolem node hangs off: the smallest owner among its referrers (cycles end)."""
    if node in known:
        return known[node]
    seen, frontier, owners = {node}, [node], set()
    while frontier:
        current = frontier.pop()
        for parent in parents.get(current, ()):
            owner = owner_of(parent, prefix)
            if owner is not None:
                owners.add(owner)
            elif parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    known[node] = min(owners) if owners else node
    return known[node]


INSIDE = range(0x23, 0x40)
"""Bytes that may follow `<E` in a line inside E's range of a sorted file: `#` `/` `>` `?`
and, for IRIs that extend E (`<E0>`, `<E-b>`), everything between them."""


def owner_groups(path: Path, grouping: Grouping) -> Iterator[tuple[str, list[bytes]]]:
    """Every group of a sorted version, whole, in one pass: (owner, its lines).

    An entity's lines (its node's, its sub-resources') lie in its range of the file,
    nested only with IRIs that extend its own, so a stack hands each group over as the
    file moves past it; skolem nodes' lines are gathered first and join their owner.
    Memory: the nesting and the skolem lines, not the version.
    """
    skolems: dict[str, list[bytes]] = {}
    if grouping.skolem_owner:
        for subject, lines in _runs(path):
            if SKOLEM in subject and (owner := grouping.owner(subject)) != subject:
                skolems.setdefault(owner, []).extend(lines)
    stack: list[tuple[bytes, str, list[bytes]]] = []  # (b"<" + owner, owner, lines)
    for subject, lines in _runs(path):
        owner = grouping.owner(subject)
        if SKOLEM in subject and subject != owner:
            continue  # gathered above, with its owner
        first = lines[0]  # a run's lines agree on this test: it ends within `<subject>`
        while stack:
            key = stack[-1][0]
            if first.startswith(key) and first[len(key)] in INSIDE:
                break
            _, done, group = stack.pop()
            yield done, group + skolems.pop(done, [])
        if stack and stack[-1][1] == owner:
            stack[-1][2].extend(lines)
        else:
            stack.append((b"<" + owner.encode("utf-8"), owner, lines))
    while stack:
        _, done, lines = stack.pop()
        yield done, lines + skolems.pop(done, [])
    yield from skolems.items()  # none: an owner has the line linking its node (kept: no loss)


def digest_of(lines: list[bytes]) -> str:
    """A group's digest, as `Grouping.hexdigest` gives it (a sum of its lines' hashes)."""
    return f"{sum(map(_digest, lines)) % _MOD:032x}"


def entity_predicates(path: Path, grouping: Grouping) -> dict[str, set[str]]:
    """{entity: predicate IRIs} of the lines of `path` (a diff file), by `grouping`'s owners."""
    found: dict[str, set[str]] = {}
    for line, subject in _lines(path):
        start = line.index(b"> <") + 3
        predicate = line[start : line.index(b">", start)].decode("utf-8")
        found.setdefault(grouping.owner(subject), set()).add(predicate)
    return found
