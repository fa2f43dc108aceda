"""GET /api/v1/changes (JSON) and /api/v1/changes/ldes (a Linked Data Event Stream): the change feed.

Both read the feed that publishing appends to (hub.feed): every added, changed and
removed entity of every publish, oldest first, with the entity's triples after the
change. A page ends with an opaque cursor (`since=`) that resumes right after it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from hub.api.errors import ApiError
from hub.api.v1 import common as doc
from hub.api.v1.caching import body_etag, send
from hub.api.v1.deps import ConfigDep, blocking
from hub.api.v1.formats import JSON, JSONLD, OutFormat, choose, dump_json
from hub.api.v1.models import ErrorBody
from hub.api.v1.params import check_known, one, parse_int
from hub.config import SOURCE_ID, HubConfig
from hub.feed import FeedError, FeedReader, Item
from hub.iris import DCT, MH, PREFIXES, PROV, RDF, XSD, Iris

router = APIRouter(tags=["changes"])
PARAMS = ("since", "source", "size", "format")
DEFAULT_SIZE, MAX_SIZE = 100, 1000
CURSOR_VERSION = 1
MAX_CURSOR_CHARS = 512
FULL_PAGE_MAX_AGE = 86_400
"""A full page never changes (the feed only grows at its end): clients may keep it a day."""
_HINT = "use the `next` cursor of a page of this feed, or start again without `since`"

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
KIND_CLASSES = {"added": AS + "Create", "changed": AS + "Update", "removed": AS + "Delete"}
TURTLE = OutFormat("turtle", "text/turtle")
NTRIPLES = OutFormat("nt", "application/n-triples")
LDES_FORMATS = (TURTLE, JSONLD, NTRIPLES)
_OX = {TURTLE: ox.RdfFormat.TURTLE, JSONLD: ox.RdfFormat.JSON_LD, NTRIPLES: ox.RdfFormat.N_TRIPLES}
LDES_PREFIXES = {**PREFIXES, "ldes": LDES, "tree": TREE, "as": AS}

EXTRA_DOCS = {
    "since": ("The `next` cursor of the previous page (none: from the beginning)", ""),
    "source": ("Only the changes of this source", "smartdest-offer"),
    "size": (f"Changes per page, 1-{MAX_SIZE} (default {DEFAULT_SIZE})", "100"),
    "format": ("Overrides Accept: json (changes); turtle, jsonld, nt (changes/ldes)", ""),
}


def _schemas(formats: tuple[OutFormat, ...]) -> dict[str, dict[str, Any]]:
    """The forms of the feed's parameters (`format` is the route's own)."""
    return {
        "since": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "maxLength": MAX_CURSOR_CHARS},
        "source": {"type": "string", "pattern": SOURCE_ID.pattern},
        "size": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE, "default": DEFAULT_SIZE},
        "format": {"type": "string", "enum": doc.format_names(formats)},
    }


class Change(BaseModel):
    """One entity added, changed or removed by a publish."""

    source: str
    entity: str
    key: str | None
    kind: str
    run: str
    version: str
    previous: str | None
    reason: str
    published: str
    triples: str | None
    href: str | None


class ChangePage(BaseModel):
    """A page of the change feed: its changes, the cursor after them, whether more follow now."""

    items: list[Change]
    next: str
    more: bool


# -- cursors ---------------------------------------------------------------------
def encode_cursor(feed: str | None, after: int, source: str | None) -> str:
    """The opaque cursor of the position right after feed entry `after`."""
    body = {"v": CURSOR_VERSION, "f": feed or "", "a": after, "s": source}
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, feed: str | None, last: int, source: str | None) -> int:
    """The position a cursor names, checked against this feed and query; 400 if it does not fit."""
    shown = text[:40]
    if len(text) > MAX_CURSOR_CHARS:
        raise ApiError(400, f"since= is too long to be a cursor of this feed; {_HINT}")
    try:
        body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(400, f"since={shown!r} is not a cursor of this feed; {_HINT}") from None
    after = body.get("a") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or body.get("v") != CURSOR_VERSION
        or not isinstance(after, int)
        or isinstance(after, bool)
        or after < 0
        or not isinstance(body.get("f"), str)
    ):
        raise ApiError(400, f"since={shown!r} is not a cursor of this feed; {_HINT}")
    if body.get("s") != source:
        raise ApiError(
            400,
            f"the cursor since={shown!r} was made for source={body.get('s')!r}, not "
            f"source={source!r}; keep the same `source` while following a cursor, or start "
            "again without `since`",
        )
    if after and body["f"] != feed:
        raise ApiError(
            400,
            "the cursor was made by another change feed (this hub's feed was reset or moved); "
            "start again without `since` and rebuild the replica",
        )
    if after > last:
        raise ApiError(
            400, f"the cursor points past the end of this feed (entry {after} > {last}); {_HINT}"
        )
    return after


# -- reading -------------------------------------------------------------------
def _query(
    request: Request, config: HubConfig
) -> tuple[int, str | None, int, FeedReader, str | None]:
    """The position, source and size a request asks for, and the feed it reads."""
    params = request.query_params
    check_known(params, PARAMS)
    source = one(params, "source")
    if source is not None and not SOURCE_ID.fullmatch(source):
        raise ApiError(400, f"source={source!r} is not a source id (see /api/v1/sources)")
    size = parse_int(params, "size", DEFAULT_SIZE, 1, MAX_SIZE)
    reader = FeedReader.for_config(config)
    since = one(params, "since") or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", since):
        raise ApiError(400, f"since={since[:40]!r} is not a cursor of this feed; {_HINT}")
    try:
        feed, last = reader.state()
    except FeedError as exc:
        raise ApiError(503, str(exc)) from None
    after = decode_cursor(since, feed, last, source) if since else 0
    return after, source, size, reader, feed


def _page(reader: FeedReader, after: int, source: str | None, size: int) -> tuple[list[Item], bool]:
    try:
        items = reader.page(after, source, size + 1)
    except FeedError as exc:
        raise ApiError(503, str(exc)) from None
    return items[:size], len(items) > size


def _href(item: Item) -> str | None:
    if item.kind == "removed" or item.key is None:
        return None
    return f"/api/v1/entities/{item.source}/{item.key}"


def _item(item: Item) -> dict[str, Any]:
    return {
        "source": item.source,
        "entity": item.entity,
        "key": item.key,
        "kind": item.kind,
        "run": item.run,
        "version": item.version,
        "previous": item.previous,
        "reason": item.reason,
        "published": item.published,
        "triples": item.triples,
        "href": _href(item),
    }


@router.get(
    "/changes",
    summary="The change feed: entities added, changed and removed, oldest first",
    description=(
        "Every publish's entity changes in the order they happened. Start without `since`; "
        "follow `next` until `more` is false, then poll with the last `next`. An added or changed "
        "entity carries all its triples after the change (N-Triples, sub-resources and blank "
        "nodes included): replace the entity's triples by them. A removed entity is a tombstone "
        "(`triples` null): delete its triples. The same feed as a Linked Data Event Stream: "
        "/api/v1/changes/ldes."
    ),
    response_class=Response,
    responses={200: {"model": ChangePage}, **doc.ERRORS},
    openapi_extra=doc.documented(
        "since", "source", "size", "format", extra=EXTRA_DOCS, schemas=_schemas((JSON,))
    ),
)
async def get_changes(request: Request, config: ConfigDep) -> Response:
    """A page of the change feed (JSON)."""
    return await blocking(request, _get_changes, request, config)


def _get_changes(request: Request, config: HubConfig) -> Response:
    params = request.query_params
    after, source, size, reader, feed = _query(request, config)
    choose(one(params, "format"), request.headers.get("accept"), (JSON,))
    items, more = _page(reader, after, source, size)
    position = items[-1].seq if items else after
    body = {
        "items": [_item(i) for i in items],
        "next": encode_cursor(feed, position, source),
        "more": more,
    }
    payload = dump_json(body)
    max_age = FULL_PAGE_MAX_AGE if len(items) == size else 0
    return send(request, payload, JSON.media_type, etag=body_etag(payload), max_age=max_age)


# -- the Linked Data Event Stream ---------------------------------------------------
def _node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _page_url(request: Request, since: str | None, source: str | None, size: int) -> str:
    base = str(request.url.replace(query="")).split("#")[0]
    query = {k: v for k, v in (("source", source), ("since", since)) if v}
    if size != DEFAULT_SIZE:
        query["size"] = str(size)
    return base + ("?" + urlencode(query) if query else "")


def ldes_page(
    request: Request,
    config: HubConfig,
    feed: str | None,
    items: list[Item],
    *,
    after: int,
    source: str | None,
    size: int,
) -> list[ox.Triple]:
    """The triples of one LDES page: the stream, this page (a tree:Node), its members."""
    iris = Iris(config.base_iri)
    root = _page_url(request, None, source, DEFAULT_SIZE)
    here = _page_url(request, encode_cursor(feed, after, source) if after else None, source, size)
    stream = _node(root + "#stream")
    page = _node(here)
    a = _node(RDF + "type")
    timestamp = _node(PROV + "generatedAtTime")
    out = [
        ox.Triple(stream, a, _node(LDES + "EventStream")),
        ox.Triple(stream, _node(LDES + "timestampPath"), timestamp),
        ox.Triple(stream, _node(LDES + "versionOfPath"), _node(DCT + "isVersionOf")),
        ox.Triple(stream, _node(LDES + "versionCreateObject"), _node(KIND_CLASSES["added"])),
        ox.Triple(stream, _node(LDES + "versionUpdateObject"), _node(KIND_CLASSES["changed"])),
        ox.Triple(stream, _node(LDES + "versionDeleteObject"), _node(KIND_CLASSES["removed"])),
        ox.Triple(stream, _node(TREE + "view"), _node(root)),
        ox.Triple(page, a, _node(TREE + "Node")),
    ]
    if len(items) == size:  # a full page: the next one starts after its last member
        relation = ox.BlankNode()
        out += [
            ox.Triple(page, _node(TREE + "relation"), relation),
            ox.Triple(relation, a, _node(TREE + "GreaterThanOrEqualToRelation")),
            ox.Triple(relation, _node(TREE + "path"), timestamp),
            ox.Triple(
                relation,
                _node(TREE + "value"),
                ox.Literal(items[-1].published, datatype=_node(XSD + "dateTime")),
            ),
            ox.Triple(
                relation,
                _node(TREE + "node"),
                _node(_page_url(request, encode_cursor(feed, items[-1].seq, source), source, size)),
            ),
            ox.Triple(page, _node(LDES + "immutable"), ox.Literal(True)),
        ]
    for item in items:
        member = _node(f"{iris.base}feed/{feed}/{item.seq}")
        entity = _node(item.entity)
        out += [
            ox.Triple(stream, _node(TREE + "member"), member),
            ox.Triple(member, a, _node(KIND_CLASSES[item.kind])),
            ox.Triple(member, _node(DCT + "isVersionOf"), entity),
            ox.Triple(
                member, timestamp, ox.Literal(item.published, datatype=_node(XSD + "dateTime"))
            ),
            ox.Triple(
                member, _node(PROV + "wasGeneratedBy"), _node(iris.run(item.source, item.run))
            ),
            ox.Triple(member, _node(MH + "version"), ox.Literal(item.version)),
            ox.Triple(member, _node(DCT + "isPartOf"), _node(iris.dataset(item.source))),
        ]
        if item.triples:
            for triple in ox.parse(item.triples.encode("utf-8"), ox.RdfFormat.N_TRIPLES):
                subject = member if triple.subject == entity else triple.subject
                out.append(ox.Triple(subject, triple.predicate, triple.object))
    return out


@router.get(
    "/changes/ldes",
    summary="The change feed as a Linked Data Event Stream (Turtle, JSON-LD, N-Triples)",
    description=(
        "The same changes as /api/v1/changes, as pages of an `ldes:EventStream` "
        "(https://w3id.org/ldes/specification). Each member is a version object "
        "(`dct:isVersionOf` the entity, `prov:generatedAtTime` its publish, typed "
        "`as:Create`, `as:Update` or `as:Delete`) carrying the entity's triples with the entity "
        "IRI replaced by the member's; a full page links the next with a "
        "`tree:GreaterThanOrEqualToRelation` on `prov:generatedAtTime`."
    ),
    response_class=Response,
    responses={
        200: {"content": {f.media_type: {} for f in LDES_FORMATS}},
        400: {"model": ErrorBody, "description": "A malformed or foreign cursor."},
        406: doc.ERRORS[406],
        503: {"model": ErrorBody, "description": "The change feed cannot be read."},
    },
    openapi_extra=doc.documented(
        "since", "source", "size", "format", extra=EXTRA_DOCS, schemas=_schemas(LDES_FORMATS)
    ),
)
async def get_changes_ldes(request: Request, config: ConfigDep) -> Response:
    """A page of the change feed as an LDES."""
    return await blocking(request, _get_changes_ldes, request, config)


def _get_changes_ldes(request: Request, config: HubConfig) -> Response:
    params = request.query_params
    after, source, size, reader, feed = _query(request, config)
    fmt = choose(one(params, "format"), request.headers.get("accept"), LDES_FORMATS)
    items, _ = _page(reader, after, source, size)
    triples = ldes_page(request, config, feed, items, after=after, source=source, size=size)
    prefixes = LDES_PREFIXES if fmt is not NTRIPLES else None
    body = ox.serialize(triples, format=_OX[fmt], prefixes=prefixes)
    max_age = FULL_PAGE_MAX_AGE if len(items) == size else 0
    return send(request, body, fmt.media_type, etag=body_etag(body), max_age=max_age)
