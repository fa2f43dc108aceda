"""GET /api/v1/programme/matrix: each working group's member projects × the result types it
asked for, integrated (by which published sources) or missing.

Nothing here is hand-kept. The working groups, their members and the result types they asked
for (`mh:requestedResultType`) come from the programme graph (ontology/programme.ttl); which
classes or harvester kinds count as a result type (`mh:resultClass`, `mh:resultHarvesterKind`)
from the result-type scheme; which classes each published source's entities have from the read
model's cells (exact counts: every entity is in one cell); classes that are not API entities
(mh:Certification) are counted in the store; freshness from the runs in the metadata graph.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.api.errors import ApiError
from hub.api.v1 import common as doc
from hub.api.v1.caching import send
from hub.api.v1.deps import ConfigDep, ReadModelDep, StoreDep, blocking, snapshot
from hub.api.v1.formats import CSV, JSON, choose, dump_json, to_csv
from hub.api.v1.params import check_known, one, parse_lang
from hub.catalog import is_late
from hub.config import HubConfig
from hub.errors import HubError
from hub.iris import MH, PROV, RDF, SCHEMA, SKOS, Iris
from hub.pipeline.programme import programme_turtle
from hub.readmodel import ReadModel, Snapshot
from hub.readmodel._programme import class_name
from hub.readmodel._text import pick
from hub.store import Store

router = APIRouter(tags=["programme"])

RESULT_SCHEME = "https://w3id.org/marittimo-hub/result-type"
"""The SKOS scheme of result types (ontology/programme.ttl)."""

MATRIX_FORMATS = (JSON, CSV)
CSV_COLUMNS = (
    "working_group",
    "project",
    "lead",
    "result_type",
    "status",
    "entities",
    "sources",
    "last_success",
    "late",
    "described",
)


@dataclass(frozen=True)
class ResultType:
    """A result type of the scheme and what counts as one."""

    id: str
    iri: str
    labels: dict[str, str]
    definitions: dict[str, str]
    classes: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class ProgrammeResults:
    """What the programme graph says about result types: the scheme, who asked for what,
    and what the programme graph itself describes (a project's quality mark)."""

    result_types: dict[str, ResultType]
    requested: dict[str, tuple[str, ...]]
    """Working group IRI -> result type ids it asked for."""
    described: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    """(project IRI, class IRI) -> resources of the programme graph (iri, names)."""


def _texts(store: ox.Store, subject: str, predicate: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for quad in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None):
        if isinstance(quad.object, ox.Literal):
            out.setdefault(quad.object.language or "", quad.object.value)
    return dict(sorted(out.items()))


def _objects(store: ox.Store, subject: str, predicate: str) -> list[ox.NamedNode | ox.Literal]:
    found = store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)
    return [q.object for q in found]  # type: ignore[misc]


def read_programme_results(data: bytes) -> ProgrammeResults:
    """The result types, the groups' requests and programme-described results, from N-Triples."""
    graph = ox.Store()
    graph.load(data, ox.RdfFormat.N_TRIPLES)
    types: dict[str, ResultType] = {}
    by_iri: dict[str, str] = {}
    in_scheme = graph.quads_for_pattern(
        None, ox.NamedNode(SKOS + "inScheme"), ox.NamedNode(RESULT_SCHEME)
    )
    for iri in sorted({q.subject.value for q in in_scheme}):
        notation = [t.value for t in _objects(graph, iri, SKOS + "notation")]
        slug = min(notation) if notation else iri.rsplit("/", 1)[-1]
        classes = sorted(
            t.value for t in _objects(graph, iri, MH + "resultClass") if isinstance(t, ox.NamedNode)
        )
        kinds = sorted(t.value for t in _objects(graph, iri, MH + "resultHarvesterKind"))
        types[slug] = ResultType(
            id=slug,
            iri=iri,
            labels=_texts(graph, iri, SKOS + "prefLabel"),
            definitions=_texts(graph, iri, SKOS + "definition"),
            classes=tuple(classes),
            kinds=tuple(kinds),
        )
        by_iri[iri] = slug
    requested: dict[str, list[str]] = defaultdict(list)
    for quad in graph.quads_for_pattern(None, ox.NamedNode(MH + "requestedResultType"), None):
        if quad.object.value in by_iri:
            requested[quad.subject.value].append(by_iri[quad.object.value])
    described: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    classes = {c for t in types.values() for c in t.classes}
    for cls in sorted(classes):
        instances = graph.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(cls))
        for subject in sorted({q.subject.value for q in instances}):
            names = _texts(graph, subject, SCHEMA + "name")
            for project in _objects(graph, subject, MH + "project"):
                described[(project.value, cls)].append({"iri": subject, "names": names})
    return ProgrammeResults(
        result_types=types,
        requested={g: tuple(sorted(set(ids))) for g, ids in requested.items()},
        described=dict(described),
    )


