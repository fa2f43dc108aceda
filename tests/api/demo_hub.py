"""The demo sources harvested into a real store, and a real uvicorn server for an app.

Shared by the API tests on demo data, tests/browser and tests/test_docs_queries.py,
which need the store once per module (a harvest takes about a second).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from hub.config import HubConfig, load_config
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.store import OxigraphStore, open_store

REPO = Path(__file__).resolve().parents[2]


def copy_demo(root: Path) -> Path:
    """Copy the repository's config, mappings and demo data into `root` (as tests/conftest.py does)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "hub.toml", root / "hub.toml")
    shutil.copytree(REPO / "mappings", root / "mappings")
    shutil.copytree(
        REPO / "hub" / "demo" / "data",
        root / "hub" / "demo" / "data",
        ignore=shutil.ignore_patterns("*.sqlite"),
    )
    return root


_HARVESTED: Path | None = None


def _harvested_demo() -> Path:
    """A folder with the demo harvested and published (config, data, store), made once per
    test session; `harvest_demo` copies it (a harvest of the 17 sources takes ~10 s)."""
    global _HARVESTED
    if _HARVESTED is None:
        from hub.demo import build_demo_databases
        from hub.demo.servers import demo_servers, point_config_at

        template = Path(tempfile.mkdtemp(prefix="hub-demo-harvested-")) / "demo"
        atexit.register(shutil.rmtree, template.parent, True)
        copy_demo(template)
        build_demo_databases(template)
        with demo_servers(fixed_ports=False) as urls:
            point_config_at(template / "hub.toml", urls)
            config = load_config(template / "hub.toml")
            store = open_store(config.store_path)
            try:
                load_programme(store, config)
                for source_id in config.sources:
                    report = run_source(config, store, source_id)
                    assert report.ok, report.summary()
            finally:
                store.close()
        _HARVESTED = template
    return _HARVESTED


def harvest_demo(root: Path) -> tuple[HubConfig, OxigraphStore]:
    """A copy of the demo in `root`, every source harvested and published into its own store.

    Each call gets its own folder and store (a copy of one harvest made per session; the
    data folder holds only paths relative to it), so a test may change its copy freely.
    """
    shutil.copytree(_harvested_demo(), root, dirs_exist_ok=True)
    config = load_config(root / "hub.toml")
    return config, open_store(config.store_path)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port, in a thread; yields the base URL."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
