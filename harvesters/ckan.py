"""The `ckan` kind: records from the data files of a CKAN open-data portal.

The portal's Action API (`package_search`) lists the datasets that match the filters
(organization, tags, free text), page by page; the resources of those datasets whose
format is wanted (and whose name matches `resource_name`) are downloaded and read by
the `files` readers (CSV, JSON, GeoJSON, XLSX). Every record gets `_dataset` (the
dataset's CKAN name) and `_resource` (the resource id).

Downloads are conditional: when the same resources as last time all answer 304 (same
ETag / Last-Modified), the run gives no records and is marked unchanged. As soon as one
resource has changed, every resource is read (a run replaces the source's whole graph).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from pydantic import Field

from harvesters._http import HttpClient, HttpFields, HttpOptions, parse_http_options
from harvesters._options import Allowed, PositiveInt, Text, TextList, declared
from harvesters._readers import ReadFields, ReadOptions, parse_read_options, read_chunks
from harvesters.context import HarvestContext
from harvesters.files import extension_format, response_chunks
from hub.errors import HarvestError

DEFAULT_FORMATS = ("CSV", "JSON", "GeoJSON", "XLSX")
# CKAN's free-text resource format (normalised: lower case, no dot) -> the reader
_READERS = {
    "csv": "csv",
    "text/csv": "csv",
    "json": "json",
    "application/json": "json",
    "geojson": "geojson",
    "application/geo+json": "geojson",
    "xlsx": "xlsx",
}
_API = "api/3/action/"
_STATE = "ckan"  # context.state[_STATE] = {"resources": [ids]}; validators per resource


Formats = Annotated[
    list[Text], Field(min_length=1), Allowed('a list of formats, e.g. ["CSV", "XLSX"]')
]


class Options(HttpFields, ReadFields):
    """The options a `ckan` source may set, with their types (checked at config load)."""

    url: Text = Field(description='the portal\'s http(s) address, e.g. "https://dati.example.it/"')
    organization: Text | None = None
    tags: TextList | None = Field(None, description='tag names, e.g. ["agrumi"]')
    query: Text | None = Field(None, description="free text to search for")
    formats: Formats | None = Field(None, description=f"default: {', '.join(DEFAULT_FORMATS)}")
    resource_name: Text | None = Field(None, description="a regular expression")
    max_datasets: PositiveInt | None = None
    page_size: PositiveInt = 100


@dataclass(frozen=True)
class CkanOptions:
    """The checked options of a `ckan` source."""

    url: str  # the portal's base URL, ending in '/'
    organization: str | None
    tags: tuple[str, ...]
    query: str | None
    formats: frozenset[str]  # normalised reader formats
    resource_name: re.Pattern[str] | None
    max_datasets: int | None
    page_size: int
    read: ReadOptions
    http: HttpOptions

    def filters(self) -> str:
        """The filters in words, for messages."""
        parts = []
        if self.organization:
            parts.append(f"organization `{self.organization}`")
        if self.tags:
            parts.append("tags " + ", ".join(f"`{t}`" for t in self.tags))
        if self.query:
            parts.append(f"query `{self.query}`")
        return " and ".join(parts) or "no filters"


@dataclass(frozen=True)
class Resource:
    """One file of one dataset, selected for reading."""

    dataset: str
    id: str
    url: str
    format: str  # the reader's format

    @property
    def shown(self) -> str:
        """How messages name it."""
        return f"dataset `{self.dataset}` resource {self.url}"


def _formats(source_id: str, names: list[str] | None) -> frozenset[str]:
    found = set()
    for name in names or DEFAULT_FORMATS:
        reader = _READERS.get(name.strip().lower().lstrip("."))
        if reader is None:
            raise HarvestError(
                source_id,
                f"options.formats: `{name}` cannot be read; the readable formats are "
                f"{', '.join(DEFAULT_FORMATS)}",
            )
        found.add(reader)
    return frozenset(found)


def parse_options(source_id: str, options: Mapping[str, Any], root: Path) -> CkanOptions:
    """Check the options of a `ckan` source; errors say which option to fix and how."""
    given = declared(source_id, "ckan", Options, options)
    url = given.url
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise HarvestError(
            source_id,
            "options.url must be the portal's http(s) address, e.g. "
            '"https://dati.example.it/" (the Action API is under api/3/action/)',
        )
    try:
        resource_name = re.compile(given.resource_name, re.I) if given.resource_name else None
    except re.error as exc:
        raise HarvestError(
            source_id, f"options.resource_name is not a valid regular expression: {exc}"
        ) from None
    tags = [given.tags] if isinstance(given.tags, str) else given.tags or []
    return CkanOptions(
        url=url if url.endswith("/") else url + "/",
        organization=given.organization,
        tags=tuple(tags),
        query=given.query,
        formats=_formats(source_id, given.formats),
        resource_name=resource_name,
        max_datasets=given.max_datasets,
        page_size=given.page_size,
        read=parse_read_options(source_id, given, None, ""),
        http=parse_http_options(source_id, given),
    )


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_params(opts: CkanOptions, start: int, rows: int) -> dict[str, Any]:
    """The package_search parameters of one page."""
    fq = []
    if opts.organization:
        fq.append(f"organization:{_quote(opts.organization)}")
    fq.extend(f"tags:{_quote(tag)}" for tag in opts.tags)
    params: dict[str, Any] = {"q": opts.query or "*:*", "rows": rows, "start": start}
    if fq:
        params["fq"] = " AND ".join(fq)
    params["sort"] = "name asc"  # a stable order, so pages neither skip nor repeat
    return params


class _CkanClient(HttpClient):
    """The shared HTTP client, reporting CKAN's own error message on a refused API call."""

    def _status_error(self, response: requests.Response, shown: str) -> HarvestError:
        message = _ckan_error(response)
        if message is None and response.status_code == 404 and _API in response.url:
            return self.error(
                f"HTTP 404 from {shown}: no CKAN Action API there; set options.url to the "
                "portal's base address (the one under which api/3/action/ answers)"
            )
        if message is None:
            return super()._status_error(response, shown)
        return self.error(
            f"the portal refused {shown}: HTTP {response.status_code}: {message}; "
            "check options.organization, options.tags and options.query"
        )


