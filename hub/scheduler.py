"""Run each source on its configured schedule (APScheduler) inside `hub serve`."""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.config import HubConfig, SourceConfig
from hub.errors import ConfigError
from hub.pipeline.run import run_source
from hub.store.base import Store

log = logging.getLogger("hub.scheduler")

# One writer at a time: runs of different sources never overlap.
RUN_LOCK = threading.Lock()


def trigger_for(source: SourceConfig) -> CronTrigger | IntervalTrigger | None:
    """The APScheduler trigger of a source, or None when it has no schedule."""
    schedule = source.schedule
    if schedule is None:
        return None
    if schedule.cron:
        try:
            return CronTrigger.from_crontab(schedule.cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(
                f"sources.{source.id}.schedule.cron: `{schedule.cron}` is not valid ({exc}); "
                "write five cron fields, e.g. '0 3 * * *'"
            ) from None
    seconds = schedule.seconds()
    return IntervalTrigger(seconds=seconds, timezone="UTC") if seconds else None


def run_locked(config: HubConfig, store: Store, source_id: str) -> None:
    """Run one source while holding the run lock, logging its one-line summary."""
    with RUN_LOCK:
        report = run_source(config, store, source_id)
    level = logging.INFO if report.ok else logging.WARNING
    log.log(level, "scheduled run: %s", report.summary())


def build_scheduler(config: HubConfig, store: Store) -> BackgroundScheduler:
    """A scheduler with one job per scheduled source (not started)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    for source in config.sources.values():
        trigger = trigger_for(source)
        if trigger is None:
            continue
        scheduler.add_job(
            run_locked,
            trigger=trigger,
            args=(config, store, source.id),
            id=f"harvest:{source.id}",
            name=f"harvest {source.id}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    return scheduler
