"""Describe sources (DCAT) and runs (PROV-O) in the metadata graph."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from hub.config import HubConfig, SourceConfig
from hub.iris import DCAT, DCT, MH, PROV, RDF, XSD, Iris
from hub.mapping.terms import nt_literal
from hub.store.base import Store


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: UTC time plus a short random tail."""
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)


@dataclass
class RunReport:
    """What one run of one source did; written to the metadata graph and shown by the CLI."""

    source: str
    run_id: str
    started: datetime
    ended: datetime | None = None
    status: str = "running"
    records: int = 0
    record_errors: int = 0
    triples: int = 0
    violations: int = 0
    mapping_file: str = ""
    mapping_hash: str = ""
    actor: str = ""  # who decided (approve, reject, rollback), for the audit trail
    message: str = ""
    errors: list[str] = field(default_factory=list)  # with record values: stewards only
    public_errors: list[str] = field(default_factory=list)  # the same, values hidden
    warnings: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run did what it should: published, or found nothing changed."""
        return self.status in ("published", "unchanged")

    @property
    def seconds(self) -> float:
        return ((self.ended or self.started) - self.started).total_seconds()

    def summary(self) -> str:
        """One line for the terminal."""
        head = f"{self.source}: {self.status.upper()}"
        counts = (
            f"{self.records} records, {self.record_errors} rejected, {self.triples} triples, "
            f"{self.violations} violations, {self.seconds:.1f}s"
        )
        tail = f" — {self.message}" if self.message else ""
        return f"{head} ({counts}){tail}"


def _iri(value: str) -> str:
    return f"<{value}>"


def _int(value: int) -> str:
    return nt_literal(str(value), XSD + "integer")


def _time(value: datetime) -> str:
    return nt_literal(value.isoformat(), XSD + "dateTime")


def describe_source(store: Store, config: HubConfig, source: SourceConfig) -> None:
    """(Re)write the DCAT description of a source; its run history is kept."""
    iris = Iris(config.base_iri)
    dataset = _iri(iris.dataset(source.id))
    catalog = _iri(iris.dataset("catalog").rsplit("/", 2)[0] + "/catalog")
    meta = _iri(iris.meta_graph)
    title = source.title or source.id
    triples = [
        (catalog, _iri(RDF + "type"), _iri(DCAT + "Catalog")),
        (catalog, _iri(DCT + "title"), nt_literal("Marittimo Hub catalogue", language="en")),
        (catalog, _iri(DCAT + "dataset"), dataset),
        (dataset, _iri(RDF + "type"), _iri(DCAT + "Dataset")),
        (dataset, _iri(DCT + "identifier"), nt_literal(source.id)),
        (dataset, _iri(DCT + "title"), nt_literal(title)),
        (dataset, _iri(DCT + "license"), _iri(source.licence)),
        (dataset, _iri(MH + "project"), _iri(iris.project(source.project))),
        (dataset, _iri(MH + "namedGraph"), _iri(iris.source_graph(source.id))),
        (dataset, _iri(MH + "harvesterKind"), nt_literal(source.kind)),
        (dataset, _iri(MH + "mappingFile"), nt_literal(source.mapping)),
        (dataset, _iri(DCAT + "contactPoint"), _contact(source.steward)),
    ]
    if source.description:
        triples.append((dataset, _iri(DCT + "description"), nt_literal(source.description)))
    if source.schedule is not None:
        text = source.schedule.cron or f"every {source.schedule.every}"
        triples.append((dataset, _iri(MH + "schedule"), nt_literal(text)))
    body = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    keep = f"<{MH}lastRun>|<{PROV}wasGeneratedBy>|<{DCT}modified>"
    store.update(
        f"DELETE {{ GRAPH {meta} {{ {dataset} ?p ?o }} }} "
        f"WHERE {{ GRAPH {meta} {{ {dataset} ?p ?o FILTER(?p NOT IN ({keep.replace('|', ', ')})) }} }};\n"
        f"INSERT DATA {{ GRAPH {meta} {{ {body} }} }}"
    )


def _contact(steward: str) -> str:
    if ":" in steward and " " not in steward:
        return _iri(steward)
    return nt_literal(steward)


def record_run(
    store: Store,
    config: HubConfig,
    report: RunReport,
    max_errors: int = 20,
    *,
    version: str | None = None,
) -> None:
    """Write one run to the metadata graph (replacing what an earlier call wrote of it);
    on publish, point the dataset at it. `version`: the run id of the published triples."""
    iris = Iris(config.base_iri)
    run = _iri(iris.run(report.source, report.run_id))
    dataset = _iri(iris.dataset(report.source))
    meta = _iri(iris.meta_graph)
    triples = [
        (run, _iri(RDF + "type"), _iri(PROV + "Activity")),
        (run, _iri(RDF + "type"), _iri(MH + "Run")),
        (run, _iri(PROV + "used"), dataset),
        (run, _iri(PROV + "startedAtTime"), _time(report.started)),
        (run, _iri(MH + "status"), nt_literal(report.status)),
        (run, _iri(MH + "recordCount"), _int(report.records)),
        (run, _iri(MH + "recordErrorCount"), _int(report.record_errors)),
        (run, _iri(MH + "tripleCount"), _int(report.triples)),
        (run, _iri(MH + "violationCount"), _int(report.violations)),
        (run, _iri(MH + "mappingFile"), nt_literal(report.mapping_file)),
    ]
    if report.ended:
        triples.append((run, _iri(PROV + "endedAtTime"), _time(report.ended)))
    if report.mapping_hash:
        triples.append((run, _iri(MH + "mappingHash"), nt_literal(report.mapping_hash)))
    if report.message:
        triples.append((run, _iri(MH + "statusMessage"), nt_literal(report.message)))
    if report.actor:
        triples.append((run, _iri(MH + "actor"), nt_literal(report.actor)))
    # The metadata graph is public: record values stay in the run's report (stewards only).
    for error in report.public_errors[:max_errors]:
        triples.append((run, _iri(MH + "errorMessage"), nt_literal(error)))
    if report.ok:
        triples.append((run, _iri(PROV + "generated"), _iri(iris.source_graph(report.source))))
    if report.status == "published":
        kept = version or report.run_id
        triples.append((run, _iri(MH + "version"), nt_literal(kept)))
        triples.append(
            (run, _iri(MH + "versionFile"), nt_literal(f"versions/{report.source}/{kept}.nt"))
        )
    body = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    update = (
        f"DELETE WHERE {{ GRAPH {meta} {{ {run} ?p ?o }} }};\n"
        f"INSERT DATA {{ GRAPH {meta} {{ {body} }} }}"
    )
    if report.ok:
        stamp = _time(report.ended or report.started)
        update = (
            f"DELETE WHERE {{ GRAPH {meta} {{ {dataset} <{PROV}wasGeneratedBy> ?r }} }};\n"
            f"DELETE WHERE {{ GRAPH {meta} {{ {dataset} <{DCT}modified> ?m }} }};\n"
            f"{update};\n"
            f"INSERT DATA {{ GRAPH {meta} {{ {dataset} <{PROV}wasGeneratedBy> {run} . "
            f"{dataset} <{DCT}modified> {stamp} . }} }}"
        )
    store.update(update)
