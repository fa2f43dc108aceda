"""Where RDF lives. `connect_store` picks the adapter from the config; only adapters touch stores.

Backends (`[store] backend`):

- `server` (default): the on-disk store runs in a child `oxigraph serve`; queries
  have a time limit and the hub speaks HTTP to it, as to any SPARQL server.
- `embedded`: pyoxigraph in-process (no query time limit; for tests and tools).
- `sparql`: an external SPARQL 1.1 server (Query, Update, Graph Store Protocol).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from hub.config import HubConfig
from hub.errors import StoreError
from hub.store.base import Capabilities, Store
from hub.store.http import GraphResult, HttpStore
from hub.store.oxigraph import OxigraphStore, sparql_iri
from hub.store.server import OxigraphServer, running_server

__all__ = [
    "Capabilities",
    "GraphResult",
    "HttpStore",
    "OxigraphStore",
    "Store",
    "connect_store",
    "open_store",
    "sparql_iri",
    "staging_store",
]


def open_store(path: str | Path, *, read_only: bool = False) -> OxigraphStore:
    """Open the embedded on-disk store at `path` in this process (created if missing)."""
    return OxigraphStore(Path(path), read_only=read_only)


def _http_to(url: str, config: HubConfig, server: OxigraphServer | None = None) -> HttpStore:
    return HttpStore(
        f"{url}/query",
        f"{url}/update",
        f"{url}/store",
        timeout_s=config.store.timeout_s,
        max_result_bytes=config.store.max_result_bytes,
        oxigraph=True,
        max_update_bytes=config.store.max_update_bytes,
        on_close=server.stop if server else None,
        on_overrun=server.restart if server else None,
        on_unreachable=server.ensure_alive if server else None,
        query_window=server.queries if server else None,
    )


def connect_store(config: HubConfig, *, write: bool = True, owner: str = "hub") -> Store:
    """The store the config names; `write=False` for commands that only read."""
    location = config.store_path
    backend = config.store.backend
    if backend == "embedded":
        store = OxigraphStore(location, read_only=not write)
        if config.store.max_update_bytes:
            store.capabilities = replace(
                store.capabilities, max_update_bytes=config.store.max_update_bytes
            )
        return store
    if backend == "sparql":
        settings = config.store
        return HttpStore(
            settings.query_url or "",
            settings.update_url or "",
            settings.graph_store_url or "",
            timeout_s=settings.timeout_s,
            max_result_bytes=settings.max_result_bytes,
            oxigraph=settings.oxigraph_extensions,
            atomic_updates=settings.atomic_updates,
            max_update_bytes=settings.max_update_bytes,
        )
    running = running_server(location)
    if running is not None:
        if write:
            raise StoreError(
                f"the store is being served by `{running.get('owner', 'hub')}` (pid {running['pid']}); "
                "harvests run inside it on their schedule. Stop it to run this command, or use "
                "the running hub's admin API (POST /api/admin/harvest/<source>)"
            )
        return _http_to(running["url"], config)
    if not write and not location.exists():
        raise StoreError(f"no store at {location}; run `hub harvest` (or `hub demo`) first")
    server = OxigraphServer(
        location,
        timeout_s=config.store.timeout_s,
        owner=owner,
        query_threads=config.store.query_threads,
    )
    return _http_to(server.url, config, server)


@contextmanager
def staging_store(folder: Path) -> Iterator[OxigraphStore]:
    """A throw-away on-disk store for one run: load, validate, dump, then deleted whole."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    store = OxigraphStore(folder)
    try:
        yield store
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
