"""The `rest` kind: records from a JSON API, page by page (page, offset, cursor or link paging).

One page is decoded at a time and its records yielded before the next page is asked
for, so memory holds one page. The first request is conditional (ETag / Last-Modified
from the last published run): an unchanged source costs one request and yields nothing,
with `context.unchanged` set. With `since`, only records changed since the last
published run are asked for, and `context.incremental` is set.

Page and offset paging stop at the first empty page: a short page is not trusted to be
the last, because many APIs cap the page size below what was asked. An API that says how
many records there are (OData's `@odata.count`, a `total` field) saves that last request:
with `total_path` the walk stops once that many records were read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urljoin, urlsplit

from pydantic import Discriminator, Field, Tag

from harvesters._common import mask_url
from harvesters._http import HttpClient, HttpFields, HttpOptions, parse_http_options
from harvesters._options import (
    AcceptsSecret,
    Allowed,
    KindOptions,
    NonNegativeInt,
    PositiveInt,
    Text,
    declared,
)
from harvesters.context import HarvestContext, record_location
from hub.errors import HarvestError
from hub.util.jsonpath import compile_path

MAX_PAGES = 10_000
Scalar = str | int | float | bool


# --- the declaration of the options -------------------------------------------------------


class _PagingBase(KindOptions):
    max_pages: PositiveInt = Field(MAX_PAGES, description="stop with an error after this many")


class PagingNone(_PagingBase):
    """One request gives every record."""

    type: Literal["none"] = "none"


class PagingPage(_PagingBase):
    """`?page=1`, `?page=2`...; stops at the first empty page."""

    type: Literal["page"]
    page_param: Text = "page"
    start: NonNegativeInt = Field(1, description="the number of the first page")
    size_param: Text | None = None
    size: PositiveInt | None = Field(None, description="records per page")
    total_path: Text | None = Field(None, description="a JSONPath to the number of records")


class PagingOffset(_PagingBase):
    """`?offset=0&limit=n` (OData: `$skip` and `$top`)...; stops at the first empty page."""

    type: Literal["offset"]
    offset_param: Text = "offset"
    limit_param: Text = "limit"
    size: PositiveInt = Field(description="records per page")
    total_path: Text | None = Field(None, description="a JSONPath to the number of records")


class PagingCursor(_PagingBase):
    """The answer names the next page's cursor, sent back as `?cursor=...`."""

    type: Literal["cursor"]
    cursor_param: Text = "cursor"
    cursor_path: Text = Field("next_cursor", description="a JSONPath into the answer")
    limit_param: Text | None = None
    size: PositiveInt | None = Field(None, description="records per page")


class PagingLink(_PagingBase):
    """The answer (or its `Link: rel=next` header) gives the next page's URL."""

    type: Literal["link"]
    next_path: Text | None = Field(None, description="a JSONPath into the answer")
    limit_param: Text | None = None
    size: PositiveInt | None = Field(None, description="records per page")


def _paging_type(value: Any) -> Any:
    return value.get("type", "none") if isinstance(value, Mapping) else getattr(value, "type", None)


PagingOption = Annotated[
    Annotated[PagingNone, Tag("none")]
    | Annotated[PagingPage, Tag("page")]
    | Annotated[PagingOffset, Tag("offset")]
    | Annotated[PagingCursor, Tag("cursor")]
    | Annotated[PagingLink, Tag("link")],
    Discriminator(_paging_type),
    Allowed(
        'a table with type = "none", "page", "offset", "cursor" or "link", '
        'e.g. { type = "cursor", cursor_path = "next" }'
    ),
]


class SinceOption(KindOptions):
    """Incremental harvests: `{ param = "updated_since", field = "updated_at" }`."""

    param: Text = Field(description="the query parameter that asks for changes since a time")
    field: Text | None = Field(None, description="a JSONPath to the record's change time")


