"""The `files` kind: records from a CSV, XLSX, JSON, GeoJSON, KML or GPX file, local or over HTTP(S).

CSV is streamed row by row, KML and GPX placemark by placemark, and so is an XLSX sheet
(an XLSX file is a zip archive, so one over HTTP is first downloaded to a temporary file,
kept in memory up to 16 MB).
A JSON or GeoJSON document is parsed whole, so one such file must fit in memory (split
very large ones, or publish them as CSV).

Over HTTP the download goes through the shared HTTP layer (`_http`: retries, rate
limit, auth) and is conditional: the ETag / Last-Modified of the last published run
are sent back, and a 304 gives no records and marks the run unchanged.

A local file, or a pipeline run's download (kept whole first, on disk when large), that
holds what the last published run's did is not read: the same bytes (SHA-256), or for
CSV the same rows in other bytes (`csv_rows_digest`: an export written again).
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

import requests
import urllib3
from pydantic import Field

from harvesters import _xlsx
from harvesters._common import location_options, mask_url
from harvesters._http import HTTP_OPTIONS, HttpClient, HttpFields, HttpOptions, parse_http_options
from harvesters._options import Text, declared
from harvesters._readers import (
    FORMATS,
    SPOOL_BYTES,
    ReadFields,
    ReadOptions,
    csv_rows_digest,
    parse_read_options,
    read_chunks,
)
from harvesters.context import HarvestContext
from hub.errors import HarvestError

__all__ = [
    "FORMATS",
    "FileOptions",
    "Options",
    "harvest_files",
    "media_type_format",
    "parse_options",
    "response_chunks",
]

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".geojson": "geojson",
    ".xlsx": "xlsx",
    ".kml": "kml",
    ".gpx": "gpx",
}
_MEDIA_TYPES = {
    "text/csv": "csv",
    "application/json": "json",
    "application/geo+json": "geojson",
    "application/vnd.geo+json": "geojson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.google-earth.kml+xml": "kml",
    "application/gpx+xml": "gpx",
}
_ACCEPT = {
    "csv": "text/csv, */*;q=0.5",
    "json": "application/json, */*;q=0.5",
    "geojson": "application/geo+json, application/json;q=0.9, */*;q=0.5",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, */*;q=0.5",
    "kml": "application/vnd.google-earth.kml+xml, application/xml;q=0.9, */*;q=0.5",
    "gpx": "application/gpx+xml, application/xml;q=0.9, */*;q=0.5",
}
_CHUNK = 64 * 1024


class Options(HttpFields, ReadFields):
    """The options a `files` source may set, with their types (checked at config load)."""

    path: Text | None = Field(None, description="a local file, relative to the config file")
    url: Text | None = Field(None, description="an http(s) URL")
    format: Text | None = Field(None, description=f"one of {', '.join(FORMATS)}")


@dataclass(frozen=True)
class FileOptions:
    """The checked options of a `files` source."""

    path: Path | None
    url: str | None
    shown: str  # how the location appears in messages (path as written, URL masked)
    format: str | None
    read: ReadOptions
    http: HttpOptions


def extension_format(location: str) -> str | None:
    """The format a file name's extension says (csv, json, geojson, xlsx, kml, gpx), or None."""
    return _EXTENSIONS.get(PurePosixPath(location).suffix.lower())


