"""The hub's exceptions: every message names the source, record or line, and the fix.

HubError
├── ConfigError          hub.toml is wrong (names the key and the fix)
├── MappingError         a mapping file is malformed (names file and line)
├── HarvestError         a source could not be read (names the source)
├── RecordError          one record could not be mapped (the run goes on)
├── StoreError           the store could not be opened or written
└── QueryError           a SPARQL query is malformed or not allowed
"""

from __future__ import annotations


class HubError(Exception):
    """Base class of every error the hub raises on purpose."""


class ConfigError(HubError):
    """The configuration file is wrong; the message names the key and the fix."""


class MappingError(HubError):
    """A mapping file is malformed; raised before any record is harvested."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.reason = message
        where = f"{file} line {line}" if line else file
        super().__init__(f"{where}: {message}")


class HarvestError(HubError):
    """A source could not be read; the message names the source and what went wrong."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.reason = message
        super().__init__(f"source `{source}`: {message}")


class RecordError(HubError):
    """One record could not be turned into RDF; the run goes on without it.

    `value` is the record's offending value when the message quotes it: stewards see
    it, public reports show the message with it hidden (`located(hide_value=True)`).
    """

    HIDDEN = "‹value hidden›"

    def __init__(
        self, message: str, *, file: str = "", line: int | None = None, value: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.reason = message
        self.value = value
        super().__init__(message)

    def located(self, *, hide_value: bool = False) -> str:
        """The reason with the mapping file and line it comes from (the value hidden if asked)."""
        reason = self.reason
        if hide_value and self.value:
            reason = reason.replace(self.value, self.HIDDEN)
        if self.file:
            where = f"{self.file} line {self.line}" if self.line else self.file
            return f"{where}: {reason}"
        return reason


class StoreError(HubError):
    """The store could not be opened, read or written."""


class StoreBusyError(StoreError):
    """The store is answering as many queries as it can hold; retry after `retry_after_s`."""

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class QueryError(HubError):
    """A SPARQL query is malformed or not allowed on this endpoint."""


class QueryTimeoutError(QueryError):
    """The query ran longer than the store's time limit and was stopped."""


class ResultTooLargeError(QueryError):
    """The query's result is larger than the size limit; nothing partial is returned."""
