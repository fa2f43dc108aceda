"""The harvested demo hub for the /api/v1 tests: real store, real read model, TestClient.

Harvesting every demo source costs seconds, so both fixtures copy the one harvest that
tests/api/demo_hub.py makes per session (every source run through the pipeline, which
rebuilds each source's read model at publish): `demo_hub` once per package for the
tests that only read, `hub_factory` a fresh copy for each test that changes data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import HubConfig
from hub.readmodel import readmodel_path
from hub.store.oxigraph import OxigraphStore
from tests.api.demo_hub import harvest_demo


@dataclass
class DemoHub:
    """A harvested demo: config and store."""

    config: HubConfig
    store: OxigraphStore


@contextmanager
def harvested_copy(root: Path) -> Iterator[DemoHub]:
    """A copy of the session's harvested demo in `root`, its store open until the block ends."""
    config, store = harvest_demo(root)
    try:
        yield DemoHub(config, store)
    finally:
        store.close()


@pytest.fixture(scope="package")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHub]:
    """The demo sources harvested into a real on-disk store and read model (once per package)."""
    with harvested_copy(tmp_path_factory.mktemp("api_v1") / "demo") as hub:
        yield hub


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
def hub_factory(tmp_path: Path) -> Iterator[DemoHub]:
    """A fresh copy of the harvested demo (function scope) for tests that change data."""
    with harvested_copy(tmp_path / "demo") as hub:
        yield hub
