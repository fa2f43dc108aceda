"""One run of one source: harvest -> map -> stage -> gates -> validate -> publish, with provenance.

The live graph of a source changes only in the publish step, after every gate
passed; a failure anywhere before leaves it exactly as it was.
"""

from __future__ import annotations

import io
import logging
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from harvesters import HarvestContext, get_harvester
from hub.config import HubConfig, SourceConfig, source_options
from hub.errors import HubError, MappingError
from hub.iris import Iris
from hub.mapping.compile import load_mapping
from hub.mapping.runner import MappingRunner
from hub.pipeline.construct import construct_chunks, load_construct
from hub.pipeline.digest import GraphDigest, file_digest
from hub.pipeline.programme import known_projects
from hub.pipeline.provenance import RunReport, describe_source, record_run
from hub.pipeline.snapshots import SnapshotStore
from hub.pipeline.state import SourceState, load_state, save_state
from hub.pipeline.stream import ChunkReader
from hub.store import staging_store
from hub.store.oxigraph import OxigraphStore
from hub.validation import load_shapes, validate_graph

log = logging.getLogger("hub.pipeline")
Progress = Callable[[int], None]
RAW_GRAPH = "urn:marittimo-hub:raw"


@lru_cache(maxsize=4)
def _shapes(path: str, mtime: float):  # noqa: ANN202 - parsed shapes, cached per file version
    return load_shapes(path)


