"""Downloadable dumps: each source's published graph, and the whole hub, as gzipped N-Quads.

A subscriber of `Published` rewrites the source's dump from its version file (sorted
N-Triples, already on disk: each line gets the source's graph name), then the hub's
dump: the per-source dumps of the configured sources, byte for byte, followed by the
programme graph and the links graph. gzip allows a file to be a series of members
(RFC 1952, 2.2), so the hub dump costs a file copy, not a recompression. The metadata
graph is left out: it changes at every run, failed ones too (see docs/decisions.md #22).
Every file is written aside and renamed, so a reader sees the old or the new dump whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hub.config import HubConfig
from hub.iris import Iris
from hub.layout import DataLayout
from hub.pipeline.events import Event, Published, Subscriber, concurrent
from hub.store.base import Store

COMPRESS_LEVEL = 6
_CHUNK = 4 * 1024 * 1024


def _nquad(line: bytes, graph: bytes) -> bytes | None:
    """An N-Triples line as an N-Quads line in `graph` (None for blank and comment lines)."""
    body = line.strip()
    if not body or body.startswith(b"#"):
        return None
    if body.endswith(b"."):
        body = body[:-1].rstrip()
    return body + b" " + graph + b" .\n"


@contextlib.contextmanager
def _aside(target: Path) -> Iterator[Path]:
    """A temporary file beside `target`, renamed over it when the block ends without error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def write_ntriples_as_nquads(ntriples: Path, graph: str, target: Path) -> None:
    """Write the N-Triples file `ntriples` as gzipped N-Quads of `graph` at `target`, atomically."""
    name = f"<{graph}>".encode()
    with (
        _aside(target) as temp,
        ntriples.open("rb") as data,
        gzip.open(temp, "wb", compresslevel=COMPRESS_LEVEL) as out,
    ):
        tail = b""
        while chunk := data.read(_CHUNK):
            lines, _, tail = (tail + chunk).rpartition(b"\n")
            if lines:
                out.write(_nquads(lines + b"\n", name))
        if tail:
            out.write(_nquads(tail + b"\n", name))


def _nquads(lines: bytes, graph: bytes) -> bytes:
    """Whole N-Triples lines as N-Quads in `graph`. A version file's lines all end in
    " ." (a raw newline byte only ever ends a line), so they are rewritten in one pass;
    anything else line by line."""
    if lines.count(b" .\n") == lines.count(b"\n") and b"\r" not in lines:
        return lines.replace(b" .\n", b" " + graph + b" .\n")
    quads = (_nquad(line, graph) for line in lines.splitlines())
    return b"".join(quad for quad in quads if quad is not None)


def write_source_dump(config: HubConfig, source: str, version: Path) -> Path:
    """The dump of one source from the version file now published; returns its path."""
    target = DataLayout(config.data_path).dump(source)
    write_ntriples_as_nquads(version, Iris(config.base_iri).source_graph(source), target)
    return target


def _graph_member(store: Store, graph: str) -> bytes:
    """One graph of the store as a gzip member of N-Quads (small graphs: built in memory)."""
    name = f"<{graph}>".encode()
    lines = store.dump_graph(graph).splitlines()
    return gzip.compress(
        b"".join(q for line in lines if (q := _nquad(line, name)) is not None),
        compresslevel=COMPRESS_LEVEL,
    )


@contextlib.contextmanager
def _hub_dump_lock(layout: DataLayout) -> Iterator[None]:
    """One writer of the hub dump at a time, across processes (`hub serve`, `hub harvest`)."""
    path = layout.dumps() / ".hub.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_hub_dump(config: HubConfig, store: Store) -> Path:
    """The whole hub's dump: every configured source's dump, then the programme and links graphs."""
    layout = DataLayout(config.data_path)
    iris = Iris(config.base_iri)
    target = layout.hub_dump()
    with _hub_dump_lock(layout), _aside(target) as temp, temp.open("wb") as out:
        for source in sorted(config.sources):
            part = layout.dump(source)
            if part.exists():
                with part.open("rb") as member:
                    shutil.copyfileobj(member, out, 1 << 20)
        for graph in (iris.programme_graph, iris.links_graph):
            if store.has_graph(graph):
                out.write(_graph_member(store, graph))
    return target


def dumps(config: HubConfig, store: Store) -> Subscriber:
    """Each published version of a source rewrites its dump and the hub's (beside the other
    subscribers: gzip works while the read model is built, on the other core)."""

    def write_dumps(event: Event) -> None:
        if not isinstance(event, Published):
            return
        started = time.perf_counter()
        write_source_dump(config, event.report.source, event.version)
        write_hub_dump(config, store)
        event.report.phases["dumps"] = time.perf_counter() - started

    return concurrent(write_dumps)


def sync_dumps(config: HubConfig, store: Store) -> list[str]:
    """Write the dumps a published source lacks (a hub from before dumps, a lost file);
    the hub dump is rewritten if any was. Returns the sources written."""
    from hub.pipeline.state import load_state

    layout = DataLayout(config.data_path)
    written = []
    for source in config.sources:
        state = load_state(config.data_path, source)
        if not state.version_file or layout.dump(source).exists():
            continue
        version = layout.absolute(state.version_file)
        if version.exists():
            write_source_dump(config, source, version)
            written.append(source)
    if written or (
        any(layout.dump(s).exists() for s in config.sources) and not layout.hub_dump().exists()
    ):
        write_hub_dump(config, store)
    return written
