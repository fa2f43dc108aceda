"""What a monitor needs to know about the hub, as Prometheus metrics (served at /metrics).

Two kinds of series:

- read at scrape time: each source's state from the metadata graph (`hub.catalog`)
  and the store's child server (up, restarts), so they survive a restart of the hub;
- counted as runs end, by the `count_runs` subscriber (runs by outcome, durations):
  these start from zero when the hub starts, as Prometheus counters may.

`HubCollector` is registered on each app's own `CollectorRegistry`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from hub.catalog import SourceStatus, is_late, source_statuses, update_deadline
from hub.config import HubConfig, SourceConfig
from hub.iris import MH, PROV, Iris
from hub.pipeline.events import Event, Started
from hub.store.base import Store

log = logging.getLogger("hub.metrics")

# The outcomes a run's record may carry (`RunReport.status`).
RUN_STATUSES = (
    "running",
    "published",
    "unchanged",
    "held",
    "failed",
    "interrupted",
    "rejected",
)
FAILING = ("failed", "interrupted", "rejected")
SOURCE_STATES = ("ok", "late", "failing", "held", "never")


def source_state(status: SourceStatus) -> str:
    """`failing` (last run failed), `late`, `held` (waits for a steward), `ok`, or `never` run."""
    if status.last_status in FAILING:
        return "failing"
    if status.late:
        return "late"
    if status.last_status == "held":
        return "held"
    if status.last_status is None:
        return "never"
    return "ok"


def late_seconds(source: SourceConfig, last_good: str | None, now: datetime) -> float:
    """Seconds past the source's expected update (0 when on time; +Inf if it never succeeded)."""
    if not is_late(source, last_good, now):
        return 0.0
    deadline = update_deadline(source, last_good)
    if deadline is None:
        return math.inf
    return max(0.0, (now - deadline).total_seconds())


def last_run_counts(store: Store, config: HubConfig) -> dict[str, tuple[int, int]]:
    """Records and triples of each source's latest run, by source id."""
    iris = Iris(config.base_iri)
    meta = f"<{iris.meta_graph}>"
    rows = store.select(
        f"""SELECT ?dataset ?records ?triples WHERE {{
          {{ SELECT ?dataset (MAX(?started) AS ?start) WHERE {{
              GRAPH {meta} {{ ?any <{PROV}used> ?dataset ; <{PROV}startedAtTime> ?started }}
            }} GROUP BY ?dataset }}
          GRAPH {meta} {{
            ?run <{PROV}used> ?dataset ; <{PROV}startedAtTime> ?start .
            OPTIONAL {{ ?run <{MH}recordCount> ?records }}
            OPTIONAL {{ ?run <{MH}tripleCount> ?triples }}
          }}
        }}"""
    )
    found = {
        row["dataset"].value: (
            int(row["records"].value) if "records" in row else 0,
            int(row["triples"].value) if "triples" in row else 0,
        )
        for row in rows
    }
    return {
        source.id: found[iris.dataset(source.id)]
        for source in config.sources.values()
        if iris.dataset(source.id) in found
    }


