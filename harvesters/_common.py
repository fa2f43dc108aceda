"""Helpers shared by harvester kinds: option checks and hiding secrets in messages."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any
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


def check_option_names(
    source_id: str, options: Mapping[str, Any], known: Iterable[str], kind: str
) -> None:
    """Refuse option names this kind does not know, suggesting the closest known one."""
    known = sorted(known)
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise HarvestError(
                source_id,
                f"options.{name} is not an option of kind `{kind}`; {hint}"
                f"known options: {', '.join(known)}",
            )


def string_option(
    source_id: str, options: Mapping[str, Any], name: str, default: str | None = None
) -> str | None:
    """The option `name` as a non-empty string, or `default` when it is absent."""
    value = options.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise HarvestError(source_id, f"options.{name} must be a non-empty string, not {value!r}")
    return value


def positive_number_option(
    source_id: str, options: Mapping[str, Any], name: str, default: float, *, integer: bool
) -> Any:
    """The option `name` as a positive int (or float), or `default` when it is absent."""
    value = options.get(name, default)
    allowed = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed) or value <= 0:
        what = "a positive whole number" if integer else "a positive number of seconds"
        raise HarvestError(source_id, f"options.{name} must be {what}, not {value!r}")
    return value


def location_options(source_id: str, options: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The `path` or the `url` of a file-like source (exactly one; a URL must be http/https)."""
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
    return path, url
