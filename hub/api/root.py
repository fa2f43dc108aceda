"""GET /: a small JSON index of what the hub serves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(tags=["operations"])


@router.get("/", summary="Index of the hub's endpoints")
async def index(request: Request) -> dict[str, Any]:
    """Links to the SPARQL endpoint, the health check and the API docs."""
    app = request.app
    return {
        "name": app.title,
        "version": app.version,
        "links": {
            "sparql": str(request.url_for("sparql_get")),
            "health": str(request.url_for("health")),
            "docs": app.docs_url,
            "openapi": app.openapi_url,
        },
    }