class _Cache:
    """One computed value per key (the programme's or the published data's version)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Any] = {}

    def get(self, key: str, compute: Any) -> Any:
        with self._lock:
            if key in self._items:
                return self._items[key]
        value = compute()
        with self._lock:
            if len(self._items) > 16:
                self._items.clear()
            self._items[key] = value
        return value


_PROGRAMME = _Cache()
_STORE_COUNTS = _Cache()


def _cells(snap: Snapshot) -> dict[str, list[tuple[frozenset[str], int]]]:
    """Per source: (the class names an entity has, how many entities have exactly those)."""
    out: dict[str, list[tuple[frozenset[str], int]]] = defaultdict(list)
    for source, types, n in snap.conn.execute("SELECT source, types, n FROM cells"):
        out[source].append((frozenset(t for t in types.split("|") if t), int(n)))
    return out


def _store_counts(
    store: Store, iris: Iris, sources: list[str], classes: list[str]
) -> dict[tuple[str, str], int]:
    """Instances of `classes` per (source, class) in the sources' published graphs."""
    if not sources or not classes:
        return {}
    graphs = " ".join(f"<{iris.source_graph(s)}>" for s in sorted(sources))
    values = " ".join(f"<{c}>" for c in sorted(classes))
    rows = store.select(
        f"SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} "
        f"VALUES ?c {{ {values} }} GRAPH ?g {{ ?s <{RDF}type> ?c }} }} GROUP BY ?g ?c"
    )
    source_of = {iris.source_graph(s): s for s in sources}
    return {(source_of[r["g"].value], r["c"].value): int(r["n"].value) for r in rows}


def _freshness(store: Store, config: HubConfig) -> dict[str, dict[str, Any]]:
    """Per source: last successful run (published or unchanged), latest status, late or not."""
    iris = Iris(config.base_iri)
    rows = store.select(
        f"""SELECT ?dataset ?status ?start WHERE {{
          GRAPH <{iris.meta_graph}> {{
            ?run <{PROV}used> ?dataset ; <{MH}status> ?status ; <{PROV}startedAtTime> ?start .
          }}
        }}"""
    )
    good: dict[str, str] = {}
    latest: dict[str, tuple[str, str]] = {}
    for row in rows:
        dataset, status, start = row["dataset"].value, row["status"].value, row["start"].value
        if status in ("published", "unchanged"):
            good[dataset] = max(good.get(dataset, ""), start)
        if dataset not in latest or start > latest[dataset][0]:
            latest[dataset] = (start, status)
    out = {}
    for source in config.sources.values():
        dataset = iris.dataset(source.id)
        last_good = good.get(dataset)
        out[source.id] = {
            "last_success": last_good,
            "last_status": latest[dataset][1] if dataset in latest else None,
            "late": is_late(source, last_good),
        }
    return out


