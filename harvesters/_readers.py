"""Readers for the `files` kind: CSV (streamed row by row), JSON and GeoJSON (one document).

`read_chunks` picks the reader for a format and feeds it a file's bytes; XLSX is in
`_xlsx`, KML and GPX in `_geoxml`. Other kinds that download files (`ckan`) read them
through it too.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import Field

from harvesters import _geoxml, _text, _xlsx
from harvesters._options import (
    AcceptsSecret,
    Allowed,
    KindOptions,
    NonNegativeInt,
    PositiveInt,
    Text,
)
from harvesters._wkt import GeometryError, geometry_to_wkt
from harvesters.context import record_location
from hub.errors import HarvestError

FORMATS = ("csv", "json", "geojson", "xlsx", "kml", "gpx")
_DELIMITERS = (",", ";", "\t", "|")
SPOOL_BYTES = 16 * 1024 * 1024
"""A download kept whole (XLSX, or to compare with the last run's) goes to a temporary file
beyond this size."""
# 43,71 or -1.234,5 (thousands with points): a number written with a decimal comma
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*$")

Delimiter = Annotated[
    str,
    Field(min_length=1, max_length=1),
    AcceptsSecret,
    Allowed("one character (e.g. ';' or '\\t')"),
]
Sheet = Annotated[
    Text | NonNegativeInt, Allowed("a sheet name or a position (0 is the first sheet)")
]


class ReadFields(KindOptions):
    """The reader options of the kinds that read files (`files`, `ckan`)."""

    encoding: Text = "utf-8"
    delimiter: Delimiter | None = Field(None, description="CSV; a tab for .tsv files, else ','")
    records: Text | None = Field(None, description="JSON and GeoJSON: the path of the records")
    sheet: Sheet | None = None
    skip_rows: NonNegativeInt = Field(0, description="XLSX: rows above the header to skip")
    header_rows: PositiveInt = Field(1, description="XLSX: how many rows the header spans")
    decimal_comma: list[Text] = Field(
        default_factory=list, description="CSV: columns whose numbers use a decimal comma"
    )


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file's bytes into records: the reader options of `files` and `ckan`."""

    encoding: str = "utf-8"
    delimiter: str = ","
    records: str | None = None
    sheet: _xlsx.Sheet | None = None
    skip_rows: int = 0
    header_rows: int = 1
    decimal_comma: tuple[str, ...] = ()


def parse_read_options(
    source_id: str, options: ReadFields, fmt: str | None, location: str
) -> ReadOptions:
    """Check the declared reader options against the format, when it is known."""
    if options.records is not None and fmt in ("csv", "xlsx"):
        raise HarvestError(
            source_id,
            f"options.records is for JSON and GeoJSON; remove it for a {fmt.upper()} file",
        )
    for name in ("sheet", "skip_rows", "header_rows"):
        if name in options.model_fields_set and fmt not in ("xlsx", None):
            raise HarvestError(
                source_id, f"options.{name} is for XLSX workbooks; remove it for a {fmt} file"
            )
    if options.decimal_comma and fmt not in ("csv", None):
        raise HarvestError(
            source_id,
            f"options.decimal_comma is for CSV files (XLSX cells keep their numbers); "
            f"remove it for a {fmt} file",
        )
    default_delimiter = "\t" if PurePosixPath(location).suffix.lower() == ".tsv" else ","
    return ReadOptions(
        encoding=_text.check_encoding(source_id, options.encoding),
        delimiter=options.delimiter or default_delimiter,
        records=options.records,
        sheet=options.sheet,
        skip_rows=options.skip_rows,
        header_rows=options.header_rows,
        decimal_comma=tuple(options.decimal_comma),
    )


def read_chunks(
    source_id: str, name: str, fmt: str, chunks: Iterator[bytes], read: ReadOptions
) -> Iterator[dict]:
    """Records of a file in format `fmt`, given its bytes as chunks; `name` is for messages."""
    if fmt != "xlsx":
        chunks = _refuse_html(source_id, name, fmt, chunks)
    if fmt == "csv":
        lines = _text.decode_line_batches(source_id, name, chunks, read.encoding)
        rows = read_csv(source_id, name, lines, read.delimiter)
        yield from _with_decimal_points(source_id, name, rows, read.decimal_comma)
    elif fmt == "kml":
        yield from _geoxml.read_kml(source_id, name, chunks)
    elif fmt == "gpx":
        yield from _geoxml.read_gpx(source_id, name, chunks)
    elif fmt == "xlsx":
        # a zip archive is read from its end: keep the whole download, on disk if large
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            yield from _xlsx.read_xlsx(
                source_id,
                name,
                spool,  # type: ignore[arg-type]
                read.sheet,
                skip_rows=read.skip_rows,
                header_rows=read.header_rows,
            )
    else:
        text = _text.decode_all(source_id, name, chunks, read.encoding)
        document = parse_json(source_id, name, text)
        if fmt == "geojson":
            yield from read_geojson(source_id, name, document, read.records)
        else:
            yield from read_json(source_id, name, document, read.records)


_HTML = re.compile(rb"^(\xef\xbb\xbf)?\s*(<!doctype\s+html|<html[\s>])", re.IGNORECASE)


def _refuse_html(source_id: str, name: str, fmt: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, unless the file is an HTML page (an error or login page served instead)."""
    first = next(chunks, b"")
    if _HTML.match(first[:512]):
        raise HarvestError(
            source_id,
            f"{name} is an HTML page, not {fmt.upper()}: a server showing an error, login or "
            "maintenance page instead of the file? Open it in a browser, and check options.url",
        )
    if first:
        yield first
    yield from chunks


def decimal_point(value: str | None) -> str | None:
    """`43,71` -> `43.71`, `1.234,5` -> `1234.5`; anything else is returned unchanged."""
    if value is None or not _DECIMAL_COMMA.match(value):
        return value
    whole, fraction = value.strip().rsplit(",", 1)
    return f"{whole.replace('.', '')}.{fraction}"


def _with_decimal_points(
    source_id: str, name: str, rows: Iterator[dict], columns: tuple[str, ...]
) -> Iterator[dict]:
    """Rewrite the numbers of `columns` from a decimal comma to a decimal point."""
    if not columns:
        yield from rows
        return
    for number, row in enumerate(rows, start=1):
        if number == 1:
            missing = [c for c in columns if c not in row]
            if missing:
                raise HarvestError(
                    source_id,
                    f"{name}: options.decimal_comma names column(s) "
                    f"{', '.join(f'`{c}`' for c in missing)} that the header does not have "
                    f"(its columns: {', '.join(row)}); fix options.decimal_comma",
                )
        for column in columns:
            row[column] = decimal_point(row[column])
        yield row


def _show(delimiter: str) -> str:
    return "'\\t'" if delimiter == "\t" else repr(delimiter)


def _delimiter_hint(header: list[str], delimiter: str) -> str:
    """A guess at the right delimiter from the header, as advice for an error message."""
    counts = {d: sum(h.count(d) for h in header) for d in _DELIMITERS if d != delimiter}
    best = max(counts, key=lambda d: counts[d])
    if counts[best]:
        return f"is the delimiter {_show(best)}? set options.delimiter"
    return "a value that contains the delimiter or a line break must be in double quotes"


def read_csv(
    source_id: str, name: str, line_batches: Iterable[list[str]], delimiter: str
) -> Iterator[dict]:
    """Yield one dict per CSV row, header names as keys; empty cells become None.

    `line_batches` are the file's lines, line ends kept, in lists (`_text.decode_line_batches`).
    The per-row work is what `csv.DictReader` does (one `dict(zip(...))`) plus the record's
    location: the header is checked once, a row without an empty cell is zipped as it is,
    and the raw lines are remembered per batch, not per line (only a short row needs its last line,
    to tell a file cut short).
    """
    seen: list[Any] = [0, []]  # lines in the batches before the current one; the current one

    def batches() -> Iterator[list[str]]:
        for batch in line_batches:
            if batch:  # the current batch holds the line the reader read last
                seen[0] += len(seen[1])
                seen[1] = batch
                yield batch

    reader = csv.reader(chain.from_iterable(batches()), delimiter=delimiter)
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            return
        _check_header(source_id, name, header, delimiter)
        width = len(header)
        where = f"{name} line "
        set_location = record_location.set
        for row in reader:
            if len(row) != width:
                if not row:  # a blank line
                    continue
                line = reader.line_num
                raw = seen[1][line - seen[0] - 1]  # the row's last line, as read
                raise _wrong_width(source_id, name, line, header, row, raw, delimiter)
            set_location(where + str(reader.line_num))
            # same width: checked above; an empty cell is None ("" is the only false str)
            if "" in row:
                yield {column: value or None for column, value in zip(header, row, strict=False)}
            else:
                yield dict(zip(header, row, strict=False))
    except csv.Error as exc:
        raise HarvestError(
            source_id, f"{name} line {reader.line_num}: not valid CSV: {exc}; fix the file"
        ) from None


def csv_rows_digest(
    source_id: str, name: str, chunks: Iterator[bytes], read: ReadOptions
) -> str | None:
    """A SHA-256 of a CSV file's rows as `read_csv` reads them (same encoding and delimiter,
    blank lines skipped): a file rewritten with the same rows (another line end, quoting, a
    trailing newline) has the same digest. None if the bytes do not read as CSV (the reader
    says why when it reads them).

    Each row is hashed as its fields joined by U+001F and ended by U+001E; a row whose
    fields hold U+001D-U+001F is hashed as U+001D and its `repr` instead, so no two
    different sequences of rows hash the same text.
    """
    digest = hashlib.sha256()
    update = digest.update
    try:
        lines = _text.decode_line_batches(source_id, name, chunks, read.encoding)
        for row in csv.reader(chain.from_iterable(lines), delimiter=read.delimiter):
            if not row:
                continue
            text = "\x1f".join(row)
            if "\x1e" in text or "\x1d" in text or text.count("\x1f") != len(row) - 1:
                text = "\x1d" + repr(row)
            update((text + "\x1e").encode())
    except (csv.Error, HarvestError):
        return None
    return digest.hexdigest()


def _check_header(source_id: str, name: str, header: list[str], delimiter: str) -> None:
    """Refuse a header that names a column twice, or that looks read with the wrong delimiter."""
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise HarvestError(
                source_id,
                f"{name}: the header names column `{column}` twice; rename one of them in the file",
            )
        seen.add(column)
    if len(header) == 1 and any(d in header[0] for d in _DELIMITERS if d != delimiter):
        raise HarvestError(
            source_id,
            f"{name}: the header has a single column `{header[0]}` when read with "
            f"delimiter {_show(delimiter)}; {_delimiter_hint(header, delimiter)}",
        )


def _wrong_width(
    source_id: str,
    name: str,
    line: int,
    header: list[str],
    row: list[str],
    raw: str,
    delimiter: str,
) -> HarvestError:
    """Why a row with another number of fields than the header is refused.

    A short row whose last line `raw` has no line break ends a file cut short: that is
    said instead of a delimiter problem.
    """
    if len(row) < len(header) and not raw.endswith(("\n", "\r")):
        return HarvestError(
            source_id,
            f"{name} line {line}: the last row has {len(row)} fields but "
            f"the header has {len(header)}, and the file ends without a line break: "
            "it looks cut short (an interrupted copy or download?); fetch it again",
        )
    return HarvestError(
        source_id,
        f"{name} line {line}: the row has {len(row)} fields but the "
        f"header has {len(header)}; {_delimiter_hint(header, delimiter)}",
    )


def parse_json(source_id: str, name: str, text: str) -> Any:
    """The parsed JSON document, or a HarvestError naming the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarvestError(
            source_id,
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; "
            "fix the file, or set options.format if it is not JSON",
        ) from None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


def _list_keys(document: dict) -> str:
    lists = [k for k, v in document.items() if isinstance(v, list)]
    if lists:
        return f" (its lists are under: {', '.join(lists)})"
    return f" (its keys are: {', '.join(list(document)[:10]) or 'none'})"


def select_records(source_id: str, name: str, document: Any, path: str | None) -> Any:
    """Follow the dotted `path` (keys, or list indexes) down into the document."""
    if not path:
        return document
    value = document
    walked: list[str] = []
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            where = ".".join(walked) or "the document"
            extra = _list_keys(value) if isinstance(value, dict) else ""
            raise HarvestError(
                source_id,
                f"{name}: options.records is `{path}` but {where} ({_kind(value)}) has no "
                f"`{part}`{extra}; fix options.records",
            )
        walked.append(part)
    return value


def read_json(source_id: str, name: str, document: Any, path: str | None) -> Iterator[dict]:
    """Yield the objects of the list found at `path` (or of the document, if it is a list)."""
    records = select_records(source_id, name, document, path)
    if not isinstance(records, list):
        where = f"`{path}`" if path else "the document"
        extra = _list_keys(records) if isinstance(records, dict) else ""
        raise HarvestError(
            source_id,
            f"{name}: {where} is {_kind(records)}, not a list of records{extra}; "
            "set options.records to the dotted path of the list (e.g. 'data.items')",
        )
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise HarvestError(
                source_id,
                f"{name}: record {number} is {_kind(record)}, not an object; "
                "point options.records at a list of objects",
            )
        record_location.set(f"{name} {'$.' + path if path else '$'}[{number - 1}]")
        yield record


def read_geojson(source_id: str, name: str, document: Any, path: str | None) -> Iterator[dict]:
    """Yield each Feature as a dict, with its geometry added as WKT under the key `wkt`."""
    found = select_records(source_id, name, document, path)
    if isinstance(found, dict) and found.get("type") == "FeatureCollection":
        features = found.get("features")
    elif isinstance(found, dict) and found.get("type") == "Feature":
        features = [found]
    else:
        features = found
    if not isinstance(features, list):
        raise HarvestError(
            source_id,
            f"{name}: expected a GeoJSON FeatureCollection, a Feature or a list of Features, "
            f"found {_kind(found)}; check the file, or options.format and options.records",
        )
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise HarvestError(
                source_id,
                f"{name}: feature {number} is not a GeoJSON Feature "
                '(an object with "type": "Feature"); fix the file',
            )
        try:
            wkt = geometry_to_wkt(feature.get("geometry"))
        except GeometryError as exc:
            label = f" (id {feature['id']!r})" if "id" in feature else ""
            raise HarvestError(
                source_id, f"{name}: feature {number}{label} has a bad geometry: {exc}; fix it"
            ) from None
        record_location.set(f"{name} feature {number}")
        yield {**feature, "wkt": wkt}
