"""What happened to a run, told to whoever listens: provenance, the read model, the change log.

The publish path (`hub.pipeline.publish`) and the run emit one event per outcome;
subscribers are plain callables. A subscriber that fails is logged and noted in
the run's warnings: derived data must never undo or hide what was published.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.pipeline.provenance import RunReport
from hub.pipeline.versions import ChangeCounts
from hub.util.ahead import Ahead, AheadProcess

log = logging.getLogger("hub.pipeline")


@dataclass(frozen=True)
class Published:
    """A version of a source is now what readers see."""

    report: RunReport
    version: Path
    previous_run: str | None
    changes: ChangeCounts
    removed: Path | None = None
    added: Path | None = None
    reason: str = "run"  # run | approve | rollback | recovery | migration


@dataclass(frozen=True)
class Started:
    """A run began (it is recorded as `running` until it ends)."""

    report: RunReport


@dataclass(frozen=True)
class Finished:
    """A run ended without changing what readers see: held, failed, unchanged, interrupted."""

    report: RunReport


Event = Started | Published | Finished
Subscriber = Callable[[Event], None]


def ahead_of_publish(
    subscriber: Subscriber,
    prepare: Callable[..., None],
    cancel: Callable[[Published], None],
) -> Subscriber:
    """Mark a subscriber that starts its part of a `Published` event before the event:
    `prepare(event)` while the store writes the change (`prepare(event, early=True)` while
    the run's checks run, if its part is worth starting then), `cancel(event)` if the
    version is not published; when the event comes, the subscriber makes its prepared part
    visible."""
    subscriber.prepare = prepare  # type: ignore[attr-defined]
    subscriber.cancel = cancel  # type: ignore[attr-defined]
    return subscriber


def concurrent(subscriber: Subscriber) -> Subscriber:
    """Mark a subscriber that may run beside the others (its own files, no order needed):
    `emit` starts it in a thread first and waits for it before returning."""
    subscriber.concurrent = True  # type: ignore[attr-defined]
    return subscriber


class EventBus:
    """Calls every subscriber with every event, in order; `concurrent` ones alongside."""

    def __init__(self, subscribers: Iterable[Subscriber] = ()) -> None:
        self.subscribers = list(subscribers)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def emit(self, event: Event) -> None:
        """Returns when every subscriber is done (a publish's journal goes only after)."""
        aside = [s for s in self.subscribers if getattr(s, "concurrent", False)]
        threads = [
            threading.Thread(target=self._call, args=(s, event), name=_name(s), daemon=True)
            for s in aside
        ]
        for thread in threads:
            thread.start()
        try:
            for subscriber in self.subscribers:
                if subscriber not in aside:
                    self._call(subscriber, event)
        finally:
            for thread in threads:
                thread.join()

    def prepare_early(self, event: Published) -> None:
        """Before the run's checks: subscribers whose part runs in a child process start it
        now, on the core the checks leave idle; `preparing` finds it started, `cancel` drops it."""
        for subscriber in self.subscribers:
            if hasattr(subscriber, "prepare"):
                self._call(functools.partial(subscriber.prepare, early=True), event)  # type: ignore[attr-defined]

    def cancel(self, event: Published) -> None:
        """Drop what `prepare_early` started: the run will not publish `event`'s version."""
        for subscriber in self.subscribers:
            if hasattr(subscriber, "cancel"):
                self._call(subscriber.cancel, event)  # type: ignore[attr-defined]

    @contextmanager
    def preparing(self, event: Published) -> Iterator[None]:
        """Around the store's write of `event`'s version: `ahead_of_publish` subscribers
        prepare their part now; if the block fails (nothing published) they cancel it."""
        ready = [s for s in self.subscribers if hasattr(s, "prepare")]
        for subscriber in ready:
            self._call(subscriber.prepare, event)  # type: ignore[attr-defined]
        try:
            yield
        except BaseException:
            for subscriber in ready:
                self._call(subscriber.cancel, event)  # type: ignore[attr-defined]
            raise

    @staticmethod
    def _call(subscriber: Subscriber, event: Event) -> None:
        try:
            subscriber(event)
        except Exception as exc:  # derived data: log it, never undo the outcome
            log.exception("%s failed on the run %s", _name(subscriber), event.report.run_id)
            event.report.warnings.append(f"{_name(subscriber)} failed: {exc}")


def _name(subscriber: Subscriber) -> str:
    return getattr(subscriber, "__name__", type(subscriber).__name__)


Work = tuple[Callable[..., object], dict[str, Any]]
"""A module-level function taking `before_commit=`, and its other keyword arguments."""


def prepared_ahead(
    name: str, work: Callable[[Published], Work], *, process_from_bytes: int | None = None
) -> Subscriber:
    """A subscriber whose part of a `Published` event is prepared ahead of it (`Ahead`):
    `function(**kwargs, before_commit=…)` of `work(event)` starts while the store writes
    the version, its transaction commits when the event comes and is rolled back if the
    write fails; in a child process (`AheadProcess`) when the version file has at least
    `process_from_bytes`. Without a preparation (recovery at start) it simply runs on the
    event. The run's phases get `name` (the work) and `name after the store` (the wait)."""
    pending: dict[Path, Ahead[object] | AheadProcess[object]] = {}
    lock = threading.Lock()

    def prepare(event: Published, *, early: bool = False) -> None:
        with lock:
            if event.version in pending:
                return  # started early, beside the run's checks
        large = process_from_bytes is not None and _size(event.version) >= process_from_bytes
        if early and not large:
            return  # a thread would share the checks' GIL: it starts with the store's write
        function, kwargs = work(event)
        label = f"{name} {event.report.source}"
        ahead: Ahead[object] | AheadProcess[object] = (
            AheadProcess(label, function, kwargs)
            if large
            else Ahead(label, lambda check: function(**kwargs, before_commit=check))
        )
        with lock:
            pending[event.version] = ahead

    def cancel(event: Published) -> None:
        with lock:
            ahead = pending.pop(event.version, None)
        error = ahead.cancel() if ahead is not None else None
        if error is not None:
            log.info("%s prepared for %s failed: %s", name, event.version.name, error)

    def subscriber(event: Event) -> None:
        if not isinstance(event, Published):
            return
        with lock:
            ahead = pending.pop(event.version, None)
        started = time.perf_counter()
        if ahead is None:
            function, kwargs = work(event)
            function(**kwargs, before_commit=None)
            event.report.phases[name] = time.perf_counter() - started
            return
        ahead.commit()
        event.report.phases[name] = ahead.seconds
        event.report.phases[f"{name} after the store"] = time.perf_counter() - started

    subscriber.__name__ = name.replace(" ", "_")
    return ahead_of_publish(subscriber, prepare, cancel)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