def integration_matrix(
    config: HubConfig, store: Store, snap: Snapshot, language: str
) -> dict[str, Any]:
    """The matrix as a JSON-ready dict (see docs/api.md); reads the store for freshness."""
    iris = Iris(config.base_iri)
    results: ProgrammeResults = _PROGRAMME.get(
        f"{config.base_iri}|{snap.programme_version}",
        lambda: read_programme_results(programme_turtle(config)),
    )
    groups = snap.programme("working_group")
    projects = snap.programme("project")
    published = snap.sources
    cells = _cells(snap)
    in_cells = {name for rows in cells.values() for types, _ in rows for name in types}
    # Classes never seen as API entities (mh:Certification is a node the entities point to)
    # are counted in the store; the published data's version keys the cache.
    elsewhere = sorted(
        {
            c
            for t in results.result_types.values()
            for c in t.classes
            if class_name(c) not in in_cells
        }
    )
    try:
        counted = _STORE_COUNTS.get(
            f"{config.base_iri}|{snap.version()}",
            lambda: _store_counts(store, iris, sorted(published), elsewhere),
        )
        fresh = _freshness(store, config)
    except HubError as exc:
        raise ApiError(503, f"the store cannot be read: {exc}") from None

    def source_result(source_id: str, rtype: ResultType) -> dict[str, Any] | None:
        source = config.sources.get(source_id)
        info = published.get(source_id)
        if source is None or info is None:
            return None
        wanted = {class_name(c) for c in rtype.classes}
        matched = sorted(
            {n for types, _ in cells.get(source_id, []) for n in types & wanted}
            | {class_name(c) for c in rtype.classes if counted.get((source_id, c))}
        )
        if source.kind in rtype.kinds:
            via, entities = "harvester_kind", info.entities
        elif matched:
            via = "class"
            entities = sum(n for types, n in cells.get(source_id, []) if types & wanted)
            entities += sum(counted.get((source_id, c), 0) for c in rtype.classes)
        else:
            return None
        return {
            "id": source_id,
            "title": source.title or source_id,
            "kind": source.kind,
            "via": via,
            "classes": matched,
            "entities": entities,
            "published": info.published,
            **fresh.get(source_id, {}),
        }

    def label(values: Mapping[str, str], fallback: str) -> str:
        return pick(values, language)[0] or fallback

    type_items = {
        t.id: {
            "id": t.id,
            "iri": t.iri,
            "name": label(t.labels, t.id),
            "definition": pick(t.definitions, language)[0],
            "classes": [class_name(c) for c in t.classes],
            "harvester_kinds": list(t.kinds),
        }
        for t in results.result_types.values()
    }
    total = integrated = 0
    group_items = []
    for group_id, group in groups.items():
        asked = [t for t in results.requested.get(group["iri"], ()) if t in type_items]
        members = sorted(
            set(group["members"]) | set(group["lead"]),
            key=lambda p: (
                p not in group["lead"],
                label(projects.get(p, {}).get("names", {}), p).lower(),
            ),
        )
        rows = []
        for project_id in members:
            project = projects.get(project_id, {})
            project_iri = project.get("iri") or iris.project(project_id)
            project_cells = []
            for type_id in asked:
                rtype = results.result_types[type_id]
                found = [
                    r
                    for s in sorted(config.sources)
                    if config.sources[s].project == project_id
                    and (r := source_result(s, rtype)) is not None
                ]
                described = [
                    {"iri": d["iri"], "name": label(d["names"], d["iri"])}
                    for c in rtype.classes
                    for d in results.described.get((project_iri, c), [])
                ]
                successes = [r["last_success"] for r in found if r.get("last_success")]
                total += 1
                integrated += bool(found)
                project_cells.append(
                    {
                        "result_type": type_id,
                        "status": "integrated" if found else "missing",
                        "entities": sum(r["entities"] for r in found),
                        "sources": found,
                        "last_success": max(successes) if successes else None,
                        "late": any(r.get("late") for r in found),
                        "described": described,
                    }
                )
            rows.append(
                {
                    "id": project_id,
                    "name": label(project.get("names", {}), project_id),
                    "lead": project_id in group["lead"],
                    "cells": project_cells,
                }
            )
        group_items.append(
            {
                "id": group_id,
                "iri": group["iri"],
                "name": label(group.get("names", {}), group_id),
                "lead": group["lead"],
                "result_types": asked,
                "projects": rows,
                "integrated": sum(c["status"] == "integrated" for r in rows for c in r["cells"]),
                "cells": sum(len(r["cells"]) for r in rows),
            }
        )
    return {
        "lang": language,
        "result_types": list(type_items.values()),
        "working_groups": group_items,
        "summary": {"cells": total, "integrated": integrated, "missing": total - integrated},
    }


def matrix_rows(matrix: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One flat row per cell (the CSV form)."""
    rows = []
    for group in matrix["working_groups"]:
        for project in group["projects"]:
            for cell in project["cells"]:
                rows.append(
                    {
                        "working_group": group["id"],
                        "project": project["id"],
                        "lead": "yes" if project["lead"] else "no",
                        "result_type": cell["result_type"],
                        "status": cell["status"],
                        "entities": cell["entities"],
                        "sources": [s["id"] for s in cell["sources"]],
                        "last_success": cell["last_success"],
                        "late": "yes" if cell["late"] else "no",
                        "described": [d["iri"] for d in cell["described"]],
                    }
                )
    return rows


def read_matrix(
    config: HubConfig, store: Store, readmodel: ReadModel, language: str
) -> dict[str, Any]:
    """The matrix from a fresh read-model snapshot (503 when nothing is published yet)."""
    with snapshot(readmodel) as snap:
        return integration_matrix(config, store, snap, language)


@router.get(
    "/programme/matrix",
    summary="Working groups × member projects × requested result types: integrated or missing",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}},
        **doc.ERRORS,
    },
    openapi_extra=doc.documented(
        "lang",
        "format",
        extra={"format": ("Overrides Accept: json or csv", "csv")},
        schemas={"format": {"type": "string", "enum": doc.format_names(MATRIX_FORMATS)}},
    ),
)
async def matrix(
    request: Request, config: ConfigDep, store: StoreDep, readmodel: ReadModelDep
) -> Response:
    """For each working group, member project and result type the group asked for: the
    published sources that integrate it (entities, last success, late), or `missing`."""
    return await blocking(request, _matrix, request, config, store, readmodel)


def _matrix(request: Request, config: HubConfig, store: Store, readmodel: ReadModel) -> Response:
    """The blocking part of `matrix` (runs in a v1 worker thread)."""
    params = request.query_params
    check_known(params, ("lang", "format"))
    fmt = choose(one(params, "format"), request.headers.get("accept"), MATRIX_FORMATS)
    language = parse_lang(params, request.headers.get("accept-language"))
    body = read_matrix(config, store, readmodel, language)
    headers = {"Content-Language": language}
    # Lateness moves with the clock, not only with publishing: the ETag hashes the body.
    if fmt is CSV:
        data = to_csv(matrix_rows(body), CSV_COLUMNS)
        return send(request, data, CSV.media_type, max_age=0, headers=headers)
    return send(request, dump_json(body), JSON.media_type, max_age=0, headers=headers)
