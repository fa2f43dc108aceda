"""GET /metrics (Prometheus text format), the request-latency middleware and query timing.

Each app has its own `CollectorRegistry` (`app.state.metrics.registry`), so tests and
tools may build many apps in one process. The series are listed in docs/operations.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.errors import ApiError
from hub.config import HubConfig
from hub.metrics import RUNS, HubCollector
from hub.store import Store

router = APIRouter(tags=["operations"])

QUERY_OUTCOMES = ("ok", "timeout", "rejected", "too_large", "unavailable", "error")


class ApiMetrics:
    """The app's registry and the series the app itself observes."""

    def __init__(self, config: HubConfig, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "hub_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.query_seconds = Histogram(
            "hub_sparql_query_duration_seconds",
            "Time to run and serialize a /sparql query (any outcome).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.queries = Counter(
            "hub_sparql_queries",
            "/sparql queries run, by outcome: ok, timeout (stopped at the time limit), "
            "rejected (malformed, refused or no acceptable format), too_large, "
            "unavailable (the store did not answer), error.",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in QUERY_OUTCOMES:
            self.queries.labels(outcome)
        self.registry.register(HubCollector(config, store))
        self.registry.register(RUNS)


def _outcome(error: ApiError) -> str:
    """The outcome of a query that ended in `error` (see hub.api.results.run_query)."""
    if error.status == 413:
        return "too_large"
    if error.status == 503:
        # run_query sends the store's own failures as "the store cannot ...".
        return "unavailable" if error.message.startswith("the store cannot") else "timeout"
    if 400 <= error.status < 500:
        return "rejected"
    return "error"


@contextmanager
def observe_query(request: Request) -> Iterator[None]:
    """Time the query run inside the block and count its outcome on the app's metrics."""
    metrics: ApiMetrics | None = getattr(request.app.state, "metrics", None)
    if metrics is None:
        yield
        return
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except ApiError as exc:
        outcome = _outcome(exc)
        raise
    finally:
        metrics.query_seconds.observe(time.perf_counter() - started)
        metrics.queries.labels(outcome).inc()


class RequestTimer:
    """ASGI middleware: every HTTP request's latency, labelled by its route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app fails before it answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # The template (`/api/v1/sources/{source}`), never the raw path: few series.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )


def install_metrics(app: FastAPI, config: HubConfig, store: Store) -> ApiMetrics:
    """Give `app` its own registry, the request timer and the /metrics route."""
    metrics = ApiMetrics(config, store)
    app.state.metrics = metrics
    app.add_middleware(RequestTimer, metrics=metrics)
    app.include_router(router)
    return metrics


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
async def metrics(request: Request) -> Response:
    """The hub's metrics in the Prometheus text format (sources, store, queries, requests).

    OpenMetrics when the scraper asks for it in `Accept`.
    """
    registry = request.app.state.metrics.registry
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    body = await run_in_threadpool(encode, registry)
    return Response(body, headers={"Content-Type": media_type})
