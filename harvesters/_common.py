"""Helpers shared by harvester kinds: hiding secrets in messages, a path or a URL."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from hub.errors import HarvestError

# `scheme://user:password@host` -> `scheme://user:***@host`
_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/:@\s]*):(?P<pw>[^@/\s]*)@")
# `?token=...`, `&api_key=...`: query parameters that usually carry a secret
_SECRET_PARAM = re.compile(
    r"(?P<head>[?&;](?:[\w.-]*(?:password|passwd|pwd|secret|token|key|auth|signature)[\w.-]*)=)"
    r"(?P<value>[^&;#\s]*)",
    re.IGNORECASE,
)


def mask_url(text: str) -> str:
    """`text` with passwords in URLs and secret-looking query parameters replaced by ***."""
    text = _USERINFO.sub(r"\g<head>:***@", text)
    return _SECRET_PARAM.sub(r"\g<head>***", text)


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with URLs masked and every given secret value replaced by ***."""
    text = mask_url(text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def location_options(
    source_id: str, path: str | None, url: str | None
) -> tuple[str | None, str | None]:
    """The `path` or the `url` of a file-like source (exactly one; a URL must be http/https)."""
    if (path is None) == (url is None):
        raise HarvestError(
            source_id, "set exactly one of options.path (a local file) or options.url (http/https)"
        )
    if url is not None and urlsplit(url).scheme.lower() not in ("http", "https"):
        raise HarvestError(
            source_id,
            f"options.url {mask_url(url)} is not an http(s) URL; use options.path for a local file",
        )
    return path, url