def _tee(chunks: Iterable[bytes], out: BinaryIO) -> Iterator[bytes]:
    for chunk in chunks:
        out.write(chunk)
        yield chunk


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: UTC time plus a short random tail."""
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)


class SourceRun:
    """Runs one source once; `execute()` returns the report and never raises for bad data."""

    def __init__(
        self,
        config: HubConfig,
        store: OxigraphStore,
        source: SourceConfig,
        *,
        progress: Progress | None = None,
        replay: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.source = source
        self.iris = Iris(config.base_iri)
        self.progress = progress
        self.replay = replay  # a run id, or "latest": map a raw snapshot instead of harvesting
        now = datetime.now(UTC)
        self.report = RunReport(
            source=source.id, run_id=new_run_id(now), started=now, mapping_file=source.mapping
        )
        self.live = self.iris.source_graph(source.id)
        data = config.data_path
        self.versions = data / "versions" / source.id
        self.version_file = self.versions / f"{self.report.run_id}.nt"
        self.staging_dir = data / "staging" / f"{source.id}-{self.report.run_id}"
        self.snapshots = SnapshotStore(data, source.id, config.hub.raw_keep)
        self.state = load_state(data, source.id)
        self.context = HarvestContext(previous=dict(self.state.harvest))
        self.digest: GraphDigest | None = GraphDigest()

    # -- the run -----------------------------------------------------------
    def execute(self) -> RunReport:
        report = self.report
        try:
            self._check_project()
            describe_source(self.store, self.config, self.source)
            with staging_store(self.staging_dir) as staging:
                with self._phase("harvest+map+stage"):
                    self._stage(staging)
                if self.context.unchanged:
                    report.status = "unchanged"
                    report.message = "the source reports no change since the last published run"
                    return report
                if self.context.incremental:
                    with self._phase("merge"):
                        self._merge_previous(staging)
                self._gate()
                with self._phase("validate"):
                    self._validate(staging)
            if self._same_as_published():
                report.status = "unchanged"
                report.message = (
                    "the harvest gave exactly the published triples; nothing re-published"
                )
                if self.context.state:  # keep the new ETag / since for the next conditional request
                    self.state.harvest = dict(self.context.state)
                    save_state(self.config.data_path, self.source.id, self.state)
                return report
            if self._held():
                return report
            with self._phase("publish"):
                self.store.publish_file(self.live, self.version_file)
                report.status = "published"
                self._after_publish()
        except HubError as exc:
            report.status = "failed"
            report.message = report.message or str(exc)
        except Exception as exc:  # a bug or an unexpected fault: still never publish
            log.exception("run of source %s failed unexpectedly", self.source.id)
            report.status = "failed"
            report.message = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            report.ended = datetime.now(UTC)
            if report.status not in ("published", "held"):
                self.version_file.unlink(missing_ok=True)
            self.snapshots.prune()
            try:
                with self._phase("provenance"):
                    record_run(self.store, self.config, report)
            except Exception:  # provenance must not hide the run's own outcome
                log.exception("could not record run %s of %s", report.run_id, self.source.id)
        return report

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            phases = self.report.phases
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

    def _check_project(self) -> None:
        if self.source.project not in known_projects(self.store, self.config):
            raise HubError(
                f"sources.{self.source.id}.project: unknown project `{self.source.project}`; "
                "use a project id of ontology/programme.ttl or declare it under [projects]"
            )

    # -- staging -----------------------------------------------------------
    def _stage(self, staging: OxigraphStore) -> None:
        harvest = get_harvester(self.source.kind)
        self.versions.mkdir(parents=True, exist_ok=True)
        if getattr(harvest, "produces", "records") == "ntriples":
            self._stage_rdf(staging, harvest)
        else:
            self._stage_records(staging, harvest)

    def _records(self, harvest: Any) -> Iterator[Any]:
        if self.replay:
            path = self.snapshots.latest(None if self.replay == "latest" else self.replay)
            self.report.message = f"replayed raw snapshot {path.name}"
            return self.snapshots.read_records(path)
        options = source_options(self.config, self.source)
        records = harvest(self.source.id, options, root=self.config.root, context=self.context)
        return self.snapshots.tee_records(records, self.report.run_id)

    def _stage_records(self, staging: OxigraphStore, harvest: Any) -> None:
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
        runner = MappingRunner(mapping, source=source.id, record_key=source.key)
        chunks = runner.run(self._counted(self._records(harvest)))
        try:
            self._load(staging, chunks, self.live, tee_version=True)
        finally:
            stats = runner.stats
            report.records, report.record_errors = stats.records, stats.failed
            report.triples = stats.triples
            report.errors = [f.message(source.id) for f in stats.failures]
            if not self.context.unchanged:
                report.warnings = runner.unmatched_references()

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
        self._load(staging, self._count_lines(chunks), RAW_GRAPH, tee_version=False)
        if self.context.unchanged:
            return
        self.report.triples = 0
        mapped = self._count_triples(construct_chunks(staging, RAW_GRAPH, query))
        self._load(staging, mapped, self.live, tee_version=True)

    def _load(
        self, staging: OxigraphStore, chunks: Iterable[bytes], graph: str, *, tee_version: bool
    ) -> None:
        if not tee_version:
            staging.bulk_load([io.BufferedReader(ChunkReader(chunks), 1 << 20)], graph)
            return
        with self.version_file.open("wb") as version:
            # The N-Triples go to the staging store and, as they pass, to the version
            # file that publishing loads (no second serialization).
            stream = ChunkReader(_tee(self.digest.tee(chunks), version))
            staging.bulk_load([io.BufferedReader(stream, 1 << 20)], graph)

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
        previous = (
            self.config.data_path / self.state.version_file if self.state.version_file else None
        )
        if previous is None or not previous.exists():
            return
        staging.bulk_load([previous.open("rb")], RAW_GRAPH + "/previous")
        staging.update(
            f"INSERT {{ GRAPH <{self.live}> {{ ?s ?p ?o }} }} WHERE {{ "
            f"GRAPH <{RAW_GRAPH}/previous> {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH <{self.live}> {{ ?s ?x ?y }} }} }}"
        )
        staging.dump_graph_to(self.live, self.version_file)
        self.digest = None  # the merged graph is fingerprinted from the file
        self.report.triples = staging.graph_size(self.live)

    # -- gates ---------------------------------------------------------------
    def _gate(self) -> None:
        report = self.report
        quality = self.config.quality_for(self.source)
        if report.records < quality.min_records:
            report.message = (
                f"{report.records} records harvested, fewer than the minimum {quality.min_records}; "
                "check the source (empty file, wrong query?) — nothing was published"
            )
            raise HubError(report.message)
        rate = report.record_errors / report.records if report.records else 0.0
        if rate > quality.max_error_rate:
            report.message = (
                f"{report.record_errors} of {report.records} records ({rate:.0%}) could not be "
                f"mapped, above the limit of {quality.max_error_rate:.0%}; fix the mapping or "
                "the data (see the errors) — nothing was published"
            )
            raise HubError(report.message)

    def _validate(self, staging: OxigraphStore) -> None:
        shapes_file = self.config.shapes_path
        if not shapes_file.exists():
            raise HubError(f"shapes file {shapes_file} not found; fix hub.shapes in the config")
        shapes = _shapes(str(shapes_file), shapes_file.stat().st_mtime)
        result = validate_graph(staging, self.live, shapes)
        self.report.violations = result.error_count
        for violation in result.violations[:100]:
            if violation.severity == "sh:Violation":
                self.report.errors.append(violation.message)
            else:
                self.report.warnings.append(f"{violation.severity}: {violation.message}")
        if result.error_count and self.config.quality_for(self.source).fail_on_shacl_violation:
            self.report.message = (
                f"{result.error_count} SHACL violation(s) in the staged data; "
                "fix the mapping or the data — nothing was published"
            )
            raise HubError(self.report.message)

    def _same_as_published(self) -> bool:
        """True when the staged triples equal the published version (order aside)."""
        if not self.state.digest:
            return False
        if self.digest is not None:
            self.report_digest = self.digest.hexdigest()
        else:
            self.report_digest = file_digest(self.version_file)
        return self.report_digest == self.state.digest

    def _held(self) -> bool:
        """Hold a full harvest far smaller than the last published one, for a steward to approve."""
        quality = self.config.quality_for(self.source)
        last = self.state.records
        if self.context.incremental or not last:
            return False
        if self.report.records >= last * (1 - quality.max_drop):
            return False
        held = self.versions / "held"
        held.mkdir(parents=True, exist_ok=True)
        self.version_file.replace(held / self.version_file.name)
        save_held(held / f"{self.report.run_id}.json", self.report, self.context)
        self.report.status = "held"
        self.report.message = (
            f"{self.report.records} records, {1 - self.report.records / last:.0%} fewer than the "
            f"{last} of the last published run (limit {quality.max_drop:.0%}); held for review: "
            f"`hub approve {self.source.id}` publishes it, the next good harvest replaces it"
        )
        return True

    def _after_publish(self) -> None:
        save_state(
            self.config.data_path,
            self.source.id,
            SourceState(
                run_id=self.report.run_id,
                records=self.report.records
                if not self.context.incremental
                else max(self.report.records, self.state.records),
                triples=self.report.triples,
                version_file=str(self.version_file.relative_to(self.config.data_path)),
                digest=getattr(self, "report_digest", "")
                or (self.digest.hexdigest() if self.digest else file_digest(self.version_file)),
                harvest=dict(self.context.state) or dict(self.state.harvest),
            ),
        )
        prune_versions(self.versions, self.config.hub.keep_versions)
        shutil.rmtree(self.versions / "held", ignore_errors=True)
        refresh_read_model(self.config, self.source.id, self.version_file, self.report)


def refresh_read_model(config: HubConfig, source_id: str, version: Path, report: RunReport) -> None:
    """Rebuild the API's read model of a just-published source (derived data: a failure is
    logged and reported, and `hub serve` rebuilds it at start-up)."""
    from hub.readmodel import rebuild_source

    try:
        with_phase = time.perf_counter()
        rebuild_source(
            config,
            source_id,
            version,
            published=report.ended or datetime.now(UTC),
            run_id=report.run_id,
        )
        report.phases["read model"] = time.perf_counter() - with_phase
    except Exception as exc:  # the published graph is fine; only the API's index is stale
        log.exception("read model of %s not rebuilt", source_id)
        report.warnings.append(
            f"the API's read model was not rebuilt ({exc}); it is rebuilt at start-up"
        )


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_held(path: Path, report: RunReport, context: HarvestContext) -> None:
    """What `hub approve` needs to publish a held run later."""
    import json

    path.write_text(
        json.dumps(
            {
                "run_id": report.run_id,
                "records": report.records,
                "triples": report.triples,
                "harvest": context.state,
            }
        ),
        encoding="utf-8",
    )


def prune_versions(folder: Path, keep: int) -> None:
    """Keep the newest `keep` version files of a source (for rollback)."""
    files = sorted(folder.glob("*.nt"))
    for old in files[: max(0, len(files) - keep)]:
        old.unlink(missing_ok=True)


def run_source(
    config: HubConfig,
    store: OxigraphStore,
    source_id: str,
    *,
    progress: Progress | None = None,
    replay: str | None = None,
) -> RunReport:
    """Harvest (or replay a raw snapshot), map, validate and, if every gate passes, publish."""
    return SourceRun(
        config, store, config.source(source_id), progress=progress, replay=replay
    ).execute()
