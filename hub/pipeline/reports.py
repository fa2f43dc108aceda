"""A run's report for review: what it did, each error with its record values, gates, SHACL
results grouped by shape, and (for a held run) the change it would make; one JSON file per run.

Reports live in the data folder (`<data>/reports/<source>/<run>.json`), never in the public
metadata graph: they quote record values. `public_view` is what anyone may see: counts and
messages with the values hidden. Stewards of the source see the whole report.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import RecordError
from hub.feed._derive import Grouping, entity_predicates, forget_grouping, group_version
from hub.layout import DataLayout
from hub.pipeline.versions import diff_versions

if TYPE_CHECKING:
    from hub.pipeline.provenance import RunReport
    from hub.pipeline.run import StagedRun
    from hub.validation.report import ValidationReport, Violation

__all__ = [
    "change_preview",
    "load_report",
    "public_view",
    "prune_reports",
    "public_violation_text",
    "run_document",
    "save_report",
]

LISTED = 100  # entities, errors and SHACL examples a report lists by name; counts stay whole
LANGUAGES = ("en", "it", "fr")
KEPT_REPORTS = 50  # per source; reports of held runs are always kept


def public_violation_text(violation: Violation) -> str:
    """A SHACL result as a sentence without the offending value (for the public metadata graph)."""
    messages = getattr(violation, "messages", None) or {}
    what = messages.get("en") or f"{violation.constraint} not satisfied"
    where = f" {violation.path}" if violation.path else ""
    return f"<{violation.focus_node}>{where}: {what} — shape {violation.shape}"


def _record_key(focus: str, entity_prefix: str) -> str | None:
    """The source record an entity IRI was minted from (its key), if it is one of the source's."""
    return focus.removeprefix(entity_prefix) if focus.startswith(entity_prefix) else None


def shacl_section(validation: ValidationReport, entity_prefix: str) -> dict[str, Any]:
    """SHACL results grouped by shape with exact counts, the message in it/fr/en, and the
    listed results with their entity, source record, property and offending value."""
    by_lang = {lang: validation.groups(lang, examples=0) for lang in LANGUAGES}
    groups = validation.groups("en", examples=LISTED)
    for number, group in enumerate(groups):
        group["messages"] = {lang: by_lang[lang][number]["message"] for lang in LANGUAGES}
        group["results"] = [
            {
                "entity": example["focus"],
                "record": _record_key(example["focus"], entity_prefix),
                "property": example["path"],
                "value": example["value"],
            }
            for example in group.pop("examples")
        ]
    return {
        "violations": validation.error_count,
        "warnings": validation.warning_count,
        "infos": validation.info_count,
        "groups": groups,
    }


