"""GET /api/v1/types and /themes: the classes entities have and the SKOS schemes, with labels."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.api.v1 import common as doc
from hub.api.v1.caching import READ_MODEL_MAX_AGE, matches, not_modified, request_etag, send
from hub.api.v1.deps import ConfigDep, ReadModelDep, blocking, snapshot
from hub.api.v1.formats import dump_json
from hub.api.v1.models import Themes, Types
from hub.api.v1.params import check_known, parse_lang
from hub.config import HubConfig
from hub.iris import MH, SCHEMA
from hub.readmodel import ReadModel
from hub.readmodel._text import pick

router = APIRouter(tags=["vocabulary"])
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def humanize(name: str) -> str:
    """`TouristAttraction` -> `Tourist attraction` (for classes the ontology gives no label)."""
    words = _CAMEL.split(name.removeprefix("mh:"))
    return " ".join([words[0], *(w.lower() for w in words[1:])])


@router.get(
    "/types",
    summary="The schema.org classes of the entities, with counts",
    response_class=Response,
    responses={200: {"model": Types}, **doc.ERRORS},
    openapi_extra=doc.documented("lang"),
)
async def types(request: Request, readmodel: ReadModelDep) -> Response:
    """Every class some entity has (filter /entities with `type=`)."""
    return await blocking(request, _types, request, readmodel)


def _types(request: Request, readmodel: ReadModel) -> Response:
    """The blocking part of `types` (runs in a v1 worker thread)."""
    check_known(request.query_params, ("lang",))
    language = parse_lang(request.query_params, request.headers.get("accept-language"))
    with snapshot(readmodel) as snap:
        etag = request_etag(request, snap.version(), language)
        if matches(request, etag):
            return not_modified(etag, READ_MODEL_MAX_AGE)
        counts = snap.facet_counts("type")
        labelled = snap.programme("class")
    items = []
    for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        labels = labelled.get(name, {}).get("labels", {})
        items.append(
            {
                "id": name,
                "iri": MH + name[3:] if name.startswith("mh:") else SCHEMA + name,
                "label": pick(labels, language)[0] or humanize(name),
                "labels": labels,
                "count": count,
            }
        )
    return send(request, dump_json({"items": items}), "application/json", etag=etag)


@router.get(
    "/themes",
    summary="The programme's themes and the offer categories (SKOS schemes), with counts",
    response_class=Response,
    responses={200: {"model": Themes}, **doc.ERRORS},
    openapi_extra=doc.documented("lang"),
)
async def themes(request: Request, config: ConfigDep, readmodel: ReadModelDep) -> Response:
    """Both concept schemes; `id`s are what /entities takes as `theme=` and `category=`."""
    return await blocking(request, _themes, request, config, readmodel)


def _themes(request: Request, config: HubConfig, readmodel: ReadModel) -> Response:
    """The blocking part of `themes` (runs in a v1 worker thread)."""
    check_known(request.query_params, ("lang",))
    language = parse_lang(request.query_params, request.headers.get("accept-language"))
    with snapshot(readmodel) as snap:
        etag = request_etag(request, snap.version(), language)
        if matches(request, etag):
            return not_modified(etag, READ_MODEL_MAX_AGE)
        schemes = snap.programme("scheme")
        concepts = {kind: snap.programme(kind) for kind in schemes}
        counts = {kind: snap.facet_counts(kind) for kind in schemes}
    out = []
    for kind, scheme in schemes.items():
        items = []
        for concept_id, concept in concepts[kind].items():
            items.append(
                {
                    "id": concept_id,
                    "iri": concept["iri"],
                    "label": pick(concept["labels"], language)[0],
                    "labels": concept["labels"],
                    "definition": pick(concept["definitions"], language)[0],
                    "broader": concept["broader"],
                    "top": concept["top"],
                    "count": counts[kind].get(concept_id, 0),
                }
            )
        out.append(
            {
                "id": kind,
                "iri": scheme["iri"],
                "label": pick(scheme["labels"], language)[0],
                "labels": scheme["labels"],
                "description": pick(scheme["descriptions"], language)[0],
                "concepts": items,
            }
        )
    return send(request, dump_json({"schemes": out}), "application/json", etag=etag)
