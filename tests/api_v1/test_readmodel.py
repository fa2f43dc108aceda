"""The read model built from the demo's published N-Triples: what an entity is, what it keeps, atomic rebuilds."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from hub.pipeline.state import load_state
from hub.readmodel import (
    EntityFilter,
    ReadModel,
    ReadModelError,
    SortSpec,
    readmodel_path,
    rebuild_source,
    remove_source,
    sync,
)
from hub.readmodel._geo import from_wkt
from tests.api_v1.conftest import DemoHub, entity_ids, fingerprint


def _uids(hub: DemoHub) -> set[str]:
    conn = sqlite3.connect(readmodel_path(hub.config))
    try:
        return {uid for (uid,) in conn.execute("SELECT uid FROM entities")}
    finally:
        conn.close()


def _version_file(hub: DemoHub, source: str) -> Path:
    return hub.config.data_path / load_state(hub.config.data_path, source).version_file


def test_entities_are_the_typed_schema_org_subjects_of_each_source(demo_hub: DemoHub) -> None:
    uids = _uids(demo_hub)
    assert uids == entity_ids(demo_hub)
    assert len(uids) > 50
    for uid in uids:  # geometry, address and certification nodes are not entities
        assert not uid.endswith(("/geometry", "/address", "/certification")), uid


def test_an_entity_keeps_what_dashboards_filter_on(demo_hub: DemoHub) -> None:
    with ReadModel.for_config(demo_hub.config).snapshot() as snap:
        row = snap.entity("smartdest-offer/cor-0001")
        assert row is not None
        assert snap.sources["smartdest-offer"].project == "smart-destination"
        assert snap.sources["smartdest-offer"].licence.startswith("https://creativecommons.org/")
    assert row.doc["types"] == ["TouristAttraction"]
    assert row.doc["names"] == {
        "en": "Bonaparte House",
        "fr": "Maison Bonaparte",
        "it": "Casa Bonaparte",
    }
    assert set(row.doc["descriptions"]) == {"it", "fr", "en"}
    assert row.doc["regions"] == ["corse"]
    assert row.doc["municipalities"] == ["Ajaccio"]
    assert row.doc["categories"] == ["museums"]
    assert (row.lat, row.lon) == (41.9178, 8.7378)
    assert row.updated == "2024-01-25T10:10:00Z"  # schema:dateModified, as UTC
    assert row.doc["geometry"] == {"type": "Point", "coordinates": [8.7378, 41.9178]}


def test_a_trail_keeps_its_line_and_extent(demo_hub: DemoHub) -> None:
    wkt = demo_hub.store.select(
        "SELECT ?w WHERE { GRAPH ?g { <https://hub.example.org/id/itinera-trails/itn-001/geometry> "
        "<http://www.opengis.net/ont/geosparql#asWKT> ?w } }"
    )[0]["w"].value
    shape = from_wkt(wkt)
    assert shape is not None
    with ReadModel.for_config(demo_hub.config).snapshot() as snap:
        row = snap.entity("itinera-trails/itn-001")
        box = snap.conn.execute(
            "SELECT min_lon, min_lat, max_lon, max_lat FROM entities WHERE uid = ?", (row.uid,)
        ).fetchone()
        span = snap.conn.execute(
            "SELECT min_lon, min_lat, max_lon, max_lat FROM spans WHERE id = ?", (row.id,)
        ).fetchone()
    assert row.doc["geometry"]["type"] == "LineString"
    assert len(row.doc["geometry"]["coordinates"]) > 2
    assert tuple(box) == pytest.approx(shape.bbox)
    assert tuple(span) == pytest.approx(shape.bbox, abs=2e-5)  # float32, rounded outwards
    assert (row.lat, row.lon) == (shape.lat, shape.lon)  # the middle vertex: on the trail
    assert len(row.doc["municipalities"]) == 3


def test_updated_is_the_publish_time_without_date_modified(demo_hub: DemoHub) -> None:
    with ReadModel.for_config(demo_hub.config).snapshot() as snap:
        row = snap.entity("smartic-operators/smc-001")
        assert row is not None
        assert row.updated == snap.sources["smartic-operators"].published


def test_the_programme_is_in_the_read_model(demo_hub: DemoHub) -> None:
    with ReadModel.for_config(demo_hub.config).snapshot() as snap:
        projects = snap.programme("project")
        groups = snap.programme("working_group")
        regions = snap.programme("region")
    assert {"smart-destination", "itinera", "smartic"} <= set(projects)
    assert projects["smart-destination"]["working_groups"] == [
        "destination-governance",
        "digital-ecosystems",
    ]
    assert groups["digital-ecosystems"]["lead"] == ["smart-destination"]
    assert regions["sardegna"]["names"]["sc"] == "Sardigna"


def test_sync_is_a_no_op_when_up_to_date(demo_hub: DemoHub) -> None:
    before = fingerprint(demo_hub)
    done = sync(demo_hub.config)
    assert set(done.values()) == {"up to date"}
    assert fingerprint(demo_hub) == before


def test_rebuild_replaces_a_source_in_one_transaction(hub_factory: DemoHub, tmp_path: Path) -> None:
    """Readers polling during a rebuild see the old rows or the new ones, never a mix."""
    config = hub_factory.config
    source = "smartdest-offer"
    original = _version_file(hub_factory, source)
    smaller = tmp_path / "smaller.nt"
    # keep the triples of the Corsican and Ligurian rows only
    lines = [
        ln
        for ln in original.read_text(encoding="utf-8").splitlines(keepends=True)
        if "/smartdest-offer/cor-" in ln or "/smartdest-offer/lig-" in ln
    ]
    smaller.write_text("".join(lines), encoding="utf-8")
    readmodel = ReadModel.for_config(config)
    flt = EntityFilter(sources=(source,))
    with readmodel.snapshot() as snap:
        old = snap._planner(flt).total()  # noqa: SLF001 - uncached on purpose
    seen: set[int] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def poll() -> None:
        reader = ReadModel.for_config(config)
        while not stop.is_set():
            try:
                with reader.snapshot() as snap:
                    planner = snap._planner(flt)  # noqa: SLF001
                    count = planner.total()
                    docs = snap.conn.execute(
                        "SELECT count(*) FROM docs WHERE id IN (SELECT id FROM entities WHERE source = ?)",
                        (source,),
                    ).fetchone()[0]
                    assert docs == count
                    seen.add(count)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    thread = threading.Thread(target=poll)
    thread.start()
    new = rebuild_source(config, source, smaller)
    rebuild_source(config, source, original)
    rebuild_source(config, source, smaller)
    stop.set()
    thread.join()
    assert not errors, errors
    assert new < old
    assert seen <= {old, new}
    with readmodel.snapshot() as snap:
        assert snap.count(flt) == new
        rows = snap.page(flt, SortSpec(), 100).rows
    assert all(r.uid.startswith(("smartdest-offer/cor-", "smartdest-offer/lig-")) for r in rows)


def test_a_failed_rebuild_keeps_the_previous_state(hub_factory: DemoHub, tmp_path: Path) -> None:
    before = fingerprint(hub_factory)
    broken = tmp_path / "broken.nt"
    good = _version_file(hub_factory, "itinera-trails").read_text(encoding="utf-8")
    broken.write_text(
        good + "<https://hub.example.org/id/itinera-trails/x> <oops\n", encoding="utf-8"
    )
    with pytest.raises(ReadModelError, match="itinera-trails"):
        rebuild_source(hub_factory.config, "itinera-trails", broken)
    with pytest.raises(ReadModelError, match="does not exist"):
        rebuild_source(hub_factory.config, "itinera-trails", tmp_path / "missing.nt")
    assert fingerprint(hub_factory) == before


def test_remove_then_sync_restores_a_source(hub_factory: DemoHub) -> None:
    config = hub_factory.config
    before = _uids(hub_factory)
    removed = remove_source(config, "itinera-trails")
    assert removed == 11
    assert not any(u.startswith("itinera-trails/") for u in _uids(hub_factory))
    assert sync(config)["itinera-trails"].startswith("rebuilt")
    assert _uids(hub_factory) == before


def test_sync_builds_a_missing_read_model(hub_factory: DemoHub) -> None:
    path = readmodel_path(hub_factory.config)
    before = _uids(hub_factory)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    done = sync(hub_factory.config)
    assert all(v.startswith("rebuilt") for v in done.values())
    assert _uids(hub_factory) == before


def test_an_old_schema_is_rebuilt_from_scratch(hub_factory: DemoHub) -> None:
    path = readmodel_path(hub_factory.config)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = 'old' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    sync(hub_factory.config)
    assert _uids(hub_factory) == entity_ids(hub_factory)


def test_readers_follow_a_replaced_file(hub_factory: DemoHub) -> None:
    """An operator deletes the read model and it is rebuilt: open readers must not keep the old file."""
    readmodel = ReadModel.for_config(hub_factory.config)
    with readmodel.snapshot() as snap:
        before = snap.count(EntityFilter())
    path = readmodel_path(hub_factory.config)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    sync(hub_factory.config, ["itinera-trails"])
    with readmodel.snapshot() as snap:
        assert snap.count(EntityFilter()) == 11 < before
