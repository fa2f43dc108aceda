"""The hub's logging: text or JSON lines on stderr, run context on each record, secrets masked.

`configure_logging` is called once by `hub` (hub.cli.main) after the config loads. A run
sets `run_context(source, run)` around itself, so every record it logs — in any module,
on the same thread — carries `source` and `run`:

>>> with run_context("itinera-trails", "20261204T030001000000Z-ab12"):
...     logging.getLogger("hub.pipeline").info("staged")  # JSON: {"source": ..., "run": ...}
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "JsonFormatter",
    "SecretFilter",
    "TEXT_FORMAT",
    "configure_logging",
    "mask_secrets",
    "run_context",
]

# `where` is " [source run]" while a run logs, else empty.
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(where)s: %(message)s"
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# (source, run) of the run under way on this thread, or None.
_RUN: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "hub_run", default=None
)


@contextmanager
def run_context(source: str, run: str | None = None) -> Iterator[None]:
    """Records logged inside carry `source` (and `run` when given)."""
    fields = {"source": source} if run is None else {"source": source, "run": run}
    token = _RUN.set(fields)
    try:
        yield
    finally:
        _RUN.reset(token)


# Credentials as they show up in messages: headers, URL user-info, key=value pairs
# (query strings, connection strings, reprs of option dicts).
_MASKED = "***"
_SECRET_PATTERNS = [
    re.compile(
        r"(?i)(\bauthorization\b['\"]?\s*[:=]\s*['\"]?\s*(?:bearer|basic|token)\s+)[^\s'\",;]+"
    ),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{4,}"),
    re.compile(
        r"(?i)(\b(?:password|passwd|pwd|secret|token|access_token|api_key|apikey|client_secret)"
        r"['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,;)}]+"
    ),
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)"),
]


def mask_secrets(text: str) -> str:
    """`text` with tokens, passwords and URL passwords replaced by `***`.

    >>> mask_secrets("GET /x Authorization: Bearer abc.def password=hunter2")
    'GET /x Authorization: Bearer *** password=***'
    """
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + _MASKED, text)
    return text


class SecretFilter(logging.Filter):
    """Masks secrets in a record's message (formatted once, here) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class _RunFields(logging.Filter):
    """Copies the run context onto the record, unless the caller gave `extra=` fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _RUN.get()
        if fields:
            for key, value in fields.items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message; source and run for a run."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for key in ("source", "run"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = str(value)
        if record.exc_info:
            entry["exception"] = mask_secrets(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = mask_secrets(record.exc_text)
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """The classic line, with `[source run]` after the logger name during a run."""

    def format(self, record: logging.LogRecord) -> str:
        source, run = getattr(record, "source", None), getattr(record, "run", None)
        record.where = f" [{source}{' ' + run if run else ''}]" if source else ""
        return mask_secrets(super().format(record))


class _Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (tests swap it), like logging's last resort."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure_logging(level: str = "info", fmt: str = "text", *, verbose: bool = False) -> None:
    """Send every logger's records to stderr as text or JSON lines, at `level` (`-v`: debug).

    Calling it again replaces the handler it installed before (the hub's tests call
    `main()` many times); handlers others put on the root logger are left alone.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_hub", False)]:
        root.removeHandler(handler)
    handler = _Stderr()
    handler._hub = True  # type: ignore[attr-defined]
    handler.addFilter(_RunFields())
    handler.addFilter(SecretFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else LEVELS[level])