ParamValue = Annotated[
    Annotated[str, AcceptsSecret] | bool | int | float, Allowed("a string, number or boolean")
]
Params = Annotated[
    dict[str, ParamValue], Allowed('a table of strings, numbers or booleans, e.g. { lang = "it" }')
]


class Options(HttpFields):
    """The options a `rest` source may set, with their types (checked at config load)."""

    url: Text = Field(description="the http(s) URL of the API")
    records: Text | None = Field(None, description="a JSONPath to the list of records")
    paging: PagingOption = Field(default_factory=PagingNone)
    since: SinceOption | None = None
    params: Params = Field(default_factory=dict)
    conditional: bool = True


# --- the checked options, as the harvest uses them ----------------------------------------


@dataclass(frozen=True)
class Paging:
    """How to ask for the next page."""

    type: str = "none"
    page_param: str = "page"
    start: int = 1
    size_param: str | None = None
    size: int | None = None
    offset_param: str = "offset"
    limit_param: str | None = None
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"
    next_path: str | None = None
    total_path: str | None = None
    max_pages: int = MAX_PAGES


@dataclass(frozen=True)
class Since:
    """Incremental harvests: the query parameter to send, the record field to remember."""

    param: str
    field: str | None = None


@dataclass(frozen=True)
class RestOptions:
    """The checked options of a `rest` source."""

    url: str
    records: str | None
    paging: Paging
    since: Since | None
    params: Mapping[str, Scalar]
    conditional: bool
    http: HttpOptions = field(default_factory=HttpOptions)


def _parse_paging(source_id: str, paging: _PagingBase) -> Paging:
    given = paging.model_dump()
    kind = given["type"]
    size, limit_param = given.get("size"), given.get("limit_param")
    if kind in ("cursor", "link") and size is not None and limit_param is None:
        raise HarvestError(
            source_id,
            f"options.paging.size needs options.paging.limit_param (the query parameter that "
            f'carries it, e.g. limit_param = "limit") for {kind} paging',
        )
    if kind == "page" and given["size_param"] is not None and size is None:
        raise HarvestError(source_id, "options.paging.size_param needs options.paging.size")
    for path_key in ("cursor_path", "next_path", "total_path"):
        if given.get(path_key) is not None:
            _compile(source_id, f"options.paging.{path_key}", given[path_key])
    return Paging(**given)


def _parse_since(source_id: str, since: SinceOption | None) -> Since | None:
    if since is None:
        return None
    if since.field is not None:
        _compile(source_id, "options.since.field", since.field)
    return Since(since.param, since.field)


def _compile(source_id: str, where: str, path: str) -> Callable[[Any], list[Any]]:
    try:
        return compile_path(path)
    except ValueError as exc:
        raise HarvestError(source_id, f"{where}: {exc}") from None


def parse_options(source_id: str, options: Mapping[str, Any]) -> RestOptions:
    """Check the options of a `rest` source; errors say which option to fix and how."""
    given = declared(source_id, "rest", Options, options)
    url = given.url
    if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).netloc:
        raise HarvestError(source_id, f"options.url {mask_url(url)} is not an http(s) URL")
    if given.records is not None:
        _compile(source_id, "options.records", given.records)
    return RestOptions(
        url=url,
        records=given.records,
        paging=_parse_paging(source_id, given.paging),
        since=_parse_since(source_id, given.since),
        # booleans go into a query string as the words true / false
        params={k: (str(v).lower() if isinstance(v, bool) else v) for k, v in given.params.items()},
        conditional=given.conditional,
        http=parse_http_options(source_id, given),
    )


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