def media_type_format(content_type: str | None) -> str | None:
    """The format a Content-Type header says, or None."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return _MEDIA_TYPES.get(media_type)


def parse_options(source_id: str, options: Mapping[str, Any], root: Path) -> FileOptions:
    """Check the options of a `files` source; errors say which option to fix and how."""
    given = declared(source_id, "files", Options, options)
    path, url = location_options(source_id, given.path, given.url)
    over_http = [n for n in HTTP_OPTIONS if n in given.model_fields_set and n != "timeout"]
    if path is not None and over_http:
        raise HarvestError(
            source_id, f"options.{over_http[0]} is for files over HTTP; remove it for a local file"
        )
    location = path if path is not None else urlsplit(url or "").path
    fmt = given.format
    if fmt is not None and fmt.lower() not in FORMATS:
        hint = "; save an old .xls workbook as .xlsx" if fmt.lower() == "xls" else ""
        raise HarvestError(
            source_id, f"options.format `{fmt}` is not one of {', '.join(FORMATS)}{hint}"
        )
    fmt = fmt.lower() if fmt else extension_format(location)
    if fmt is None and url is None:
        raise HarvestError(
            source_id,
            f"cannot tell the format of {path} from its extension; "
            f"set options.format to one of {', '.join(FORMATS)}",
        )
    return FileOptions(
        path=(root / Path(path).expanduser()) if path is not None else None,
        url=url,
        shown=path if path is not None else mask_url(url or ""),
        format=fmt,
        read=parse_read_options(source_id, given, fmt, location),
        http=parse_http_options(source_id, given),
    )


@contextlib.contextmanager
def _open_local(source_id: str, opts: FileOptions) -> Iterator[IO[bytes]]:
    assert opts.path is not None
    try:
        stream = opts.path.open("rb")
    except FileNotFoundError:
        raise HarvestError(
            source_id,
            f"file {opts.shown} not found (looked for {opts.path}); check options.path "
            "(a relative path is taken from the folder of the config file)",
        ) from None
    except OSError as exc:
        raise HarvestError(source_id, f"cannot open {opts.shown}: {exc.strerror}") from None
    with stream:
        yield stream


def _local_chunks(source_id: str, shown: str, stream: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := stream.read(_CHUNK):
            yield chunk
    except OSError as exc:
        raise HarvestError(source_id, f"cannot read {shown}: {exc.strerror}") from None


def response_chunks(source_id: str, shown: str, response: requests.Response) -> Iterator[bytes]:
    """The body of a streamed response as it arrives; HarvestError if it breaks off."""
    received = 0
    try:
        # read1 hands over what has arrived, so records flow while the body still downloads
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            received += len(chunk)
            yield chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise HarvestError(
            source_id,
            f"the download of {shown} broke off after {received} bytes: "
            f"{mask_url(str(exc))}; try again, or raise options.timeout if the server is slow",
        ) from None


def _file_digest(source_id: str, opts: FileOptions) -> str:
    """The SHA-256 of a local file (read once more by the reader: from the page cache)."""
    digest = hashlib.sha256()
    with _open_local(source_id, opts) as stream:
        for chunk in _local_chunks(source_id, opts.shown, stream):
            digest.update(chunk)
    return digest.hexdigest()


def _same_as_published(
    shown: str, digest: str, rows_digest: Callable[[], str | None], context: HarvestContext
) -> str:
    """How a file holds what the last published run's did: the same bytes (`digest`, its
    SHA-256), or the same rows (`rows_digest()`, asked only when the bytes differ: a
    rewritten CSV export); "" if it does not. The pipeline offers the last run's digests
    only under the same mapping, settings and checks."""
    context.state["sha256"] = digest
    if context.previous.get("sha256") == digest:
        if "rows_sha256" in context.previous:
            context.state["rows_sha256"] = context.previous["rows_sha256"]
        return f"{shown} is byte for byte the published run's file"
    rows = rows_digest()
    if rows is None:
        return ""
    context.state["rows_sha256"] = rows
    if context.previous.get("rows_sha256") != rows:
        return ""
    return f"{shown} was written again with the published run's rows"


def _local_rows_digest(source_id: str, opts: FileOptions) -> str | None:
    """The digest of a local CSV file's rows (`csv_rows_digest`), read once more from the
    page cache; None for other formats."""
    if opts.format != "csv":
        return None
    with _open_local(source_id, opts) as stream:
        chunks = _local_chunks(source_id, opts.shown, stream)
        return csv_rows_digest(source_id, opts.shown, chunks, opts.read)


def _read_local(
    source_id: str, opts: FileOptions, context: HarvestContext | None
) -> Iterator[dict]:
    """The file's records; none, and the run marked unchanged, when it holds what the last
    published run's file did (`_same_as_published`)."""
    assert opts.format is not None
    if context is not None:
        digest = _file_digest(source_id, opts)
        rows = partial(_local_rows_digest, source_id, opts)
        if because := _same_as_published(opts.shown, digest, rows, context):
            context.mark_unchanged(because)
            return
    with _open_local(source_id, opts) as stream:
        if opts.format == "xlsx":  # a local workbook is read in place, not copied
            yield from _xlsx.read_xlsx(
                source_id,
                opts.shown,
                stream,
                opts.read.sheet,
                skip_rows=opts.read.skip_rows,
                header_rows=opts.read.header_rows,
            )
        else:
            chunks = _local_chunks(source_id, opts.shown, stream)
            yield from read_chunks(source_id, opts.shown, opts.format, chunks, opts.read)


def _read_http(source_id: str, opts: FileOptions, context: HarvestContext | None) -> Iterator[dict]:
    assert opts.url is not None
    headers = {"Accept": _ACCEPT.get(opts.format or "", "*/*")}
    with HttpClient(source_id, opts.http, context) as client:
        response = client.get(opts.url, headers=headers, conditional=True, stream=True)
        with response:
            if response.status_code == 304:
                return  # nothing changed since the last published run
            fmt = opts.format or media_type_format(response.headers.get("Content-Type"))
            if fmt is None:
                media_type = response.headers.get("Content-Type") or "none"
                raise HarvestError(
                    source_id,
                    f"cannot tell the format of {opts.shown} from its extension or its "
                    f"Content-Type ({media_type}); set options.format to one of "
                    f"{', '.join(FORMATS)}",
                )
            chunks = response_chunks(source_id, opts.shown, response)
            if context is None:  # records flow while the body still downloads
                yield from read_chunks(source_id, opts.shown, fmt, chunks, opts.read)
                return
            yield from _read_download(source_id, opts, fmt, chunks, context)


def _read_download(
    source_id: str, opts: FileOptions, fmt: str, chunks: Iterator[bytes], context: HarvestContext
) -> Iterator[dict]:
    """A pipeline run's download, kept whole first (on disk beyond `SPOOL_BYTES`): none of
    its records, and the run unchanged, when it holds what the published run's did (a
    server without validators, or one whose export is made again every night)."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        digest = hashlib.sha256()
        for chunk in chunks:
            body.write(chunk)
            digest.update(chunk)

        def spooled() -> Iterator[bytes]:
            body.seek(0)
            return _local_chunks(source_id, opts.shown, body)

        def rows() -> str | None:
            if fmt != "csv":
                return None
            return csv_rows_digest(source_id, opts.shown, spooled(), opts.read)

        if because := _same_as_published(opts.shown, digest.hexdigest(), rows, context):
            context.mark_unchanged(because)
            return
        yield from read_chunks(source_id, opts.shown, fmt, spooled(), opts.read)


def harvest_files(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[dict]:
    """Records of a CSV, XLSX, JSON, GeoJSON, KML or GPX file; options are checked now, read lazily."""
    opts = parse_options(source_id, options, Path(root))
    if opts.path is not None:
        return _read_local(source_id, opts, context)
    return _read_http(source_id, opts, context)
