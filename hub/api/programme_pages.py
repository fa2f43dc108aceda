"""The public programme pages: /programme (the integration matrix as a table),
/programme/projects/{id} and /programme/sources/{id} (facts and a map of the entities).

Server-rendered (Jinja2, templates in `templates/programme/`), no build step. The map is
Leaflet, vendored in `static/leaflet/` and served here with the pages' own script and style,
so the pages load nothing from elsewhere: the Content-Security-Policy allows only 'self'.
OpenStreetMap tiles are opt-in per page (`?tiles=osm`); by default the map draws the
entities on a plain background with a graticule, and works offline.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.api.deps import ConfigDep, StoreDep
from hub.api.errors import ApiError
from hub.api.steward import templates
from hub.api.v1.programme import integration_matrix
from hub.config import HubConfig
from hub.readmodel import LANGS, ReadModel, ReadModelMissing
from hub.readmodel._text import pick
from hub.store import Store

router = APIRouter(include_in_schema=False)

OSM_TILES = "https://tile.openstreetmap.org"
"""Where the opt-in background tiles come from (`?tiles=osm`)."""

MAP_LIMIT = 5000
"""At most this many entities are drawn on one map (the API is paged 1000 at a time)."""

STATIC = {
    "leaflet": {
        "leaflet.js": "text/javascript",
        "leaflet.css": "text/css",
        "LICENSE": "text/plain",
        "images/layers.png": "image/png",
        "images/layers-2x.png": "image/png",
        "images/marker-icon.png": "image/png",
        "images/marker-icon-2x.png": "image/png",
        "images/marker-shadow.png": "image/png",
    },
    "programme": {"programme.css": "text/css", "map.js": "text/javascript"},
}
"""The files these pages serve: a fixed list, so no path from a request reaches the disk."""


def _csp(tiles: bool) -> str:
    images = f"img-src 'self' {OSM_TILES}; " if tiles else ""
    return (
        f"default-src 'self'; {images}base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'; object-src 'none'"
    )


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "en")
    return lang if lang in LANGS else "en"


def _render(
    request: Request, name: str, http_status: int = 200, *, tiles: bool = False, **values: Any
) -> HTMLResponse:
    lang = values.setdefault("lang", _lang(request))
    path = request.url.path
    values["lang_links"] = [
        (code, f"{path}?{urlencode({**request.query_params, 'lang': code})}")
        for code in ("en", "it", "fr")
    ]
    page = templates().get_template(f"programme/{name}.html").render(**values)
    return HTMLResponse(
        page,
        status_code=http_status,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _csp(tiles),
            "X-Frame-Options": "DENY",
            "Content-Language": lang,
        },
    )


def _error(request: Request, http_status: int, message: str) -> HTMLResponse:
    return _render(request, "error", http_status, message=message)


def _readmodel(request: Request) -> ReadModel:
    readmodel = getattr(request.app.state, "readmodel", None)
    if readmodel is None:
        readmodel = request.app.state.readmodel = ReadModel.for_config(request.app.state.config)
    return readmodel


def _matrix(request: Request, config: HubConfig, store: Store, lang: str) -> dict[str, Any]:
    """The matrix, or ApiError 503 when nothing is published yet."""
    try:
        with _readmodel(request).snapshot() as snap:
            return integration_matrix(config, store, snap, lang)
    except ReadModelMissing as exc:
        raise ApiError(503, f"nothing is published yet: {exc}") from None


def _tiles(request: Request) -> bool:
    return request.query_params.get("tiles") == "osm"


def _map(request: Request, api_query: dict[str, str]) -> dict[str, Any]:
    """What the map template needs: the GeoJSON URL, the tile choice, toggle links."""
    tiles = _tiles(request)
    query = {k: v for k, v in request.query_params.items() if k != "tiles"}
    return {
        "geojson": "/api/v1/entities?"
        + urlencode({**api_query, "format": "geojson", "fields": "name,lat,lon", "size": 1000}),
        "tiles": "osm" if tiles else "",
        "limit": MAP_LIMIT,
        "toggle": f"{request.url.path}?{urlencode(query if tiles else {**query, 'tiles': 'osm'})}",
    }


@router.get("/programme", response_class=HTMLResponse)
def matrix_page(request: Request, config: ConfigDep, store: StoreDep) -> Response:
    """The integration matrix: working groups × member projects × requested result types."""
    lang = _lang(request)
    try:
        matrix = _matrix(request, config, store, lang)
    except ApiError as exc:
        return _error(request, exc.status, exc.message)
    types = {t["id"]: t for t in matrix["result_types"]}
    return _render(request, "matrix", matrix=matrix, types=types, lang=lang)


def _sources_of(config: HubConfig, project_id: str) -> list[str]:
    return sorted(s.id for s in config.sources.values() if s.project == project_id)


def _source_rows(
    request: Request, config: HubConfig, store: Store, ids: list[str], lang: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The matrix and, per source, its facts with the result types it counts as."""
    matrix = _matrix(request, config, store, lang)
    counts: dict[str, dict[str, Any]] = {}
    for group in matrix["working_groups"]:
        for project in group["projects"]:
            for cell in project["cells"]:
                for found in cell["sources"]:
                    row = counts.setdefault(found["id"], {**found, "result_types": []})
                    if cell["result_type"] not in row["result_types"]:
                        row["result_types"].append(cell["result_type"])
    rows = []
    for source_id in ids:
        source = config.sources[source_id]
        row = counts.get(source_id, {})
        rows.append(
            {
                "id": source_id,
                "title": source.title or source_id,
                "description": source.description,
                "project": source.project,
                "kind": source.kind,
                "licence": source.licence,
                "owner": source.owner,
                "update_every": source.update_every,
                "result_types": row.get("result_types", []),
                "published": row.get("published"),
                "last_success": row.get("last_success"),
                "last_status": row.get("last_status"),
                "late": row.get("late", False),
            }
        )
    return matrix, rows


