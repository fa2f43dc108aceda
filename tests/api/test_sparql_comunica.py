"""A JavaScript SPARQL client, Comunica, against the hub served by uvicorn on loopback.

Comunica (`@comunica/query-sparql`, run by Node.js) takes `/sparql` as a SPARQL endpoint
source (`sparql@http://127.0.0.1:PORT/sparql`, as its command line writes it) and asks a
SELECT and a CONSTRUCT; its answers must equal the hub's own store's. `.ci/run` installs
Node.js from Debian and the package with npm into `.ci/node/` (its package.json says which
and why); without them this skips and says what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from hub.api import create_app
from tests.api.demo_hub import REPO, harvest_demo, serve

NODE_DIR = Path(os.environ.get("HUB_COMUNICA_DIR", REPO / ".ci" / "node"))
SCRIPT = NODE_DIR / "comunica-query.mjs"
PACKAGE = NODE_DIR / "node_modules" / "@comunica" / "query-sparql" / "package.json"
INSTALL = "npm install --no-save --no-package-lock --prefix .ci/node"  # .ci/node/package.json

PREFIXES = "PREFIX schema: <http://schema.org/>\nPREFIX mh: <https://w3id.org/marittimo-hub/ns#>\n"
# Names in every language (language tags), decimals, dates, IRIs and plain strings.
SELECT = (
    PREFIXES
    + """SELECT ?trip ?name ?length ?region WHERE {
  ?trip a schema:TouristTrip ; schema:name ?name ; mh:region ?region .
  OPTIONAL { ?trip mh:lengthKm ?length }
}"""
)
# One source's itineraries with their geometries (a typed WKT literal) and municipalities.
CONSTRUCT = (
    PREFIXES
    + """PREFIX geo: <http://www.opengis.net/ont/geosparql#>
CONSTRUCT { ?trip schema:name ?name ; mh:municipality ?town ; geo:hasGeometry ?g . ?g geo:asWKT ?wkt }
WHERE { GRAPH <https://hub.example.org/graph/itinera-trails> {
  ?trip a schema:TouristTrip ; schema:name ?name ; mh:municipality ?town ; geo:hasGeometry ?g .
  ?g geo:asWKT ?wkt } }"""
)


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` binary, or a skip that says what to install."""
    found = shutil.which("node")
    if found is None:
        pytest.skip("Node.js not installed: run `apt-get install nodejs npm`, then " + INSTALL)
    if not PACKAGE.exists():
        pytest.skip(f"Comunica not installed in {NODE_DIR}: run `{INSTALL}`")
    return found


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, node: str) -> Iterator[tuple[str, Any]]:
    """(the /sparql URL of the demo served on loopback, the store it serves)."""
    config, store = harvest_demo(tmp_path_factory.mktemp("comunica") / "demo")
    with serve(create_app(config, store)) as url:
        yield f"{url}/sparql", store
    store.close()


def comunica(node: str, endpoint: str, query: str) -> dict:
    done = subprocess.run(
        [node, str(SCRIPT), endpoint, query], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"comunica failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


def from_comunica(term: dict) -> tuple:
    if term["termType"] == "NamedNode":
        return ("iri", term["value"])
    if term["termType"] == "BlankNode":
        return ("bnode",)
    return ("literal", term["value"], term["datatype"], term["language"] or "")


def from_store(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> tuple:
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    return ("literal", term.value, term.datatype.value, term.language or "")


def test_select_through_comunica_equals_the_store(node: str, hub: tuple[str, Any]) -> None:
    endpoint, store = hub
    answer = comunica(node, endpoint, SELECT)
    assert answer["type"] == "bindings"
    got = sorted(
        tuple(sorted((k, from_comunica(v)) for k, v in row.items())) for row in answer["rows"]
    )
    solutions = store.query(SELECT)  # the public path: the default graph is the union
    names = [v.value for v in solutions.variables]
    expected = sorted(
        tuple(sorted((k, from_store(row[k])) for k in names if row[k] is not None))
        for row in solutions
    )
    assert len(expected) > 20  # every itinerary, once per name and region
    assert got == expected
    languages = {v[3] for row in got for k, v in row if k == "name"}
    assert {"it", "fr", "en"} <= languages


def test_construct_through_comunica_equals_the_store(node: str, hub: tuple[str, Any]) -> None:
    endpoint, store = hub
    answer = comunica(node, endpoint, CONSTRUCT)
    assert answer["type"] == "quads"
    got = sorted(
        (from_comunica(q["subject"]), from_comunica(q["predicate"]), from_comunica(q["object"]))
        for q in answer["quads"]
    )
    expected = sorted(
        (from_store(t.subject), from_store(t.predicate), from_store(t.object))
        for t in store.query(CONSTRUCT)
    )
    assert len(expected) > 40
    assert got == expected
