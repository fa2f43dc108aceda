"""Build the FastAPI app: shared state, CORS, error handlers and every router, in one place."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from hub.api import admin, dcat, health, programme_pages, root, sparql, steward, v1
from hub.api.errors import install_error_handlers
from hub.api.limits import BodyLimit, StoreWaitLimit
from hub.api.metrics import install_metrics
from hub.api.v1.common import openapi_with_vocabulary
from hub.api.v1.processes import WorkPool
from hub.config import HubConfig
from hub.store import Store

DESCRIPTION = (
    "Marittimo Hub joins the tourism data of the Italy–France Maritime programme's "
    "projects and serves it as linked data. `/sparql` is a read-only SPARQL 1.1 "
    "endpoint whose default graph is the union of all named graphs (one per source)."
)


def create_app(config: HubConfig, store: Store, *, scheduler: object | None = None) -> FastAPI:
    """The hub's web app serving `store`; the caller owns and closes the store and scheduler.

    >>> app = create_app(config, store)  # doctest: +SKIP
    >>> uvicorn.run(app)  # doctest: +SKIP
    """
    # /docs and /redoc with Swagger UI and Redoc served by the hub itself (no CDN: works offline).
    app = FastAPIOffline(
        title="Marittimo Hub",
        version="0.1.0",
        description=DESCRIPTION,
        static_url="/static/docs",
    )
    app.state.config = config
    app.state.store = store
    app.state.scheduler = scheduler
    app.state.max_result_bytes = config.store.max_result_bytes  # [store] max_result_bytes
    if config.serve.api_processes:  # [serve] api_processes: /api/v1 work in processes
        app.state.v1_pool = WorkPool(config, config.serve.api_processes)
    # /sparql is a public read endpoint; nothing here uses cookies or credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],  # the admin API needs a bearer token, not cookies
        allow_headers=["*"],
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=config.serve.max_request_bytes)  # [serve] max_request_bytes
    app.add_middleware(StoreWaitLimit)  # a request's store queries wait at most 10 s
    app.include_router(root.router)
    app.include_router(sparql.router)
    app.include_router(health.router)
    app.include_router(admin.router)
    app.include_router(v1.router)
    app.include_router(steward.router)
    app.include_router(dcat.router)  # /catalog (DCAT-AP 3) and /dumps
    app.include_router(programme_pages.router)  # /programme pages, Leaflet assets
    install_metrics(app, config, store)  # /metrics, and every request timed by route
    # The id filters of /api/v1 name the ids the hub knows, as the routes check them.
    app.openapi = openapi_with_vocabulary(app, app.openapi)  # type: ignore[method-assign]
    return app
