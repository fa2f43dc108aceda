"""The `files` kind: records from a CSV, JSON or GeoJSON file, local or over HTTP(S).

CSV is streamed row by row; a JSON or GeoJSON document is parsed whole, so one such
file must fit in memory (split very large ones, or publish them as CSV).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from harvesters import _readers, _text
from harvesters._common import (
    check_option_names,
    mask_url,
    positive_number_option,
    string_option,
)
from harvesters.context import HarvestContext
from hub.errors import HarvestError

OPTIONS = ("path", "url", "format", "encoding", "delimiter", "records", "timeout")
FORMATS = ("csv", "json", "geojson")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".geojson": "geojson"}
_MEDIA_TYPES = {
    "text/csv": "csv",
    "application/json": "json",
    "application/geo+json": "geojson",
    "application/vnd.geo+json": "geojson",
}
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileOptions:
    """The checked options of a `files` source."""

    path: Path | None
    url: str | None
    shown: str  # how the location appears in messages (path as written, URL masked)
    format: str | None
    encoding: str
    delimiter: str
    records: str | None
    timeout: float


def _guess_format(location: str) -> str | None:
    suffix = PurePosixPath(location).suffix.lower()
    return _EXTENSIONS.get(suffix)


def parse_options(source_id: str, options: Mapping[str, Any], root: Path) -> FileOptions:
    """Check the options of a `files` source; errors say which option to fix and how."""
    check_option_names(source_id, options, OPTIONS, "files")
    path = string_option(source_id, options, "path")
    url = string_option(source_id, options, "url")
    if (path is None) == (url is None):
        raise HarvestError(
            source_id, "set exactly one of options.path (a local file) or options.url (http/https)"
        )
    if url is not None and urlsplit(url).scheme.lower() not in ("http", "https"):
        raise HarvestError(
            source_id,
            f"options.url {mask_url(url)} is not an http(s) URL; use options.path for a local file",
        )
    location = path if path is not None else urlsplit(url or "").path
    fmt = string_option(source_id, options, "format")
    if fmt is not None and fmt.lower() not in FORMATS:
        raise HarvestError(source_id, f"options.format `{fmt}` is not one of {', '.join(FORMATS)}")
    fmt = fmt.lower() if fmt else _guess_format(location)
    if fmt is None and url is None:
        raise HarvestError(
            source_id,
            f"cannot tell the format of {path} from its extension; "
            f"set options.format to one of {', '.join(FORMATS)}",
        )
    records = string_option(source_id, options, "records")
    if records is not None and fmt == "csv":
        raise HarvestError(
            source_id, "options.records is for JSON and GeoJSON; remove it for a CSV file"
        )
    default_delimiter = "\t" if PurePosixPath(location).suffix.lower() == ".tsv" else ","
    delimiter = options.get("delimiter", default_delimiter)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise HarvestError(
            source_id,
            f"options.delimiter must be one character (e.g. ';' or '\\t'), not {delimiter!r}",
        )
    encoding = _text.check_encoding(
        source_id, string_option(source_id, options, "encoding", "utf-8") or "utf-8"
    )
    return FileOptions(
        path=(root / Path(path).expanduser()) if path is not None else None,
        url=url,
        shown=path if path is not None else mask_url(url or ""),
        format=fmt,
        encoding=encoding,
        delimiter=delimiter,
        records=records,
        timeout=positive_number_option(source_id, options, "timeout", 30, integer=False),
    )


def _local_chunks(source_id: str, opts: FileOptions) -> Iterator[bytes]:
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
        try:
            while chunk := stream.read(_CHUNK):
                yield chunk
        except OSError as exc:
            raise HarvestError(source_id, f"cannot read {opts.shown}: {exc.strerror}") from None


@contextlib.contextmanager
def _http_response(source_id: str, opts: FileOptions) -> Iterator[requests.Response]:
    assert opts.url is not None
    try:
        response = requests.get(opts.url, stream=True, timeout=opts.timeout)
    except requests.Timeout:
        raise HarvestError(
            source_id,
            f"no answer from {opts.shown} within {opts.timeout} s; "
            "check the server, or raise options.timeout",
        ) from None
    except requests.RequestException as exc:
        reason = mask_url(str(exc))
        raise HarvestError(
            source_id,
            f"cannot connect to {opts.shown}: {reason}; check options.url and that the "
            "server is up",
        ) from None
    with response:
        if response.status_code >= 400:
            raise HarvestError(
                source_id,
                f"HTTP {response.status_code} {response.reason} from {opts.shown}; "
                "check options.url",
            )
        yield response


def _http_chunks(source_id: str, opts: FileOptions, response: requests.Response) -> Iterator[bytes]:
    received = 0
    try:
        # read1 hands over what has arrived, so records flow while the body still downloads
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            received += len(chunk)
            yield chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise HarvestError(
            source_id,
            f"the download of {opts.shown} broke off after {received} bytes: "
            f"{mask_url(str(exc))}; try again, or raise options.timeout if the server is slow",
        ) from None


def _records(
    source_id: str, opts: FileOptions, fmt: str, chunks: Iterator[bytes]
) -> Iterator[dict]:
    if fmt == "csv":
        lines = _text.decode_lines(source_id, opts.shown, chunks, opts.encoding)
        return _readers.read_csv(source_id, opts.shown, lines, opts.delimiter)
    document = _readers.parse_json(
        source_id, opts.shown, _text.decode_all(source_id, opts.shown, chunks, opts.encoding)
    )
    if fmt == "geojson":
        return _readers.read_geojson(source_id, opts.shown, document, opts.records)
    return _readers.read_json(source_id, opts.shown, document, opts.records)


def _iterate(source_id: str, opts: FileOptions) -> Iterator[dict]:
    if opts.path is not None:
        assert opts.format is not None
        chunks = _local_chunks(source_id, opts)
        try:
            yield from _records(source_id, opts, opts.format, chunks)
        finally:
            chunks.close()
        return
    with _http_response(source_id, opts) as response:
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        fmt = opts.format or _MEDIA_TYPES.get(media_type)
        if fmt is None:
            raise HarvestError(
                source_id,
                f"cannot tell the format of {opts.shown} from its extension or its "
                f"Content-Type ({media_type or 'none'}); set options.format to one of "
                f"{', '.join(FORMATS)}",
            )
        yield from _records(source_id, opts, fmt, _http_chunks(source_id, opts, response))


def harvest_files(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[dict]:
    """Records of a CSV, JSON or GeoJSON file; options are checked now, the file read lazily."""
    opts = parse_options(source_id, options, Path(root))
    return _iterate(source_id, opts)
