"""Compact UTF-8 JSON, fast: orjson, and the standard library for what orjson refuses.

orjson writes the same JSON as `json.dumps(value, ensure_ascii=False, separators=(",",
":"))` for the hub's values (strings, numbers, lists, dicts with string keys), in a
fraction of the time; numbers may be spelled differently (`1e-7`, not `1e-07`), which
JSON readers do not see. Integers beyond 64 bits and other values it refuses go
through `json` (decisions #43).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:  # e.g. an integer beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def loads(text: str | bytes) -> Any:
    """The value of a JSON text (`NaN` and `Infinity`, which `json.dumps` may have written,
    are read by `json`)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