class _Pages:
    """Walks the pages of one harvest, yielding records; detects loops and bad pages."""

    def __init__(self, opts: RestOptions, client: HttpClient) -> None:
        self.opts = opts
        self.client = client
        self.select = compile_path(opts.records) if opts.records else None
        self.wildcard = bool(opts.records and "*" in opts.records)
        self.seen_next: set[str] = set()
        self.last_fingerprint: tuple | None = None

    def fail(self, message: str) -> HarvestError:
        """A HarvestError with secrets scrubbed from the message."""
        return self.client.error(message)

    def records(self, document: Any, shown: str) -> list[dict]:
        """The records of one page, as the `records` option finds them."""
        if self.select is None:
            found: Any = document
            if not isinstance(document, list):
                keys = list(document)[:10] if isinstance(document, dict) else []
                lists = [k for k in keys if isinstance(document[k], list)]
                raise self.fail(
                    f"{shown} answered {_kind(document)}, not a list of records; set "
                    "options.records to the path of the list"
                    + (f" (lists are under: {', '.join(lists)})" if lists else "")
                    + (f" (top-level keys: {', '.join(keys)})" if keys else "")
                )
        else:
            matches = self.select(document)
            if len(matches) == 1 and isinstance(matches[0], list):
                found = matches[0]
            elif len(matches) == 1 and matches[0] is None:
                found = []  # `"items": null` on an empty page
            elif self.wildcard:
                found = matches
            else:
                keys = ", ".join(list(document)[:10]) if isinstance(document, dict) else ""
                what = f"{_kind(matches[0])}, not a list" if matches else "nothing"
                raise self.fail(
                    f"options.records `{self.opts.records}` finds {what} in the answer of "
                    f"{shown} ({_kind(document)}"
                    + (f" with top-level keys: {keys}" if keys else "")
                    + "); fix options.records"
                )
        for number, record in enumerate(found, 1):
            if not isinstance(record, dict):
                raise self.fail(
                    f"record #{number} of the page {shown} is {_kind(record)}, not an object; "
                    "check options.records"
                )
        return found

    def check_repeat(self, records: list[dict], shown: str) -> None:
        """Refuse a page whose records are those of the page before (the API ignores paging)."""
        if not records:
            return
        fingerprint = (
            len(records),
            json.dumps(records[0], sort_keys=True, default=str),
            json.dumps(records[-1], sort_keys=True, default=str),
        )
        if fingerprint == self.last_fingerprint:
            raise self.fail(
                f"{shown} returned the same records as the page before: the API seems to "
                "ignore the paging parameters; check options.paging (type and parameter names)"
            )
        self.last_fingerprint = fingerprint

    def check_next(self, token: str, what: str, shown: str) -> None:
        """Refuse a cursor or next link seen before (the pages would loop for ever)."""
        if token in self.seen_next:
            raise self.fail(
                f"the {what} `{token}` that {shown} gave was already followed: the pages loop; "
                "check options.paging, or report it to the API's maintainers"
            )
        self.seen_next.add(token)


def _total(
    pages: _Pages, total_at: Callable[[Any], list[Any]], document: Any, shown: str, path: str
) -> int | None:
    """The number of records the answer says there are (None when it does not say)."""
    value = _value_at(total_at, document) if isinstance(document, dict) else None
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise pages.fail(
            f"options.paging.total_path `{path}` finds {value!r} in the answer of {shown}, "
            "not a whole number of records; fix options.paging.total_path"
        )
    return value


def _value_at(select: Callable[[Any], list[Any]], document: Any) -> Any:
    found = select(document)
    return found[0] if found else None


