"""What happened to a run, told to whoever listens: provenance, the read model, the change log.

The publish path (`hub.pipeline.publish`) and the run emit one event per outcome;
subscribers are plain callables. A subscriber that fails is logged and noted in
the run's warnings: derived data must never undo or hide what was published.
"""

from __future__ import annotations

import logging
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


class EventBus:
    """Calls every subscriber with every event, in order."""

    def __init__(self, subscribers: Iterable[Subscriber] = ()) -> None:
        self.subscribers = list(subscribers)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def emit(self, event: Event) -> None:
        for subscriber in self.subscribers:
            name = getattr(subscriber, "__name__", type(subscriber).__name__)
            try:
                subscriber(event)
            except Exception as exc:  # derived data: log it, never undo the outcome
                log.exception("%s failed on the run %s", name, event.report.run_id)
                event.report.warnings.append(f"{name} failed: {exc}")
