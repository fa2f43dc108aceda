"""What happened to a run, told to whoever listens: provenance, the read model, the change log.

The publish path (`hub.pipeline.publish`) and the run emit one event per outcome;
subscribers are plain callables. A subscriber that fails is logged and noted in
the run's warnings: derived data must never undo or hide what was published.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hub.pipeline.provenance import RunReport
from hub.pipeline.versions import ChangeCounts

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

    @staticmethod
    def _call(subscriber: Subscriber, event: Event) -> None:
        try:
            subscriber(event)
        except Exception as exc:  # derived data: log it, never undo the outcome
            log.exception("%s failed on the run %s", _name(subscriber), event.report.run_id)
            event.report.warnings.append(f"{_name(subscriber)} failed: {exc}")


def _name(subscriber: Subscriber) -> str:
    return getattr(subscriber, "__name__", type(subscriber).__name__)
