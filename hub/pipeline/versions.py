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
import shutil
import subprocess
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
    if not (kind.isascii() and kind.isalpha()):
        return line
    start = line.rfind(b'"', 0, at)  # a lexical form to canonicalize holds no '"' nor '\\'
    if start < 1 or line[start - 1] != 0x20:
        return line
    value = _canonical_lexical(line[start + 1 : at], kind)
    return line if value is None else line[: start + 1] + value + line[at:]


def _canonical_lexical(lexical: bytes, kind: bytes) -> bytes | None:
    """The canonical form of a lexical form of XSD type `kind`; None when it is already."""
    if kind == b"string" or b"\\" in lexical:
        return None
    already = _CANONICAL_ALREADY.get(kind)
    if already is not None and already.fullmatch(lexical):
        return None
    value = canonical_value(lexical.decode("utf-8"), (_XSD + kind).decode("ascii")).encode("utf-8")
    return None if value == lexical else value


_TYPED_OBJECT = re.compile(
    rb' "(?!-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]"\^\^<http://www\.w3\.org/2001/XMLSchema#decimal> \.$)'
    rb'(?!(?:-?[1-9][0-9]*|0)"\^\^<http://www\.w3\.org/2001/XMLSchema#integer> \.$)'
    rb'([^"\n]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#([A-Za-z]+)> \.$',
    re.M,
)
"""A line's XSD-typed object where `canonical_line` finds it (after a space, up to the line's
last `"^^<xsd:…> .`), but for decimals and integers `_CANONICAL_ALREADY` keeps."""
_ODD_START = re.compile(rb"\n[^<]")
_BLANK_NODE = re.compile(rb"_:")  # a pattern: SRE finds a literal faster than bytes.find
_BLOCK_BYTES = 8 * 1024 * 1024


def _plain(block: bytes) -> bool:
    """Whether `_line` leaves each line of `block` (whole lines) as it is but for its typed
    object: every line starts with `<` and ends with ` .`, nothing for `strip` to remove,
    no comment, blank line or blank node. A mapping's output is plain."""
    return (
        block[:1] == b"<"
        and not any(byte in block for byte in (b"\r", b"\t", b"\x0b", b"\x0c"))
        and block.count(b" .\n") == block.count(b"\n")
        and _ODD_START.search(block, 0, len(block) - 1) is None
        and _BLANK_NODE.search(block) is None
    )


def _canonical_block(block: bytes) -> bytes:
    """`canonical_line` of every line of a plain block, the block scanned once."""
    pieces, done = [], 0
    for match in _TYPED_OBJECT.finditer(block):
        value = _canonical_lexical(match[1], match[2])
        if value is not None:
            pieces += (block[done : match.start(1)], value)
            done = match.end(1)
    return b"".join((*pieces, block[done:])) if pieces else block


def _line(line: bytes, genid: bytes) -> bytes | None:
    """One line as a version holds it: stripped, skolemized, canonical, ending in a newline;
    None for blank and comment lines."""
    line = line.strip()
    if not line or line.startswith(b"#"):
        return None
    return canonical_line(_skolemize(line, genid)) + b"\n"


def _blocks(path: Path, genid: bytes) -> Iterator[bytes]:
    """The lines of `path` as `_line` makes them, in blocks of whole lines. A plain block is
    canonicalized in one scan, not a line at a time (7M lines of a mapping's output: about
    a third faster)."""
    with path.open("rb") as data:
        tail = b""
        while chunk := data.read(_BLOCK_BYTES):
            end = chunk.rfind(b"\n")
            if end < 0:
                tail += chunk
                continue
            block, tail = tail + chunk[: end + 1], chunk[end + 1 :]
            if _plain(block):
                yield _canonical_block(block)
            else:
                yield b"".join(
                    line for raw in block.split(b"\n") if (line := _line(raw, genid)) is not None
                )
        if (line := _line(tail, genid)) is not None:
            yield line


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

    Memory stays bounded: GNU sort (`gnu_sort`) sorts the lines in a buffer of
    `SORT_BUFFER` and merges what does not fit from files, on every core, while this
    process reads and canonicalizes the next lines; without it, runs of RUN_LINES lines are
    sorted apart and merged here. The same bytes either way (byte order, `LC_ALL=C`).
    The target appears whole or not at all (written aside, then renamed).
    """
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        sorter = gnu_sort()
        if sorter is not None:
            count = _sort_outside(sorter, _blocks(source, genid.encode()), partial)
        else:
            count = _sort_here(_blocks(source, genid.encode()), partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return count


SORT_BUFFER = "256M"
"""GNU sort's buffer (`-S`): a version larger than this is sorted in parts, merged from files."""


@lru_cache(maxsize=1)
def gnu_sort() -> str | None:
    """GNU coreutils' `sort` on this machine (its `-u -S -T --parallel` and byte order), or
    None: versions are then sorted in this process, more slowly."""
    path = shutil.which("sort")
    if path is None:
        return None
    try:
        about = subprocess.run(
            [path, "--version"], capture_output=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return path if b"GNU coreutils" in about else None


def _sort_outside(sorter: str, blocks: Iterable[bytes], partial: Path) -> int:
    """`blocks` sorted and unique into `partial` by GNU sort; the line count."""
    command = [sorter, "-u", f"--parallel={os.cpu_count() or 1}", "-S", SORT_BUFFER]
    command += ["-T", str(partial.parent), "-o", str(partial)]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "LC_ALL": "C"},  # bytes order, as Python's
        )
        assert process.stdin is not None
        try:
            with process.stdin as feed:
                for block in blocks:
                    feed.write(block)
        except BrokenPipeError:
            pass  # sort stopped: its exit status and message say why
        except BaseException:
            process.kill()
            process.wait()
            raise
        if process.wait() != 0 or not partial.exists():
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip()
            raise OSError(f"sorting the version failed ({sorter}: {message or 'no message'})")
    with partial.open("rb") as out:
        os.fsync(out.fileno())
    return count_lines(partial)


def _sort_here(blocks: Iterable[bytes], partial: Path) -> int:
    """`blocks` sorted and unique into `partial` in this process; the line count."""
    folder = partial.parent
    runs: list[Path] = []
    buffer: list[bytes] = []
    count = 0
    try:
        for block in blocks:
            buffer += block.splitlines(keepends=True)
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
    finally:
        for run in runs:
            run.unlink(missing_ok=True)
    return count


def diff_versions(old: Path | None, new: Path, removed: Path, added: Path) -> ChangeCounts:
    """Write the lines only in `old` to `removed` and those only in `new` to `added`.

    Both inputs must be sorted and unique (see `sort_version`); `old=None` is empty. One
    file under two names (an unchanged run links the published version) is not read.
    """
    if old is not None and old.exists() and new.samefile(old):
        for out_path in (removed, added):
            with out_path.open("wb") as out:
                os.fsync(out.fileno())
        return ChangeCounts(0, 0)
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
    """Lines in a file (a version's triples), read in blocks: a last line without a newline
    counts too."""
    count, last = 0, b"\n"
    with path.open("rb") as data:
        while block := data.read(1 << 24):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")
