"""Fixtures for the API tests: a store with two small named graphs, or the harvested demo; apps, clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import HubConfig, parse_config
from hub.store import OxigraphStore, open_store
from tests.api.api_sample import ALPHA, BETA, GRAPH_A, GRAPH_B
from tests.api.demo_hub import harvest_demo


@pytest.fixture
def config(tmp_path: Path) -> HubConfig:
    """An empty (valid) configuration."""
    return parse_config({}, tmp_path / "hub.toml")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OxigraphStore]:
    """A real on-disk store holding two named graphs, alpha and beta."""
    s = open_store(tmp_path / "store")
    s.load(ALPHA, ox.RdfFormat.TURTLE, GRAPH_A)
    s.load(BETA, ox.RdfFormat.TURTLE, GRAPH_B)
    yield s
    s.close()


@pytest.fixture
def app(config: HubConfig, store: OxigraphStore) -> FastAPI:
    """The hub's app over the test store, without a scheduler."""
    return create_app(config, store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A FastAPI TestClient for the app."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn server on a free loopback port; yields /sparql's URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/sparql"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubConfig, OxigraphStore]]:
    """The demo sources harvested into a real on-disk store, once per test module."""
    config, store = harvest_demo(tmp_path_factory.mktemp("demo") / "demo")
    yield config, store
    store.close()


@pytest.fixture(scope="module")
def demo_client(demo_hub: tuple[HubConfig, OxigraphStore]) -> Iterator[TestClient]:
    """A TestClient for the app serving the harvested demo data."""
    with TestClient(create_app(*demo_hub)) as c:
        yield c
