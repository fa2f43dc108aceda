"""HTTP caching for /api/v1: strong ETags, Cache-Control, 304 on If-None-Match, CORS-visible headers.

Read-model answers get their ETag before any query runs: a hash of the read model's
version of the sources involved, the request's parameters and the negotiated format
and language. Answers read from the store (sources, runs, one entity) hash their body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from fastapi import Request
from fastapi.responses import Response

READ_MODEL_MAX_AGE = 60
"""Seconds a client may reuse a read-model answer without asking (then it revalidates)."""

VERSIONS_HEADER = "X-Hub-Versions"
"""`source=run,…`: the published version of each source an answer was read from."""
EXPOSED = f"ETag, Link, X-Total-Count, Content-Language, {VERSIONS_HEADER}"
VARY = "Accept, Accept-Language"


def request_etag(request: Request, version: str, *extra: str) -> str:
    """A strong ETag for a read-model answer: data version + path + parameters + format."""
    params = sorted(request.query_params.multi_items())
    text = "\n".join([version, request.url.path, repr(params), *extra])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def body_etag(body: bytes) -> str:
    """A strong ETag of an answer's exact bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(request: Request, etag: str) -> bool:
    """Whether If-None-Match names this ETag (or `*`); weak tags compare equal (RFC 9110)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def cache_headers(
    etag: str, max_age: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Headers every cacheable answer (200 or 304) carries."""
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}" if max_age else "no-cache",
        "Vary": VARY,
        "Access-Control-Expose-Headers": EXPOSED,
    }
    headers.update(extra or {})
    return headers


def not_modified(etag: str, max_age: int) -> Response:
    """The 304 answer."""
    return Response(status_code=304, headers=cache_headers(etag, max_age))


def send(
    request: Request,
    body: bytes,
    media_type: str,
    *,
    etag: str | None = None,
    max_age: int = READ_MODEL_MAX_AGE,
    headers: Mapping[str, str] | None = None,
    links: Iterable[tuple[str, str]] = (),
) -> Response:
    """The answer with caching headers; 304 if the client already has it (by body hash if no ETag)."""
    tag = etag or body_etag(body)
    if matches(request, tag):
        return not_modified(tag, max_age)
    extra = dict(headers or {})
    link = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)
    if link:
        extra["Link"] = link
    return Response(body, media_type=media_type, headers=cache_headers(tag, max_age, extra))
