"""The one publish path: a change in one transaction or in steps, recovery, approve, reject, rollback."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pyoxigraph as ox
import pytest

from hub.errors import HubError
from hub.layout import DataLayout
from hub.pipeline.provenance import RunReport, record_run
from hub.pipeline.publish import Publisher
from hub.pipeline.run import run_source
from hub.pipeline.state import load_state
from hub.readmodel import ReadModel
from tests.pipeline.conftest import MiniHub


def triples_of_file(path) -> set[str]:
    """The triples of a file as a store keeps them (literals in canonical form)."""
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return {str(ox.Triple(q.subject, q.predicate, q.object)) for q in store}


def triples_of_graph(minihub: MiniHub) -> set[str]:
    return {
        str(ox.Triple(q.subject, q.predicate, q.object)) for q in minihub.store.quads(minihub.live)
    }


def published_version(minihub: MiniHub):
    layout = DataLayout(minihub.config.data_path)
    run = Publisher(minihub.config, minihub.store, subscribers=[]).published_run("places")
    return run, layout.version("places", run)


def read_model_run(minihub: MiniHub) -> str:
    with ReadModel.for_config(minihub.config).snapshot() as snap:
        return snap.conn.execute("SELECT run_id FROM sources WHERE source = 'places'").fetchone()[0]


def assert_exactly_published(minihub: MiniHub) -> str:
    """The graph holds exactly the version its marker names, and the read model agrees."""
    run, file = published_version(minihub)
    assert run is not None and file.exists()
    assert triples_of_graph(minihub) == triples_of_file(file)
    assert load_state(minihub.config.data_path, "places").run_id == run
    assert read_model_run(minihub) == run
    return run


def test_a_small_change_is_one_transaction_and_logged(minihub: MiniHub) -> None:
    minihub.write(minihub.places(20))
    first = run_source(minihub.config, minihub.store, "places")
    assert first.status == "published"
    rows = minihub.places(20)
    rows[3] = ("p3", "Luogo nuovo", rows[3][2], rows[3][3])
    minihub.write(rows[:19])  # one changed, one gone
    second = run_source(minihub.config, minihub.store, "places")
    assert second.status == "published", second.message
    assert assert_exactly_published(minihub) == second.run_id
    changes = DataLayout(minihub.config.data_path).changes("places").read_text().splitlines()
    last = json.loads(changes[-1])
    assert (last["previous"], last["version"]) == (first.run_id, second.run_id)
    assert last["triples_removed"] == 5 + 1 and last["triples_added"] == 1
    assert last["subjects_touched"] == 2
    # nothing is left of the publish: no journal, no change set
    assert not list(DataLayout(minihub.config.data_path).publishing().iterdir())


def test_the_same_triples_again_are_unchanged(minihub: MiniHub) -> None:
    minihub.write(minihub.places(10))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    minihub.write(list(reversed(minihub.places(10))))  # same rows, another order
    again = run_source(minihub.config, minihub.store, "places")
    assert again.status == "unchanged"
    assert len(Publisher(minihub.config, minihub.store).versions("places")) == 1


def test_a_change_too_big_for_one_request_is_written_in_steps(minihub: MiniHub) -> None:
    minihub.write(minihub.places(50))
    assert run_source(minihub.config, minihub.store, "places").ok
    minihub.store.capabilities = dataclasses.replace(
        minihub.store.capabilities, max_update_bytes=2000
    )
    minihub.write(minihub.places(60, prefix="q"))
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published", report.message
    assert assert_exactly_published(minihub) == report.run_id
    assert len(triples_of_graph(minihub)) == 300


def test_readers_never_see_a_change_in_steps_half_done(minihub: MiniHub) -> None:
    minihub.write(minihub.places(200))
    assert run_source(minihub.config, minihub.store, "places").ok
    minihub.store.capabilities = dataclasses.replace(
        minihub.store.capabilities, max_update_bytes=3000
    )
    minihub.write(minihub.places(150, prefix="q"))
    seen: set[int] = set()
    stop = threading.Event()
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{minihub.live}> {{ ?s ?p ?o }} }}"

    def read() -> None:
        while not stop.is_set():
            seen.add(int(next(iter(minihub.store.query(query)))["n"].value))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert run_source(minihub.config, minihub.store, "places").ok
    finally:
        stop.set()
        reader.join(10)
    assert seen <= {1000, 750}, seen  # 200 or 150 places of 5 triples, nothing between
    assert 750 in {int(next(iter(minihub.store.query(query)))["n"].value)}


def interrupted_publish(minihub: MiniHub, *, deletes_done: bool) -> tuple[str, str]:
    """Publish twice, the second time stopping after the journal (and maybe the deletes)."""
    minihub.write(minihub.places(30))
    first = run_source(minihub.config, minihub.store, "places")
    publisher = Publisher(minihub.config, minihub.store)
    layout = publisher.layout
    minihub.write(minihub.places(20, prefix="z"))

    class Killed(BaseException):
        pass

    def write_then_die(change):  # noqa: ANN001, ANN202
        if deletes_done:
            graph = f"<{change.graph}>"
            minihub.store.update(
                f"DELETE DATA {{ GRAPH {graph} {{ {change.removed.read_text()} }} }}"
            )
        raise Killed

    from hub.pipeline import run as run_module

    run = run_module.SourceRun(
        minihub.config, minihub.store, minihub.config.source("places"), publisher=publisher
    )
    publisher._write = write_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        run.execute()
    assert layout.journal("places").exists()
    return first.run_id, run.report.run_id


@pytest.mark.parametrize("deletes_done", [False, True])
def test_an_interrupted_publish_is_finished_at_start(minihub: MiniHub, deletes_done: bool) -> None:
    old, new = interrupted_publish(minihub, deletes_done=deletes_done)
    if deletes_done:
        assert len(triples_of_graph(minihub)) == 0  # the graph is half-written now
    done = Publisher(minihub.config, minihub.store).recover()
    assert any(f"finished the interrupted publish of version {new}" in line for line in done)
    assert assert_exactly_published(minihub) == new
    assert not DataLayout(minihub.config.data_path).journal("places").exists()


def test_a_journal_naming_a_missing_version_restores_the_last_whole_one(minihub: MiniHub) -> None:
    old, new = interrupted_publish(minihub, deletes_done=True)
    layout = DataLayout(minihub.config.data_path)
    layout.version("places", new).unlink()
    done = Publisher(minihub.config, minihub.store).recover()
    assert any("restored the last whole version" in line and old in line for line in done)
    assert assert_exactly_published(minihub) == old
    assert not layout.journal("places").exists()


def test_an_old_style_journal_with_a_missing_file_does_not_stop_the_hub(minihub: MiniHub) -> None:
    minihub.write(minihub.places(5))
    assert run_source(minihub.config, minihub.store, "places").ok
    legacy = minihub.config.store_path.with_name("store.publishing.json")
    legacy.write_text(json.dumps({"graph": minihub.live, "file": "/nowhere/x.nt"}))
    assert minihub.cli("sources") == 0
    assert not legacy.exists()
    assert_exactly_published(minihub)


def test_runs_left_running_are_marked_interrupted(minihub: MiniHub) -> None:
    from datetime import UTC, datetime

    from hub.iris import MH

    report = RunReport(
        source="places", run_id="20260101T000000000000Z-dead", started=datetime.now(UTC)
    )
    record_run(minihub.store, minihub.config, report)  # status "running", as a killed run leaves it
    done = Publisher(minihub.config, minihub.store).recover()
    assert any("marked `interrupted`" in line for line in done)
    rows = minihub.store.select(
        f"SELECT ?s WHERE {{ GRAPH <{minihub.iris.meta_graph}> {{ "
        f"<{minihub.iris.run('places', report.run_id)}> <{MH}status> ?s }} }}"
    )
    assert [r["s"].value for r in rows] == ["interrupted"]


def test_ctrl_c_during_a_run_records_it_interrupted(minihub: MiniHub) -> None:
    from hub.catalog import source_statuses

    minihub.write(minihub.places(5))
    publisher = Publisher(minihub.config, minihub.store)

    def interrupt(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    publisher.prepare = interrupt  # type: ignore[method-assign]
    from hub.pipeline.run import SourceRun

    with pytest.raises(KeyboardInterrupt):
        SourceRun(
            minihub.config, minihub.store, minihub.config.source("places"), publisher=publisher
        ).execute()
    (status,) = [s for s in source_statuses(minihub.store, minihub.config) if s.id == "places"]
    assert status.last_status == "interrupted"
    assert not minihub.store.has_graph(minihub.live)


def held_run(minihub: MiniHub) -> tuple[str, str]:
    minihub.write(minihub.places(20))
    first = run_source(minihub.config, minihub.store, "places")
    minihub.write(minihub.places(4))
    held = run_source(minihub.config, minihub.store, "places")
    assert held.status == "held"
    return first.run_id, held.run_id


def test_approve_publishes_the_held_run_and_the_next_same_harvest_is_unchanged(
    minihub: MiniHub,
) -> None:
    first, held = held_run(minihub)
    report = Publisher(minihub.config, minihub.store).approve("places")
    assert report.status == "published" and held in report.message
    assert assert_exactly_published(minihub) == held
    assert load_state(minihub.config.data_path, "places").records == 4
    again = run_source(minihub.config, minihub.store, "places")
    assert again.status == "unchanged"  # approve left what the next run compares with


def test_reject_discards_the_held_run(minihub: MiniHub) -> None:
    first, held = held_run(minihub)
    report = Publisher(minihub.config, minihub.store).reject("places")
    assert report.status == "rejected"
    assert assert_exactly_published(minihub) == first
    with pytest.raises(HubError, match="no held run"):
        Publisher(minihub.config, minihub.store).approve("places")


def test_rollback_puts_back_the_previous_version(minihub: MiniHub) -> None:
    minihub.write(minihub.places(10))
    first = run_source(minihub.config, minihub.store, "places").run_id
    minihub.write(minihub.places(12, prefix="r"))
    second = run_source(minihub.config, minihub.store, "places").run_id
    report = Publisher(minihub.config, minihub.store).rollback("places")
    assert report.status == "published"
    assert assert_exactly_published(minihub) == first
    with pytest.raises(HubError, match="no kept version"):
        Publisher(minihub.config, minihub.store).rollback("places")
    # forward again to a named version
    Publisher(minihub.config, minihub.store).rollback("places", second)
    assert assert_exactly_published(minihub) == second


def test_blank_nodes_are_published_as_skolem_iris(minihub: MiniHub) -> None:
    layout = DataLayout(minihub.config.data_path)
    version = layout.version("places", "20260101T000000000000Z-b0b0")
    version.parent.mkdir(parents=True)
    from hub.pipeline.versions import sort_version

    raw = version.with_suffix(".unsorted")
    raw.write_text(
        '_:a <http://schema.org/name> "x" .\n<https://e/x> <http://schema.org/p> _:a .\n'
    )
    publisher = Publisher(minihub.config, minihub.store, subscribers=[])
    sort_version(raw, version, genid=publisher.genid("places"))
    report = RunReport(
        source="places", run_id=version.stem, started=__import__("datetime").datetime.now()
    )
    publisher.publish("places", version, report)
    subjects = {q.subject.value for q in minihub.store.quads(minihub.live)}
    assert f"{minihub.config.base_iri}.well-known/genid/places/a" in subjects
    # and it can be replaced (DELETE DATA cannot name blank nodes; skolem IRIs it can)
    version2 = layout.version("places", "20260101T000000000001Z-b0b1")
    version2.write_text("")
    publisher.publish("places", version2, report)
    assert triples_of_graph(minihub) == set()


def test_a_slow_reader_does_not_block_a_one_transaction_publish(minihub: MiniHub) -> None:
    minihub.write(minihub.places(10))
    assert run_source(minihub.config, minihub.store, "places").ok
    started = minihub.store.query(f"SELECT ?s WHERE {{ GRAPH <{minihub.live}> {{ ?s ?p ?o }} }}")
    minihub.write(minihub.places(8, prefix="n"))
    t0 = time.perf_counter()
    assert run_source(minihub.config, minihub.store, "places").ok
    assert time.perf_counter() - t0 < 60
    assert len(list(started)) == 50  # its snapshot is the old version, whole


def test_rest_answers_name_the_version_they_serve(minihub: MiniHub) -> None:
    from fastapi.testclient import TestClient

    from hub.api import create_app

    minihub.write(minihub.places(6))
    run = run_source(minihub.config, minihub.store, "places").run_id
    client = TestClient(create_app(minihub.config, minihub.store))
    for path in ("/api/v1/entities", "/api/v1/stats"):
        response = client.get(path)
        assert response.status_code == 200, response.text
        assert response.headers["X-Hub-Versions"] == f"places={run}"
    assert "X-Hub-Versions" in response.headers["Access-Control-Expose-Headers"]


def lose_publish_writes(minihub: MiniHub, monkeypatch, times: int) -> list[str]:
    """The store drops the publish's write `times` times (the retries do not sleep); the
    writes it dropped."""
    from hub.errors import StoreError
    from hub.pipeline import publish as publish_module

    real_update, lost = minihub.store.update, []

    def dropping(sparql: str) -> None:
        if "publishedRun" in sparql and len(lost) < times:
            lost.append(sparql)
            raise StoreError("the SPARQL server at http://127.0.0.1:1/update cannot be reached")
        real_update(sparql)

    monkeypatch.setattr(minihub.store, "update", dropping)
    monkeypatch.setattr(publish_module.time, "sleep", lambda s: None)
    return lost


def test_a_write_the_store_drops_is_written_again(minihub: MiniHub, monkeypatch) -> None:
    minihub.write(minihub.places(10))
    assert run_source(minihub.config, minihub.store, "places").ok
    failures = lose_publish_writes(minihub, monkeypatch, times=2)
    minihub.write(minihub.places(12, prefix="w"))
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published", report.message
    assert len(failures) == 2
    monkeypatch.undo()
    assert assert_exactly_published(minihub) == report.run_id


def test_the_next_run_finishes_a_publish_that_failed_half_way(minihub: MiniHub) -> None:
    old, new = interrupted_publish(minihub, deletes_done=True)  # the graph is half-written
    minihub.write(minihub.places(20, prefix="z"))  # the same data again
    report = run_source(minihub.config, minihub.store, "places")
    # before preparing its own change, the run finished the journalled one: then its own
    # harvest is exactly what is published
    assert report.status == "unchanged", report.message
    assert assert_exactly_published(minihub) == new


def test_decisions_record_who_and_why_and_runs_lists_them(minihub: MiniHub, capsys) -> None:
    import getpass

    first, held = held_run(minihub)
    assert minihub.cli("reject", "places", "--reason", "the new export is cut short") == 0
    capsys.readouterr()
    assert minihub.cli("runs", "places") == 0
    out = capsys.readouterr().out
    assert "rejected" in out and "the new export is cut short" in out
    assert f"(by {getpass.getuser()} (hub reject))" in out
    assert f"published version: {first}" in out
    assert "held for review: none" in out


@pytest.mark.parametrize("where", ["thread", "child process"])
def test_a_failed_store_write_drops_the_read_model_prepared_beside_it(
    minihub: MiniHub, monkeypatch, where: str
) -> None:
    from hub.pipeline import subscribers

    if where == "child process":  # every version is "large": its read model in a child
        monkeypatch.setattr(subscribers, "READ_MODEL_PROCESS_BYTES", 0)
    minihub.write(minihub.places(10))
    first = run_source(minihub.config, minihub.store, "places")
    assert first.ok and "read model after the store" in first.phases
    real_update = minihub.store.update
    lose_publish_writes(minihub, monkeypatch, times=10**6)  # every try of this publish
    minihub.write(minihub.places(12, prefix="w"))
    failed = run_source(minihub.config, minihub.store, "places")
    assert failed.status == "failed", failed.message
    assert read_model_run(minihub) == first.run_id  # the prepared rows were rolled back
    monkeypatch.setattr(minihub.store, "update", real_update)
    # the next run finishes the journalled publish (recovery), read model included: the
    # rolled-back preparation left the read model's writer free
    again = run_source(minihub.config, minihub.store, "places")
    assert again.status == "unchanged", again.message
    assert assert_exactly_published(minihub) == failed.run_id


def test_a_large_versions_read_model_starts_beside_the_checks_and_stops_if_not_published(
    minihub: MiniHub, monkeypatch
) -> None:
    import multiprocessing

    from hub.pipeline import subscribers

    monkeypatch.setattr(subscribers, "READ_MODEL_PROCESS_BYTES", 0)  # every version "large"
    minihub.write(minihub.places(20))
    first = run_source(minihub.config, minihub.store, "places")
    assert first.ok, first.message
    # the change set came before SHACL, and the read model's child began then
    assert list(first.phases).index("change set") < list(first.phases).index("validate")
    assert first.phases["read model"] > 0
    assert assert_exactly_published(minihub) == first.run_id
    minihub.write(minihub.places(4))  # the record-drop gate holds this run
    held = run_source(minihub.config, minihub.store, "places")
    assert held.status == "held" and "change set" in held.phases
    assert read_model_run(minihub) == first.run_id  # its prepared rows were never committed
    assert not multiprocessing.active_children()  # the child was stopped, not left waiting
    removed, added = DataLayout(minihub.config.data_path).change_set("places", held.run_id)
    assert not removed.exists() and not added.exists()
    assert Publisher(minihub.config, minihub.store).approve("places").status == "published"
    assert assert_exactly_published(minihub) == held.run_id  # the read model follows
