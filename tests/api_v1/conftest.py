"""The demo hub, harvested once for the /api/v1 tests: real store, real read model, TestClient.

tests/conftest.py's `demo_root` / `demo_config` are function-scoped; harvesting every
demo source for each test would cost seconds per test, so `demo_hub` does the same
steps (copy hub.toml, mappings and demo data; start the demo servers on free ports)
once per package. Tests that change data use `demo_config` itself.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import HubConfig, load_config
from hub.pipeline.programme import load_programme
from hub.pipeline.provenance import RunReport
from hub.pipeline.run import run_source
from hub.readmodel import readmodel_path, sync
from hub.store import open_store
from hub.store.oxigraph import OxigraphStore
from tests.conftest import REPO


@dataclass
class DemoHub:
    """A harvested demo: config, store, the run reports."""

    config: HubConfig
    store: OxigraphStore
    reports: dict[str, RunReport]


def harvest(config: HubConfig, store: OxigraphStore) -> dict[str, RunReport]:
    """Run every source of the config through the pipeline, then bring the read model up to date."""
    load_programme(store, config)
    reports = {source: run_source(config, store, source) for source in config.sources}
    failed = {s: r.summary() for s, r in reports.items() if not r.ok}
    assert not failed, failed
    # The pipeline rebuilds a source's read model at publish; sync() does whatever it has not.
    sync(config)
    return reports


@pytest.fixture(scope="package")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHub]:
    """The demo sources harvested into a real on-disk store and read model (once per package)."""
    from hub.demo import build_demo_databases
    from hub.demo.servers import demo_servers

    root = tmp_path_factory.mktemp("api_v1") / "demo"
    root.mkdir()
    shutil.copy(REPO / "hub.toml", root / "hub.toml")
    shutil.copytree(REPO / "mappings", root / "mappings")
    shutil.copytree(
        REPO / "hub" / "demo" / "data",
        root / "hub" / "demo" / "data",
        ignore=shutil.ignore_patterns("*.sqlite"),
    )
    build_demo_databases(root)
    with demo_servers(fixed_ports=False) as urls:
        config_file = root / "hub.toml"
        text = config_file.read_text(encoding="utf-8")
        for port, url in urls.items():
            text = text.replace(f"http://127.0.0.1:{port}", url)
        config_file.write_text(text, encoding="utf-8")
        config = load_config(config_file)
        store = open_store(config.store_path)
        reports = harvest(config, store)
    yield DemoHub(config, store, reports)
    store.close()


@pytest.fixture(scope="package")
def client(demo_hub: DemoHub) -> Iterator[TestClient]:
    """A TestClient on the hub's app over the demo store."""
    with TestClient(create_app(demo_hub.config, demo_hub.store)) as c:
        yield c


def fingerprint(hub: DemoHub) -> str:
    """A digest of everything published: every quad of the store and every read-model row."""
    import sqlite3

    digest = hashlib.sha256()
    for quad in sorted(str(q) for q in hub.store._store):  # noqa: SLF001 - a test looks inside
        digest.update(quad.encode())
    conn = sqlite3.connect(readmodel_path(hub.config))
    try:
        for table in (
            "sources",
            "cells",
            "entities",
            "docs",
            "facets",
            "facet_counts",
            "programme",
        ):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                digest.update(repr(row).encode())
    finally:
        conn.close()
    return digest.hexdigest()


def select(hub: DemoHub, sparql: str) -> list[dict[str, str]]:
    """Rows of a SPARQL SELECT on the store, values as strings (the tests' oracle)."""
    return [{k: v.value for k, v in row.items()} for row in hub.store.select(sparql)]


PREFIXES = """PREFIX schema: <http://schema.org/>
PREFIX mh: <https://w3id.org/marittimo-hub/ns#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""


def entity_ids(hub: DemoHub, pattern: str = "") -> set[str]:
    """Ids (`source/key`) of the entities the store holds, by SPARQL (the oracle of the tests).

    An entity: a subject typed with a schema.org class that is not a value node, or with a
    hub class that is a subclass of a schema.org class, whose IRI is minted under its own
    source (BASE/id/{source}/ of graph BASE/graph/{source}). `pattern` adds triple
    patterns on ?e (inside the entity's graph).
    """
    base = hub.config.base_iri
    rows = select(
        hub,
        PREFIXES
        + f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT DISTINCT ?e WHERE {{
          GRAPH ?g {{ ?e a ?t . {pattern} }}
          FILTER(STRSTARTS(STR(?g), "{base}graph/") && ?g != <{base}graph/programme>)
          FILTER((STRSTARTS(STR(?t), "http://schema.org/")
                  && ?t NOT IN (schema:PostalAddress, schema:GeoCoordinates, schema:Offer))
                 || EXISTS {{ GRAPH <{base}graph/programme> {{ ?t rdfs:subClassOf+ ?super }}
                             FILTER(STRSTARTS(STR(?super), "http://schema.org/")) }})
          FILTER(STRSTARTS(STR(?e), CONCAT(REPLACE(STR(?g), "/graph/", "/id/"), "/")))
        }}""",
    )
    prefix = base + "id/"
    return {r["e"][len(prefix) :] for r in rows}


def all_items(client: TestClient, url: str) -> list[dict]:
    """Every item of a listing, following `next_cursor`."""
    items: list[dict] = []
    sep = "&" if "?" in url else "?"
    page = client.get(f"{url}{sep}size=1000").json()
    items += page["items"]
    while page["next_cursor"]:
        page = client.get(f"{url}{sep}size=1000&cursor={page['next_cursor']}").json()
        items += page["items"]
    return items


@pytest.fixture
def hub_factory(demo_config: HubConfig) -> Iterator[DemoHub]:
    """A fresh harvested demo (function scope) for tests that change data."""
    store = open_store(demo_config.store_path)
    reports = harvest(demo_config, store)
    yield DemoHub(demo_config, store, reports)
    store.close()
