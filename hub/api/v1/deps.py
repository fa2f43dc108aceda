"""Dependencies of the /api/v1 routes: config, store, the read model, a snapshot, the vocabulary.

They are `async` (plain reads of `app.state`), so FastAPI calls them on the event loop
instead of sending each to the thread pool: that is most of a request's overhead here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request

from hub.api.errors import ApiError
from hub.api.v1.params import Vocabulary
from hub.api.v1.processes import WorkPool, portable
from hub.config import HubConfig
from hub.readmodel import ReadModel, ReadModelMissing, Snapshot
from hub.store import Store


async def get_config(request: Request) -> HubConfig:
    """The hub's configuration."""
    return request.app.state.config


async def get_store(request: Request) -> Store:
    """The store the app serves (for what the read model does not hold)."""
    return request.app.state.store


async def get_readmodel(request: Request) -> ReadModel:
    """The app's read model (opened on first use, then kept on `app.state`)."""
    readmodel = getattr(request.app.state, "readmodel", None)
    if readmodel is None:
        readmodel = ReadModel.for_config(request.app.state.config)
        request.app.state.readmodel = readmodel
    return readmodel


T = TypeVar("T")

WORKER_THREADS = 2
"""Threads that run /api/v1 work (SQLite, JSON). Few on purpose: more threads only fight
for the GIL; SQLite releases it while it reads, so two keep both cores busy."""


async def blocking(request: Request, work: Callable[..., T], *args: object) -> T:
    """Run a route's blocking work off the event loop: in the app's worker processes when
    `[serve] api_processes` starts some and the work reads no store, else in two threads."""
    pool: WorkPool | None = getattr(request.app.state, "v1_pool", None)
    if pool is not None and portable(args):
        return await pool.run(work, args)
    if WORKER_THREADS == 0:
        return work(*args)
    limiter = getattr(request.app.state, "v1_limiter", None)
    if limiter is None:
        limiter = request.app.state.v1_limiter = anyio.CapacityLimiter(WORKER_THREADS)
    return await anyio.to_thread.run_sync(work, *args, limiter=limiter)


ConfigDep = Annotated[HubConfig, Depends(get_config)]
StoreDep = Annotated[Store, Depends(get_store)]
ReadModelDep = Annotated[ReadModel, Depends(get_readmodel)]


@contextmanager
def snapshot(readmodel: ReadModel) -> Iterator[Snapshot]:
    """A read transaction on the read model; 503 with the fix when it is not built yet."""
    try:
        with readmodel.snapshot() as snap:
            yield snap
    except ReadModelMissing as exc:
        raise ApiError(503, f"the REST API has no data to serve: {exc}") from None


def vocabulary(snap: Snapshot, config: HubConfig) -> Vocabulary:
    """The ids that filters may name, from the programme and the config."""
    ids = snap.programme_ids()
    return Vocabulary(
        projects=frozenset(ids.get("project", set()) | set(config.projects)),
        sources=frozenset(set(config.sources) | set(snap.sources)),
        regions=frozenset(ids.get("region", set())),
        themes=frozenset(ids.get("theme", set())),
        categories=frozenset(ids.get("category", set())),
    )
