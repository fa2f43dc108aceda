"""One error shape for every API response: JSON `{"error": {...}}` or plain text.

Routes raise `ApiError`; the handlers installed by `install_error_handlers` turn it,
and FastAPI's own HTTP and validation errors, into `error_response`.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hub.api.negotiation import accepts_json
from hub.errors import StoreBusyError


class ApiError(Exception):
    """An error to send to the client: HTTP status, a message that says what to do, headers."""

    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled whole, as an /api/v1 worker process sends it back (`v1.processes`)."""
        return (_unpickled_api_error, (self.status, self.message, self.headers))


def _unpickled_api_error(status: int, message: str, headers: dict[str, str]) -> ApiError:
    return ApiError(status, message, headers=headers)


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The error as JSON if the client accepts JSON, else as text/plain."""
    if accepts_json(request.headers.get("accept")):
        body = {"error": {"status": status, "message": message}}
        return JSONResponse(body, status_code=status, headers=headers)
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def store_busy(exc: StoreBusyError) -> ApiError:
    """A 503 that tells the client when to come back (the store's queries are paced)."""
    return ApiError(503, str(exc), headers={"Retry-After": str(exc.retry_after_s)})


async def _store_busy(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreBusyError)
    return await _api_error(request, store_busy(exc))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.message, exc.headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's 405 names only the first route's)."""
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
    return error_response(request, exc.status_code, str(exc.detail), headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
    return error_response(request, 400, f"invalid request: {problems}")


def install_error_handlers(app: FastAPI) -> None:
    """Send every error raised in `app` in the one shape of `error_response`."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StoreBusyError, _store_busy)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
