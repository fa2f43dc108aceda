"""`hub check`: stage a source in a scratch folder and tell what a run would do, publishing nothing.

The check runs the run's own staging and gates (`StagedRun.stage()`), but in a
temporary folder outside the data folder, without a raw snapshot and without the
store or the read model: it works before the first harvest and beside `hub serve`.
It compares with the version file the state file names as published.

    >>> result = check_source(config, "smartic-operators", limit=3)  # doctest: +SKIP
    >>> result.outcome, result.exit_code
    ('hold', 3)
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hub.config import HubConfig
from hub.errors import HubError, RecordError
from hub.iris import PREFIXES, Iris
from hub.pipeline.gates import CATEGORY, THEME, Finding
from hub.pipeline.reports import change_preview, shacl_section
from hub.pipeline.run import StagedRun, Workspace

__all__ = ["CheckResult", "check_source", "format_text"]

EXIT_CODES = {"publish": 0, "hold": 3, "fail": 1}
# Entities (and SHACL messages) a result lists by name; the counts are always whole.
LISTED = 100


@dataclass
class Sample:
    """One record and the triples it made (or why it made none)."""

    record: Any
    triples: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class CheckResult:
    """What a run of the source would do, and why; `as_dict()` is the `--json` document."""

    source: str
    outcome: str = "fail"  # "publish", "hold" or "fail"
    message: str = ""
    records: int = 0
    record_errors: int = 0
    triples: int = 0
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # records left out, and why
    unused_fields: list[str] = field(default_factory=list)
    unmatched_references: list[dict[str, Any]] = field(default_factory=list)
    shacl: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    gates: list[Finding] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 if the run would publish, 3 if it would be held, 1 if it would fail."""
        return EXIT_CODES[self.outcome]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["exit_code"] = self.exit_code
        out["coverage"] = {
            "unused_fields": out.pop("unused_fields"),
            "unmatched_references": out.pop("unmatched_references"),
        }
        return out


def check_source(
    config: HubConfig, source_id: str, *, limit: int = 3, snapshot: bool = False
) -> CheckResult:
    """Stage `source_id` in a scratch folder, run the gates, compare with the published version."""
    source = config.source(source_id)
    result = CheckResult(source=source_id)
    if source.project not in config.known_projects():
        result.message = (
            f"sources.{source_id}.project: unknown project `{source.project}`; use a project "
            "id of ontology/programme.ttl or declare it under [projects]"
        )
        return result
    folder = Path(tempfile.mkdtemp(prefix=f"hub-check-{source_id}-"))
    try:
        run = StagedRun(
            config,
            source,
            workspace=Workspace.scratch(folder),
            replay="latest" if snapshot else None,
            keep_raw=False,
            conditional=False,
            sample=limit,
        )
        run.stop_at_failure = False
        try:
            staged = run.stage()
        except HubError as exc:  # the source or the mapping is broken: the run would fail
            _fill(result, run)
            result.outcome, result.message = "fail", str(exc)
            return result
        except Exception as exc:  # a fault the run would also report as a failure
            _fill(result, run)
            result.outcome = "fail"
            result.message = f"unexpected {type(exc).__name__}: {exc}"
            return result
        _fill(result, run)
        result.outcome = run.verdict.outcome
        if result.outcome == "fail":
            result.message = run.failure_message().removesuffix(" — nothing was published")
        elif result.outcome == "hold":
            result.message = run.hold_message()
        elif not staged:
            result.message = run.report.message
        if staged:
            result.changes = _changes(run, folder)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fill(result: CheckResult, run: StagedRun) -> None:
    report = run.report
    result.records, result.record_errors = report.records, report.record_errors
    result.triples = report.triples
    result.gates = list(run.verdict.findings)
    result.unmatched_references = [
        f.details | {"action": f.action, "message": f.message}
        for f in run.verdict.findings
        if f.gate == "unmatched_reference"
    ]
    runner = run.runner
    if runner is not None:
        result.errors = [f.message(run.source.id) for f in runner.stats.failures]
        used = {
            ref.path.lstrip("$.").split(".")[0].split("[")[0] for ref in runner.mapping.references()
        }
        result.unused_fields = sorted(runner.stats.fields_seen - used)
        for record in run.sample:
            try:
                result.samples.append(
                    Sample(record, [t.strip() for t in runner.map_record(record)])
                )
            except RecordError as exc:
                result.samples.append(Sample(record, error=exc.located()))
    if run.validation is not None:
        result.shacl = shacl_section(run.validation, run.iris.entity_prefix(run.source.id))


def _changes(run: StagedRun, folder: Path) -> dict[str, Any]:
    """Entities added, removed and changed (with the properties that changed) since the published version."""
    return change_preview(
        run.published_version(),
        run.version_file,
        folder,
        run.state.run_id or None,
        run.iris.entity_prefix(run.source.id),
    )


