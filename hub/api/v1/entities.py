"""GET /api/v1/entities: filtered, sorted, paged entities as JSON, GeoJSON, CSV or JSON-LD."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.api.errors import ApiError
from hub.api.v1 import common as doc
from hub.api.v1.caching import (
    READ_MODEL_MAX_AGE,
    VERSIONS_HEADER,
    matches,
    not_modified,
    request_etag,
    send,
)
from hub.api.v1.cursor import decode_cursor, encode_cursor
from hub.api.v1.deps import ConfigDep, ReadModelDep, blocking, snapshot, vocabulary
from hub.api.v1.formats import (
    CSV,
    GEOJSON,
    JSONLD,
    LIST_FORMATS,
    OutFormat,
    choose,
    dump_json,
    to_csv,
)
from hub.api.v1.jsonld import document
from hub.api.v1.models import EntityPage
from hub.api.v1.params import (
    DEFAULT_SIZE,
    FILTER_PARAMS,
    MAX_OFFSET,
    MAX_SIZE,
    check_known,
    one,
    parse_choice,
    parse_fields,
    parse_filter,
    parse_int,
    parse_lang,
)
from hub.api.v1.present import DEFAULT_FIELDS, FIELDS, Presenter
from hub.config import HubConfig
from hub.iris import Iris
from hub.readmodel import EntityFilter, ReadModel, Snapshot, SortSpec
from hub.readmodel._model import SORTS, EntityRow

router = APIRouter(tags=["entities"])
PARAMS = (*FILTER_PARAMS, "lang", "fields", "sort", "page", "size", "cursor", "format")

DESCRIPTION = """Entities of every published source, from the API's read model.

**Filters** (all combine with AND; comma-separated values of one filter with OR):
`type`, `project`, `source`, `region`, `municipality`, `theme`, `category`,
`q` (text in names and descriptions, every language), `bbox`, `near` + `radius`,
`updated_since`.

**Language.** `name` and `description` are in `lang` (or the first supported language
of Accept-Language), falling back to en, it, fr, then any.

**Paging.** `page` + `size` (offset paging, at most 10,000 rows deep), or `cursor`
(keyset paging: pass `next_cursor`; stable under the sort, any depth). `total` counts
every match. `Link: rel="next"` and `X-Total-Count` headers are sent in every format.

**Formats.** `application/json` (default), `application/geo+json`, `text/csv`,
`application/ld+json` (each entity's published triples, in its source's named graph;
context at /api/v1/context.jsonld; `fields` and `lang` shape the other formats only), by
Accept or `format=`.

