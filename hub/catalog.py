"""Read what publishing wrote about sources: last run, status, size of the live graph, lateness."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from hub.config import HubConfig, SourceConfig
from hub.iris import MH, PROV, Iris
from hub.layout import DataLayout
from hub.store.base import Store
from hub.store.oxigraph import sparql_iri


@dataclass
class SourceStatus:
    """The state of one configured source, as the metadata graph records it."""

    id: str
    project: str
    kind: str
    schedule: str
    last_status: str | None
    last_run: str | None
    last_message: str | None
    published_triples: int
    last_good: str | None = None
    late: bool = False


LATE_GRACE = timedelta(hours=1)


def update_deadline(source: SourceConfig, last_good: str | None) -> datetime | None:
    """When a source's next good run is due at the latest, counted from its last good run.

    With an agreed `update_every`: that long after (plus an hour). Else by the schedule:
    twice its interval, or its next cron time plus an hour. None when a source has neither,
    or has never run well (then it is late as soon as it has either).
    """
    if last_good is None:
        return None
    since = datetime.fromisoformat(last_good)
    if source.update_every is not None:
        return since + timedelta(seconds=source.expected_seconds() or 0) + LATE_GRACE
    if source.schedule is None:
        return None
    seconds = source.schedule.seconds()
    if seconds:
        return since + timedelta(seconds=2 * seconds)
    trigger = CronTrigger.from_crontab(source.schedule.cron or "", timezone="UTC")
    expected = trigger.get_next_fire_time(None, since)
    return expected + LATE_GRACE if expected is not None else None


def is_late(source: SourceConfig, last_good: str | None, now: datetime | None = None) -> bool:
    """True when a source has missed its expected update since its last good run (or never
    had one); a source with neither `update_every` nor a schedule is never late."""
    if source.update_every is None and source.schedule is None:
        return False
    if last_good is None:
        return True
    deadline = update_deadline(source, last_good)
    return deadline is not None and (now or datetime.now(UTC)) > deadline


def source_statuses(store: Store, config: HubConfig) -> list[SourceStatus]:
    """One row per configured source, with its latest run (any status)."""
    iris = Iris(config.base_iri)
    rows = store.select(
        f"""SELECT ?dataset ?status ?start ?message WHERE {{
          GRAPH <{iris.meta_graph}> {{
            ?run <{PROV}used> ?dataset ; <{MH}status> ?status ; <{PROV}startedAtTime> ?start .
            OPTIONAL {{ ?run <{MH}statusMessage> ?message }}
          }}
        }}"""
    )
    # The version each graph holds (the publish path's marker), to read its size from its facts.
    markers = {
        row["graph"].value: row["run"].value
        for row in store.select(
            f"SELECT ?graph ?run WHERE {{ GRAPH <{iris.meta_graph}> "
            f"{{ ?graph <{MH}publishedRun> ?run }} }}"
        )
    }
    layout = DataLayout(config.data_path)
    latest: dict[str, dict] = {}
    good: dict[str, str] = {}
    for row in rows:
        dataset = row["dataset"].value
        if row["status"].value in ("published", "unchanged"):
            good[dataset] = max(good.get(dataset, ""), row["start"].value)
        if dataset not in latest or row["start"].value > latest[dataset]["start"].value:
            latest[dataset] = row
    out = []
    for source in config.sources.values():
        row = latest.get(iris.dataset(source.id))
        live = iris.source_graph(source.id)
        schedule = ""
        if source.schedule is not None:
            schedule = source.schedule.cron or f"every {source.schedule.every}"
        out.append(
            SourceStatus(
                id=source.id,
                project=source.project,
                kind=source.kind,
                schedule=schedule or "manual",
                last_status=row["status"].value if row else None,
                last_run=row["start"].value if row else None,
                last_message=row["message"].value if row and "message" in row else None,
                published_triples=_published_triples(
                    store, layout, source.id, live, markers.get(live)
                ),
                last_good=good.get(iris.dataset(source.id)),
                late=is_late(source, good.get(iris.dataset(source.id))),
            )
        )
    return out


def _published_triples(
    store: Store, layout: DataLayout, source: str, graph: str, run: str | None
) -> int:
    """Triples of the live graph: from its version's facts (no count over the graph), else
    counted in the store (an older hub, or a lost facts file)."""
    if run is not None:
        try:
            facts = json.loads(layout.version_facts(source, run).read_text(encoding="utf-8"))
            return int(facts["triples"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return store.graph_size(graph) if store.has_graph(graph) else 0


RUN_STATUSES = (
    "published",
    "held",
    "failed",
    "unchanged",
    "running",
    "interrupted",
    "rejected",
)
"""Every status a run can have in the metadata graph."""


def _int_of(row: dict[str, Any], name: str) -> int | None:
    term = row.get(name)
    return int(term.value) if term is not None else None


def run_history(
    store: Store,
    config: HubConfig,
    source: str | None,
    status: str | None,
    size: int,
    offset: int,
    *,
    run_id: str | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """One page of runs (all sources, or one; or the one run `run_id`), newest first, and
    how many match."""
    iris = Iris(config.base_iri)
    meta = sparql_iri(iris.meta_graph)
    restrict = f"VALUES ?dataset {{ {sparql_iri(iris.dataset(source))} }}" if source else ""
    if run_id is not None and source:
        restrict += f" VALUES ?run {{ {sparql_iri(iris.run(source, run_id))} }}"
    # `status` is one of RUN_STATUSES (checked), written from that list, never from the request.
    state = f'FILTER(?status = "{RUN_STATUSES[RUN_STATUSES.index(status)]}")' if status else ""
    where = f"""GRAPH {meta} {{
        ?run a <{MH}Run> ; <{PROV}used> ?dataset ; <{MH}status> ?status ; <{PROV}startedAtTime> ?start .
      }} {restrict} {state}"""
    total_rows = store.select(f"SELECT (COUNT(?run) AS ?n) WHERE {{ {where} }}")
    total = int(total_rows[0]["n"].value) if total_rows else 0
    rows = store.select(
        f"""SELECT ?run ?dataset ?status ?start ?end ?records ?errors ?triples ?violations ?message
        WHERE {{ {where}
          GRAPH {meta} {{
            OPTIONAL {{ ?run <{PROV}endedAtTime> ?end }}
            OPTIONAL {{ ?run <{MH}recordCount> ?records }}
            OPTIONAL {{ ?run <{MH}recordErrorCount> ?errors }}
            OPTIONAL {{ ?run <{MH}tripleCount> ?triples }}
            OPTIONAL {{ ?run <{MH}violationCount> ?violations }}
            OPTIONAL {{ ?run <{MH}statusMessage> ?message }}
          }}
        }} ORDER BY DESC(?start) DESC(STR(?run)) LIMIT {size} OFFSET {offset}"""
    )
    dataset_prefix = iris.dataset("")
    run_prefix = iris.base + "id/run/"
    items = []
    for row in rows:
        run = row["run"].value
        items.append(
            {
                "id": run.removeprefix(run_prefix),
                "iri": run,
                "source": row["dataset"].value.removeprefix(dataset_prefix),
                "status": row["status"].value,
                "started": row["start"].value,
                "ended": row["end"].value if "end" in row else None,
                "records": _int_of(row, "records"),
                "record_errors": _int_of(row, "errors"),
                "triples": _int_of(row, "triples"),
                "violations": _int_of(row, "violations"),
                "message": row["message"].value if "message" in row else None,
            }
        )
    return total, items