def _timestamp(value: str) -> float:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class HubCollector:
    """Per-source and store series, computed from the store when Prometheus scrapes."""

    def __init__(self, config: HubConfig, store: Store) -> None:
        self.config = config
        self.store = store

    def collect(self) -> Iterator[Metric]:
        yield from self._store_series()
        up = GaugeMetricFamily("hub_store_up", "1 if the store answers `ASK {}`, else 0.")
        try:
            self.store.ask("ASK {}")
            statuses = source_statuses(self.store, self.config)
            counts = last_run_counts(self.store, self.config)
        except Exception as exc:  # a scrape must still say that the store is down
            log.warning("metrics: the store cannot answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._source_series(statuses, counts)

    def _store_series(self) -> Iterator[Metric]:
        restarts = CounterMetricFamily(
            "hub_store_restarts",
            "Times the store's child server was started again, by reason "
            "(died: it exited; overrun: killed for ignoring its query time limit).",
            labels=["reason"],
        )
        server = getattr(self.store, "server", None)
        reasons = getattr(server, "restart_reasons", {})
        for reason in ("died", "overrun"):
            restarts.add_metric([reason], reasons.get(reason, 0))
        yield restarts
        window = getattr(server, "queries", None)
        if window is None:
            return
        paced = CounterMetricFamily(
            "hub_store_queries_paced",
            "Queries to the store's child server that found its time-limit window full: "
            "waited (then sent) or refused (503 with Retry-After).",
            labels=["outcome"],
        )
        paced.add_metric(["waited"], window.waited)
        paced.add_metric(["refused"], window.refused)
        yield paced
        held = GaugeMetricFamily(
            "hub_store_queries_in_window",
            "Queries sent to the store's child server within its time limit (it keeps a "
            "thread for each that long), and the most it may hold.",
            labels=["kind"],
        )
        held.add_metric(["sent"], window.in_window)
        held.add_metric(["limit"], window.limit)
        yield held

    def _source_series(
        self, statuses: list[SourceStatus], counts: dict[str, tuple[int, int]]
    ) -> Iterator[Metric]:
        now = datetime.now(UTC)
        success = GaugeMetricFamily(
            "hub_source_last_success_timestamp_seconds",
            "Start of the source's last published or unchanged run (unix time; 0: never).",
            labels=["source"],
        )
        late = GaugeMetricFamily(
            "hub_source_late_seconds",
            "Seconds past the source's expected update (0: on time; +Inf: never succeeded).",
            labels=["source"],
        )
        status = GaugeMetricFamily(
            "hub_source_last_run_status",
            "1 for the status of the source's latest run, 0 for the others.",
            labels=["source", "status"],
        )
        state = GaugeMetricFamily(
            "hub_source_state",
            "1 for the source's state as /health reports it (ok, late, failing, held, never).",
            labels=["source", "state"],
        )
        records = GaugeMetricFamily(
            "hub_source_last_run_records", "Records read by the latest run.", labels=["source"]
        )
        triples = GaugeMetricFamily(
            "hub_source_last_run_triples", "Triples mapped by the latest run.", labels=["source"]
        )
        published = GaugeMetricFamily(
            "hub_source_published_triples",
            "Triples in the source's live named graph.",
            labels=["source"],
        )
        for row in statuses:
            source = self.config.sources[row.id]
            success.add_metric([row.id], _timestamp(row.last_good) if row.last_good else 0)
            late.add_metric([row.id], late_seconds(source, row.last_good, now))
            for name in RUN_STATUSES:
                status.add_metric([row.id, name], 1 if row.last_status == name else 0)
            current = source_state(row)
            for name in SOURCE_STATES:
                state.add_metric([row.id, name], 1 if current == name else 0)
            run_records, run_triples = counts.get(row.id, (0, 0))
            records.add_metric([row.id], run_records)
            triples.add_metric([row.id], run_triples)
            published.add_metric([row.id], row.published_triples)
        yield from (success, late, status, state, records, triples, published)


class RunMetrics:
    """Runs counted as they end, in this process; fed by `count_runs`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "hub_runs",
            "Runs that ended, by source and outcome (since the hub started).",
            ["source", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "hub_run_duration_seconds",
            "How long runs took, by source.",
            ["source"],
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400),
            registry=self.registry,
        )

    def collect(self) -> Iterator[Metric]:
        """Lets each app's registry show these process-wide series."""
        return self.registry.collect()


RUNS = RunMetrics()


def count_runs(event: Event) -> None:
    """Subscriber: count each run that ended, by source and outcome, and time it.

    Attach it in `hub.pipeline.subscribers.default_subscribers`. An approved or rolled
    back version is told as a `Published` event too, and counted as `published`.
    """
    if isinstance(event, Started):
        return
    report = event.report
    RUNS.runs.labels(report.source, report.status).inc()
    RUNS.duration.labels(report.source).observe(max(0.0, report.seconds))
