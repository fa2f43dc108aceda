"""GET /api/v1/entities/{source}/{key}: one entity, merged from every source, with attribution."""

from __future__ import annotations

import re
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from hub.api.errors import ApiError, store_busy
from hub.api.v1 import common as doc
from hub.api.v1.caching import send
from hub.api.v1.deps import (
    WORKER_THREADS,
    ConfigDep,
    ReadModelDep,
    StoreDep,
    blocking,
    snapshot,
)
from hub.api.v1.formats import ENTITY_FORMATS, GEOJSON, JSONLD, choose, dump_json
from hub.api.v1.jsonld import document
from hub.api.v1.merge import compact, entity_and_peers, ordered, statements
from hub.api.v1.models import EntityDetail, ErrorBody
from hub.api.v1.params import check_known, one, parse_lang
from hub.api.v1.present import FIELDS, Presenter
from hub.config import SOURCE_ID, HubConfig
from hub.errors import StoreBusyError
from hub.iris import Iris
from hub.readmodel import ReadModel
from hub.store import Store

router = APIRouter(tags=["entities"])
PARAMS = ("lang", "format")
# Spelled out, not `\s`: Python's, ECMA-262's and Rust's whitespace differ, and the schema
# says this pattern to all three. No controls, spaces or characters IRIs may not hold.
_KEY = re.compile(
    r'^[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff<>"{}|^`\\]{1,512}$'
)
DETAIL_FIELDS = tuple(f for f in FIELDS if f != "distance_km")
STORE_THREADS = 8
"""Threads for one-entity answers, apart from the v1 work's two: most of their time they
wait for the store's reply with the GIL free (measured: 2 threads, 277 req/s at 16 clients)."""


def _uid(source: str, key: str) -> str:
    if not SOURCE_ID.match(source):
        raise ApiError(
            400,
            f"`{source}` is not a source id (lower-case letters, digits, '-'); "
            "an entity id is {source}/{key}, e.g. smartdest-offer/cor-0001",
        )
    if not _KEY.match(key):
        raise ApiError(
            400,
            f'`{key[:80]}` is not an entity key: 1-512 characters without spaces or <>"{{}}|^`\\',
        )
    return f"{source}/{key}"


def _merge(
    store: Store, config: HubConfig, iri: str, licences: dict[str, str]
) -> tuple[list[str], list[dict[str, Any]], dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Peers, contributing sources, merged properties and attributed statements (blocking)."""
    iris = Iris(config.base_iri)
    peers, found = entity_and_peers(store, iris, iri)
    for peer in peers:
        found += statements(store, peer)
    found = ordered(found, iri)
    graph_prefix = iris.base + "graph/"
    sources: dict[str, dict[str, Any]] = {}
    properties: dict[str, list[dict[str, Any]]] = {}
    flat = []
    for st in found:
        source = st.graph[len(graph_prefix) :] if st.graph.startswith(graph_prefix) else st.graph
        licence = licences.get(source) or (
            config.sources[source].licence if source in config.sources else None
        )
        info = sources.setdefault(source, {"id": source, "graph": st.graph, "licence": licence})
        if source in config.sources:
            info["project"] = config.sources[source].project
        flat.append(
            {
                "subject": st.subject,
                "predicate": compact(st.predicate),
                "object": st.object,
                "source": source,
                "licence": licence,
            }
        )
        if st.subject == iri or st.subject in peers:
            value = {**st.object, "source": source, "licence": licence}
            if st.subject != iri:
                value["subject"] = st.subject
            properties.setdefault(compact(st.predicate), []).append(value)
    return peers, sorted(sources.values(), key=lambda s: s["id"]), properties, flat


@router.get(
    "/entities/{source}/{key:path}",
    summary="One entity, merged from all sources",
    description=(
        "The entity `{source}/{key}` as in the list, plus everything every source states about it "
        "and about its `owl:sameAs` peers (links graph), each statement attributed to its source "
        "and licence. JSON (default), GeoJSON (a Feature) or JSON-LD: the entity's published "
        "triples in its source's named graph, with the context at /api/v1/context.jsonld "
        "(`@vocab` http://schema.org/)."
    ),
    response_class=Response,
    responses={
        200: {
            "model": EntityDetail,
            "content": {
                "application/json": {},
                "application/geo+json": {},
                "application/ld+json": {},
            },
        },
        404: {"model": ErrorBody, "description": "No such entity."},
        **doc.ERRORS,
    },
    openapi_extra=doc.documented(
        *PARAMS,
        schemas={"format": {"type": "string", "enum": doc.format_names(ENTITY_FORMATS)}},
    ),
)
async def get_entity(
    request: Request,
    source: Annotated[str, Path(pattern=SOURCE_ID.pattern, description="A source id")],
    key: Annotated[str, Path(pattern=_KEY.pattern, description="The entity's key in the source")],
    config: ConfigDep,
    store: StoreDep,
    readmodel: ReadModelDep,
) -> Response:
    """One entity by id."""
    if WORKER_THREADS == 0:
        return await blocking(request, _get_entity, request, source, key, config, store, readmodel)
    limiter = getattr(request.app.state, "entity_limiter", None)
    if limiter is None:
        limiter = request.app.state.entity_limiter = anyio.CapacityLimiter(STORE_THREADS)
    return await anyio.to_thread.run_sync(
        _get_entity, request, source, key, config, store, readmodel, limiter=limiter
    )


def _get_entity(
    request: Request,
    source: str,
    key: str,
    config: HubConfig,
    store: Store,
    readmodel: ReadModel,
) -> Response:
    """The blocking part of `get_entity` (runs in a v1 worker thread)."""
    params = request.query_params
    check_known(params, PARAMS)
    fmt = choose(one(params, "format"), request.headers.get("accept"), ENTITY_FORMATS)
    language = parse_lang(params, request.headers.get("accept-language"))
    uid = _uid(source, key)
    with snapshot(readmodel) as snap:
        row = snap.entity(uid)
        if row is None:
            raise ApiError(
                404,
                f"no entity `{uid}`; ids are {{source}}/{{key}} as listed by /api/v1/entities",
            )
        presenter = Presenter(language, DETAIL_FIELDS, snap.sources, Iris(config.base_iri))
        licences = {s.id: s.licence for s in snap.sources.values()}
        if fmt is JSONLD:  # the entity's published triples (decisions #29)
            body = document([row], snap.triples([row]), snap.sources, Iris(config.base_iri))
            return send(request, dump_json(body), fmt.media_type)
    headers = {"Content-Language": language}
    if fmt is GEOJSON:
        return send(request, dump_json(presenter.feature(row)), fmt.media_type, headers=headers)
    iri = row.doc["iri"]
    try:
        peers, sources, properties, flat = _merge(store, config, iri, licences)
    except StoreBusyError as exc:
        raise store_busy(exc) from None
    except Exception as exc:  # the store failing must not hide what the read model knows
        raise ApiError(
            503, f"the store could not be read for `{uid}`: {type(exc).__name__}: {exc}"
        ) from None
    body = {
        "id": uid,
        "iri": iri,
        "entity": presenter.item(row),
        "same_as": peers,
        "sources": sources,
        "properties": properties,
        "statements": flat,
    }
    return send(request, dump_json(body), fmt.media_type, max_age=0, headers=headers)
