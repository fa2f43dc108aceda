"""Run a read-only query and serialize its result in the negotiated format, within a size limit.

Everything here is blocking: the route runs `run_query` in a worker thread, so the
query and its serialization never hold up the event loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pyoxigraph as ox

from hub.api.errors import ApiError, store_busy
from hub.api.guard import looks_like_update, uses_service
from hub.api.negotiation import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Format,
    format_for_value,
    format_names,
    negotiate,
)
from hub.errors import (
    HubError,
    QueryError,
    QueryTimeoutError,
    ResultTooLargeError,
    StoreBusyError,
)
from hub.store import Store
from hub.store.http import GraphResult

logger = logging.getLogger(__name__)


@dataclass
class QueryRequest:
    """A SPARQL Protocol query operation, as read from GET or POST."""

    query: str
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    accept: str | None = None
    base_iri: str | None = None
    """What relative IRIs in the query resolve against: the endpoint's public URL."""


@dataclass
class Serialized:
    """A serialized result and its media type."""

    body: bytes
    media_type: str


class _TooLarge(Exception):
    """The result passed the size limit while being written."""


class _BoundedBuffer:
    """A binary sink that stops the serializer once `limit` bytes are passed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        """Keep a chunk, or raise `_TooLarge` past the limit."""
        self.size += len(data)
        if self.size > self.limit:
            raise _TooLarge
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush; the parts are joined at the end."""

    def getvalue(self) -> bytes:
        """Everything written."""
        return b"".join(self._parts)


def _choose(request: QueryRequest, formats: tuple[Format, ...], kind: str) -> Format:
    """The format for this result: `format=` / `output=` if given, else by Accept; 406 if none fits."""
    values = [v for v in request.formats if v.strip()]
    if values:
        for value in values:
            if fmt := format_for_value(value, formats):
                return fmt
        wanted = ", ".join(values)
        raise ApiError(
            406, f"format={wanted} is not available for {kind}; use one of: {format_names(formats)}"
        )
    if fmt := negotiate(request.accept, formats):
        return fmt
    raise ApiError(
        406,
        f"cannot send {kind} as any of `{request.accept}`; "
        f"available: {format_names(formats)}; set Accept or format= to one of them",
    )


def _serialize(
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, fmt: Format, limit: int
) -> bytes:
    """The result in `fmt`; 413 past `limit`, never a truncated body."""
    sink = _BoundedBuffer(limit)
    try:
        result.serialize(sink, format=fmt.ox_format)  # type: ignore[arg-type]
    except _TooLarge:
        raise ApiError(
            413,
            f"the result is larger than this endpoint's limit of {limit} bytes; "
            "add a LIMIT, select fewer variables or narrow the query",
        ) from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise ApiError(500, f"the query failed while running: {exc}") from None
    return sink.getvalue()


def run_query(store: Store, request: QueryRequest, limit: int) -> Serialized:
    """Run the query on the store and serialize its result (blocking, in a worker thread)."""
    try:
        return _run(store, request, limit)
    except ApiError as exc:
        error = exc
    except Exception as exc:
        logger.exception("query failed: %s", request.query)
        error = ApiError(500, f"internal error while running the query: {type(exc).__name__}")
    # pyoxigraph results may only be freed on the thread that made them, and the
    # traceback's frames still hold them: drop it here, not on the event loop.
    error.__traceback__ = error.__context__ = error.__cause__ = None
    raise error


def _run(store: Store, request: QueryRequest, limit: int) -> Serialized:
    """Refuse SERVICE, run the query, pick the format, serialize."""
    if uses_service(request.query):
        raise ApiError(
            403,
            "SERVICE (federated query) is disabled on this public endpoint; "
            "query the remote endpoint directly",
        )
    try:
        # No graph named in the request: the query's FROM / FROM NAMED, else the union.
        result = store.query(
            request.query,
            default_graphs=request.default_graphs,
            named_graphs=request.named_graphs,
            base_iri=request.base_iri,
        )
    except QueryTimeoutError as exc:
        raise ApiError(503, str(exc)) from None
    except ResultTooLargeError as exc:
        raise ApiError(413, str(exc)) from None
    except QueryError as exc:
        message = f"malformed query: {exc}"
        if looks_like_update(request.query):
            message += "; this endpoint is read-only and takes queries only, not updates"
        raise ApiError(400, message) from None
    except StoreBusyError as exc:
        raise store_busy(exc) from None
    except HubError as exc:
        raise ApiError(503, f"the store cannot answer: {exc}") from None
    except OSError as exc:
        raise ApiError(503, f"the store cannot be read: {exc}") from None
    if isinstance(result, ox.QueryTriples | GraphResult):
        fmt = _choose(request, GRAPH_FORMATS, "a CONSTRUCT/DESCRIBE graph")
    else:
        fmt = _choose(request, RESULT_FORMATS, "SELECT/ASK results")
    return Serialized(_serialize(result, fmt, limit), fmt.media_type)
