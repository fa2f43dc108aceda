"""Shared fixtures: a real on-disk store, a config, the demo sources."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.demo.servers import RunningDemo, demo_servers, point_config_at
from hub.iris import Iris
from hub.store import open_store
from hub.store.oxigraph import OxigraphStore

REPO = Path(__file__).resolve().parents[1]
BASE = "https://hub.example.org/"


@pytest.fixture
def iris() -> Iris:
    return Iris(BASE)


@pytest.fixture
def store(tmp_path: Path, iris: Iris) -> OxigraphStore:
    """A real pyoxigraph store on disk, in a fresh folder."""
    return open_store(tmp_path / "store")


@pytest.fixture
def demo_root(tmp_path: Path) -> Path:
    """A copy of the repository's config, mappings and demo data, with its own store."""
    root = tmp_path / "demo"
    root.mkdir()
    shutil.copy(REPO / "hub.toml", root / "hub.toml")
    shutil.copytree(REPO / "mappings", root / "mappings")
    shutil.copytree(
        REPO / "hub" / "demo" / "data",
        root / "hub" / "demo" / "data",
        ignore=shutil.ignore_patterns("*.sqlite"),
    )
    return root


@pytest.fixture
def demo_http(demo_root: Path) -> Iterator[RunningDemo]:
    """The demo's HTTP sources on free ports, and the copy of hub.toml pointed at them."""
    with demo_servers(fixed_ports=False) as running:
        point_config_at(demo_root / "hub.toml", running)
        yield running


@pytest.fixture
def demo_config(demo_root: Path, demo_http: RunningDemo) -> HubConfig:
    """The bundled demo configuration on a copy of the demo data, its HTTP sources running."""
    from hub.demo import build_demo_databases

    build_demo_databases(demo_root)
    return load_config(demo_root / "hub.toml")