**Caching.** Strong `ETag`, `Cache-Control: public, max-age=60`; `If-None-Match` gets 304.
"""

_EXAMPLE = {
    "total": 1,
    "page": 1,
    "size": 20,
    "sort": "name",
    "lang": "en",
    "next_cursor": None,
    "links": {"self": "http://localhost:8000/api/v1/entities?q=bonaparte"},
    "items": [
        {
            "id": "smartdest-offer/cor-0001",
            "iri": "https://hub.example.org/id/smartdest-offer/cor-0001",
            "source": "smartdest-offer",
            "project": "smart-destination",
            "licence": "https://creativecommons.org/licenses/by/4.0/",
            "types": ["TouristAttraction"],
            "name": "Bonaparte House",
            "description": "Birthplace of Napoleon Bonaparte, now a national museum. (Sample data.)",
            "municipalities": ["Ajaccio"],
            "regions": ["corse"],
            "themes": [],
            "categories": ["museums"],
            "lat": 41.9178,
            "lon": 8.7378,
            "updated": "2024-01-25T10:10:00Z",
        }
    ],
}


def _page_number(request: Request, size: int) -> int:
    last = MAX_OFFSET // size + 1
    page = parse_int(
        request.query_params,
        "page",
        1,
        1,
        10**9,
    )
    if page > last:
        raise ApiError(
            400,
            f"page={page} with size={size} starts past row {MAX_OFFSET}; offset paging stops there: "
            "follow `next_cursor` (cursor=) to go deeper",
        )
    return page


@router.get(
    "/entities",
    summary="List, filter and search entities",
    description=DESCRIPTION,
    response_class=Response,
    responses={
        200: {
            "model": EntityPage,
            "content": {
                "application/json": {"example": _EXAMPLE},
                "application/geo+json": {},
                "text/csv": {},
                "application/ld+json": {},
            },
        },
        **doc.ERRORS,
    },
    openapi_extra=doc.documented(*PARAMS),
)
async def list_entities(
    request: Request,
    config: ConfigDep,
    readmodel: ReadModelDep,
) -> Response:
    """Entities matching the filters, one page at a time."""
    return await blocking(request, _list_entities, request, config, readmodel)


def _list_entities(
    request: Request,
    config: HubConfig,
    readmodel: ReadModel,
) -> Response:
    """The blocking part of `list_entities` (runs in a v1 worker thread)."""
    params = request.query_params
    check_known(params, PARAMS)
    fmt = choose(one(params, "format"), request.headers.get("accept"), LIST_FORMATS)
    language = parse_lang(params, request.headers.get("accept-language"))
    chosen = parse_fields(params, FIELDS, DEFAULT_FIELDS)
    per_page = parse_int(
        params, "size", DEFAULT_SIZE, 1, MAX_SIZE, " (page through more with cursor=)"
    )
    cursor_text = one(params, "cursor")
    if cursor_text is not None and one(params, "page") is not None:
        raise ApiError(400, "give either page (offset paging) or cursor (keyset paging), not both")
    number = _page_number(request, per_page)
    with snapshot(readmodel) as snap:
        flt = parse_filter(params, vocabulary(snap, config))
        order = parse_choice(params, "sort", SORTS, "distance" if flt.near else "name")
        if order == "distance" and flt.near is None:
            raise ApiError(400, "sort=distance needs near=lat,lon (and optionally radius=km)")
        spec = SortSpec(order or "name", language)
        if flt.near is None:
            if "distance_km" in chosen and "fields" in params:
                raise ApiError(400, "fields: distance_km needs near=lat,lon")
            chosen = tuple(f for f in chosen if f != "distance_km")
        after = decode_cursor(cursor_text, flt, spec) if cursor_text is not None else None
        etag = request_etag(request, snap.version(snap.allowed_sources(flt)), fmt.name, language)
        if matches(request, etag):
            return not_modified(etag, READ_MODEL_MAX_AGE)

        def answer() -> tuple[bytes, dict[str, str], list[tuple[str, str]]]:
            return _answer(
                request, snap, config, flt, spec, fmt, language, chosen, per_page, number, after
            )

        # The same page of the same data version is computed once (links hold the host).
        body, headers, link_items = snap.answer(f"list|{etag}|{request.base_url}", answer)
    return send(request, body, fmt.media_type, etag=etag, headers=headers, links=link_items)


def _answer(
    request: Request,
    snap: Snapshot,
    config: HubConfig,
    flt: EntityFilter,
    spec: SortSpec,
    fmt: OutFormat,
    language: str,
    chosen: tuple[str, ...],
    per_page: int,
    number: int,
    after: tuple[Any, str] | None,
) -> tuple[bytes, dict[str, str], list[tuple[str, str]]]:
    """The page's body, headers and links (inside the caller's snapshot)."""
    cursor_text = one(request.query_params, "cursor")
    result = snap.page(
        flt, spec, per_page, offset=0 if after else (number - 1) * per_page, after=after
    )
    presenter = Presenter(language, chosen, snap.sources, Iris(config.base_iri))
    versions = snap.served_versions(snap.allowed_sources(flt))
    if fmt is JSONLD:  # the entities' published triples (decisions #29)
        jsonld = document(result.rows, snap.triples(result.rows), snap.sources, presenter.iris)
    next_cursor = encode_cursor(flt, spec, result.after) if result.after else None
    links = _links(request, cursor_text, number, per_page, result.total, next_cursor)
    listing = {
        "total": result.total,
        "page": None if cursor_text is not None else number,
        "size": per_page,
        "sort": spec.field,
        "lang": language,
        "next_cursor": next_cursor,
        "links": links,
    }
    body = (
        dump_json(jsonld) if fmt is JSONLD else _body(fmt, listing, result.rows, presenter, chosen)
    )
    headers = {
        "X-Total-Count": str(result.total),
        "Content-Language": language,
        VERSIONS_HEADER: versions,
    }
    link_items = [(rel, url) for rel, url in links.items() if rel != "self"]
    return body, headers, link_items


def _body(
    fmt: OutFormat,
    listing: dict[str, Any],
    rows: list[EntityRow],
    presenter: Presenter,
    columns: tuple[str, ...],
) -> bytes:
    """The page in the chosen format; `listing` is the JSON envelope without its items."""
    if fmt is CSV:
        return to_csv((presenter.item(r) for r in rows), columns)
    if fmt is GEOJSON:
        envelope = {k: listing[k] for k in ("total", "next_cursor", "links")}
        features = [presenter.feature(r) for r in rows]
        return dump_json({"type": "FeatureCollection", **envelope, "features": features})
    return dump_json({**listing, "items": [presenter.item(r) for r in rows]})


def _links(
    request: Request, cursor: str | None, page: int, size: int, total: int, next_cursor: str | None
) -> dict[str, Any]:
    """self, next and prev URLs (next by cursor when paging by cursor, else by page)."""
    url = request.url
    links: dict[str, Any] = {"self": str(url)}
    if cursor is not None:
        if next_cursor:
            links["next"] = str(url.include_query_params(cursor=next_cursor))
        return links
    if page * size < total:
        links["next"] = str(url.include_query_params(page=page + 1))
    if page > 1:
        links["prev"] = str(url.include_query_params(page=page - 1))
    return links
