"""GET /: the hub's start page for browsers, or a JSON index of its endpoints."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

router = APIRouter(tags=["operations"])


def _links(request: Request) -> dict[str, str]:
    return {
        "sparql": str(request.url_for("sparql_get")),
        "api": "/api/v1/entities",
        "health": str(request.url_for("health")),
        "metrics": "/metrics",
        "stewards": "/steward",
        "catalog": "/catalog",
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": request.app.openapi_url,
    }


def _wants_html(accept: str | None) -> bool:
    """True when a browser asks (text/html before any JSON in the Accept header)."""
    if not accept:
        return False
    html, json_ = accept.find("text/html"), accept.find("json")
    return html >= 0 and (json_ < 0 or html < json_)


@router.get("/", summary="Index of the hub's endpoints", response_model=None)
async def index(request: Request) -> dict[str, Any] | HTMLResponse | JSONResponse:
    """Links to the SPARQL endpoint, the REST API, health, metrics and the API docs."""
    app, links = request.app, _links(request)
    if not _wants_html(request.headers.get("accept")):
        return {"name": app.title, "version": app.version, "links": links}
    items = "".join(
        f'<li><a href="{escape(url)}">{escape(name)}</a></li>' for name, url in links.items()
    )
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(app.title)}</title></head><body><h1>{escape(app.title)}</h1>"
        "<p>The tourism data of the Italy–France Maritime programme's projects, as linked "
        f"data.</p><ul>{items}</ul></body></html>"
    )
