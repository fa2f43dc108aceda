"""GET /dumps/{source}.nq.gz and /dumps/hub.nq.gz: the published data as gzipped N-Quads.

The files are written at publish time (`hub.pipeline.dumps`); this module only serves
them, with an ETag and Last-Modified taken from the open file, so a client that asks
again with If-None-Match (or If-Modified-Since) gets 304 until the next publish.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from hub.api.deps import ConfigDep
from hub.api.errors import ApiError
from hub.config import HubConfig
from hub.layout import DataLayout

router = APIRouter(tags=["dumps"])

HUB_DUMP = "hub"
"""The name of the whole hub's dump (`/dumps/hub.nq.gz`); no source may be called so."""

MEDIA_TYPE = "application/gzip"
"""The files are gzip (of N-Quads): sent as such, not with Content-Encoding, so a download
keeps the bytes and the name that the catalogue announces."""


def dump_path(config: HubConfig, name: str) -> Path | None:
    """The file of a dump by name (a configured source, or `hub`), None for an unknown name."""
    layout = DataLayout(config.data_path)
    if name == HUB_DUMP:
        return layout.hub_dump()
    if name in config.sources:
        return layout.dump(name)
    return None


def available_dumps(config: HubConfig) -> dict[str, os.stat_result]:
    """The dumps on disk now, by name (sources in config order, then `hub`), with their stat."""
    found: dict[str, os.stat_result] = {}
    for name in [*config.sources, HUB_DUMP]:
        path = dump_path(config, name)
        try:
            found[name] = path.stat()  # type: ignore[union-attr]
        except (OSError, AttributeError):
            continue
    return found


def etag_of(stat: os.stat_result) -> str:
    """A strong validator: the file is replaced (new inode, time and size) at every rewrite."""
    return f'"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def not_modified(request: Request, etag: str, mtime: float) -> bool:
    """Whether the client's copy is current: If-None-Match first, else If-Modified-Since."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := handle.read(1 << 16):
            yield chunk
    finally:
        handle.close()


@router.head("/dumps/{name}.nq.gz", name="dump_head", include_in_schema=False)
@router.get(
    "/dumps/{name}.nq.gz",
    name="dump",
    summary="A source's published graph, or the whole hub, as gzipped N-Quads",
    response_class=Response,
    responses={
        200: {"description": "gzipped N-Quads", "content": {MEDIA_TYPE: {}}},
        304: {"description": "Not modified since the ETag or date the client sent."},
        404: {"description": "No such source, or it has not been published yet."},
    },
)
def dump(name: str, request: Request, config: ConfigDep) -> Response:
    """`name` is a source id, or `hub` for every source plus the programme and links graphs."""
    path = dump_path(config, name)
    if path is None:
        known = ", ".join([*config.sources, HUB_DUMP])
        raise ApiError(404, f"no dump named `{name}`; the dumps are: {known}")
    try:
        handle = path.open("rb")  # stat the open file: a rename under way cannot mix two versions
    except FileNotFoundError:
        raise ApiError(
            404,
            f"`{name}` has no dump yet: it is written when the source is published "
            "(`hub harvest`, or the next scheduled run)",
        ) from None
    stat = os.fstat(handle.fileno())
    etag = etag_of(stat)
    headers = {
        "ETag": etag,
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "Cache-Control": "no-cache",  # cache, but ask again: a publish replaces the file
    }
    if not_modified(request, etag, stat.st_mtime):
        handle.close()
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(stat.st_size)
    headers["Content-Disposition"] = f'attachment; filename="{name}.nq.gz"'
    if request.method == "HEAD":
        handle.close()
        return Response(headers=headers, media_type=MEDIA_TYPE)
    return StreamingResponse(_chunks(handle), media_type=MEDIA_TYPE, headers=headers)
