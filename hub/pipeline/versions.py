"""Version files: a source's triples as sorted, unique N-Triples lines; and the diff of two.

Sorted files make the change between two versions a linear merge in constant
memory, and an unchanged harvest an empty change set. Blank nodes are replaced by
skolem IRIs (`<base>.well-known/genid/<source>/<label>`, RDF 1.1 §3.5): a change set
is applied with DELETE DATA, which cannot name blank nodes. XSD-typed literals are
written in the canonical form Oxigraph stores them in (`"10.6110"^^xsd:decimal` is
`"10.611"`), so a version holds exactly the triples the store gives back, and what is
derived from it (read model, JSON-LD, change feed, dumps) is the store's data.

    >>> sort_version(Path("run.unsorted"), Path("run.nt"), genid="https://h/.well-known/genid/s/")  # doctest: +SKIP
    1750000
    >>> diff_versions(Path("old.nt"), Path("new.nt"), Path("removed.nt"), Path("added.nt"))  # doctest: +SKIP
    ChangeCounts(removed=12, added=30)
"""

from __future__ import annotations

import heapq
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

# Lines per in-memory run of the external sort (~150 MB of Python bytes at most).
RUN_LINES = 1_000_000
_BNODE_SUBJECT = re.compile(rb"^_:(\S+) ")
_BNODE_OBJECT = re.compile(rb" _:(\S+) \.\s*$")
_XSD = b"http://www.w3.org/2001/XMLSchema#"
_ANY = ox.NamedNode("urn:x-hub:canonical")


@dataclass(frozen=True)
class ChangeCounts:
    """How many triples a publish removes and adds."""

    removed: int
    added: int

    @property
    def empty(self) -> bool:
        return not (self.removed or self.added)


def _skolemize(line: bytes, genid: bytes) -> bytes:
    if b"_:" not in line:
        return line
    line = _BNODE_SUBJECT.sub(lambda m: b"<" + genid + m.group(1) + b"> ", line)
    return _BNODE_OBJECT.sub(lambda m: b" <" + genid + m.group(1) + b"> .", line)


@lru_cache(maxsize=1 << 16)
def canonical_value(lexical: str, datatype: str) -> str:
    """The lexical form Oxigraph stores an XSD-typed literal in (itself when invalid).

    >>> canonical_value("10.6110", "http://www.w3.org/2001/XMLSchema#decimal")
    '10.611'
    """
    store = ox.Store()
    store.add(ox.Quad(_ANY, _ANY, ox.Literal(lexical, datatype=ox.NamedNode(datatype))))
    return next(iter(store)).object.value


_TYPED_AT = b'"^^<' + _XSD
_CANONICAL_ALREADY = {
    b"decimal": re.compile(rb"-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]"),
    b"integer": re.compile(rb"-?[1-9][0-9]*|0"),
}
"""Lexical forms Oxigraph keeps as they are (checked against it on 20,000 random forms):
most values of a harvest, so the store is asked only about the others."""


def canonical_line(line: bytes) -> bytes:
    """An N-Triples line (no newline) with its XSD-typed object in canonical form."""
    at = line.rfind(_TYPED_AT)
    if at < 0 or not line.endswith(b"> ."):
        return line
    kind = line[at + len(_TYPED_AT) : -3]
    if kind == b"string" or not (kind.isascii() and kind.isalpha()):
        return line
    start = line.rfind(b'"', 0, at)  # a lexical form to canonicalize holds no '"' nor '\\'
    if start < 1 or line[start - 1] != 0x20:
        return line
    lexical = line[start + 1 : at]
    if b"\\" in lexical:
        return line
    already = _CANONICAL_ALREADY.get(kind)
    if already is not None and already.fullmatch(lexical):
        return line
    value = canonical_value(lexical.decode("utf-8"), (_XSD + kind).decode("ascii"))
    if value.encode("utf-8") == lexical:
        return line
    return line[: start + 1] + value.encode("utf-8") + line[at:]


def _lines(path: Path, genid: bytes) -> Iterator[bytes]:
    with path.open("rb") as data:
        for line in data:
            line = line.strip()
            if line and not line.startswith(b"#"):
                yield canonical_line(_skolemize(line, genid)) + b"\n"


def _unique(lines: Iterable[bytes]) -> Iterator[bytes]:
    last = None
    for line in lines:
        if line != last:
            yield line
            last = line


def _write_run(lines: list[bytes], folder: Path) -> Path:
    lines.sort()
    fd, name = tempfile.mkstemp(dir=folder, suffix=".run")
    with os.fdopen(fd, "wb") as out:
        out.writelines(_unique(lines))
    return Path(name)


def sort_version(source: Path, target: Path, *, genid: str) -> int:
    """Write `source`'s N-Triples to `target` sorted, unique, skolemized and with canonical
    XSD literals; the line count.

    Memory stays bounded: runs of RUN_LINES lines are sorted apart and merged.
    The target appears whole or not at all (written aside, then renamed).
    """
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    runs: list[Path] = []
    buffer: list[bytes] = []
    partial = target.with_name(target.name + ".partial")
    count = 0
    try:
        for line in _lines(source, genid.encode()):
            buffer.append(line)
            if len(buffer) >= RUN_LINES:
                runs.append(_write_run(buffer, folder))
                buffer = []
        with partial.open("wb") as out:
            if not runs:
                buffer.sort()
                for line in _unique(buffer):
                    out.write(line)
                    count += 1
            else:
                if buffer:
                    runs.append(_write_run(buffer, folder))
                buffer = []
                with ExitStack() as files:
                    opened = [files.enter_context(run.open("rb")) for run in runs]
                    for line in _unique(heapq.merge(*opened)):
                        out.write(line)
                        count += 1
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
        for run in runs:
            run.unlink(missing_ok=True)
    return count


def diff_versions(old: Path | None, new: Path, removed: Path, added: Path) -> ChangeCounts:
    """Write the lines only in `old` to `removed` and those only in `new` to `added`.

    Both inputs must be sorted and unique (see `sort_version`); `old=None` is empty.
    """
    n_removed = n_added = 0
    with ExitStack() as files:
        old_lines: Iterator[bytes] = iter(files.enter_context(old.open("rb"))) if old else iter(())
        new_lines: Iterator[bytes] = iter(files.enter_context(new.open("rb")))
        out_removed = files.enter_context(removed.open("wb"))
        out_added = files.enter_context(added.open("wb"))
        a, b = next(old_lines, None), next(new_lines, None)
        while a is not None or b is not None:
            if b is None or (a is not None and a < b):
                out_removed.write(a)  # type: ignore[arg-type]
                n_removed += 1
                a = next(old_lines, None)
            elif a is None or b < a:
                out_added.write(b)
                n_added += 1
                b = next(new_lines, None)
            else:
                a, b = next(old_lines, None), next(new_lines, None)
        for out in (out_removed, out_added):
            out.flush()
            os.fsync(out.fileno())
    return ChangeCounts(n_removed, n_added)


def count_lines(path: Path) -> int:
    """Triples in a version file."""
    with path.open("rb") as data:
        return sum(1 for _ in data)
