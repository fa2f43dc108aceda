"""The built-in subscribers of publishing: provenance, the read model, the change log."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from hub.config import HubConfig
from hub.feed import change_feed
from hub.layout import DataLayout
from hub.metrics import count_runs
from hub.pipeline.dumps import dumps
from hub.pipeline.events import Event, Published, Subscriber, Work, prepared_ahead
from hub.pipeline.provenance import record_run
from hub.readmodel import follow_publish
from hub.store.base import Store

log = logging.getLogger("hub.pipeline")


def provenance(config: HubConfig, store: Store) -> Subscriber:
    """Every run, whatever its outcome, in the metadata graph (PROV-O)."""

    def record_provenance(event: Event) -> None:
        version = event.version.stem if isinstance(event, Published) else None
        record_run(store, config, event.report, version=version)

    return record_provenance


READ_MODEL_PROCESS_BYTES = 64 * 1024 * 1024
"""A version file this large (about 500,000 triples) has its read model prepared in a child
process: it then runs beside the change feed and the dumps, not in turns with them."""


def read_model(config: HubConfig) -> Subscriber:
    """The REST API's read model follows each published version of a source."""

    def work(event: Published) -> Work:
        return follow_publish, {  # the entities the change touches, or the whole source
            "config": config,
            "source_id": event.report.source,
            "version": event.version,
            "previous_run": event.previous_run,
            "removed": event.removed,
            "added": event.added,
            "published": event.report.ended or datetime.now(UTC),
            "run_id": event.version.stem,
        }

    return prepared_ahead("read model", work, process_from_bytes=READ_MODEL_PROCESS_BYTES)


def _subjects(path: Path | None) -> set[bytes]:
    if path is None or not path.exists():
        return set()
    with path.open("rb") as lines:
        return {line.split(b" ", 1)[0] for line in lines if line.strip()}


def change_log(config: HubConfig) -> Subscriber:
    """One JSON line per publish in `<data>/changes/<source>.jsonl` (what changed, by whom)."""
    layout = DataLayout(config.data_path)

    def append_change(event: Event) -> None:
        if not isinstance(event, Published):
            return
        report = event.report
        path = layout.changes(report.source)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "source": report.source,
            "run": report.run_id,
            "version": event.version.stem,
            "previous": event.previous_run,
            "reason": event.reason,
            "published": (report.ended or datetime.now(UTC)).isoformat(),
            "triples_removed": event.changes.removed,
            "triples_added": event.changes.added,
            "subjects_touched": len(_subjects(event.removed) | _subjects(event.added)),
        }
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    return append_change


def default_subscribers(config: HubConfig, store: Store) -> list[Subscriber]:
    """Provenance first (the run's record), then the read model, the change log and feed, metrics."""
    return [
        provenance(config, store),
        read_model(config),
        change_log(config),
        change_feed(config),
        dumps(config, store),
        count_runs,
    ]
