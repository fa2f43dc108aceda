"""What a harvester may know of earlier runs, and what it leaves for the next one.

The pipeline gives every harvester a `HarvestContext`. A harvester that can harvest
incrementally or conditionally reads `previous` (the state saved by the last
*published* run of the source) and writes `state` (saved only if this run is
published). It knows nothing of stores or RDF: state is plain JSON-able data.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

record_location: ContextVar[str] = ContextVar("record_location", default="")
"""Where the record a harvester just yielded is in its source, in the source's own terms
(`offers.csv line 14`, `events.json $.data[3]`, `page 2 of <url>, record 5`).

A harvester sets it before each `yield`; the mapping reads it when that record fails, so
an error names the real location. Records flow one at a time through generators in one
thread, so the value read is the failing record's."""


@dataclass
class HarvestContext:
    """Per-run harvest state shared between the pipeline and one harvester."""

    previous: Mapping[str, Any] = field(default_factory=dict)
    """State the last published run left (e.g. {"etag": ..., "since": ...}); empty at first."""

    state: dict[str, Any] = field(default_factory=dict)
    """State to keep for the next run, saved only if this run is published."""

    unchanged: bool = False
    """Set when the source said nothing changed (HTTP 304): nothing is re-published."""

    unchanged_because: str = ""
    """With `unchanged`, how the harvester knew, for the run's message ("the server
    answered 304 Not Modified")."""

    incremental: bool = False
    """Set when the records are only the changes since `previous` (the pipeline merges them
    into the published version, replacing entities by subject, instead of replacing it)."""

    requests: int = 0
    """HTTP requests made (for reports and tests)."""

    def mark_unchanged(self, because: str) -> None:
        """Say the source has nothing new since the last published run, and how it is known."""
        self.unchanged = True
        self.unchanged_because = because