def change_preview(
    old: Path | None, new: Path, folder: Path, published_run: str | None, prefix: str
) -> dict[str, Any]:
    """Entities added, removed and changed (with the properties that changed) from `old` to `new`.

    Entities are grouped as the change feed groups them (`hub.feed`): an entity's
    sub-resources and skolem nodes are part of it, so a changed address is a change of
    its place. `prefix` is the source's entity prefix; `folder` receives the two diff
    files (scratch). Memory grows with the entities, not the triples.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tail = f"{os.getpid()}-{secrets.token_hex(4)}"
    removed, added = folder / f".preview-{tail}.removed.nt", folder / f".preview-{tail}.added.nt"
    try:
        counts = diff_versions(old, new, removed, added)
        before = group_version(old, prefix) if old is not None else Grouping(prefix)
        after = group_version(new, prefix)
        touched = entity_predicates(removed, before)
        for entity, predicates in entity_predicates(added, after).items():
            touched.setdefault(entity, set()).update(predicates)
    finally:
        forget_grouping()
        removed.unlink(missing_ok=True)
        added.unlink(missing_ok=True)
    old_digests, new_digests = before.digests, after.digests
    changed = {
        entity: predicates
        for entity, predicates in touched.items()
        if entity in old_digests
        and entity in new_digests
        and old_digests[entity] != new_digests[entity]
    }
    entities_added = sorted(new_digests.keys() - old_digests.keys())
    entities_removed = sorted(old_digests.keys() - new_digests.keys())
    properties = Counter(p for props in changed.values() for p in props)
    return {
        "published_run": published_run,
        "compared_with": published_run if old else None,  # None: every entity counts as added
        "triples_removed": counts.removed,
        "triples_added": counts.added,
        "entities_added": len(entities_added),
        "entities_removed": len(entities_removed),
        "entities_changed": len(changed),
        "properties_changed": dict(properties.most_common()),
        "added": entities_added[:LISTED],
        "removed": entities_removed[:LISTED],
        "changed": [
            {"entity": s, "properties": sorted(changed[s])} for s in sorted(changed)[:LISTED]
        ],
    }


def _record_errors(run: StagedRun) -> list[dict[str, Any]]:
    runner = run.runner
    if runner is None:
        return []
    out = []
    for failure in runner.stats.failures[:LISTED]:
        error: RecordError = failure.error
        out.append(
            {
                "record": failure.key,
                "record_number": failure.number,
                "location": failure.location or None,
                "file": error.file or None,
                "line": error.line,
                "value": error.value,
                "message": failure.message(run.source.id),
                "public_message": failure.message(run.source.id, hide_value=True),
            }
        )
    return out


def run_document(run: StagedRun, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report of a staged run (after `stage()`, or after it failed part-way)."""
    report: RunReport = run.report
    entity_prefix = run.iris.entity_prefix(run.source.id)
    document: dict[str, Any] = {
        "source": report.source,
        "run": report.run_id,
        "status": report.status,
        "message": report.message,
        "started": report.started.isoformat(),
        "ended": report.ended.isoformat() if report.ended else None,
        "records": report.records,
        "record_errors": report.record_errors,
        "triples": report.triples,
        "violations": report.violations,
        "mapping_file": report.mapping_file,
        "phases": {k: round(v, 3) for k, v in report.phases.items()},
        "errors": _record_errors(run),
        "warnings": list(report.warnings[:LISTED]),
        "gates": [
            {"gate": f.gate, "action": f.action, "message": f.message, "details": f.details}
            for f in run.verdict.findings
        ],
        "shacl": shacl_section(run.validation, entity_prefix) if run.validation else None,
        "changes": changes,
    }
    return document


def save_report(layout: DataLayout, document: dict[str, Any]) -> Path:
    """Write a run's report (replacing an earlier one of the same run); private to the hub."""
    path = layout.report(document["source"], document["run"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, default=str)
    temporary.replace(path)
    return path


def load_report(layout: DataLayout, source: str, run_id: str) -> dict[str, Any] | None:
    """A run's report, or None if the run kept none (decisions, older runs, pruned)."""
    try:
        return json.loads(layout.report(source, run_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def public_view(document: dict[str, Any]) -> dict[str, Any]:
    """The report without record values: what the public and viewers may see."""
    out = dict(document)
    out["errors"] = [
        {k: v for k, v in e.items() if k not in ("value", "message")}
        | {"message": e["public_message"]}
        for e in document.get("errors", [])
    ]
    for e in out["errors"]:
        e.pop("public_message", None)
    shacl = document.get("shacl")
    if shacl:
        out["shacl"] = {
            **shacl,
            "groups": [
                {
                    **g,
                    "results": [{k: v for k, v in r.items() if k != "value"} for r in g["results"]],
                }
                for g in shacl["groups"]
            ],
        }
    # SHACL warnings quote values; the gates' warnings do not.
    out["warnings"] = [g["message"] for g in document.get("gates", []) if g["action"] == "warn"]
    out["values_hidden"] = True
    return out


def prune_reports(layout: DataLayout, source: str, keep: int = KEPT_REPORTS) -> None:
    """Keep the newest `keep` reports of a source, and those of held runs."""
    folder = layout.report(source, "x").parent
    if not folder.exists():
        return
    held = (
        {p.stem for p in layout.held(source).glob("*.nt")}
        if layout.held(source).exists()
        else set()
    )
    reports = sorted(folder.glob("*.json"))
    for path in reports[:-keep] if keep else reports:
        if path.stem not in held:
            path.unlink(missing_ok=True)
