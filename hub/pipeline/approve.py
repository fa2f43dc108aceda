"""Publish a run that was held for review, once a steward approves it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hub.config import HubConfig
from hub.errors import HubError
from hub.iris import Iris
from hub.pipeline.provenance import RunReport, record_run
from hub.pipeline.run import new_run_id, prune_versions, refresh_read_model
from hub.pipeline.state import SourceState, load_state, save_state
from hub.store.oxigraph import OxigraphStore


def approve_held(
    config: HubConfig, store: OxigraphStore, source_id: str, run_id: str | None = None
) -> RunReport:
    """Publish the held run `run_id` (default: the newest held run) of a source."""
    source = config.source(source_id)
    versions = config.data_path / "versions" / source.id
    held = sorted((versions / "held").glob("*.nt")) if (versions / "held").exists() else []
    if run_id:
        held = [p for p in held if p.stem == run_id]
    if not held:
        which = f"run {run_id}" if run_id else "run"
        raise HubError(
            f"source `{source_id}` has no held {which} to approve; `hub sources` shows its state"
        )
    chosen = held[-1]
    facts = json.loads(chosen.with_suffix(".json").read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    report = RunReport(
        source=source.id,
        run_id=new_run_id(now),
        started=now,
        mapping_file=source.mapping,
        records=facts["records"],
        triples=facts["triples"],
    )
    target = versions / chosen.name
    chosen.replace(target)
    store.publish_file(Iris(config.base_iri).source_graph(source.id), target)
    previous = load_state(config.data_path, source.id)
    save_state(
        config.data_path,
        source.id,
        SourceState(
            run_id=facts["run_id"],
            records=facts["records"],
            triples=facts["triples"],
            version_file=str(target.relative_to(config.data_path)),
            harvest=facts.get("harvest") or previous.harvest,
        ),
    )
    prune_versions(versions, config.hub.keep_versions)
    for leftover in (versions / "held").glob(f"{facts['run_id']}.*"):
        leftover.unlink()
    report.status = "published"
    report.message = f"approved held run {facts['run_id']}"
    report.ended = datetime.now(UTC)
    refresh_read_model(config, source.id, target, report)
    record_run(store, config, report)
    return report
