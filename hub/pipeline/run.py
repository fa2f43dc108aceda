"""One run of one source: harvest -> map -> stage -> gates -> validate -> publish.

What readers see changes only through `hub.pipeline.publish`, after every gate
passed; a failure anywhere before leaves it exactly as it was. Every outcome is
told to the publisher's subscribers (provenance, read model, change log).
"""

from __future__ import annotations

import filecmp
import hashlib
import io
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from harvesters import HarvestContext, get_harvester, record_location
from hub.config import HubConfig, SourceConfig, source_options
from hub.errors import HubError, MappingError
from hub.iris import Iris
from hub.layout import DataLayout
from hub.mapping.compile import load_mapping
from hub.mapping.runner import MappingRunner
from hub.pipeline import gates
from hub.pipeline.construct import construct_chunks, load_construct
from hub.pipeline.events import Started
from hub.pipeline.programme import known_projects
from hub.pipeline.provenance import RunReport, describe_source, new_run_id
from hub.pipeline.publish import Change, Publisher, read_facts, write_facts
from hub.pipeline.reports import (
    change_preview,
    prune_reports,
    public_violation_text,
    run_document,
    save_report,
)
from hub.pipeline.snapshots import SnapshotStore
from hub.pipeline.state import load_state
from hub.pipeline.versions import sort_version
from hub.store import staging_store
from hub.store.base import Store
from hub.store.oxigraph import OxigraphStore
from hub.util.chunks import ChunkReader
from hub.validation import ValidationReport, load_shapes, validate_ntriples

__all__ = ["SourceRun", "StagedRun", "Workspace", "new_run_id", "run_source"]

log = logging.getLogger("hub.pipeline")
Progress = Callable[[int], None]
RAW_GRAPH = "urn:marittimo-hub:raw"


@lru_cache(maxsize=4)
def _shapes(path: str, mtime: float):  # noqa: ANN202 - parsed shapes, cached per file version
    return load_shapes(path)


@dataclass(frozen=True)
class Workspace:
    """Where staging writes: the throw-away staging store, the version as mapped, then sorted."""

    staging: Path
    unsorted: Path
    version: Path

    @classmethod
    def of_run(cls, layout: DataLayout, source: str, run_id: str) -> Workspace:
        """A run's own places in the data folder (the version becomes a kept version)."""
        return cls(
            layout.staging(source, run_id),
            layout.unsorted_version(source, run_id),
            layout.version(source, run_id),
        )

    @classmethod
    def scratch(cls, folder: Path) -> Workspace:
        """Places in a folder of their own, outside the data folder (`hub check`)."""
        return cls(folder / "staging", folder / "version.unsorted", folder / "version.nt")


