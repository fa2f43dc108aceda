"""What every /api/v1 route shares: its query parameters' documentation and error responses.

Routes read their query parameters themselves (hub.api.v1.params, for 400s that name
the parameter and the expected form); here they are only described for OpenAPI, so
FastAPI does not validate twenty optional strings on every request.
"""

from __future__ import annotations

from typing import Any

from hub.api.v1.models import ErrorBody
from hub.readmodel import LANGS

ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current."},
    400: {
        "model": ErrorBody,
        "description": "A parameter is malformed or unknown; the message names it and the expected form.",
    },
    406: {"model": ErrorBody, "description": "None of the formats in Accept can be sent."},
    503: {
        "model": ErrorBody,
        "description": "The read model is not built yet (nothing published).",
    },
}

PARAMETERS: dict[str, tuple[str, str]] = {
    "type": (
        "schema.org class, e.g. TouristAttraction (any of, comma-separated)",
        "TouristAttraction",
    ),
    "project": ("Project id (see /api/v1/projects)", "itinera"),
    "source": ("Source id (see /api/v1/sources)", "smartdest-offer"),
    "region": ("Region id: toscana, liguria, sardegna, corse, paca", "corse"),
    "municipality": (
        "Municipality name (case and accents ignored; repeat the parameter for several)",
        "Bonifacio",
    ),
    "theme": ("Theme id (see /api/v1/themes)", "itineraries-packages-maps"),
    "category": ("Offer category id (see /api/v1/themes)", "hiking"),
    "q": (
        "Words to find in names and descriptions, in every language (all must match; accents "
        "and case ignored; `word*` matches a prefix of 2+ letters)",
        "castello",
    ),
    "bbox": (
        "minlon,minlat,maxlon,maxlat in WGS84 degrees: entities whose extent meets the box",
        "8.5,41.3,9.6,43.1",
    ),
    "near": ("lat,lon: only entities within `radius` km of this point", "43.70,7.27"),
    "radius": ("Kilometres around `near` (default 10, at most 250)", "5"),
    "updated_since": (
        "Only entities modified at or after this ISO 8601 date or time",
        "2024-03-01",
    ),
    "lang": (
        f"Language of name, description and labels: {', '.join(LANGS)}; falls back to en, it, fr, "
        "then any (default: Accept-Language, else en)",
        "fr",
    ),
    "fields": ("Fields to include, comma-separated (id always)", "name,lat,lon"),
    "sort": (
        "name (default), updated, -updated (newest first), distance (default with near)",
        "-updated",
    ),
    "page": ("Page number from 1 (offset paging, down to row 10,000)", "2"),
    "size": ("Rows per page, 1-1000 (default 20)", "50"),
    "cursor": ("`next_cursor` of the previous page (keyset paging, any depth)", ""),
    "format": ("Overrides Accept: json, geojson, csv, jsonld", "geojson"),
}


def documented(*names: str, extra: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """`openapi_extra` describing these query parameters (all optional strings)."""
    table = {**PARAMETERS, **(extra or {})}
    parameters = []
    for name in names:
        description, example = table[name]
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": {"type": "string"},
        }
        if example:
            parameter["example"] = example
        parameters.append(parameter)
    return {"parameters": parameters}
