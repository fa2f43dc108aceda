"""Read and check the query parameters of /api/v1; every problem is a 400 naming the parameter.

Nothing here touches SQL or SPARQL: values are checked against their expected
form (or the known vocabulary) and handed on as plain data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from hub.api.errors import ApiError
from hub.iris import MH
from hub.readmodel import DEFAULT_LANG, LANGS, EntityFilter
from hub.readmodel._extract import normalize_time
from hub.readmodel._model import Word
from hub.readmodel._text import facet_value

MAX_SIZE = 1000
DEFAULT_SIZE = 20
MAX_OFFSET = 10_000
MAX_RADIUS_KM = 250.0
DEFAULT_RADIUS_KM = 10.0
MAX_Q_CHARS = 200
MAX_WORDS = 16
MAX_VALUES = 50
_WORD = re.compile(r"\w+\*?")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_CLASS = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,99}$")
# `type=` takes the hub's schema.org namespace and the other spelling (decisions #28).
SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:")

# The forms a value may take, as regular expressions. The OpenAPI document gives them as
# `pattern`s (hub.api.v1.common) and the parsers check them, so the contract and the
# checks cannot drift apart: what the schema allows is accepted, what it forbids is a 400.
_LON = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[0-9]{1,2})(?:\.[0-9]+)?)"
_LAT = r"-?(?:90(?:\.0+)?|[0-8]?[0-9](?:\.[0-9]+)?)"
_NUMBER = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_INTEGER = re.compile(r"^[-+]?[0-9]+$")
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    rf"(?:{_YEAR}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    rf"|(?:0[13578]|1[02])-31)|{_LEAP}-02-29)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
_ZONE = r"(?:Z|[-+ ](?:[01][0-9]|2[0-3]):?[0-5][0-9])"
TYPE_ITEM = r"(?:https?://schema\.org/|schema:)?(?:mh:|https://w3id\.org/marittimo-hub/ns#)?[A-Za-z][A-Za-z0-9]{0,99}"
ID_ITEM = r"[a-z0-9][a-z0-9-]{0,99}"


def list_pattern(item: str) -> str:
    """A comma-separated list of `item`s (spaces around and empty items ignored), 50 at most."""
    one_item = rf" *(?:{item})? *"
    return rf"^{one_item}(?:,{one_item}){{0,{MAX_VALUES - 1}}}$"


PATTERNS: dict[str, str] = {
    "type": list_pattern(TYPE_ITEM),
    "project": list_pattern(ID_ITEM),
    "source": list_pattern(ID_ITEM),
    "region": list_pattern(ID_ITEM),
    "theme": list_pattern(ID_ITEM),
    "category": list_pattern(ID_ITEM),
    "bbox": rf"^{_LON},{_LAT},{_LON},{_LAT}$",
    "near": rf"^{_LAT},{_LON}$",
    "updated_since": rf"^{_DATE}(?:T{_TIME}{_ZONE}?)?$",
    "cursor": r"^[A-Za-z0-9_-]+$",
}
"""Each parameter's form; `project` ... `category` name known ids (see `vocabulary_patterns`)."""

FORMS = {
    "type": "class names like TouristAttraction, schema:Museum or mh:OperatorNetwork, comma-separated",
    "project": "project ids, comma-separated (see /api/v1/projects)",
    "source": "source ids, comma-separated (see /api/v1/sources)",
    "region": "region ids, comma-separated",
    "theme": "theme ids, comma-separated (see /api/v1/themes)",
    "category": "category ids, comma-separated (see /api/v1/themes)",
    "bbox": "minlon,minlat,maxlon,maxlat in decimal degrees, e.g. 8.5,41.3,9.6,43.1",
    "near": "lat,lon in decimal degrees, e.g. 43.72,10.40",
    "updated_since": "an ISO 8601 date or UTC/offset time, e.g. 2025-01-31 or 2025-01-31T08:00:00Z",
    "cursor": "the `next_cursor` of a page (letters, digits, '-' and '_')",
}


def check_form(name: str, value: str, pattern: str | None = None) -> None:
    """400 naming the parameter if `value` is not of its documented form."""
    # fullmatch: Python's `$` also matches before a final newline, JSON Schema's does not.
    if not re.fullmatch(pattern or PATTERNS[name], value):
        raise ApiError(400, f"{name}={value[:80]!r} is not of the form: {FORMS[name]}")


def vocabulary_patterns(vocab: Vocabulary) -> dict[str, str]:
    """The patterns of the id filters when the ids the hub knows are those of `vocab`."""
    known = {
        "project": vocab.projects,
        "source": vocab.sources,
        "region": vocab.regions,
        "theme": vocab.themes,
        "category": vocab.categories,
    }
    out = {}
    for name, ids in known.items():
        # Ids are slugs (no regex syntax); the longest first, so none stops at a prefix of another.
        usable = sorted((i for i in ids if re.fullmatch(ID_ITEM, i)), key=lambda i: (-len(i), i))
        out[name] = list_pattern("|".join(usable))
    return out