class StagedRun:
    """Harvest (or replay), map, stage, validate, sort and pass the gates; publishes nothing.

    `stage()` is what a run and `hub check` share: it needs no store, and leaves the sorted
    version in `workspace.version` and the gates' findings in `verdict`.
    """

    def __init__(
        self,
        config: HubConfig,
        source: SourceConfig,
        *,
        workspace: Workspace | None = None,
        progress: Progress | None = None,
        replay: str | None = None,
        keep_raw: bool = True,
        conditional: bool = True,
        sample: int = 0,
    ) -> None:
        self.config = config
        self.source = source
        self.iris = Iris(config.base_iri)
        self.progress = progress
        self.replay = replay  # a run id, or "latest": map a raw snapshot instead of harvesting
        now = datetime.now(UTC)
        self.report = RunReport(
            source=source.id, run_id=new_run_id(now), started=now, mapping_file=source.mapping
        )
        self.live = self.iris.source_graph(source.id)
        self.layout = layout = DataLayout(config.data_path)
        self.workspace = workspace or Workspace.of_run(layout, source.id, self.report.run_id)
        self.unsorted = self.workspace.unsorted
        self.version_file = self.workspace.version
        # keep_raw=False: a check neither writes a raw snapshot nor prunes the old ones.
        self.snapshots = SnapshotStore(
            config.data_path, source.id, config.hub.raw_keep if keep_raw else 0
        )
        self.state = load_state(config.data_path, source.id)
        # conditional=False: a full harvest, whatever the source said last time (ETag, since,
        # a file's digest); the last state counts only under the same recipe.
        self.quality = config.quality_for(source)
        previous = dict(self.state.harvest) if conditional and self._same_recipe() else {}
        self.context = HarvestContext(previous=previous)
        self.verdict = gates.Verdict()
        self.stop_at_failure = True  # a run stops at the first failing gate; a check goes on
        # A run whose version is byte for byte the published one, under the same checks,
        # skips SHACL and the version gates (their verdict was given at its publish); a
        # check (`hub check`) always shows them.
        self.trust_published_verdict = False
        self.mapped_digest = ""  # SHA-256 of the mapping's output as written (not merged)
        self.sample_size = sample
        self.sample: list[Any] = []  # the first records, for `hub check`
        self.runner: MappingRunner | None = None
        self.validation: ValidationReport | None = None
        self.changes: dict[str, Any] | None = None  # a held run's change against the published

    def genid(self) -> str:
        """The prefix of skolem IRIs for this source's blank nodes (as `Publisher.genid`)."""
        return f"{self.iris.base}.well-known/genid/{self.source.id}/"

    def published_version(self) -> Path | None:
        """The version file of the last published run (by the state file), if it is kept."""
        if not self.state.run_id:
            return None
        path = self.layout.version(self.source.id, self.state.run_id)
        return path if path.exists() else None

    # -- staging and gates -------------------------------------------------
    def stage(self) -> bool:
        """Stage the source into the workspace and run every gate; False if the source is unchanged.

        Raises HubError for a broken source or mapping, and (when `stop_at_failure`) at the
        first gate whose finding fails the run, with its cause in `report.message`.
        """
        report, quality = self.report, self.quality
        with staging_store(self.workspace.staging) as staging:
            with self._phase("harvest+map+stage"):
                self._stage(staging)
            if self.context.unchanged:
                report.status = "unchanged"
                report.message = "the source reports no change since the last published run"
                if self.context.unchanged_because:
                    report.message += f": {self.context.unchanged_because}"
                self._keep_harvest_state(over_previous=True)
                return False
            if self.context.incremental:
                with self._phase("merge"):
                    self._merge_previous(staging)
            first = report.public_errors[0] if report.public_errors else ""
            self._judge(gates.count_gates(report.records, report.record_errors, quality, first))
            if self.runner is not None:
                self._judge(gates.unmatched_references(self.runner, quality))
            self._judge(
                gates.no_triples(report.records, report.record_errors, report.triples, quality)
            )
        if self.trust_published_verdict and self._mapped_as_published():
            self.unsorted.unlink(missing_ok=True)
            return True  # the publish finds an empty change: `unchanged`
        with self._phase("sort"):
            # The version's own count: a mapping may make one triple twice (joins, shared
            # sub-resources); readers and the facts see each once.
            report.triples = sort_version(self.unsorted, self.version_file, genid=self.genid())
        if self.trust_published_verdict and self._same_as_published():
            self.unsorted.unlink(missing_ok=True)
            return True  # the publish finds an empty change: `unchanged`
        self._before_checks()
        with self._phase("validate"):
            self._validate()
        self.unsorted.unlink(missing_ok=True)
        with self._phase("gates"):
            previous = self.published_version()
            self._judge(gates.vanished_properties(previous, self.version_file, quality))
            self._judge(gates.unknown_concepts(self.version_file, self.config, quality))
            incremental = self.context.incremental
            self._judge(
                gates.record_drop(
                    report.records, self.state.records, incremental=incremental, quality=quality
                )
            )
        return True

    def _before_checks(self) -> None:
        """Called with the sorted version written, before SHACL and the version gates."""

    def _keep_harvest_state(self, *, over_previous: bool = False) -> None:
        """Called when the source is unchanged (a check keeps nothing)."""

    def _judge(self, findings: list[gates.Finding]) -> None:
        """Add the findings to the verdict and the report; stop at a failure if asked to."""
        if not findings:
            return
        self.verdict.add(findings)
        report = self.report
        for finding in findings:
            if finding.gate in ("min_records", "max_error_rate", "fail_on_shacl_violation"):
                continue  # their one message is the run's message; the errors say the rest
            if finding.action == "warn":
                report.warnings.append(finding.message)
            else:
                report.errors.append(finding.message)
                report.public_errors.append(finding.message)
        if self.stop_at_failure and any(f.action == "fail" for f in findings):
            report.message = self.failure_message()
            raise HubError(report.message)

    def failure_message(self) -> str:
        """Why the run fails, from the failing findings."""
        failing = self.verdict.of("fail")
        if len(failing) == 1 and failing[0].gate in (
            "min_records",
            "max_error_rate",
            "fail_on_shacl_violation",
        ):
            return failing[0].message
        return self.verdict.causes("fail") + " — nothing was published"

    def hold_message(self) -> str:
        """Why the run is held, and what the steward can do."""
        source = self.source.id
        return (
            f"{self.verdict.causes('hold')}; held for review (the steward pages at /steward, "
            f'or `hub approve {source}` to publish it, `hub reject {source} --reason "..."` '
            "to discard it); the next good harvest replaces it"
        )

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            phases = self.report.phases
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

    # -- staging -----------------------------------------------------------
    def _stage(self, staging: OxigraphStore) -> None:
        harvest = get_harvester(self.source.kind)
        self.unsorted.parent.mkdir(parents=True, exist_ok=True)
        if getattr(harvest, "produces", "records") == "ntriples":
            self._stage_rdf(staging, harvest)
        else:
            self._stage_records(harvest)

    def _records(self, harvest: Any) -> Iterator[Any]:
        if self.replay:
            path = self.snapshots.latest(None if self.replay == "latest" else self.replay)
            self.report.message = f"replayed raw snapshot {path.name}"
            return self.snapshots.read_records(path)
        options = source_options(self.config, self.source)
        records = harvest(self.source.id, options, root=self.config.root, context=self.context)
        return self.snapshots.tee_records(records, self.report.run_id)

    def _sampled(self, records: Iterable[Any]) -> Iterator[Any]:
        for record in records:
            if len(self.sample) < self.sample_size:
                self.sample.append(record)
            yield record

    def _stage_records(self, harvest: Any) -> None:
        report, source = self.report, self.source
        path = self.config.resolve(source.mapping)
        if path.suffix == ".rq":
            raise MappingError(
                source.mapping,
                None,
                "a CONSTRUCT (.rq) maps RDF sources only; "
                f"kind `{source.kind}` yields records: write a YARRRML .yml mapping",
            )
        mapping = load_mapping(path, source_id=source.id, iris=self.iris, display=source.mapping)
        report.mapping_hash = mapping.sha256
        record_location.set("")  # a replayed snapshot says nothing of where records were
        self.runner = runner = MappingRunner(
            mapping,
            source=source.id,
            record_key=source.key,
            locate=record_location.get,
            processes=self.config.hub.mapping_processes,
        )
        chunks = runner.run(self._counted(self._sampled(self._records(harvest))))
        try:
            self._write_version(chunks)
        finally:
            stats = runner.stats
            report.records, report.record_errors = stats.records, stats.failed
            report.triples = stats.triples
            report.errors = [f.message(source.id) for f in stats.failures]
            report.public_errors = [f.message(source.id, hide_value=True) for f in stats.failures]

    def _stage_rdf(self, staging: OxigraphStore, harvest: Any) -> None:
        source = self.source
        path = self.config.resolve(source.mapping)
        if path.suffix != ".rq":
            raise MappingError(
                source.mapping,
                None,
                f"kind `{source.kind}` yields RDF: map it "
                "with a SPARQL CONSTRUCT file (.rq), see docs/mappings.md",
            )
        query = load_construct(path, source_id=source.id, iris=self.iris, display=source.mapping)
        self.report.mapping_hash = _sha256(path)
        if self.replay:
            snap = self.snapshots.latest(None if self.replay == "latest" else self.replay)
            self.report.message = f"replayed raw snapshot {snap.name}"
            chunks = self.snapshots.read_chunks(snap)
        else:
            options = source_options(self.config, source)
            harvested = harvest(source.id, options, root=self.config.root, context=self.context)
            chunks = self.snapshots.tee_chunks(harvested, self.report.run_id)
        self._load_raw(staging, self._count_lines(chunks))
        if self.context.unchanged:
            return
        self.report.triples = 0
        mapped = self._count_triples(construct_chunks(staging, RAW_GRAPH, query))
        self._write_version(mapped)

    @staticmethod
    def _load_raw(staging: OxigraphStore, chunks: Iterable[bytes]) -> None:
        """The RDF a source gives, into the staging store where its CONSTRUCT reads it."""
        staging.bulk_load([io.BufferedReader(ChunkReader(chunks), 1 << 20)], RAW_GRAPH)

    def _write_version(self, chunks: Iterable[bytes]) -> None:
        """The mapped N-Triples, straight to the file that becomes the version (validated
        and sorted from there; no store holds them until the publish, decisions #30)."""
        digest = hashlib.sha256()
        with self.unsorted.open("wb") as version:
            for chunk in chunks:
                version.write(chunk)
                digest.update(chunk)
        self.mapped_digest = digest.hexdigest()

    def _count_lines(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.report.records += chunk.count(b"\n")
            yield chunk

    def _count_triples(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.report.triples += chunk.count(b"\n")
            yield chunk

    def _counted(self, records: Iterable[Any]) -> Iterator[Any]:
        if self.progress is None:
            yield from records
            return
        for number, record in enumerate(records, start=1):
            if number % 10_000 == 0:
                self.progress(number)
            yield record

    def _merge_previous(self, staging: OxigraphStore) -> None:
        """Incremental harvest: keep the published entities the new records did not touch."""
        previous = self.published_version()
        if previous is None:
            return
        with self.unsorted.open("rb") as harvested:
            staging.bulk_load([harvested], self.live)
        with previous.open("rb") as published:
            staging.bulk_load([published], RAW_GRAPH + "/previous")
        staging.update(
            f"INSERT {{ GRAPH <{self.live}> {{ ?s ?p ?o }} }} WHERE {{ "
            f"GRAPH <{RAW_GRAPH}/previous> {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH <{self.live}> {{ ?s ?x ?y }} }} }}"
        )
        staging.dump_graph_to(self.live, self.unsorted)
        self.report.triples = staging.graph_size(self.live)

    @cached_property
    def checks(self) -> str:
        """A digest of what judges a version besides its triples: the shapes, the source's
        quality settings and the controlled vocabularies."""
        digest = hashlib.sha256(self.config.shapes_path.read_bytes())
        digest.update(self.quality.model_dump_json().encode())
        digest.update(repr(sorted(gates.controlled_namespaces(self.config).items())).encode())
        for term in sorted(gates.known_terms(self.config)):
            digest.update(term.encode() + b"\n")
        return digest.hexdigest()

    @cached_property
    def recipe(self) -> str:
        """A digest of what makes a version of this source from its input: the mapping, the
        source's settings, the checks and the hub's version. A source that says its input
        has not changed (HTTP 304, the same file) is believed only under the same recipe."""
        digest = hashlib.sha256(self.checks.encode())
        digest.update(self.config.resolve(self.source.mapping).read_bytes())
        digest.update(self.source.model_dump_json().encode())
        digest.update(_hub_version().encode())
        return digest.hexdigest()

    def _same_recipe(self) -> bool:
        if not self.state.run_id:
            return False
        try:
            return self._published_facts().get("recipe") == self.recipe
        except OSError:  # the mapping or shapes cannot be read: the run will say so
            return False

    def _published_facts(self) -> dict[str, Any]:
        return read_facts(self.layout.version_facts(self.source.id, self.state.run_id))

    def _mapped_as_published(self) -> bool:
        """The mapping wrote exactly what it wrote for the published version (same digest),
        judged by the same checks: that version is this run's, without sorting it again."""
        previous = self.published_version()
        if previous is None or self.context.incremental or not self.mapped_digest:
            return False
        facts = self._published_facts()
        if facts.get("mapped") != self.mapped_digest or facts.get("checks") != self.checks:
            return False
        try:
            os.link(previous, self.version_file)
        except OSError:
            shutil.copyfile(previous, self.version_file)
        self.report.triples = int(facts.get("triples", self.report.triples))
        return True

    def _link_published(self, previous: Path) -> None:
        """Make the version file, equal to the published one, a second name of it: the
        publish then finds an empty change without reading both (`diff_versions`)."""
        linked = self.version_file.with_name(self.version_file.name + ".link")
        try:
            os.link(previous, linked)
            os.replace(linked, self.version_file)
        except OSError:  # no hard links here: the publish compares the two files
            linked.unlink(missing_ok=True)

    def _same_as_published(self) -> bool:
        """The new version is the published one, byte for byte, judged by the same checks."""
        previous = self.published_version()
        if previous is None or previous.stat().st_size != self.version_file.stat().st_size:
            return False
        facts = self._published_facts()
        if facts.get("checks") != self.checks or not filecmp.cmp(
            previous, self.version_file, shallow=False
        ):
            return False
        self._link_published(previous)
        return True

    def _validate(self) -> None:
        shapes_file = self.config.shapes_path
        if not shapes_file.exists():
            raise HubError(f"shapes file {shapes_file} not found; fix hub.shapes in the config")
        shapes = _shapes(str(shapes_file), shapes_file.stat().st_mtime)
        result = validate_ntriples(self.unsorted, shapes, graph=self.live)  # what was staged
        self.validation = result
        self.report.violations = result.error_count
        for violation in result.violations[:100]:
            if violation.severity == "sh:Violation":
                self.report.errors.append(violation.message)
                self.report.public_errors.append(public_violation_text(violation))
            else:
                self.report.warnings.append(f"{violation.severity}: {violation.message}")
        self._judge(gates.shacl_gate(result, self.quality))


class SourceRun(StagedRun):
    """Runs one source once; `execute()` returns the report and never raises for bad data."""

    def __init__(
        self,
        config: HubConfig,
        store: Store,
        source: SourceConfig,
        *,
        progress: Progress | None = None,
        replay: str | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        super().__init__(config, source, progress=progress, replay=replay)
        self.store = store
        self.publisher = publisher or Publisher(config, store)
        self.trust_published_verdict = True
        self.early_change: Change | None = None  # prepared before the checks, not yet written

    def genid(self) -> str:
        return self.publisher.genid(self.source.id)

    def _before_checks(self) -> None:
        """The change set now, so the slow parts of publishing it (a large version's read
        model) work beside SHACL and the gates; a run that does not publish abandons it."""
        with self._phase("change set"):
            change = self.publisher.prepare(self.source.id, self.version_file, self.report.run_id)
        self.early_change = change
        if not change.counts.empty:
            self.publisher.prepare_early(change, self.report)

    def _abandon_early(self) -> None:
        if self.early_change is not None:
            self.publisher.abandon(self.early_change, self.report)
            self.early_change = None

    # -- the run -----------------------------------------------------------
    def execute(self) -> RunReport:
        report = self.report
        publisher = self.publisher
        try:
            self._check_project()
            describe_source(self.store, self.config, self.source)
            publisher.events.emit(Started(report))
            if not self.stage():
                return report
            write_facts(
                self.layout.version_facts(self.source.id, report.run_id), self._version_facts()
            )
            if self.verdict.outcome == "hold":
                self._abandon_early()
                self._hold()
                return report
            with self._phase("publish"):
                change = self.early_change or publisher.prepare(
                    self.source.id, self.version_file, report.run_id
                )
                self.early_change = None
                if change.counts.empty and change.from_run is not None:
                    publisher.discard(change)
                    self._unchanged()
                    return report
                report.ended = datetime.now(UTC)
                publisher.apply(change, report)
        except HubError as exc:
            report.status = "failed"
            report.message = report.message or str(exc)
        except Exception as exc:  # a bug or an unexpected fault: still never publish
            log.exception("run of source %s failed unexpectedly", self.source.id)
            report.status = "failed"
            report.message = f"unexpected {type(exc).__name__}: {exc}"
        except BaseException:  # Ctrl-C, SIGTERM: say so, then stop
            report.status = "interrupted"
            report.message = "stopped by a signal before it ended; nothing was published"
            raise
        finally:
            self._abandon_early()
            report.ended = report.ended or datetime.now(UTC)
            self.unsorted.unlink(missing_ok=True)
            journalled = publisher.journalled(self.source.id) == report.run_id
            if report.status not in ("published", "held") and not journalled:
                # (a publish stopped half-way keeps its version: the next start finishes it)
                self.version_file.unlink(missing_ok=True)
                self.layout.version_facts(self.source.id, report.run_id).unlink(missing_ok=True)
            self.snapshots.prune()
            self._save_report()
            if report.status != "published":  # a publish told its subscribers already
                with self._phase("provenance"):
                    publisher.finished(report)
        return report

    def _save_report(self) -> None:
        """Keep the run's report for review (never lets a report problem fail the run)."""
        try:
            save_report(self.layout, run_document(self, self.changes))
            prune_reports(self.layout, self.source.id)
        except Exception:
            log.exception("the report of run %s could not be saved", self.report.run_id)

    def _version_facts(self) -> dict[str, Any]:
        records = self.report.records
        if self.context.incremental:
            records = max(records, self.state.records)
        return {
            "run_id": self.report.run_id,
            "records": records,
            "triples": self.report.triples,
            "harvest": dict(self.context.state) or dict(self.state.harvest),
            "checks": self.checks,
            "mapped": self.mapped_digest,
            "recipe": self.recipe,
        }

    def _unchanged(self) -> None:
        report = self.report
        report.status = "unchanged"
        report.message = "the harvest gave exactly the published triples; nothing re-published"
        self._keep_harvest_state()

    def _keep_harvest_state(self, *, over_previous: bool = False) -> None:
        """An unchanged run keeps the harvester's new state (ETag, since, the file's
        digests) for the next run: what it describes is what is published.

        `over_previous`: the harvester stopped early (a 304, the same file), so its state
        may be partial; it updates the published run's instead of replacing it."""
        if self.context.state:
            from hub.pipeline.state import save_state

            # read again: a publish this run finished first (recovery) changed the state
            self.state = load_state(self.config.data_path, self.source.id)
            kept = dict(self.state.harvest) if over_previous else {}
            self.state.harvest = kept | dict(self.context.state)
            save_state(self.config.data_path, self.source.id, self.state)

    def _check_project(self) -> None:
        if self.source.project not in known_projects(self.store, self.config):
            raise HubError(
                f"sources.{self.source.id}.project: unknown project `{self.source.project}`; "
                "use a project id of ontology/programme.ttl or declare it under [projects]"
            )

    def _hold(self) -> None:
        """Keep the version in the held folder, for a steward's `hub approve` or `hub reject`."""
        layout, source_id, run_id = self.layout, self.source.id, self.report.run_id
        self.changes = change_preview(
            self.published_version(), self.version_file, layout.versions(source_id),
            self.state.run_id or None, self.iris.entity_prefix(source_id),
        )  # fmt: skip
        layout.held(source_id).mkdir(parents=True, exist_ok=True)
        layout.version_facts(source_id, run_id).replace(layout.held_facts(source_id, run_id))
        self.version_file.replace(layout.held_version(source_id, run_id))
        self.report.status = "held"
        self.report.message = self.hold_message()


@lru_cache(maxsize=1)
def _hub_version() -> str:
    try:
        return metadata.version("marittimo-hub")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_source(
    config: HubConfig,
    store: Store,
    source_id: str,
    *,
    progress: Progress | None = None,
    replay: str | None = None,
) -> RunReport:
    """Harvest (or replay a raw snapshot), map, validate and, if every gate passes, publish."""
    return SourceRun(
        config, store, config.source(source_id), progress=progress, replay=replay
    ).execute()
