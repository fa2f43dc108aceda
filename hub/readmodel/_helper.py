"""A rebuild's rows built in a helper process while the rebuild inserts them: two cores.

Reading a version and building its rows (N-Triples parsing, JSON documents) is
Python and takes about as long as SQLite's inserts into the indexes; one process does
them in turns. For a large version, `rebuild_source` starts this module as a child
(a new interpreter that runs `main`), sends it a `Job` on stdin and inserts the batches
of rows it sends back on stdout, each pickled, while it builds the next. The rows are
exactly those the rebuild would build itself (the same `_Writer`); the helper never
opens the read model. It ends with the source's totals, or with the text of its error.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.errors import HubError


@dataclass(frozen=True)
class Job:
    """What the helper needs to build a source's rows."""

    ntriples: Path
    source: str
    slot: int
    entity_prefix: str
    region_prefix: str
    stamp: str
    hub_classes: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Totals:
    """The source's counts once every row is sent."""

    count: int
    facets: Counter[tuple[str, str]]
    cells: dict[tuple[str, str, str, str], list[int]]
    next_id: int
    next_cell: int


class HelperError(HubError):
    """The helper process failed; its message says why."""


def send(fd: int, message: object) -> None:
    """Write one pickled message to the pipe `fd`, whole.

    By `os.write` until every byte is out, not through a buffered file: a process stopped
    and continued (SIGSTOP/SIGCONT: a debugger, a profiler, `docker pause`) while a
    buffered writer fills a pipe was seen to garble the stream (decisions #43).
    """
    data = memoryview(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    while data:
        data = data[os.write(fd, data) :]


def _build(job: Job, fd: int) -> None:
    from hub.readmodel._build import _Writer, add_entities

    writer = _Writer(
        None, job.source, job.slot, job.region_prefix, sink=lambda rows: send(fd, ("rows", rows))
    )
    add_entities(writer, job)
    writer.flush()
    totals = Totals(writer.count, writer.facets, writer.cells, writer.next_id, writer.next_cell)
    send(fd, ("end", totals))


def main() -> None:
    """The helper: a `Job` on stdin, ("rows", batch)… then ("end", Totals) on stdout."""
    sys.stdout.flush()
    fd = os.dup(1)  # the data stream; anything else written to stdout goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        job = pickle.load(sys.stdin.buffer)
        _build(job, fd)
    except BrokenPipeError:  # the rebuild stopped reading (it failed or was cancelled)
        return
    except Exception as exc:  # told to the rebuild, which names the source and file
        try:
            send(fd, ("error", f"{type(exc).__name__}: {exc}"))
        except BrokenPipeError:
            return


class Helper:
    """The helper process of one rebuild: `batches()` then `totals`; always `close()`."""

    def __init__(self, job: Job) -> None:
        self.totals: Totals | None = None
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from hub.readmodel._helper import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # this process's import path, as multiprocessing's spawn passes it on
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        assert self._process.stdin is not None
        send(self._process.stdin.fileno(), job)
        self._process.stdin.close()

    def batches(self) -> Iterator[dict[str, list[tuple]]]:
        """Each batch of rows as the helper sends it; then `totals` is set."""
        stream = self._process.stdout
        assert stream is not None
        while True:
            try:
                kind, value = pickle.load(stream)
            except EOFError:
                code = self._process.wait()
                raise HelperError(f"the helper process ended early (exit {code})") from None
            except (pickle.UnpicklingError, ValueError, TypeError) as exc:
                raise HelperError(f"the helper process's data could not be read: {exc}") from None
            if kind == "rows":
                yield value
            elif kind == "end":
                self.totals = value
                return
            else:
                raise HelperError(str(value))

    def close(self) -> None:
        """Stop the helper if it still runs, and reap it."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
