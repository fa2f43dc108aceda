"""GET /api/v1/stats: how many entities match, per type, project, region, theme, category, source."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.api.v1 import common as doc
from hub.api.v1.caching import (
    READ_MODEL_MAX_AGE,
    VERSIONS_HEADER,
    matches,
    not_modified,
    request_etag,
    send,
)
from hub.api.v1.deps import ConfigDep, ReadModelDep, blocking, snapshot, vocabulary
from hub.api.v1.formats import dump_json
from hub.api.v1.models import Stats
from hub.api.v1.params import FILTER_PARAMS, check_known, parse_filter, parse_lang
from hub.api.v1.vocab import humanize
from hub.config import HubConfig
from hub.readmodel import EntityFilter, ReadModel, Snapshot
from hub.readmodel._text import pick

router = APIRouter(tags=["entities"])
FACETS = ("type", "project", "region", "theme", "category", "source")
LABEL_KINDS = {"project": "project", "region": "region", "theme": "theme", "category": "category"}


@router.get(
    "/stats",
    summary="Facet counts: entities per type, project, region, theme, category and source",
    description=(
        "Takes the filters of /api/v1/entities and counts what matches. An entity with two "
        "values of a facet (an itinerary across two regions) counts under each; `total` counts "
        "it once."
    ),
    response_class=Response,
    responses={200: {"model": Stats}, **doc.ERRORS},
    openapi_extra=doc.documented(*FILTER_PARAMS, "lang"),
)
async def stats(
    request: Request,
    config: ConfigDep,
    readmodel: ReadModelDep,
) -> Response:
    """Counts grouped by facet for the entities matching the filters."""
    return await blocking(request, _stats, request, config, readmodel)


def _stats(
    request: Request,
    config: HubConfig,
    readmodel: ReadModel,
) -> Response:
    """The blocking part of `stats` (runs in a v1 worker thread)."""
    params = request.query_params
    check_known(params, (*FILTER_PARAMS, "lang"))
    language = parse_lang(params, request.headers.get("accept-language"))
    with snapshot(readmodel) as snap:
        flt = parse_filter(params, vocabulary(snap, config))
        etag = request_etag(request, snap.version(snap.allowed_sources(flt)), language)
        if matches(request, etag):
            return not_modified(etag, READ_MODEL_MAX_AGE)
        versions = snap.served_versions(snap.allowed_sources(flt))
        # The same counts of the same data version are computed once.
        body = snap.answer(f"stats|{etag}", lambda: _body(snap, config, flt, language))
    return send(
        request,
        body,
        "application/json",
        etag=etag,
        headers={"Content-Language": language, VERSIONS_HEADER: versions},
    )


def _body(snap: Snapshot, config: HubConfig, flt: EntityFilter, language: str) -> bytes:
    """The counts as JSON (inside the caller's snapshot)."""
    counts = snap.facets(flt)
    labels = {facet: snap.programme(kind) for facet, kind in LABEL_KINDS.items()}
    class_labels = snap.programme("class")
    by = {}
    for facet in FACETS:
        rows = []
        for value, count in counts[facet].items():
            if facet in labels:
                known = labels[facet].get(value, {})
                label = pick(known.get("labels") or known.get("names") or {}, language)[0]
            elif facet == "type":
                label = pick(class_labels.get(value, {}).get("labels", {}), language)[
                    0
                ] or humanize(value)
            else:
                label = config.sources[value].title if value in config.sources else None
            rows.append({"value": value, "label": label, "count": count})
        by[facet] = rows
    return dump_json({"total": counts["total"].get("all", 0), "by": by})
