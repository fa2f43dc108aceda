"""Pace the queries sent to the child `oxigraph serve`, so its time limit cannot kill it.

`oxigraph serve --timeout-s T` starts one thread per query that sleeps T seconds and
then cancels the query, whether or not the query has long finished. A server answering
R queries a second therefore holds about R x T threads. Each thread maps four memory
regions (its stack, the stack's guard page, a signal stack and its guard), so on a
default Linux (`vm.max_map_count` 65,530, `kernel.pid_max` 32,768) the server fails to
start threads at roughly 16,000, answers "Resource temporarily unavailable", and then
aborts: measured at ~800 one-entity queries a second with T = 30 (decisions #46).

`QueryWindow` admits at most `limit` queries in any window of T seconds: a query past
the limit waits for the oldest to leave the window. The hub's own work (runs, commands)
waits as long as that takes (at most T); a query made for an HTTP request waits at most
`REQUEST_WAIT_S` (`waits_at_most`, set for every request by the API), else it is refused
at once with `StoreBusyError` (HTTP 503 with Retry-After). Bursts pass untouched; only a
sustained rate above limit / T waits. The default limit is three quarters of what the
kernel lets one process have (`thread_allowance`).
"""

from __future__ import annotations

import math
import resource
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from hub.errors import StoreBusyError

MAPS_PER_THREAD = 4
"""Memory regions one of the server's threads maps (stack, guard, signal stack, guard)."""
FALLBACK_THREADS = 8_192
"""What a thread may count on where the kernel's limits cannot be read (not Linux)."""
REQUEST_WAIT_S = 10.0
"""How long a query made for an HTTP request may wait for room before its 503."""
_WAIT_LIMIT: ContextVar[float | None] = ContextVar("hub_store_wait_limit", default=None)
SHARE = 0.75
"""The share of the kernel's allowance the timeout threads may use: the server needs
threads and memory maps of its own, and `pid_max` counts every process of the machine."""


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def kernel_thread_limit() -> int:
    """The most threads one process can have before thread creation fails (Linux), else a
    conservative fallback."""
    limits = []
    maps = _read_int("/proc/sys/vm/max_map_count")
    if maps:
        limits.append(maps // MAPS_PER_THREAD)
    for path in ("/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max"):
        value = _read_int(path)
        if value:
            limits.append(value)
    soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    if soft != resource.RLIM_INFINITY and soft > 0:
        limits.append(soft)
    return min(limits) if limits else FALLBACK_THREADS * 2


def thread_allowance() -> int:
    """How many queries the server may hold in its time-limit window, by default."""
    return max(64, int(kernel_thread_limit() * SHARE))


@contextmanager
def waits_at_most(seconds: float) -> Iterator[None]:
    """Queries sent in this block (and in threads it hands work to, which copy the
    context) wait at most `seconds` for room in a full window, then are refused."""
    token = _WAIT_LIMIT.set(seconds)
    try:
        yield
    finally:
        _WAIT_LIMIT.reset(token)


class QueryWindow:
    """At most `limit` queries admitted in any `window_s` seconds (thread-safe)."""

    def __init__(self, limit: int, window_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a query window needs a limit of at least 1 and a positive length")
        self.limit = limit
        self.window_s = window_s
        self.waited = 0
        """Queries sent after waiting for room (for /metrics)."""
        self.refused = 0
        """Queries refused: their wait would have been longer than `waits_at_most`'s."""
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        starts = self._starts
        while starts and now - starts[0] >= self.window_s:
            starts.popleft()

    def admit(self) -> None:
        """Count one query in; wait while the window is full; `StoreBusyError` if the wait
        would be longer than the caller's `waits_at_most`."""
        waiting = False
        most = _WAIT_LIMIT.get()
        give_up = math.inf if most is None else time.monotonic() + most
        while True:
            with self._lock:
                now = time.monotonic()
                self._expire(now)
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    self.waited += waiting
                    return
                free_at = self._starts[0] + self.window_s
                waiting = True
                if free_at > give_up:
                    self.refused += 1
                    retry = max(1, math.ceil(free_at - now))
                    raise StoreBusyError(
                        f"the store has answered {self.limit} queries in the last "
                        f"{self.window_s:g} s, as many as its time limit lets it hold "
                        "(a thread each for that long); retry in a few seconds, or lower "
                        "[store] timeout_s to let it answer more queries a second",
                        retry_after_s=retry,
                    )
            time.sleep(max(0.0, free_at - now))

    def reset(self) -> None:
        """Forget the admitted queries (the server was started again: its threads are gone)."""
        with self._lock:
            self._starts.clear()

    @property
    def in_window(self) -> int:
        """Queries admitted in the last `window_s` seconds."""
        with self._lock:
            self._expire(time.monotonic())
            return len(self._starts)
