"""Work that prepares a transaction ahead of time, then commits or cancels it when told.

A publish's derived data (the read model, the change feed) needs only the version
file and the change set, which exist before the store writes the version. Their
rows are therefore written in a thread beside the store's write, into one open
SQLite transaction that is committed only when the publish is done (`commit`) and
rolled back if it fails (`cancel`): readers see the old rows until then, and derived
data never runs ahead of what the store serves.

A large version's work runs in a child process instead (`AheadProcess`, same
methods): the store's server, the child and this process's other subscribers then
use the machine's cores side by side instead of taking turns for one GIL.

    >>> ahead = Ahead("read model", lambda check: follow(..., check))  # doctest: +SKIP
    >>> ...                        # the store writes the version
    >>> ahead.commit()             # the work's result, or its error  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")

BeforeCommit = Callable[[], bool]
"""Called with the write transaction complete, just before COMMIT: False rolls it back."""


class Cancelled(Exception):
    """The publish a write was prepared for did not happen: nothing was written."""


def commit(conn: sqlite3.Connection, before_commit: BeforeCommit | None) -> None:
    """COMMIT the open transaction, unless `before_commit` says no (then `Cancelled`)."""
    if before_commit is not None and not before_commit():
        raise Cancelled("the publish did not happen")
    conn.execute("COMMIT")


class Ahead(Generic[T]):
    """`work(before_commit)` in a thread: it stops at its COMMIT and waits to be told."""

    def __init__(self, name: str, work: Callable[[BeforeCommit], T]) -> None:
        self.seconds = 0.0  # the thread's work, up to the COMMIT it waits for
        self._work = work
        self._decided = threading.Event()
        self._prepared = threading.Event()
        self._go = False
        self._result: T | None = None
        self._error: BaseException | None = None
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _before_commit(self) -> bool:
        self.seconds = time.perf_counter() - self._started
        self._prepared.set()
        self._decided.wait()
        return self._go

    def _run(self) -> None:
        try:
            self._result = self._work(self._before_commit)
        except Cancelled:
            pass
        except BaseException as exc:  # given to whoever commits
            self._error = exc
        finally:
            self.seconds = self.seconds or time.perf_counter() - self._started
            self._prepared.set()

    def wait_prepared(self, timeout: float | None = None) -> bool:
        """Whether the rows are written and wait for `commit` (or the work ended), by `timeout`."""
        return self._prepared.wait(timeout)

    def commit(self) -> T:
        """Let the prepared rows be seen (waits for the thread); the work's result."""
        self._go = True
        self._decided.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def cancel(self) -> BaseException | None:
        """Drop the prepared rows: the publish did not happen. The work's error, if any."""
        self._go = False
        self._decided.set()
        self._thread.join()
        return self._error


def _child(conn: Connection, work: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """The child of `AheadProcess`: run the work, ask the parent before COMMIT, report."""
    started = time.perf_counter()

    def before_commit() -> bool:
        conn.send(("prepared", time.perf_counter() - started))
        try:
            return bool(conn.recv() == "commit")
        except EOFError:  # the parent is gone: its publish did not finish here
            return False

    try:
        conn.send(("done", work(**kwargs, before_commit=before_commit)))
    except Cancelled:
        conn.send(("cancelled", None))
    except BaseException as exc:
        try:
            conn.send(("error", exc))
        except Exception:  # an exception that does not pickle: its text
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


class AheadProcess(Generic[T]):
    """`work(**kwargs, before_commit=…)` in a child process; the methods of `Ahead`.

    `work` and `kwargs` must pickle (a module-level function, plain values): the child
    is spawned, not forked, as the serving process has threads.
    """

    def __init__(self, name: str, work: Callable[..., T], kwargs: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.seconds = 0.0
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child, work, kwargs), name=name, daemon=True
        )
        self._process.start()
        child.close()
        self._first: tuple[str, Any] | None = None

    def _receive(self) -> tuple[str, Any]:
        try:
            return self._conn.recv()
        except EOFError:
            code = self._process.exitcode
            return "error", RuntimeError(f"the child process ended without a result (exit {code})")

    def wait_prepared(self, timeout: float | None = None) -> bool:
        """Whether the rows are written and wait for `commit` (or the work ended), by `timeout`."""
        if self._first is None:
            if not self._conn.poll(timeout):
                return False
            self._first = self._receive()
            if self._first[0] == "prepared":
                self.seconds = float(self._first[1])
        return True

    def _finish(self, decision: str) -> tuple[str, Any]:
        self.wait_prepared()
        assert self._first is not None
        outcome = self._first
        if outcome[0] == "prepared":
            with contextlib.suppress(OSError):  # a dead child: its transaction rolled back
                self._conn.send(decision)
            outcome = self._receive()
        self._conn.close()
        self._process.join()
        return outcome

    def commit(self) -> T:
        """Let the prepared rows be seen (waits for the child); the work's result."""
        kind, value = self._finish("commit")
        if kind == "error":
            raise value
        if kind != "done":
            raise RuntimeError(f"the prepared work ended as {kind}")
        return value

    def cancel(self) -> BaseException | None:
        """Drop the prepared rows: the publish did not happen. The work's error, if any.

        A child still at work is stopped (its transaction, never committed, is void)."""
        if self._first is None and not self._conn.poll(0):
            self._process.terminate()
            self._process.join()
            self._conn.close()
            return None
        kind, value = self._finish("cancel")
        return value if kind == "error" else None
