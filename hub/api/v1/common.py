"""What every /api/v1 route shares: its query parameters' documentation and error responses.

Routes read their query parameters themselves (hub.api.v1.params, for 400s that name
the parameter and the expected form); here they are only described for OpenAPI, so
FastAPI does not validate twenty optional strings on every request.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hub.api.v1.deps import vocabulary
from hub.api.v1.formats import LIST_FORMATS
from hub.api.v1.models import ErrorBody
from hub.api.v1.params import (
    DEFAULT_SIZE,
    MAX_Q_CHARS,
    MAX_RADIUS_KM,
    MAX_SIZE,
    PATTERNS,
    list_pattern,
    vocabulary_patterns,
)
from hub.api.v1.present import FIELDS
from hub.readmodel import LANGS, ReadModel
from hub.readmodel._model import SORTS

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


def format_names(formats: Any) -> list[str]:
    """What `format=` takes for these formats: their names and media types."""
    return [f.name for f in formats] + [f.media_type for f in formats]


def _string(pattern: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern, **more}


SCHEMAS: dict[str, dict[str, Any]] = {
    # The forms hub.api.v1.params checks: the patterns are the same objects.
    **{
        name: _string(PATTERNS[name])
        for name in ("type", "project", "source", "region", "theme", "category")
    },
    **{name: _string(PATTERNS[name]) for name in ("bbox", "near", "updated_since")},
    "municipality": {"type": "string", "maxLength": 100},
    # Words are Unicode letters and digits: an ECMA-262 `pattern` (ASCII \w) cannot say which.
    "q": {"type": "string", "minLength": 1, "maxLength": MAX_Q_CHARS},
    "radius": {"type": "number", "minimum": 0.001, "maximum": MAX_RADIUS_KM},
    "lang": {"type": "string", "enum": list(LANGS)},
    "fields": _string(list_pattern("|".join(sorted(FIELDS, key=lambda f: (-len(f), f))))),
    "sort": {"type": "string", "enum": list(SORTS)},
    "page": {"type": "integer", "minimum": 1, "maximum": 10**9},
    "size": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE, "default": DEFAULT_SIZE},
    "cursor": _string(PATTERNS["cursor"], maxLength=2048),
    "format": {"type": "string", "enum": format_names(LIST_FORMATS)},
}
"""Each parameter's JSON Schema; an endpoint's `extra` may give its own (its `schema` key)."""


def documented(
    *names: str,
    extra: dict[str, tuple[str, str]] | None = None,
    schemas: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`openapi_extra` describing these (optional) query parameters with their real forms."""
    table = {**PARAMETERS, **(extra or {})}
    forms = {**SCHEMAS, **(schemas or {})}
    parameters = []
    for name in names:
        description, example = table[name]
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": forms.get(name, {"type": "string"}),
        }
        if example:
            parameter["example"] = example
        parameters.append(parameter)
    return {"parameters": parameters}


VALIDATION_ERROR = {
    "description": "A parameter or body field is malformed; the message names it.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def _answers_400(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its validation errors as 422; the hub sends them as 400 (hub.api.errors)."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if responses.pop("422", None) is not None:
                responses.setdefault("400", VALIDATION_ERROR)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components.setdefault(
        "ErrorBody", ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    return schema


def openapi_with_vocabulary(app: Any, base: Callable[[], dict[str, Any]]) -> Callable[[], dict]:
    """`app.openapi` whose id filters (`project=`, `region=`, ...) name the ids the hub knows now,
    and whose validation errors are 400s, as sent.

    The filters refuse unknown ids (a typo must not silently match nothing), so the schema
    lists them: the document is rebuilt when the read model's version changes.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _answers_400(base())
        schema = app.openapi_schema
        readmodel = getattr(app.state, "readmodel", None)
        try:
            if readmodel is None:
                readmodel = app.state.readmodel = ReadModel.for_config(app.state.config)
            with readmodel.snapshot() as snap:
                version = snap.version()
                vocab = vocabulary(snap, app.state.config)
        except Exception:  # nothing published yet: the routes answer 503, the forms stay generic
            return schema
        cached = getattr(app.state, "openapi_vocabulary", None)
        if cached is not None and cached[0] == version:
            return cached[1]
        patched = copy.deepcopy(schema)
        patterns = vocabulary_patterns(vocab)
        for item in patched.get("paths", {}).values():
            for operation in item.values():
                for parameter in (
                    operation.get("parameters", []) if isinstance(operation, dict) else []
                ):
                    name, form = parameter.get("name"), parameter.get("schema", {})
                    generic = form.get("pattern") == PATTERNS.get(name)
                    if parameter.get("in") == "query" and generic and name in patterns:
                        form["pattern"] = patterns[name]
        app.state.openapi_vocabulary = (version, patched)
        return patched

    return openapi