FILTER_PARAMS = (
    "type",
    "project",
    "source",
    "region",
    "municipality",
    "theme",
    "category",
    "q",
    "bbox",
    "near",
    "radius",
    "updated_since",
)


def check_known(params: QueryParams, allowed: Iterable[str]) -> None:
    """Refuse parameters the endpoint does not take (a typo would otherwise be ignored)."""
    known = set(allowed)
    for name in params:
        if name not in known:
            raise ApiError(
                400, f"unknown parameter `{name}`; this endpoint takes: {', '.join(sorted(known))}"
            )


def _values(params: QueryParams, name: str, *, split: bool = True) -> list[str]:
    """A parameter's values: repeated and (if `split`) comma-separated, trimmed, non-empty."""
    out: list[str] = []
    for raw in params.getlist(name):
        parts = raw.split(",") if split else [raw]
        out += [p.strip() for p in parts if p.strip()]
    if len(out) > MAX_VALUES:
        raise ApiError(400, f"{name}: at most {MAX_VALUES} values")
    return out


def _one(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def _known(name: str, values: list[str], known: Iterable[str], what: str) -> tuple[str, ...]:
    """Values that must be in a known set (ids of projects, sources, regions, concepts)."""
    choices = sorted(known)
    for value in values:
        if value not in choices:
            shown = ", ".join(choices[:40]) + (" …" if len(choices) > 40 else "")
            raise ApiError(400, f"{name}={value!r} is not a known {what}; use one of: {shown}")
    return tuple(dict.fromkeys(values))


def _type(value: str) -> str:
    for prefix in SCHEMA_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
    hub = value.startswith(("mh:", MH))
    name = value.removeprefix("mh:").removeprefix(MH)
    if not _CLASS.match(name):
        raise ApiError(
            400,
            f"type={value!r} is not a class name; write a schema.org class like TouristAttraction "
            "(or schema:TouristAttraction), or a hub class like mh:OperatorNetwork; "
            "/api/v1/types lists the types in use",
        )
    return f"mh:{name}" if hub else name


def parse_float(name: str, text: str, low: float, high: float, form: str) -> float:
    """One number in [low, high], or a 400 naming the parameter and the form."""
    try:
        if not _NUMBER.match(text):
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise ApiError(400, f"{name}={text!r} is not a number; expected {form}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ApiError(400, f"{name}={text!r} is out of range [{low:g}, {high:g}]; expected {form}")
    return value


def _bbox(text: str) -> tuple[float, float, float, float]:
    form = "bbox=minlon,minlat,maxlon,maxlat in degrees (WGS84), e.g. bbox=8.5,43.5,10.5,44.5"
    parts = text.split(",")
    if len(parts) != 4:
        raise ApiError(400, f"bbox={text!r} has {len(parts)} value(s), not 4; expected {form}")
    min_lon = parse_float("bbox minlon", parts[0], -180, 180, form)
    min_lat = parse_float("bbox minlat", parts[1], -90, 90, form)
    max_lon = parse_float("bbox maxlon", parts[2], -180, 180, form)
    max_lat = parse_float("bbox maxlat", parts[3], -90, 90, form)
    if min_lon > max_lon or min_lat > max_lat:
        raise ApiError(400, f"bbox={text!r}: the minimum is above the maximum; expected {form}")
    return (min_lon, min_lat, max_lon, max_lat)


def _near(text: str) -> tuple[float, float]:
    form = "near=lat,lon in degrees, e.g. near=43.72,10.40"
    parts = text.split(",")
    if len(parts) != 2:
        raise ApiError(400, f"near={text!r} has {len(parts)} value(s), not 2; expected {form}")
    return (
        parse_float("near lat", parts[0], -90, 90, form),
        parse_float("near lon", parts[1], -180, 180, form),
    )


def _words(text: str) -> tuple[Word, ...]:
    if len(text) > MAX_Q_CHARS:
        raise ApiError(400, f"q is {len(text)} characters long; at most {MAX_Q_CHARS}")
    words = []
    for token in _WORD.findall(text):
        prefix = token.endswith("*")
        word = token.rstrip("*")
        if prefix and len(word) < 2:
            raise ApiError(
                400,
                f"q: the prefix `{token}` is too short; a prefix search needs 2 or more letters",
            )
        words.append(Word(word, prefix))
    if not words:
        raise ApiError(
            400,
            f"q={text!r} has no words to search for; give one or more words (letters or digits)",
        )
    if len(words) > MAX_WORDS:
        raise ApiError(400, f"q has {len(words)} words; at most {MAX_WORDS}")
    return tuple(dict.fromkeys(words))


@dataclass(frozen=True)
class Vocabulary:
    """The ids filters may name: projects, sources, regions, themes, categories."""

    projects: frozenset[str]
    sources: frozenset[str]
    regions: frozenset[str]
    themes: frozenset[str]
    categories: frozenset[str]


def parse_filter(params: QueryParams, vocab: Vocabulary) -> EntityFilter:
    """The entity filter of a request (`type`, `region`, `q`, `bbox`, `near`, ...)."""
    near_text = _one(params, "near")
    radius_text = _one(params, "radius")
    near = _near(near_text) if near_text is not None else None
    radius = None
    if radius_text is not None:
        if near is None:
            raise ApiError(400, "radius is given without near; give near=lat,lon too")
        radius = parse_float(
            "radius", radius_text, 0.001, MAX_RADIUS_KM, f"kilometres, at most {MAX_RADIUS_KM:g}"
        )
    elif near is not None:
        radius = DEFAULT_RADIUS_KM
    bbox_text = _one(params, "bbox")
    q = _one(params, "q")
    since = _one(params, "updated_since")
    updated = None
    if since is not None:
        # An unencoded '+' of a zone offset arrives as a space: 2025-01-31T08:00:00 02:00.
        updated = normalize_time(re.sub(r"(T[\d:.]+) (\d\d:?\d\d)$", r"\1+\2", since))
        if updated is None:
            raise ApiError(
                400,
                f"updated_since={since!r} is not a date or time; expected ISO 8601, "
                "e.g. 2025-01-31 or 2025-01-31T08:00:00Z",
            )
    towns = _values(params, "municipality", split=False)
    if any(len(t) > 100 for t in params.getlist("municipality")):
        raise ApiError(400, "municipality: a name is at most 100 characters")
    flt = EntityFilter(
        types=tuple(dict.fromkeys(_type(v) for v in _values(params, "type"))),
        projects=_known("project", _values(params, "project"), vocab.projects, "project"),
        sources=_known("source", _values(params, "source"), vocab.sources, "source"),
        regions=_known("region", _values(params, "region"), vocab.regions, "region"),
        themes=_known("theme", _values(params, "theme"), vocab.themes, "theme"),
        categories=_known("category", _values(params, "category"), vocab.categories, "category"),
        municipalities=tuple(dict.fromkeys(facet_value(t) for t in towns)),
        words=_words(q) if q is not None else (),
        bbox=_bbox(bbox_text) if bbox_text is not None else None,
        near=near,
        radius_km=radius,
        updated_since=updated,
    )
    # The values passed the checks above that give the precise message; now their whole form.
    patterns = {**PATTERNS, **vocabulary_patterns(vocab)}
    for name in ("type", "project", "source", "region", "theme", "category"):
        for raw in params.getlist(name):
            check_form(name, raw, patterns[name])
    for name, text in (("bbox", bbox_text), ("near", near_text), ("updated_since", since)):
        if text is not None:
            check_form(name, text)
    return flt


def parse_lang(params: QueryParams, accept_language: str | None) -> str:
    """`lang=`, else the first supported language of Accept-Language, else English."""
    lang = _one(params, "lang")
    if lang is not None:
        lang = lang.strip().lower()
        if lang not in LANGS:
            raise ApiError(400, f"lang={lang!r} is not supported; use one of: {', '.join(LANGS)}")
        return lang
    for item in (accept_language or "").split(","):
        tag = item.split(";")[0].strip().lower().split("-")[0]
        if tag in LANGS:
            return tag
    return DEFAULT_LANG


def parse_int(
    params: QueryParams, name: str, default: int, low: int, high: int, hint: str = ""
) -> int:
    """An integer parameter in [low, high]."""
    text = _one(params, name)
    if text is None:
        return default
    try:
        if not _INTEGER.match(text):
            raise ValueError(text)
        value = int(text)
    except ValueError:
        raise ApiError(
            400, f"{name}={text!r} is not a whole number; expected {low}..{high}"
        ) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name}={value} is out of range; expected {low}..{high}{hint}")
    return value


def parse_choice(
    params: QueryParams, name: str, choices: Iterable[str], default: str | None
) -> str | None:
    """A parameter that must be one of a few words."""
    text = _one(params, name)
    if text is None:
        return default
    options = list(choices)
    if text not in options:
        raise ApiError(400, f"{name}={text!r} is not one of: {', '.join(options)}")
    return text


def parse_fields(
    params: QueryParams, allowed: Iterable[str], default: Iterable[str]
) -> tuple[str, ...]:
    """The output fields asked for (`id` always comes first)."""
    names = _values(params, "fields")
    options = list(allowed)
    if not names:
        return tuple(default)
    for name in names:
        if name not in options:
            raise ApiError(
                400, f"fields: `{name}` is not a field; choose from: {', '.join(options)}"
            )
    pattern = list_pattern("|".join(sorted(options, key=lambda f: (-len(f), f))))
    for raw in params.getlist("fields"):
        if not re.fullmatch(pattern, raw):
            raise ApiError(400, f"fields={raw[:80]!r}: give field names, comma-separated")
    return ("id", *(n for n in dict.fromkeys(names) if n != "id"))


def one(params: QueryParams, name: str) -> str | None:
    """A parameter given at most once."""
    return _one(params, name)
