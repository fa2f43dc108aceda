"""The stewards' review of a source: its runs (which wait for a decision, which are kept),
a run's report, and the decisions (approve, reject, roll back), through the one publish path.

Shared by the REST API (`hub.api.v1.review`), the steward pages (`hub.api.steward`) and
the admin API; the CLI calls them through a running hub, or `Publisher` directly.
"""

from __future__ import annotations

import re
from typing import Any

from hub.catalog import run_history
from hub.config import HubConfig
from hub.errors import ConfigError, HubError
from hub.iris import Iris
from hub.layout import DataLayout
from hub.pipeline.provenance import RunReport
from hub.pipeline.publish import Publisher
from hub.pipeline.reports import change_preview, load_report, public_view
from hub.store.base import Store

__all__ = ["DECISIONS", "RUN_ID", "ReviewError", "decide", "run_detail", "source_runs"]

DECISIONS = ("approve", "reject", "rollback")
LOCK_WAIT_S = 5.0
"""How long a decision waits for a run under way before it answers 409."""
RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6,12}Z-[0-9a-f]{4}$")
"""What a run id looks like (`20261204T163700123456Z-ab12`); anything else is refused."""


class ReviewError(HubError):
    """A review request that cannot be done; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_run_id(run_id: str) -> str:
    """The run id, if it looks like one (it names files: nothing else may reach a path)."""
    if not RUN_ID.match(run_id):
        raise ReviewError(
            404, f"`{run_id[:80]}` is not a run id (like 20261204T163700123456Z-ab12)"
        )
    return run_id


def _source(config: HubConfig, source_id: str) -> None:
    try:
        config.source(source_id)
    except ConfigError as exc:
        raise ReviewError(404, str(exc)) from None


def source_runs(
    store: Store, config: HubConfig, source_id: str, *, size: int = 20, offset: int = 0
) -> dict[str, Any]:
    """A source's runs, newest first, each marked `pending` (held, waiting for a decision),
    `published` (what readers see) and `kept` (a version rollback can go back to)."""
    _source(config, source_id)
    publisher = Publisher(config, store, subscribers=[])
    held = set(publisher.held_runs(source_id))
    kept = set(publisher.versions(source_id))
    published = publisher.published_run(source_id)
    total, items = run_history(store, config, source_id, None, size, offset)
    layout = DataLayout(config.data_path)
    for item in items:
        run = item["run"] = item["id"].split("/", 1)[-1]  # ids are `<source>/<run>`
        item["pending"] = run in held
        item["published"] = run == published
        item["kept"] = run in kept
        item["has_report"] = layout.report(source_id, run).exists()
    return {
        "source": source_id,
        "published_run": published,
        "held": sorted(held, reverse=True),
        "kept_versions": sorted(kept, reverse=True),
        "total": total,
        "items": items,
    }


def run_detail(
    store: Store, config: HubConfig, source_id: str, run_id: str, *, with_values: bool
) -> dict[str, Any]:
    """One run: its record in the history, whether it waits for a decision, and its report
    (with record values only if `with_values`: for those who may decide for the source)."""
    _source(config, source_id)
    check_run_id(run_id)
    total, rows = run_history(store, config, source_id, None, 1, 0, run_id=run_id)
    layout = DataLayout(config.data_path)
    report = load_report(layout, source_id, run_id)
    if not rows and report is None:
        raise ReviewError(
            404, f"source `{source_id}` has no run {run_id}; GET .../runs lists its runs"
        )
    publisher = Publisher(config, store, subscribers=[])
    pending = run_id in publisher.held_runs(source_id)
    published = publisher.published_run(source_id)
    if report is not None and pending:
        prefix = Iris(config.base_iri).entity_prefix(source_id)
        report["changes"] = _current_preview(layout, source_id, run_id, published, report, prefix)
    if report is not None and not with_values:
        report = public_view(report)
    return {
        "source": source_id,
        "run": run_id,
        "history": rows[0] if rows else None,
        "pending": pending,
        "published": run_id == published,
        "kept": run_id in publisher.versions(source_id),
        "report": report,
    }


def _current_preview(
    layout: DataLayout,
    source_id: str,
    run_id: str,
    published: str | None,
    report: dict[str, Any],
    prefix: str,
) -> dict[str, Any] | None:
    """A held run's change preview against what is published now (another run may have
    been published since it was held)."""
    stored = report.get("changes")
    if stored is not None and stored.get("published_run") == published:
        return stored
    old = layout.version(source_id, published) if published else None
    return change_preview(
        old if old is not None and old.exists() else None,
        layout.held_version(source_id, run_id),
        layout.held(source_id),
        published,
        prefix,
    )


def decide(
    config: HubConfig,
    store: Store,
    action: str,
    source_id: str,
    run_id: str | None = None,
    *,
    reason: str = "",
    actor: str = "",
) -> RunReport:
    """Approve or reject a held run, or roll back to a kept version; one decision at a time
    (the lock scheduled runs take), through the one publish path; who and why recorded."""
    from hub.scheduler import RUN_LOCK

    if action not in DECISIONS:
        raise ReviewError(404, f"no decision `{action}`; use one of {', '.join(DECISIONS)}")
    _source(config, source_id)
    if run_id is not None:
        check_run_id(run_id)
    if action == "reject" and not reason.strip():
        raise ReviewError(400, "say why the run is rejected: give a reason")
    # A harvest under way holds the lock for as long as its source takes: answer, not hang.
    if not RUN_LOCK.acquire(timeout=LOCK_WAIT_S):
        raise ReviewError(
            409,
            f"a run or another decision is under way (the hub does one at a time); "
            f"{action} again when it ends (GET /api/v1/sources/{source_id}/runs shows it)",
        )
    try:
        publisher = Publisher(config, store)
        try:
            return getattr(publisher, action)(
                source_id, run_id, reason=reason.strip()[:500], actor=actor[:200]
            )
        except HubError as exc:
            raise ReviewError(409, str(exc)) from None
    finally:
        RUN_LOCK.release()
