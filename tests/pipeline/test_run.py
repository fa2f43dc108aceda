"""Harvest -> map -> stage -> validate -> publish, and what happens when a step fails."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.iris import MH, PROV
from hub.pipeline.run import run_source

if TYPE_CHECKING:
    from tests.pipeline.conftest import MiniHub


def meta_rows(hub: MiniHub, run_iri: str) -> dict[str, list[str]]:
    rows = hub.store.select(
        f"SELECT ?p ?o WHERE {{ GRAPH <{hub.iris.meta_graph}> {{ <{run_iri}> ?p ?o }} }}"
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["p"].value, []).append(row["o"].value)
    return out


def test_run_publishes_and_records_provenance(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published", report.message
    assert (report.records, report.record_errors, report.triples) == (30, 0, 150)
    assert minihub.store.graph_size(minihub.live) == 150
    run = meta_rows(minihub, minihub.iris.run("places", report.run_id))
    assert run[MH + "status"] == ["published"]
    assert run[MH + "recordCount"] == ["30"]
    assert run[MH + "tripleCount"] == ["150"]
    assert len(run[MH + "mappingHash"][0]) == 64
    assert PROV + "endedAtTime" in run and PROV + "startedAtTime" in run
    dataset = minihub.iris.dataset("places")
    assert minihub.store.ask(
        f"ASK {{ GRAPH <{minihub.iris.meta_graph}> {{ <{dataset}> a <http://www.w3.org/ns/dcat#Dataset> ;"
        f" <http://purl.org/dc/terms/license> <https://creativecommons.org/licenses/by/4.0/> ;"
        f" <{MH}project> <{minihub.iris.project('itinera')}> ;"
        f" <{PROV}wasGeneratedBy> <{minihub.iris.run('places', report.run_id)}> }} }}"
    )


def test_rerun_replaces_the_published_graph(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").ok
    minihub.write(minihub.places(20, prefix="q"))
    assert run_source(minihub.config, minihub.store, "places").ok
    ids = {
        r["s"].value
        for r in minihub.store.select(
            f"SELECT DISTINCT ?s WHERE {{ GRAPH <{minihub.live}> {{ ?s ?p ?o }} }}"
        )
    }
    assert len(ids) == 20 and all("/q" in s for s in ids)


def test_failure_half_way_leaves_published_graph_unchanged(minihub: MiniHub) -> None:
    minihub.write(minihub.places(50))
    assert run_source(minihub.config, minihub.store, "places").ok
    before = minihub.live_dump()
    graphs_before = minihub.store.named_graphs()
    minihub.write(minihub.places(200, prefix="new"), broken_at=120)
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "failed"
    assert "places" in report.message and "line 121" in report.message
    assert report.records == 119  # the rows before the broken one were read, then the run stopped
    assert minihub.live_dump() == before
    assert minihub.store.named_graphs() == graphs_before  # the staging graph was dropped
    run = meta_rows(minihub, minihub.iris.run("places", report.run_id))
    assert run[MH + "status"] == ["failed"]


def test_too_many_bad_records_fail_the_gate(minihub: MiniHub) -> None:
    minihub.write(minihub.places(20))
    assert run_source(minihub.config, minihub.store, "places").ok
    before = minihub.live_dump()
    rows = minihub.places(10) + [(f"bad{i}", "X", "43,5", "10.0") for i in range(5)]
    minihub.write(rows)
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "failed"
    assert "5 of 15 records (33%) could not be mapped" in report.message
    assert any("record `bad0`" in e and "decimal comma" in e for e in report.errors)
    assert minihub.live_dump() == before


def test_shacl_violation_blocks_publishing(minihub: MiniHub) -> None:
    minihub.write(minihub.places(20))
    assert run_source(minihub.config, minihub.store, "places").ok
    before = minihub.live_dump()
    minihub.write(minihub.places(19) + [("far", "Lontano", "123.0", "10.0")])
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "failed"
    assert report.violations == 1
    assert "SHACL" in report.message
    assert any("far" in e for e in report.errors)
    assert minihub.live_dump() == before


def test_empty_source_is_not_published(minihub: MiniHub) -> None:
    minihub.write(minihub.places(5))
    assert run_source(minihub.config, minihub.store, "places").ok
    before = minihub.live_dump()
    minihub.write([])
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "failed" and "0 records" in report.message
    assert minihub.live_dump() == before


def test_malformed_mapping_fails_before_harvest(minihub: MiniHub) -> None:
    minihub.write(minihub.places(5))
    (minihub.root / "mappings" / "places.yml").write_text(
        "mappings:\n  place:\n    s: id:$(id)\n    po:\n      - [shema:name, $(name)]\n"
    )
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "failed"
    assert report.message.startswith("mappings/places.yml line 5: unknown prefix `shema:`")
    assert report.records == 0
    assert not minihub.store.has_graph(minihub.live)


def test_previous_version_is_kept_for_rollback(minihub: MiniHub) -> None:
    for n in (3, 4, 5):
        minihub.write(minihub.places(n))
        assert run_source(minihub.config, minihub.store, "places").ok
    versions = sorted((minihub.config.data_path / "versions" / "places").glob("*.nt"))
    assert len(versions) == 2  # keep_versions = 2: the live one and the one before
    assert len(versions[0].read_text().splitlines()) == 4 * 5
    assert len(versions[1].read_text().splitlines()) == 5 * 5
    # nothing of the runs is left in the store but the live graph, meta and programme
    assert minihub.store.named_graphs() == sorted(
        [minihub.live, minihub.iris.meta_graph, minihub.iris.programme_graph]
    )


def test_a_query_started_before_a_publish_keeps_its_snapshot(minihub: MiniHub) -> None:
    minihub.write(minihub.places(40))
    assert run_source(minihub.config, minihub.store, "places").ok
    query = f"SELECT ?s WHERE {{ GRAPH <{minihub.live}> {{ ?s ?p ?o }} }}"
    started = minihub.store.query(query)  # lazy: nothing read yet
    minihub.write(minihub.places(30, prefix="q"))
    assert run_source(minihub.config, minihub.store, "places").ok
    assert len(list(started)) == 200  # the old graph, whole
    assert len(list(minihub.store.query(query))) == 150  # the new graph, whole


def test_no_query_starts_while_a_publish_runs(minihub: MiniHub) -> None:
    import threading
    import time

    minihub.write(minihub.places(5))
    assert run_source(minihub.config, minihub.store, "places").ok
    seen: list[int] = []
    with minihub.store.publishing():  # as a publish in steps holds it
        query = f"SELECT * WHERE {{ GRAPH <{minihub.live}> {{ ?s ?p ?o }} }}"
        reader = threading.Thread(target=lambda: seen.append(len(list(minihub.store.query(query)))))
        reader.start()
        time.sleep(0.3)
        assert seen == []  # the query waits for the publish to end
    reader.join(5)
    assert seen == [25]