# -- the text report -----------------------------------------------------------------
def display_prefixes(config: HubConfig, source: str) -> dict[str, str]:
    """Prefixes to show a source's IRIs short: `id:` its entities, then the vocabularies."""
    iris = Iris(config.base_iri)
    prefixes = {"id": iris.entity_prefix(source), **PREFIXES}
    prefixes.update({"programme": iris.programme_base, "category": CATEGORY, "theme": THEME})
    return prefixes


def short_iri(iri: str, prefixes: dict[str, str]) -> str:
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return f"<{iri}>"


def _short_triple(line: str, prefixes: dict[str, str]) -> str:
    parts = line.split(" ", 2)
    if len(parts) < 3:
        return line
    s, p, o = parts
    terms = [s, p]
    out = [
        short_iri(t[1:-1], prefixes) if t.startswith("<") and t.endswith(">") else t for t in terms
    ]
    o = o.removesuffix(" .")
    if o.startswith("<") and o.endswith(">"):
        o = short_iri(o[1:-1], prefixes)
    return " ".join([*out, o])


def format_text(result: CheckResult, config: HubConfig, lang: str = "en") -> str:
    """The check as text for a terminal: samples, errors, coverage, SHACL, changes, verdict."""
    prefixes = display_prefixes(config, result.source)
    out: list[str] = [
        f"{result.source}: {result.records} records, {result.record_errors} rejected, "
        f"{result.triples} triples"
    ]
    if result.samples:
        out.append(f"\nRecords and the triples each made (first {len(result.samples)}):")
        for number, sample in enumerate(result.samples, start=1):
            out.append(f"  #{number} {_record_text(sample.record)}")
            if sample.error:
                out.append(f"      error: {sample.error}")
            for triple in sample.triples:
                out.append(f"      {_short_triple(triple, prefixes)}")
    if result.errors:
        out.append(f"\nRecords left out ({result.record_errors}):")
        out += [f"  {e}" for e in result.errors[:20]]
        if len(result.errors) > 20:
            out.append(f"  … and {len(result.errors) - 20} more (--json lists them all)")
    out.append("\nCoverage:")
    if result.unmatched_references:
        for ref in result.unmatched_references:
            out.append(f"  {ref['action']}: {ref['message']}")
    else:
        out.append("  every mapping reference matched a value")
    if result.unused_fields:
        out.append(f"  source fields no mapping reference uses: {', '.join(result.unused_fields)}")
    if result.shacl:
        shacl = result.shacl
        out.append(
            f"\nSHACL: {shacl['violations']} violations, {shacl['warnings']} warnings, "
            f"{shacl['infos']} infos"
        )
        for group in shacl["groups"]:
            path = f" {short_iri(group['path'], prefixes)}" if group["path"] else ""
            message = group["messages"].get(lang) or group["messages"].get("en", "")
            out.append(f"  {group['severity']} {group['shape']}{path} ×{group['count']}: {message}")
            for listed in group["results"][:3]:
                value = f" = {listed['value']}" if listed["value"] is not None else ""
                record = f" (record `{listed['record']}`)" if listed["record"] else ""
                out.append(f"      {short_iri(listed['entity'], prefixes)}{record}{value}")
    if result.changes:
        changes = result.changes
        against = changes["published_run"] or "nothing published yet"
        if changes["published_run"] and not changes["compared_with"]:
            against += ", whose version file is not kept: every entity counts as added"
        out.append(
            f"\nChanges against the published version ({against}): "
            f"{changes['entities_added']} entities added, {changes['entities_removed']} removed, "
            f"{changes['entities_changed']} changed ({changes['triples_added']} triples added, "
            f"{changes['triples_removed']} removed)"
        )
        if changes["properties_changed"]:
            props = ", ".join(
                f"{short_iri(p, prefixes)} ({n})" for p, n in changes["properties_changed"].items()
            )
            out.append(f"  properties changed: {props}")
        for entry in changes["changed"][:10]:
            props = ", ".join(short_iri(p, prefixes) for p in entry["properties"])
            out.append(f"  changed {short_iri(entry['entity'], prefixes)}: {props}")
        for entity in changes["added"][:5]:
            out.append(f"  added {short_iri(entity, prefixes)}")
        for entity in changes["removed"][:5]:
            out.append(f"  removed {short_iri(entity, prefixes)}")
    found = [g for g in result.gates if g.gate != "unmatched_reference"]  # (shown above)
    if found:
        out.append("\nGates:")
        for finding in found[:20]:
            out.append(f"  {finding.action} [{finding.gate}]: {finding.message}")
        if len(found) > 20:
            out.append(f"  … and {len(found) - 20} more (--json lists them all)")
    verdict = {"publish": "WOULD PUBLISH", "hold": "WOULD BE HELD", "fail": "WOULD FAIL"}
    tail = f" — {result.message}" if result.message else ""
    out.append(f"\n{result.source}: {verdict[result.outcome]}{tail}")
    return "\n".join(out)


def _record_text(record: Any, width: int = 160) -> str:
    text = (
        repr(record)
        if not isinstance(record, dict)
        else ", ".join(f"{k}={v!r}" for k, v in record.items())
    )
    return text if len(text) <= width else text[: width - 1] + "…"
