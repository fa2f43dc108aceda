"""APScheduler runs each scheduled source inside the server process; its jobs survive restarts.

Real APScheduler on a real SQLite job store in a temporary data folder.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.catalog import run_history, source_statuses
from hub.config import HubConfig, Schedule, load_config
from hub.errors import ConfigError
from hub.layout import DataLayout
from hub.pipeline.programme import load_programme
from hub.scheduler import next_runs, run_scheduled, start_scheduler, trigger_for
from hub.store import open_store


def test_each_scheduled_source_gets_its_trigger(demo_config: HubConfig) -> None:
    store = open_store(demo_config.store_path)
    scheduler = start_scheduler(demo_config, store, paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    assert set(jobs) == {s for s, c in demo_config.sources.items() if c.schedule}
    assert all(job.func is run_scheduled and job.args == (job.id,) for job in jobs.values())
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    sql = demo_config.source("smartdest-offer")
    assert isinstance(trigger_for(sql), CronTrigger)
    trails = demo_config.source("itinera-trails")
    trigger = trigger_for(trails)
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval.total_seconds() == trails.schedule.seconds()


def test_an_interval_job_really_runs_the_source(demo_config: HubConfig) -> None:
    source = demo_config.source("itinera-trails")
    source.schedule = source.schedule.model_copy(update={"every": "1s", "cron": None})
    for other in ("smartdest-offer", "smartic-operators"):
        demo_config.source(other).schedule = None
    store = open_store(demo_config.store_path)
    load_programme(store, demo_config)
    scheduler = start_scheduler(demo_config, store)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = {s.id: s for s in source_statuses(store, demo_config)}["itinera-trails"]
            if status.last_status == "published":
                break
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert status.last_status == "published"
    assert status.published_triples > 0


def test_a_bad_cron_expression_is_a_config_error(demo_config: HubConfig) -> None:
    source = demo_config.source("smartdest-offer")
    source.schedule = source.schedule.model_construct(cron="0 25 * * *")  # as if unchecked
    with pytest.raises(ConfigError, match="sources.smartdest-offer.schedule.cron"):
        trigger_for(source)


def test_a_source_is_late_when_it_missed_its_schedule(demo_config: HubConfig) -> None:
    from datetime import UTC, datetime

    from hub.catalog import is_late

    daily = demo_config.source("itinera-trails")  # every 1d
    daily.update_every = None  # lateness from the schedule here, not from the agreement
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert not is_late(daily, "2026-11-24T13:00:00+00:00", now)
    assert is_late(daily, "2026-11-23T11:00:00+00:00", now)  # more than two intervals
    assert is_late(daily, None, now)  # never harvested
    cron = demo_config.source("smartdest-offer")  # 0 3 * * *
    cron.update_every = None
    assert not is_late(cron, "2026-11-25T03:00:05+00:00", now)
    assert is_late(cron, "2026-11-24T02:00:00+00:00", now)  # missed 03:00 on the 24th and the 25th
    cron.schedule = None
    assert not is_late(cron, None, now)  # manual sources are never late


def _only(config: HubConfig, schedules: dict[str, dict[str, str]]) -> HubConfig:
    """The config with these schedules, every other source manual."""
    for source in config.sources.values():
        schedule = schedules.get(source.id)
        source.schedule = None if schedule is None else Schedule.model_validate(schedule)
    return config


def test_the_next_run_time_survives_a_restart(demo_root: Path, tmp_path: Path) -> None:
    """Stopped and started again, the hub keeps an interval source's next run (not now + 1h)."""
    store = open_store(tmp_path / "store")
    schedules = {"itinera-trails": {"every": "1h"}, "smartdest-offer": {"cron": "0 3 * * *"}}
    config = _only(load_config(demo_root / "hub.toml"), schedules)
    first = start_scheduler(config, store)
    try:
        before = {job.id: job.next_run_time for job in first.get_jobs()}
    finally:
        first.shutdown()
    assert set(before) == {"itinera-trails", "smartdest-offer"}
    assert DataLayout(config.data_path).schedules().exists()

    time.sleep(1.1)  # a new trigger made now would fire at least a second later
    again = _only(load_config(demo_root / "hub.toml"), schedules)  # as a restart reads it
    second = start_scheduler(again, store)
    try:
        after = {job.id: job.next_run_time for job in second.get_jobs()}
    finally:
        second.shutdown()
    for source_id, when in before.items():
        assert abs((after[source_id] - when).total_seconds()) < 0.01, source_id
    # `hub schedule` shows the kept time, not one counted from now.
    assert next_runs(again)["itinera-trails"] == after["itinera-trails"]


def test_changed_and_removed_schedules_are_synced_at_start(demo_root: Path, tmp_path: Path) -> None:
    store = open_store(tmp_path / "store")
    config = _only(
        load_config(demo_root / "hub.toml"),
        {
            "itinera-trails": {"every": "1h"},
            "smartdest-offer": {"cron": "0 3 * * *"},
            "smartic-operators": {"every": "1d"},
        },
    )
    start_scheduler(config, store, paused=True).shutdown()

    config = _only(
        load_config(demo_root / "hub.toml"),
        {"itinera-trails": {"every": "2h"}, "smartdest-offer": {"cron": "0 3 * * *"}},
    )
    del config.sources["smartdest-offer"]  # removed from hub.toml; smartic-operators made manual
    scheduler = start_scheduler(config, store, paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    assert set(jobs) == {"itinera-trails"}
    trigger = jobs["itinera-trails"].trigger
    assert isinstance(trigger, IntervalTrigger) and trigger.interval == timedelta(hours=2)
    # The changed schedule counts from now, not from the old trigger's next time.
    until = jobs["itinera-trails"].next_run_time - datetime.now(UTC)
    assert timedelta(hours=1, minutes=59) < until <= timedelta(hours=2)


def test_a_missed_run_fires_once_at_restart(demo_config: HubConfig) -> None:
    """Down for three of its hourly runs, the source runs once when the hub starts again."""
    config = _only(demo_config, {"itinera-trails": {"every": "1h"}})
    store = open_store(config.store_path)
    load_programme(store, config)
    first = start_scheduler(config, store, paused=True)
    try:
        # As if the hub had stopped just before a run and stayed down three hours.
        first.modify_job("itinera-trails", next_run_time=datetime.now(UTC) - timedelta(hours=3))
    finally:
        first.shutdown()

    events: list[int] = []
    done = threading.Event()

    def listen(event) -> None:  # noqa: ANN001
        events.append(event.code)
        if event.code == EVENT_JOB_EXECUTED:
            done.set()

    scheduler = start_scheduler(config, store, paused=True)
    scheduler.add_listener(listen, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    scheduler.resume()
    try:
        assert done.wait(20), "the missed run did not fire"
        time.sleep(0.5)  # a second (uncoalesced) run would be submitted by now
        next_time = scheduler.get_job("itinera-trails").next_run_time
    finally:
        scheduler.shutdown(wait=True)
    assert events.count(EVENT_JOB_SUBMITTED) == 1 and events.count(EVENT_JOB_EXECUTED) == 1
    assert EVENT_JOB_MISSED not in events
    assert datetime.now(UTC) < next_time <= datetime.now(UTC) + timedelta(hours=1)
    total, runs = run_history(store, config, "itinera-trails", None, 10, 0)
    assert total == 1 and runs[0]["status"] == "published"
