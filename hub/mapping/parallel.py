"""Map records in several processes: batches go to forked workers and come back in order.

The calling process reads the records (the harvester runs there), sends them in batches
of `BATCH_RECORDS` to a pool of workers forked from it, so each worker has the compiled
mapping and its specialised code without pickling them, and writes the workers' bytes
in the order of the batches: the output is the same, byte for byte, as one process's.
At most two batches per worker are in flight, so memory stays flat in the number of
records. A worker writes a batch's N-Triples to a spool file (in /dev/shm when it has
room) and sends back its name: a pipe would copy the bytes three more times, which
costs the calling process about as much as mapping them. Failures, reference hits and
join keys come back with each batch and are merged by the calling process, which also
makes the join links at the end.

Needs the `fork` start method (Linux, macOS); elsewhere the runner maps in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import TYPE_CHECKING, Any

from hub.errors import RecordError

if TYPE_CHECKING:
    from hub.mapping.model import Reference
    from hub.mapping.runner import MappingRunner

BATCH_RECORDS = 500
IN_FLIGHT_PER_WORKER = 2
FIELD_SAMPLE = 200  # as the runner: the first records' fields, for the coverage report
SPOOL_FROM_BYTES = 1 << 16  # a smaller batch output comes back through the pipe
_SHM = "/dev/shm"

_runner: MappingRunner | None = None  # a worker's runner, set once when it starts
_spool = ""  # a worker's folder for batch outputs

Failure = tuple[int, RecordError, str]  # offset in the batch, error, record key
Batch = tuple[bytes | str, int, list[Failure], list[Any], list[int]]  # bytes, or a file name


def available() -> bool:
    """True when workers can be forked (they inherit the compiled mapping)."""
    return "fork" in multiprocessing.get_all_start_methods()


def references(runner: MappingRunner) -> list[Reference]:
    """The mapping's references, each once, in an order every process computes alike."""
    unique: dict[int, Reference] = {}
    for ref in runner.mapping.references():
        unique.setdefault(id(ref), ref)
    return list(unique.values())


def _adopt(runner: MappingRunner, spool: str) -> None:
    global _runner, _spool
    _runner, _spool = runner, spool


def _spool_folder() -> str:
    """A new folder for batch outputs: in memory (/dev/shm) when it has room, else on disk."""
    parent = None
    if os.path.isdir(_SHM) and shutil.disk_usage(_SHM).free > 1 << 30:
        parent = _SHM
    return tempfile.mkdtemp(prefix="hub-mapping-", dir=parent)


def map_batch(first: int, records: list[Any]) -> Batch:
    """In a worker: a batch's bytes, triple count, failures, join keys and reference hits."""
    runner = _runner
    assert runner is not None, "map_batch runs in a worker of hub.mapping.parallel.run"
    refs = references(runner)
    before = [ref.hits for ref in refs]
    joined = bool(runner._join_predicates)
    chunks: list[bytes] = []
    triples = 0
    failures: list[Failure] = []
    keys: list[Any] = []
    for offset, record in enumerate(records):
        found: list[Any] | None = [] if joined else None
        try:
            data, count = runner.encoded(record, found)
        except RecordError as exc:
            failures.append((offset, exc, runner.record_key(record, first + offset)))
            continue
        chunks.append(data)
        triples += count
        if found:
            keys.extend(found)
    hits = [ref.hits - old for ref, old in zip(refs, before, strict=True)]
    size = sum(len(chunk) for chunk in chunks)
    if size < SPOOL_FROM_BYTES:
        return b"".join(chunks), triples, failures, keys, hits
    path = os.path.join(_spool, f"{first}.nt")
    with open(path, "wb") as out:
        out.writelines(chunks)
    return path, triples, failures, keys, hits


def run(runner: MappingRunner, records: Iterable[Any], processes: int) -> Iterator[bytes]:
    """Map `records` with `processes` workers; yield N-Triples chunks in the records' order."""
    context = multiprocessing.get_context("fork")
    spool = _spool_folder()
    pool = context.Pool(processes, initializer=_adopt, initargs=(runner, spool))
    stats, locate = runner.stats, runner.locate
    refs = references(runner)
    pending: deque[tuple[int, list[str], AsyncResult[Batch]]] = deque()
    finished = False

    def collect() -> bytes:
        first, locations, result = pending.popleft()
        data, triples, failures, keys, hits = result.get()
        stats.triples += triples
        for offset, error, key in failures:
            location = locations[offset] if locations else ""
            runner.failed(first + offset, key, error, location)
        if keys:
            runner._commit(keys)
        for ref, hit in zip(refs, hits, strict=True):
            ref.hits += hit
        if isinstance(data, str):
            with open(data, "rb") as spooled:
                text = spooled.read()
            os.unlink(data)
            return text
        return data

    try:
        batch: list[Any] = []
        locations: list[str] = []
        first = 1
        for number, record in enumerate(records, start=1):
            stats.records = number
            if number <= FIELD_SAMPLE and isinstance(record, dict):
                stats.fields_seen.update(record)
            batch.append(record)
            if locate is not None:
                locations.append(locate())
            if len(batch) >= BATCH_RECORDS:
                pending.append((first, locations, pool.apply_async(map_batch, (first, batch))))
                first, batch, locations = number + 1, [], []
                while len(pending) >= IN_FLIGHT_PER_WORKER * processes:
                    data = collect()
                    if data:
                        yield data
        if batch:
            pending.append((first, locations, pool.apply_async(map_batch, (first, batch))))
        while pending:
            data = collect()
            if data:
                yield data
        pool.close()
        finished = True
    finally:
        if not finished:
            pool.terminate()
        pool.join()
        shutil.rmtree(spool, ignore_errors=True)
    tail = runner.finish()
    if tail:
        yield tail
