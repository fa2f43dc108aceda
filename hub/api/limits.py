"""Limits on a request: its body, and how long it waits for the store's query pace.

The body limit ([serve] max_request_bytes): a larger body gets 413, never a partial read.
Checked on Content-Length before the route runs, and on the bytes as they arrive for a body
sent without one (chunked), so no route can be made to buffer more than the limit.

`StoreWaitLimit`: a store query made for a request waits at most `REQUEST_WAIT_S` for room
in the store's query window (`hub/store/pacing.py`), then the request gets 503.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.errors import ApiError, error_response
from hub.store.pacing import REQUEST_WAIT_S, waits_at_most


def too_large(limit: int) -> str:
    """The message of the 413: the limit and what to do."""
    return (
        f"the request body is larger than this hub's limit of {limit} bytes ([serve] "
        "max_request_bytes); send a shorter query or body (a SPARQL query can name data by "
        "graph or FROM rather than list it)"
    )


class BodyLimit:
    """ASGI middleware refusing request bodies over `limit` bytes with 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = error_response(Request(scope), 413, too_large(self.limit))
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # raised in the route's read: the error handlers send it
                    raise ApiError(413, too_large(self.limit))
            return message

        await self.app(scope, counted, send)


class StoreWaitLimit:
    """ASGI middleware: the store queries of a request wait at most `REQUEST_WAIT_S` for
    room (the threads a route hands work to copy the context, and the limit with it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with waits_at_most(REQUEST_WAIT_S):
            await self.app(scope, receive, send)
