"""/api/v1 work in a pool of worker processes (`[serve] api_processes`).

In one process, the v1 work (SQLite reads, JSON) shares one GIL with the event loop, so a
2-core machine serving 16 clients keeps about 1.3 cores busy. With `api_processes = N`,
the work of the read-model routes goes to N spawned processes instead; each request is
taken by whichever process is free (not each connection, as uvicorn's own `--workers`
would share them), so both cores work and no process queues behind a busier one.

A worker opens the read model itself and rebuilds the request from its ASGI scope (the
primitive parts: method, path, query string, headers, server); the route's function runs
there unchanged and its `Response` (or `ApiError`) comes back pickled. Routes that read
the store stay in the server's threads (their time is mostly the store's). A worker that
dies fails its requests with 503 and the pool is started afresh for the next ones.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request

from hub.api.errors import ApiError
from hub.config import HubConfig
from hub.readmodel import ReadModel

log = logging.getLogger(__name__)
T = TypeVar("T")

SCOPE_KEYS = (
    "type",
    "http_version",
    "method",
    "scheme",
    "server",
    "client",
    "root_path",
    "path",
    "raw_path",
    "query_string",
    "headers",
    "path_params",
)
"""What a worker needs of a request's ASGI scope (the rest holds the app, not picklable)."""


@dataclass(frozen=True)
class _Scope:
    """A request, as a worker rebuilds it."""

    scope: dict[str, Any]


class _Config:
    """Stands for the hub's config (the worker's own copy)."""


class _ReadModel:
    """Stands for the read model (the worker opens its own)."""


PARENT_CHECK_S = 0.5
"""How often a worker checks that the server that started it still runs."""

_worker: dict[str, Any] = {}


def _start_worker(config: HubConfig, server_pid: int) -> None:
    """A worker's start: keep the config and the read model; end with the server."""
    _worker["config"] = config
    _worker["readmodel"] = ReadModel.for_config(config)
    threading.Thread(target=_end_with, args=(server_pid,), daemon=True).start()


def _end_with(server_pid: int) -> None:
    """Exit when the server process is gone (killed, or ended without closing the pool):
    a worker must not outlive it, holding its files and its stdout."""
    while os.getppid() == server_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _run(work: Callable[..., T], args: tuple[Any, ...]) -> T:
    """Run one route's work in a worker, with its real arguments."""
    real = []
    for arg in args:
        if isinstance(arg, _Scope):
            real.append(Request(arg.scope))
        elif isinstance(arg, _Config):
            real.append(_worker["config"])
        elif isinstance(arg, _ReadModel):
            real.append(_worker["readmodel"])
        else:
            real.append(arg)
    return work(*real)


def _portable(arg: object) -> object:
    if isinstance(arg, Request):
        return _Scope({k: arg.scope[k] for k in SCOPE_KEYS if k in arg.scope})
    if isinstance(arg, HubConfig):
        return _Config()
    if isinstance(arg, ReadModel):
        return _ReadModel()
    return arg


def portable(args: tuple[object, ...]) -> bool:
    """Whether a route's arguments can be sent to a worker (no store, no open objects)."""
    return all(
        isinstance(a, Request | HubConfig | ReadModel | str | int | float | bool | type(None))
        for a in args
    )


class WorkPool:
    """N worker processes for /api/v1 work; started on first use, restarted if one dies."""

    def __init__(self, config: HubConfig, processes: int) -> None:
        self.config = config
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn, not fork: the server's threads, sockets and SQLite handles stay out
                self._executor = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.config, os.getpid()),
                )
            return self._executor

    async def run(self, work: Callable[..., T], args: tuple[object, ...]) -> T:
        """Run `work(*args)` in a worker and return its result (or raise its error)."""
        executor = self._pool()
        try:
            future = executor.submit(_run, work, tuple(_portable(a) for a in args))
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:
                    self._executor = None  # the next request starts a fresh pool
            executor.shutdown(wait=False, cancel_futures=True)
            log.error("an /api/v1 worker process ended; starting the pool again")
            raise ApiError(
                503,
                "the API's worker process ended while answering; the request was not "
                "answered, send it again",
                headers={"Retry-After": "1"},
            ) from None

    def close(self) -> None:
        """Stop the workers (they finish what they run)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def close_pool(state: Any) -> None:
    """Stop an app's worker processes, if `[serve] api_processes` started some
    (`state` is the app's `app.state`)."""
    pool: WorkPool | None = getattr(state, "v1_pool", None)
    if pool is not None:
        pool.close()
