"""GET /api/v1/projects, /sources and /runs: the programme, the catalogue and the run history."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.accounts import Accounts
from hub.api.errors import ApiError
from hub.api.v1 import common as doc
from hub.api.v1.caching import READ_MODEL_MAX_AGE, matches, not_modified, request_etag, send
from hub.api.v1.deps import ConfigDep, ReadModelDep, StoreDep, blocking, snapshot
from hub.api.v1.formats import dump_json
from hub.api.v1.models import Projects, Runs, Sources
from hub.api.v1.params import check_known, one, parse_choice, parse_int, parse_lang
from hub.catalog import RUN_STATUSES, run_history, source_statuses
from hub.config import SOURCE_ID, HubConfig
from hub.errors import ConfigError, HubError
from hub.layout import DataLayout
from hub.readmodel import ReadModel
from hub.readmodel._text import pick
from hub.store import Store

router = APIRouter(tags=["catalogue"])
MAX_RUNS_PAGE = 200
MAX_RUN_PAGES = 100_000
RUN_PARAMETERS = {
    "source": ("Only this source's runs", "itinera-trails"),
    "status": (f"Only runs with this status: {', '.join(RUN_STATUSES)}", "failed"),
    "size": (f"Runs per page, 1-{MAX_RUNS_PAGE} (default 20)", "50"),
}


def config_tag(config: HubConfig) -> str:
    """A hash of what the config contributes to these answers (sources and projects)."""
    parts = sorted(
        f"{s.id}|{s.project}|{s.title}|{s.licence}|{s.steward}|{s.kind}"
        for s in config.sources.values()
    ) + sorted(f"{k}|{p.name}|{p.homepage}" for k, p in config.projects.items())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@router.get(
    "/projects",
    summary="The programme's projects, their working groups, sources, sizes and freshness",
    response_class=Response,
    responses={200: {"model": Projects}, **doc.ERRORS},
    openapi_extra=doc.documented("lang"),
)
async def projects(request: Request, config: ConfigDep, readmodel: ReadModelDep) -> Response:
    """Every project of the programme (and of the config), with what the hub holds of it."""
    return await blocking(request, _projects, request, config, readmodel)


def _projects(request: Request, config: HubConfig, readmodel: ReadModel) -> Response:
    """The blocking part of `projects` (runs in a v1 worker thread)."""
    check_known(request.query_params, ("lang",))
    language = parse_lang(request.query_params, request.headers.get("accept-language"))
    with snapshot(readmodel) as snap:
        etag = request_etag(request, snap.version(), config_tag(config), language)
        if matches(request, etag):
            return not_modified(etag, READ_MODEL_MAX_AGE)
        documents = snap.programme("project")
        groups = snap.programme("working_group")
        built = snap.sources
    group_items = []
    for group in groups.values():
        group_items.append(
            {
                "id": group["id"],
                "name": pick(group["names"], language)[0],
                "lead": group["lead"],
                "members": group["members"],
                "themes": group["themes"],
            }
        )
    items = []
    for project_id, project in documents.items():
        sources = []
        for source in config.sources.values():
            if source.project != project_id:
                continue
            info = built.get(source.id)
            sources.append(
                {
                    "id": source.id,
                    "title": source.title or source.id,
                    "entities": info.entities if info else 0,
                    "published": info.published if info else None,
                }
            )
        published = [s["published"] for s in sources if s["published"]]
        roles = [
            {
                "id": g["id"],
                "name": g["name"],
                "role": "lead" if project_id in g["lead"] else "member",
            }
            for g in group_items
            if project_id in g["lead"] or project_id in g["members"]
        ]
        items.append(
            {
                "id": project_id,
                "iri": project["iri"],
                "name": pick(project["names"], language)[0],
                "names": project["names"],
                "description": pick(project["descriptions"], language)[0],
                "homepage": project.get("homepage"),
                "working_groups": roles,
                "sources": sources,
                "entities": sum(s["entities"] for s in sources),
                "freshness": max(published) if published else None,
            }
        )
    body = dump_json({"items": items, "working_groups": group_items})
    return send(
        request, body, "application/json", etag=etag, headers={"Content-Language": language}
    )


@router.get(
    "/sources",
    summary="The catalogue: every source, its agreement (owner, licence, update frequency, "
    "stewards), last run, lateness",
    response_class=Response,
    responses={200: {"model": Sources}, **doc.ERRORS},
)
async def sources(
    request: Request, config: ConfigDep, store: StoreDep, readmodel: ReadModelDep
) -> Response:
    """Configured sources with their latest run (metadata graph) and what the API serves of them."""
    return await blocking(request, _sources, request, config, store, readmodel)


def _sources(request: Request, config: HubConfig, store: Store, readmodel: ReadModel) -> Response:
    """The blocking part of `sources` (runs in a v1 worker thread)."""
    check_known(request.query_params, ())
    statuses = {s.id: s for s in source_statuses(store, config)}
    layout = DataLayout(config.data_path)
    try:
        known = Accounts.load(config)
    except ConfigError:
        known = Accounts({})
    try:
        with readmodel.snapshot() as snap:
            built = dict(snap.sources)
    except Exception:  # no read model yet: the catalogue is still worth showing
        built = {}
    items = []
    for source in config.sources.values():
        status = statuses[source.id]
        info = built.get(source.id)
        items.append(
            {
                "id": source.id,
                "title": source.title or source.id,
                "description": source.description,
                "project": source.project,
                "kind": source.kind,
                "licence": source.licence,
                "steward": source.steward,
                "owner": source.owner,
                "contact": source.contact,
                "update_every": source.update_every,
                "stewards": known.stewards_of(source),
                "schedule": status.schedule,
                "last_good": status.last_good,
                "late": status.late,
                "held": len(list(layout.held(source.id).glob("*.nt"))),
                "last_run": status.last_run,
                "last_status": status.last_status,
                "last_message": status.last_message,
                "published": info.published if info else None,
                "entities": info.entities if info else 0,
                "published_triples": status.published_triples,
            }
        )
    return send(request, dump_json({"items": items}), "application/json", max_age=0)


@router.get(
    "/runs",
    summary="Run history of the sources (metadata graph), newest first",
    response_class=Response,
    responses={200: {"model": Runs}, **doc.ERRORS},
    openapi_extra=doc.documented(
        "source",
        "status",
        "page",
        "size",
        extra=RUN_PARAMETERS,
        schemas={
            "source": {"type": "string", "pattern": SOURCE_ID.pattern},
            "status": {"type": "string", "enum": list(RUN_STATUSES)},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_RUN_PAGES},
            "size": {"type": "integer", "minimum": 1, "maximum": MAX_RUNS_PAGE, "default": 20},
        },
    ),
)
async def runs(request: Request, config: ConfigDep, store: StoreDep) -> Response:
    """Runs recorded in the metadata graph, filtered by source and status, paged."""
    return await blocking(request, _runs, request, config, store)


def _runs(request: Request, config: HubConfig, store: Store) -> Response:
    """The blocking part of `runs` (runs in a v1 worker thread)."""
    params = request.query_params
    check_known(params, ("source", "status", "page", "size"))
    chosen = one(params, "source")
    if chosen is not None and not SOURCE_ID.fullmatch(chosen):
        raise ApiError(
            400, f"source={chosen!r} is not a source id (lower-case letters, digits, '-')"
        )
    state = parse_choice(params, "status", RUN_STATUSES, None)
    per_page = parse_int(params, "size", 20, 1, MAX_RUNS_PAGE)
    number = parse_int(params, "page", 1, 1, MAX_RUN_PAGES)
    try:
        total, items = run_history(store, config, chosen, state, per_page, (number - 1) * per_page)
    except HubError as exc:
        raise ApiError(503, f"the run history cannot be read: {exc}") from None
    body = {"total": total, "page": number, "size": per_page, "items": items}
    return send(request, dump_json(body), "application/json", max_age=0)