def _ckan_error(response: requests.Response) -> str | None:
    """CKAN's error message in a `{"success": false, "error": {...}}` body, if it is one."""
    if "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        body = response.json()
    except (ValueError, RuntimeError, requests.RequestException, OSError):
        return None
    if not isinstance(body, dict) or body.get("success") is not False:
        return None
    error = body.get("error")
    if not isinstance(error, dict):
        return str(error)
    parts = [str(error["message"])] if error.get("message") else []
    parts += [
        f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in error.items()
        if k not in ("message", "__type")
    ]
    kind = error.get("__type")
    return f"{kind}: {', '.join(parts)}" if kind else ", ".join(parts) or "no message"


def _search(source_id: str, client: HttpClient, opts: CkanOptions) -> Iterator[dict]:
    """The datasets that match, page by page, at most `max_datasets`."""
    api = urljoin(opts.url, _API + "package_search")
    start = 0
    while True:
        rows = opts.page_size
        if opts.max_datasets is not None:
            rows = min(rows, opts.max_datasets - start)
        params = search_params(opts, start, rows)
        body = client.json(client.get(api, params=params))
        if not isinstance(body, dict) or body.get("success") is not True:
            message = _describe_failure(body)
            raise HarvestError(
                source_id,
                f"the portal answered {client.show(api, params)} with success: false ({message}); "
                "check options.url (the portal's address) and the filters",
            )
        result = body.get("result") or {}
        page = result.get("results")
        if not isinstance(page, list):
            raise HarvestError(
                source_id,
                f"{client.show(api, params)} gave no list of datasets under result.results; "
                "is options.url a CKAN portal?",
            )
        yield from (p for p in page if isinstance(p, dict))
        start += len(page)
        count = result.get("count", 0)
        done = opts.max_datasets is not None and start >= opts.max_datasets
        if not page or start >= count or done:
            return


def _describe_failure(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("message") or error.get("__type") or error)
    return "not a CKAN answer"


def _reader_format(resource: Mapping[str, Any]) -> str | None:
    declared = str(resource.get("format") or "").strip().lower().lstrip(".")
    if declared:
        return _READERS.get(declared)
    return extension_format(urlsplit(str(resource.get("url") or "")).path)