def _sort_key(value: Any) -> tuple:
    """Order `since` values: numbers as numbers, ISO 8601 texts as instants, else as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    text = str(value)
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (0, moment.timestamp(), text)
    except ValueError:
        return (1, 0.0, text)


class _Newest:
    """The greatest value of the `since` field over the records seen."""

    def __init__(self, record_field: str | None) -> None:
        self.select = compile_path(record_field) if record_field else None
        self.value: Any = None
        self.key: tuple | None = None

    def see(self, records: list[dict]) -> None:
        """Take the page's records into account."""
        if self.select is None:
            return
        for record in records:
            found = self.select(record)
            if not found or found[0] in (None, ""):
                continue
            key = _sort_key(found[0])
            if self.key is None or key > self.key:
                self.value, self.key = found[0], key


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _walk(opts: RestOptions, client: HttpClient, params: dict[str, Any]) -> Iterator[list[dict]]:
    """Yield the records of each page in turn; stops at the last page."""
    paging = opts.paging
    pages = _Pages(opts, client)
    cursor_at = compile_path(paging.cursor_path)
    next_at = compile_path(paging.next_path) if paging.next_path else None
    total_at = compile_path(paging.total_path) if paging.total_path else None
    read = 0  # records read so far, for total_path
    url: str = opts.url
    page_params = dict(params)
    if paging.type == "page":
        page_params[paging.page_param] = paging.start
        if paging.size_param and paging.size:
            page_params[paging.size_param] = paging.size
    elif paging.type == "offset":
        page_params[paging.offset_param] = 0
        page_params[str(paging.limit_param)] = paging.size
    elif paging.type in ("cursor", "link") and paging.limit_param and paging.size:
        page_params[paging.limit_param] = paging.size
    for number in range(1, paging.max_pages + 2):
        shown = client.show(url, page_params)
        if number > paging.max_pages:
            raise pages.fail(
                f"stopped before {shown} after options.paging.max_pages = {paging.max_pages} "
                "pages; raise max_pages if the source really is that large"
            )
        first = number == 1
        response = client.get(url, params=page_params, conditional=first and opts.conditional)
        with response:
            if response.status_code == 304:
                return
            document = client.json(response)
            links = response.links
            page_url = response.url
        records = pages.records(document, shown)
        if paging.type != "none":
            pages.check_repeat(records, shown)
        yield records
        if paging.type == "none":
            return
        if paging.type in ("page", "offset"):
            if not records:
                return
            read += len(records)
            if total_at is not None:
                total = _total(pages, total_at, document, shown, paging.total_path or "")
                if total is not None and read >= total:
                    return
            if paging.type == "page":
                page_params[paging.page_param] += 1
            else:
                page_params[paging.offset_param] += len(records)
        elif paging.type == "cursor":
            cursor = _value_at(cursor_at, document) if isinstance(document, dict) else None
            if cursor in (None, "") or not records:
                return
            pages.check_next(str(cursor), "cursor", shown)
            page_params[paging.cursor_param] = cursor
        else:
            if next_at is not None:
                target = _value_at(next_at, document) if isinstance(document, dict) else None
            else:
                target = links.get("next", {}).get("url")
            if not target or not records:
                return
            url = urljoin(page_url, str(target))
            if opts.http.auth is not None and _origin(url) != _origin(opts.url):
                raise pages.fail(
                    f"the next link {client.show(url)} given by {shown} leads to another "
                    "server; the credentials of options.auth are not sent there. Ask the "
                    "API's maintainers, or harvest that server as its own source"
                )
            pages.check_next(client.show(url), "next link", shown)
            page_params = {}  # the next link carries the whole query


def _iterate(source_id: str, opts: RestOptions, context: HarvestContext) -> Iterator[dict]:
    started = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    params: dict[str, Any] = dict(opts.params)
    previous_since = context.previous.get("since")
    if opts.since is not None and previous_since not in (None, ""):
        params[opts.since.param] = previous_since
        context.incremental = True
    newest = _Newest(opts.since.field if opts.since else None)
    with HttpClient(source_id, opts.http, context) as client:
        for page, records in enumerate(_walk(opts, client, params), start=1):
            newest.see(records)
            for number, record in enumerate(records, start=1):
                record_location.set(f"page {page} of the API, record {number} of the page")
                yield record
    if opts.since is not None:
        if context.unchanged or (opts.since.field and newest.value is None):
            # nothing new was seen: ask again from the same point next time
            context.state["since"] = previous_since if previous_since else started
        else:
            context.state["since"] = newest.value if opts.since.field else started


def harvest_rest(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[dict]:
    """Records of a JSON API, page by page; options are checked now, the API read lazily."""
    opts = parse_options(source_id, options)
    return _iterate(source_id, opts, context if context is not None else HarvestContext())