@router.get("/programme/projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, project_id: str, config: ConfigDep, store: StoreDep) -> Response:
    """A project: its working groups, its sources, and a map of their entities."""
    lang = _lang(request)
    try:
        with _readmodel(request).snapshot() as snap:
            project = snap.programme("project").get(project_id)
            counts = {s.id: s.entities for s in snap.sources.values()}
    except ReadModelMissing as exc:
        return _error(request, 503, f"nothing is published yet: {exc}")
    if project is None:
        return _error(request, 404, f"no project `{project_id}` in the programme")
    try:
        matrix, sources = _source_rows(
            request, config, store, _sources_of(config, project_id), lang
        )
    except ApiError as exc:
        return _error(request, exc.status, exc.message)
    for row in sources:
        row["entities"] = counts.get(row["id"], 0)
    groups = []
    for group in matrix["working_groups"]:
        for row in group["projects"]:
            if row["id"] == project_id:
                groups.append({"group": group, "row": row})
    types = {t["id"]: t for t in matrix["result_types"]}
    return _render(
        request,
        "project",
        tiles=_tiles(request),
        project={
            "id": project_id,
            "name": pick(project["names"], lang)[0] or project_id,
            "description": pick(project["descriptions"], lang)[0],
            "homepage": project.get("homepage"),
        },
        groups=groups,
        types=types,
        sources=sources,
        map=_map(request, {"project": project_id}),
        lang=lang,
    )


@router.get("/programme/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: str, config: ConfigDep, store: StoreDep) -> Response:
    """A source: its agreement, freshness, the result types it counts as, a map of its entities."""
    lang = _lang(request)
    if source_id not in config.sources:
        return _error(request, 404, f"no source `{source_id}`")
    try:
        matrix, rows = _source_rows(request, config, store, [source_id], lang)
        with _readmodel(request).snapshot() as snap:
            info = snap.sources.get(source_id)
            project = snap.programme("project").get(rows[0]["project"], {})
    except (ApiError, ReadModelMissing) as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        return _error(request, 503, message)
    source = rows[0]
    source["entities"] = info.entities if info else 0
    types = {t["id"]: t for t in matrix["result_types"]}
    return _render(
        request,
        "source",
        tiles=_tiles(request),
        source=source,
        project_name=pick(project.get("names", {}), lang)[0] or source["project"],
        types=types,
        map=_map(request, {"source": source_id}),
        lang=lang,
    )


def _static(folder: str, name: str) -> Response:
    media_type = STATIC[folder].get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    data = files("hub.api").joinpath(f"static/{folder}/{name}").read_bytes()
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/static/leaflet/{name:path}")
def leaflet_file(name: str) -> Response:
    """Leaflet 1.9.4 (BSD-2-Clause), vendored: a fixed list of files."""
    return _static("leaflet", name)


@router.get("/static/programme/{name:path}")
def programme_file(name: str) -> Response:
    """The programme pages' script and style."""
    return _static("programme", name)