def select_resources(opts: CkanOptions, package: Mapping[str, Any]) -> list[Resource]:
    """The resources of one dataset to read: wanted format, matching name, with a URL."""
    chosen = []
    for resource in package.get("resources") or []:
        if not isinstance(resource, Mapping) or not resource.get("url"):
            continue
        fmt = _reader_format(resource)
        if fmt is None or fmt not in opts.formats:
            continue
        url = urljoin(opts.url, str(resource["url"]))
        name = str(resource.get("name") or PurePosixPath(urlsplit(url).path).name)
        if opts.resource_name is not None and not opts.resource_name.search(name):
            continue
        chosen.append(Resource(str(package.get("name")), str(resource.get("id")), url, fmt))
    return chosen


def _nothing_matched(source_id: str, opts: CkanOptions, datasets: list[dict]) -> HarvestError:
    if not datasets:
        return HarvestError(
            source_id,
            f"no dataset of {opts.url} matches {opts.filters()}; check the names on the portal "
            f"(organization and tag names as in its URLs, e.g. {opts.url}dataset?"
            f"{urlencode({'organization': opts.organization or 'name'})}), or loosen the filters",
        )
    seen = sorted({str(r.get("format") or "?") for p in datasets for r in p.get("resources") or []})
    names = ", ".join(f"`{p.get('name')}`" for p in datasets[:5])
    more = f" and {len(datasets) - 5} more" if len(datasets) > 5 else ""
    wanted = "" if opts.resource_name is None else f" named like /{opts.resource_name.pattern}/"
    return HarvestError(
        source_id,
        f"{len(datasets)} dataset(s) match {opts.filters()} ({names}{more}) but none has a "
        f"resource in {', '.join(sorted(opts.formats))}{wanted}; their resources are "
        f"{', '.join(seen) or 'none'}: fix options.formats or options.resource_name",
    )


def _download(
    source_id: str, client: HttpClient, resource: Resource, *, conditional: bool
) -> requests.Response:
    try:
        return client.get(
            resource.url,
            conditional=conditional,
            state_key=f"{_STATE}:{resource.id}",
            mark_unchanged=False,
            stream=True,
            headers={"Accept": "*/*"},
        )
    except HarvestError as exc:
        raise HarvestError(
            source_id,
            f"{resource.shown} (id {resource.id}): {exc.reason}; the portal lists a file it "
            "cannot serve: tell its maintainers, or leave it out with options.resource_name",
        ) from None


def _read(
    source_id: str, opts: CkanOptions, resource: Resource, response: requests.Response
) -> Iterator[dict]:
    with response:
        chunks = response_chunks(source_id, resource.shown, response)
        extra = {"_dataset": resource.dataset, "_resource": resource.id}
        for record in read_chunks(source_id, resource.shown, resource.format, chunks, opts.read):
            yield {**record, **extra}


def _iterate(source_id: str, opts: CkanOptions, context: HarvestContext) -> Iterator[dict]:
    with _CkanClient(source_id, opts.http, context) as client:
        datasets = list(_search(source_id, client, opts))
        resources = [r for p in datasets for r in select_resources(opts, p)]
        if not resources:
            raise _nothing_matched(source_id, opts, datasets)
        ids = [r.id for r in resources]
        previous = context.previous.get(_STATE)
        # a file added or dropped since the last run is a change too
        changed = not isinstance(previous, Mapping) or previous.get("resources") != ids
        context.state[_STATE] = {"resources": ids}
        skipped: list[Resource] = []  # unchanged files not read (yet)
        for resource in resources:
            # conditional always, so that the client keeps every file's validators
            response = _download(source_id, client, resource, conditional=True)
            if response.status_code == 304:
                response.close()
                if not changed:
                    skipped.append(resource)
                    continue
                response = _download(source_id, client, resource, conditional=False)
            yield from _read(source_id, opts, resource, response)
            if not changed:  # the first changed file: the run reads every file after all
                changed = True
                for earlier in skipped:
                    again = _download(source_id, client, earlier, conditional=False)
                    yield from _read(source_id, opts, earlier, again)
                skipped.clear()
        if not changed:
            context.mark_unchanged("every resource of the dataset answered 304 Not Modified")


def harvest_ckan(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[dict]:
    """Records of the data files of a CKAN portal's matching datasets; read lazily."""
    opts = parse_options(source_id, options, Path(root))
    return _iterate(source_id, opts, context if context is not None else HarvestContext())
