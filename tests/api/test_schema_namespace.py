"""One schema.org namespace (decisions #28): a store of the old spelling migrated at start-up,
and both spellings asked over HTTP of the real app.

The demo is harvested, then "aged": every source re-published with `https://schema.org/`
IRIs and the programme graph reloaded in that spelling, as a hub before the switch left
them. `hub.cli.recover` (what every command runs at start) must migrate it all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.api import create_app
from hub.cli import recover
from hub.config import HubConfig
from hub.feed import FeedReader
from hub.layout import DataLayout
from hub.pipeline.migrate import migrate_schema_namespace
from hub.pipeline.programme import programme_turtle
from hub.pipeline.provenance import RunReport, new_run_id
from hub.pipeline.publish import Publisher
from hub.pipeline.state import load_state
from hub.pipeline.versions import sort_version
from hub.readmodel import ReadModel
from hub.store import OxigraphStore
from tests.api.demo_hub import harvest_demo, serve

OLD, NEW = "https://schema.org/", "http://schema.org/"
ANY_OLD = (
    f'ASK {{ GRAPH ?g {{ ?s ?p ?o FILTER(STRSTARTS(STR(?p), "{OLD}") '
    f'|| (isIRI(?o) && STRSTARTS(STR(?o), "{OLD}"))) }} }}'
)
PLACES = "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH ?g {{ ?x a <{ns}TouristAttraction> }} }}"


def _age(config: HubConfig, store: OxigraphStore, root: Path) -> None:
    """Publish every source again in the old spelling, as an older hub left it."""
    layout = DataLayout(config.data_path)
    publisher = Publisher(config, store)
    for source in config.sources:
        current = layout.absolute(load_state(layout.root, source).version_file)
        raw = root / f"{source}.old.nt"
        raw.write_bytes(current.read_bytes().replace(f"<{NEW}".encode(), f"<{OLD}".encode()))
        now = datetime.now(UTC)
        run = new_run_id(now)
        target = layout.version(source, run)
        sort_version(raw, target, genid=publisher.genid(source))
        report = RunReport(source=source, run_id=run, started=now)
        publisher.publish(source, target, report)
    old_programme = programme_turtle(config).replace(f"<{NEW}".encode(), f"<{OLD}".encode())
    store.replace_graph(f"{config.base_iri}graph/programme", old_programme, ox.RdfFormat.N_TRIPLES)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubConfig, OxigraphStore]]:
    root = tmp_path_factory.mktemp("namespace")
    config, store = harvest_demo(root / "demo")
    _age(config, store, root)
    assert store.ask(ANY_OLD)
    recover(config, store)
    yield config, store
    store.close()


def test_start_up_migrates_every_graph(migrated: tuple[HubConfig, OxigraphStore]) -> None:
    config, store = migrated
    assert not store.ask(ANY_OLD)
    layout = DataLayout(config.data_path)
    for source in config.sources:
        for version in layout.versions(source).glob("*.nt"):  # rollback cannot bring it back
            assert f"<{OLD}".encode() not in version.read_bytes(), version
    rows = store.select(PLACES.format(ns=NEW))
    assert int(rows[0]["n"].value) > 20
    # the read model and the change feed followed the publish path
    with ReadModel.for_config(config).snapshot() as snap:
        served = {s.id: s.run_id for s in snap.sources.values()}
    for source in config.sources:
        assert served[source] == load_state(layout.root, source).run_id
    items = FeedReader.for_config(config).page(after=0, source=None, size=100_000)
    assert {i.source for i in items if i.reason == "migration"} == set(config.sources)
    assert all(OLD not in (i.triples or "") for i in items if i.reason == "migration")
    # idempotent: a second pass finds nothing to do, and a finished one is not run again
    marker = layout.root / "migrations" / "schema-http.done"
    assert marker.exists()
    marker.unlink()
    assert migrate_schema_namespace(config, store) == []
    assert marker.exists()


def test_both_spellings_over_http(migrated: tuple[HubConfig, OxigraphStore]) -> None:
    config, store = migrated
    with serve(create_app(config, store)) as base:
        sparql = f"{base}/sparql"
        accept = {"Accept": "application/sparql-results+json"}
        good = httpx.post(sparql, data={"query": PLACES.format(ns=NEW)}, headers=accept)
        assert good.status_code == 200
        assert int(good.json()["results"]["bindings"][0]["n"]["value"]) > 20
        assert "x-hub-warning" not in good.headers
        query = f"PREFIX schema: <{OLD}>\nSELECT ?x WHERE {{ ?x a schema:TouristAttraction }}"
        other = httpx.get(sparql, params={"query": query}, headers=accept)
        assert other.status_code == 200  # run as written: nothing matches ...
        assert other.json()["results"]["bindings"] == []
        warning = other.headers["x-hub-warning"]  # ... and the answer says which to use
        assert f"PREFIX schema: <{NEW}>" in warning and OLD in warning
        assert other.headers["warning"].startswith("299 ")
        assert "X-Hub-Warning" in other.headers["access-control-expose-headers"]
        page = httpx.get(sparql, headers={"Accept": "text/html"}).text
        assert f"<code>{NEW}</code>" in page and f"PREFIX schema: &lt;{NEW}&gt;" in page
        # the REST API takes either spelling in type=
        counts = {
            ns: httpx.get(
                f"{base}/api/v1/entities", params={"type": ns + "TouristAttraction"}
            ).json()["total"]
            for ns in (NEW, OLD)
        }
        assert counts[NEW] == counts[OLD] > 20
