"""APScheduler runs each scheduled source inside the server process."""

from __future__ import annotations

import time

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.catalog import source_statuses
from hub.config import HubConfig
from hub.errors import ConfigError
from hub.pipeline.programme import load_programme
from hub.scheduler import build_scheduler, trigger_for
from hub.store import open_store


def test_each_scheduled_source_gets_its_trigger(demo_config: HubConfig) -> None:
    store = open_store(demo_config.store_path)
    scheduler = build_scheduler(demo_config, store)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {f"harvest:{s}" for s, c in demo_config.sources.items() if c.schedule}
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
    scheduler = build_scheduler(demo_config, store)
    scheduler.start()
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
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert not is_late(daily, "2026-11-24T13:00:00+00:00", now)
    assert is_late(daily, "2026-11-23T11:00:00+00:00", now)  # more than two intervals
    assert is_late(daily, None, now)  # never harvested
    cron = demo_config.source("smartdest-offer")  # 0 3 * * *
    assert not is_late(cron, "2026-11-25T03:00:05+00:00", now)
    assert is_late(cron, "2026-11-24T02:00:00+00:00", now)  # missed 03:00 on the 24th and the 25th
    cron.schedule = None
    assert not is_late(cron, None, now)  # manual sources are never late
