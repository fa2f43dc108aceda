"""Run each source on its configured schedule inside `hub serve` (APScheduler 3).

The jobs live in the data folder (`DataLayout.schedules()`, SQLite), so a restart keeps
each source's next run time instead of counting again from the start. A run missed while
the hub was down fires once when it starts (coalesced), if the latest missed time is less
than `MISFIRE_GRACE_S` old. At start the jobs are made to match hub.toml: a new source
gets a job, a changed schedule replaces its trigger, a source removed (or made manual)
loses its job. Job ids are source ids; the job function takes only the source id and
finds the config and store in the registry the serving process sets (`start_scheduler`),
so the job store holds a function name and a string, never the config or the store.

Every run, scheduled or asked for through the API, goes through `run_locked`: one run
at a time in this process (`RUN_LOCK`), and at most one instance of a source's job.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.config import HubConfig, SourceConfig
from hub.errors import ConfigError
from hub.layout import DataLayout
from hub.logs import run_context
from hub.pipeline.provenance import RunReport
from hub.pipeline.run import SourceRun
from hub.store.base import Store

__all__ = [
    "MISFIRE_GRACE_S",
    "RUN_LOCK",
    "build_scheduler",
    "next_runs",
    "run_locked",
    "run_scheduled",
    "start_scheduler",
    "sync_jobs",
    "trigger_for",
]

log = logging.getLogger("hub.scheduler")

# One writer at a time: runs of different sources, scheduled or manual, never overlap.
RUN_LOCK = threading.Lock()

# A run missed by less than this (the latest missed time, once coalesced) still fires at
# start; an older one waits for the next scheduled time (and /health shows the source late).
# With coalescing, an interval source of a day or less therefore always runs at start.
MISFIRE_GRACE_S = 86400

JOB_OPTIONS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S}


@dataclass(frozen=True)
class _Runtime:
    config: HubConfig
    store: Store


# Set by the serving process (`start_scheduler`); read by `run_scheduled` at run time.
_runtime: _Runtime | None = None


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


def run_locked(
    config: HubConfig, store: Store, source_id: str, *, trigger: str = "manual"
) -> RunReport:
    """Run one source while holding the run lock, logging its one-line summary.

    Every record the run logs carries the source and the run id (`hub.logs.run_context`).
    """
    with RUN_LOCK:
        # `run_source`, opened up so that the run id is known before the run logs anything.
        runner = SourceRun(config, store, config.source(source_id))
        with run_context(source_id, runner.report.run_id):
            report = runner.execute()
            level = logging.INFO if report.ok else logging.WARNING
            log.log(level, "%s run: %s", trigger, report.summary())
    return report


def run_scheduled(source_id: str) -> None:
    """The job of every scheduled source: run it with the serving process's config and store."""
    runtime = _runtime
    if runtime is None:
        log.warning("scheduled run of `%s` skipped: no hub is serving in this process", source_id)
        return
    if source_id not in runtime.config.sources:
        log.warning("scheduled run of `%s` skipped: no such source in the config", source_id)
        return
    run_locked(runtime.config, runtime.store, source_id, trigger="scheduled")


class _Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus a race at shutdown.

    APScheduler 3's loop looks for due jobs once more after `shutdown()` has stopped the
    executors: a job due then is not run, yet its next run time moves on in the job store,
    so the run missed while the hub was stopping would be lost instead of fired at start.
    """

    def _process_jobs(self):  # noqa: ANN202
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


def build_scheduler(config: HubConfig) -> BackgroundScheduler:
    """A scheduler keeping its jobs in the data folder (not started: see `start_scheduler`)."""
    path = DataLayout(config.data_path).schedules()
    path.parent.mkdir(parents=True, exist_ok=True)
    return _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path.resolve()}")},
        job_defaults=JOB_OPTIONS,
        timezone="UTC",
    )


def _same_schedule(old: object, new: object) -> bool:
    # str() of a trigger is its schedule (`interval[1 day, 0:00:00]`, `cron[hour='3', ...]`),
    # without the start date an interval trigger takes from the time it was made.
    return type(old) is type(new) and str(old) == str(new)


def sync_jobs(scheduler: BackgroundScheduler, config: HubConfig) -> dict[str, str]:
    """Make the jobs match the config; what happened to each job (`added`, `kept`, ...).

    A kept job keeps its next run time; `replaced` (the schedule changed) counts from now.
    Call it on a scheduler started paused, so no job fires before the jobs are right.
    """
    wanted = {s.id: t for s in config.sources.values() if (t := trigger_for(s)) is not None}
    done: dict[str, str] = {}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            done[job.id] = "removed"
    for source_id, trigger in wanted.items():
        job = scheduler.get_job(source_id)
        if job is None:
            scheduler.add_job(
                run_scheduled,
                trigger=trigger,
                args=(source_id,),
                id=source_id,
                name=f"harvest {source_id}",
                **JOB_OPTIONS,
            )
            done[source_id] = "added"
            continue
        # Options and function as this version of the hub sets them; next run time untouched.
        scheduler.modify_job(source_id, func=run_scheduled, args=(source_id,), **JOB_OPTIONS)
        if _same_schedule(job.trigger, trigger):
            done[source_id] = "kept"
        else:
            scheduler.reschedule_job(source_id, trigger=trigger)
            done[source_id] = "replaced"
    return done


def start_scheduler(
    config: HubConfig, store: Store, *, paused: bool = False
) -> BackgroundScheduler:
    """Register the config and store for the jobs, sync the jobs with the config, start."""
    global _runtime
    _runtime = _Runtime(config, store)
    scheduler = build_scheduler(config)
    scheduler.start(paused=True)
    try:
        changes = sync_jobs(scheduler, config)
    except Exception:
        scheduler.shutdown(wait=False)
        raise
    now = datetime.now(UTC)
    for source_id, what in sorted(changes.items()):
        job = scheduler.get_job(source_id)
        when = job.next_run_time if job is not None else None
        if what == "kept" and when is not None and when <= now:
            log.info("schedule of `%s`: the run due %s was missed; it runs now", source_id, when)
        elif what != "kept":
            log.info("schedule of `%s` %s%s", source_id, what, f"; next run {when}" if when else "")
    if not paused:
        scheduler.resume()
    return scheduler


def next_runs(config: HubConfig, now: datetime | None = None) -> dict[str, datetime | None]:
    """When each scheduled source runs next: the job store's time when it holds the source's
    job with the same schedule (what `hub serve` will honour), else counted from `now`."""
    now = now or datetime.now(UTC)
    stored: dict[str, tuple[object, datetime | None]] = {}
    path = DataLayout(config.data_path).schedules()
    if path.exists():
        jobstore = SQLAlchemyJobStore(url=f"sqlite:///{path.resolve()}")
        jobstore.start(BackgroundScheduler(timezone="UTC"), "default")
        try:
            stored = {job.id: (job.trigger, job.next_run_time) for job in jobstore.get_all_jobs()}
        finally:
            jobstore.shutdown()
    runs: dict[str, datetime | None] = {}
    for source in config.sources.values():
        trigger = trigger_for(source)
        if trigger is None:
            continue
        if source.id in stored and _same_schedule(stored[source.id][0], trigger):
            runs[source.id] = stored[source.id][1]
        else:
            runs[source.id] = trigger.get_next_fire_time(None, now)
    return runs
