"""Map records in several processes: batches go to forked workers and come back in order.

The calling process reads the records (the harvester runs there), sends them in batches
of `BATCH_RECORDS` to a pool of `processes - 1` workers forked from it, so each worker
has the compiled mapping and its specialised code without pickling them, maps a batch
itself whenever the workers are all busy, and yields the batches' bytes in their order:
the output is the same, byte for byte, as one process's. At most four batches per
worker are queued, so memory stays flat in the number of records.

A worker writes a batch's N-Triples to a spool file (in /dev/shm when it has room) and
sends back its name: through the pipe, the bytes would be copied three more times,
which costs the calling process about as much as mapping them. Failures, reference
hits and join keys come back with each batch and are merged by the calling process,
which also makes the join links at the end.

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


def _map_records(runner: MappingRunner, first: int, records: list[Any]) -> Batch:
    """A batch's N-Triples chunks (as one bytes), triple count, failures and join keys."""
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
    return b"".join(chunks), triples, failures, keys, []


def map_batch(first: int, records: list[Any]) -> Batch:
    """In a worker: a batch's output (bytes or a spool file), failures, join keys, hits."""
    runner = _runner
    assert runner is not None, "map_batch runs in a worker of hub.mapping.parallel.run"
    refs = references(runner)
    before = [ref.hits for ref in refs]
    data, triples, failures, keys, _ = _map_records(runner, first, records)
    hits = [ref.hits - old for ref, old in zip(refs, before, strict=True)]
    if len(data) < SPOOL_FROM_BYTES:
        return data, triples, failures, keys, hits
    path = os.path.join(_spool, f"{first}.nt")
    with open(path, "wb") as out:
        out.write(data)
    return path, triples, failures, keys, hits


class _Done:
    """A batch this process mapped itself, queued among the workers' results."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def ready(self) -> bool:
        return True

    def get(self) -> Batch:
        return self.batch


def run(runner: MappingRunner, records: Iterable[Any], processes: int) -> Iterator[bytes]:
    """Map `records` in `processes` processes, this one included; yield chunks in order.

    This process reads the records and hands batches to `processes - 1` workers; when
    they are all busy it maps the next batch itself rather than wait.
    """
    context = multiprocessing.get_context("fork")
    spool = _spool_folder()
    workers = processes - 1
    pool = context.Pool(workers, initializer=_adopt, initargs=(runner, spool))
    stats, locate = runner.stats, runner.locate
    refs = references(runner)
    pending: deque[tuple[int, list[str], AsyncResult[Batch] | _Done]] = deque()
    in_flight = IN_FLIGHT_PER_WORKER * workers
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
        for ref, hit in zip(refs, hits, strict=False):  # no hits: counted here already
            ref.hits += hit
        if isinstance(data, str):
            with open(data, "rb") as spooled:
                text = spooled.read()
            os.unlink(data)
            return text
        return data

    def send(first: int, batch: list[Any], locations: list[str]) -> None:
        busy = len(pending) >= in_flight and not pending[0][2].ready()
        if busy and len(pending) < 2 * in_flight:
            pending.append((first, locations, _Done(_map_records(runner, first, batch))))
        else:
            pending.append((first, locations, pool.apply_async(map_batch, (first, batch))))

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
                send(first, batch, locations)
                first, batch, locations = number + 1, [], []
                while pending and (pending[0][2].ready() or len(pending) >= 2 * in_flight):
                    data = collect()
                    if data:
                        yield data
        if batch:
            send(first, batch, locations)
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
