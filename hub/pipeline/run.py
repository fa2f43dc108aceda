"""One run of one source: harvest -> map -> stage -> validate -> publish, with provenance.

The live graph of a source changes only in `publish`, after every gate passed;
any failure before that drops the staging graph and leaves the live graph as it was.
"""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import BinaryIO

from harvesters import get_harvester
from hub.config import HubConfig, SourceConfig, source_options
from hub.errors import HubError
from hub.iris import Iris
from hub.mapping.compile import load_mapping
from hub.mapping.runner import MappingRunner
from hub.pipeline.programme import known_projects
from hub.pipeline.provenance import RunReport, describe_source, record_run
from hub.pipeline.stream import ChunkReader
from hub.store import staging_store
from hub.store.oxigraph import OxigraphStore
from hub.validation import load_shapes, validate_graph

log = logging.getLogger("hub.pipeline")
Progress = Callable[[int], None]


@lru_cache(maxsize=4)
def _shapes(path: str):  # noqa: ANN202 - cached parsed shapes
    return load_shapes(path)


def _tee(chunks: Iterator[bytes], out: BinaryIO) -> Iterator[bytes]:
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
    ) -> None:
        self.config = config
        self.store = store
        self.source = source
        self.iris = Iris(config.base_iri)
        self.progress = progress
        now = datetime.now(UTC)
        self.report = RunReport(
            source=source.id, run_id=new_run_id(now), started=now, mapping_file=source.mapping
        )
        self.live = self.iris.source_graph(source.id)
        self.versions = config.data_path / "versions" / source.id
        self.version_file = self.versions / f"{self.report.run_id}.nt"
        self.staging_dir = config.data_path / "staging" / f"{source.id}-{self.report.run_id}"

    def execute(self) -> RunReport:
        report = self.report
        try:
            self._check_project()
            describe_source(self.store, self.config, self.source)
            with staging_store(self.staging_dir) as staging:
                with self._phase("harvest+map+stage"):
                    self._stage(staging)
                self._gate()
                with self._phase("validate"):
                    self._validate(staging)
            with self._phase("publish"):
                self.store.publish_file(self.live, self.version_file)
                report.status = "published"
                self._prune_versions()
        except HubError as exc:
            report.status = "failed"
            report.message = report.message or str(exc)
        except Exception as exc:  # a bug or an unexpected fault: still never publish
            log.exception("run of source %s failed unexpectedly", self.source.id)
            report.status = "failed"
            report.message = f"unexpected {type(exc).__name__}: {exc}"
        finally:
            report.ended = datetime.now(UTC)
            if report.status != "published":
                self.version_file.unlink(missing_ok=True)
            try:
                with self._phase("provenance"):
                    record_run(self.store, self.config, report)
            except Exception:  # provenance must not hide the run's own outcome
                log.exception("could not record run %s of %s", report.run_id, self.source.id)
        return report

    @contextmanager
    def _phase(self, name: str):  # noqa: ANN202 - times one step of the run
        start = time.perf_counter()
        try:
            yield
        finally:
            self.report.phases[name] = (
                self.report.phases.get(name, 0.0) + time.perf_counter() - start
            )

    def _check_project(self) -> None:
        if self.source.project not in known_projects(self.store, self.config):
            raise HubError(
                f"sources.{self.source.id}.project: unknown project `{self.source.project}`; "
                "use a project id of ontology/programme.ttl or declare it under [projects]"
            )

    def _stage(self, staging: OxigraphStore) -> None:
        report, source = self.report, self.source
        mapping = load_mapping(
            self.config.resolve(source.mapping),
            source_id=source.id,
            iris=self.iris,
            display=source.mapping,
        )
        report.mapping_hash = mapping.sha256
        harvest = get_harvester(source.kind)
        records = harvest(source.id, source_options(self.config, source), root=self.config.root)
        runner = MappingRunner(mapping, source=source.id, record_key=source.key)
        chunks = runner.run(self._counted(records))
        self.versions.mkdir(parents=True, exist_ok=True)
        try:
            with self.version_file.open("wb") as version:
                # The mapped N-Triples go to the staging store and, as they pass, to the
                # version file that publishing will load (no second serialization).
                tee = _tee(chunks, version)
                staging.bulk_load([io.BufferedReader(ChunkReader(tee), 1 << 20)], self.live)
        finally:
            stats = runner.stats
            report.records, report.record_errors, report.triples = (
                stats.records,
                stats.failed,
                stats.triples,
            )
            report.errors = [f.message(source.id) for f in stats.failures]
            report.warnings = runner.unmatched_references()

    def _counted(self, records):  # noqa: ANN001, ANN202 - passes records through
        if self.progress is None:
            yield from records
            return
        for number, record in enumerate(records, start=1):
            if number % 10_000 == 0:
                self.progress(number)
            yield record

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
        result = validate_graph(staging, self.live, _shapes(str(shapes_file)))
        self.report.violations = result.error_count
        self.report.errors.extend(v.message for v in result.violations[:50])
        if result.error_count and self.config.quality_for(self.source).fail_on_shacl_violation:
            self.report.message = (
                f"{result.error_count} SHACL violation(s) in the staged data; "
                "fix the mapping or the data — nothing was published"
            )
            raise HubError(self.report.message)

    def _prune_versions(self) -> None:
        """Keep the newest `keep_versions` version files of this source (for rollback)."""
        files = sorted(self.versions.glob("*.nt"))
        for old in files[: -self.config.hub.keep_versions]:
            old.unlink(missing_ok=True)


def run_source(
    config: HubConfig, store: OxigraphStore, source_id: str, *, progress: Progress | None = None
) -> RunReport:
    """Harvest, map, validate and (if every gate passes) publish one source."""
    return SourceRun(config, store, config.source(source_id), progress=progress).execute()
