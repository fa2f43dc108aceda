"""Output formats of /api/v1 (JSON, GeoJSON, CSV, JSON-LD) and how a client picks one.

`format=` wins over Accept; Accept is read with q-values (`*/*` gets JSON).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hub.api.errors import ApiError
from hub.api.negotiation import parse_accept
from hub.util import jsonbytes


@dataclass(frozen=True)
class OutFormat:
    """A format: its `format=` name and media type."""

    name: str
    media_type: str


JSON = OutFormat("json", "application/json")
GEOJSON = OutFormat("geojson", "application/geo+json")
CSV = OutFormat("csv", "text/csv")
JSONLD = OutFormat("jsonld", "application/ld+json")
LIST_FORMATS = (JSON, GEOJSON, CSV, JSONLD)
ENTITY_FORMATS = (JSON, GEOJSON, JSONLD)
JSON_ONLY = (JSON,)


def choose(format_param: str | None, accept: str | None, formats: Sequence[OutFormat]) -> OutFormat:
    """The format asked by `format=` or Accept; 400 for an unknown name, 406 if none fits."""
    names = ", ".join(f.name for f in formats)
    if format_param is not None:
        wanted = format_param.strip().lower()
        for fmt in formats:
            if wanted in (fmt.name, fmt.media_type):
                return fmt
        raise ApiError(400, f"format={format_param!r} is not available here; use one of: {names}")
    ranges = parse_accept(accept)
    best: tuple[tuple[float, int, int, int], OutFormat] | None = None
    for order, fmt in enumerate(formats):
        for r in ranges:
            spec = r.specificity(fmt.media_type)
            if spec < 0 or r.q <= 0:
                continue
            key = (r.q, spec, -r.position, -order)
            if best is None or key > best[0]:
                best = (key, fmt)
    if best is None:
        raise ApiError(
            406,
            f"cannot answer in any of `{accept}`; available: "
            + ", ".join(f"{f.media_type} (format={f.name})" for f in formats),
        )
    return best[1]


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return jsonbytes.dumps(value)


def to_csv(items: Iterable[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """Rows of items; lists are joined with '|', objects written as JSON, missing as empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for item in items:
        row = []
        for column in columns:
            value = item.get(column)
            if value is None:
                row.append("")
            elif isinstance(value, list):
                row.append("|".join(str(v) for v in value))
            elif isinstance(value, dict):
                row.append(json.dumps(value, ensure_ascii=False))
            else:
                row.append(value)
        writer.writerow(row)
    return out.getvalue().encode("utf-8")
