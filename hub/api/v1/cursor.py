"""Opaque, stable paging cursors: the sort keys of the last row of a page, tied to its query.

A cursor is base64url JSON: {"v": 1, "s": sort, "l": lang, "f": filter fingerprint,
"k": [sort value, id]}. The next page starts strictly after that key, so pages stay
stable while the data does not change, and never repeat or skip rows under the sort.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from hub.api.errors import ApiError
from hub.readmodel import EntityFilter, SortSpec

VERSION = 1
MAX_CURSOR_CHARS = 2048
_HINT = "use the `next_cursor` of a page of the same query (same filters, sort and lang)"


def fingerprint(flt: EntityFilter) -> str:
    """A short hash of the filter, so a cursor cannot be replayed on another query."""
    return hashlib.sha256(flt.key().encode()).hexdigest()[:16]


def encode_cursor(flt: EntityFilter, sort: SortSpec, key: tuple[Any, str]) -> str:
    """The cursor for the page after the row whose sort key is `key`."""
    body = {"v": VERSION, "s": sort.field, "l": sort.lang, "f": fingerprint(flt), "k": list(key)}
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, flt: EntityFilter, sort: SortSpec) -> tuple[Any, str]:
    """The keyset of a cursor, checked against the query; 400 if it does not fit."""
    if len(text) > MAX_CURSOR_CHARS:
        raise ApiError(400, f"cursor is too long to be one of ours; {_HINT}")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(400, f"cursor={text[:40]!r} is not a valid cursor; {_HINT}") from None
    if not isinstance(body, dict) or body.get("v") != VERSION:
        raise ApiError(400, f"cursor={text[:40]!r} is not a valid cursor; {_HINT}")
    if body.get("s") != sort.field or body.get("l") != sort.lang:
        raise ApiError(
            400,
            f"the cursor was made for sort={body.get('s')!r} lang={body.get('l')!r}, "
            f"not sort={sort.field!r} lang={sort.lang!r}; {_HINT}",
        )
    if body.get("f") != fingerprint(flt):
        raise ApiError(400, f"the cursor was made for other filters; {_HINT}")
    key = body.get("k")
    if not (isinstance(key, list) and len(key) == 2 and isinstance(key[1], str)):
        raise ApiError(400, f"cursor={text[:40]!r} is not a valid cursor; {_HINT}")
    value = key[0]
    numeric = sort.field == "distance"
    if numeric and not (isinstance(value, int | float) and not isinstance(value, bool)):
        raise ApiError(400, f"cursor={text[:40]!r} is not a valid cursor; {_HINT}")
    if not numeric and not isinstance(value, str):
        raise ApiError(400, f"cursor={text[:40]!r} is not a valid cursor; {_HINT}")
    return (value, key[1])
