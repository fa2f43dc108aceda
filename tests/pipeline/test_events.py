"""Subscribers of a publish: in order, the concurrent ones beside them, all done when emit returns."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.pipeline.events import EventBus, Finished, Published, ahead_of_publish, concurrent
from hub.pipeline.provenance import RunReport
from hub.pipeline.versions import ChangeCounts


def test_a_concurrent_subscriber_runs_beside_the_others_and_emit_waits_for_it() -> None:
    report = RunReport(source="s", run_id="r", started=datetime.now(UTC))
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def slow_aside(event: Finished) -> None:
        inside.set()
        assert release.wait(10), "the sequential subscribers never ran beside it"
        order.append("aside done")

    def first(event: Finished) -> None:
        assert inside.wait(10), "the concurrent subscriber did not start first"
        order.append("first")

    def second(event: Finished) -> None:
        order.append("second")
        release.set()

    def broken(event: Finished) -> None:
        raise ValueError("no disk")

    bus = EventBus([first, concurrent(slow_aside), second, concurrent(broken)])
    bus.emit(Finished(report))
    assert order == ["first", "second", "aside done"]  # in order; emit waited for the aside
    assert report.warnings == ["broken failed: no disk"]  # a failure is told, never raised


def test_ahead_subscribers_prepare_before_the_write_and_cancel_when_it_fails() -> None:
    report = RunReport(source="s", run_id="r", started=datetime.now(UTC))
    calls: list[str] = []

    def follow(event: Published) -> None:
        calls.append("published")

    subscriber = ahead_of_publish(
        follow, lambda e: calls.append("prepare"), lambda e: calls.append("cancel")
    )
    bus = EventBus([subscriber])
    event = Published(report, Path("v.nt"), None, ChangeCounts(0, 1))
    with bus.preparing(event):
        calls.append("store write")
        bus.emit(event)
    assert calls == ["prepare", "store write", "published"]  # no cancel after a publish
    calls.clear()
    with pytest.raises(OSError), bus.preparing(event):
        calls.append("store write")
        raise OSError("the store went away")
    assert calls == ["prepare", "store write", "cancel"]
