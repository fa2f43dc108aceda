"""A harvest far smaller than the last is held for review; raw snapshots can be re-mapped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.pipeline.run import run_source

if TYPE_CHECKING:
    from tests.pipeline.conftest import MiniHub


def test_a_sudden_drop_in_records_is_held_not_published(minihub: MiniHub, capsys) -> None:
    minihub.write(minihub.places(100))
    assert run_source(minihub.config, minihub.store, "places").ok
    before = minihub.live_dump()
    minihub.write(minihub.places(40))
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "held"
    assert "60% fewer than the 100 of the last published run" in report.message
    assert "hub approve places" in report.message
    assert minihub.live_dump() == before
    # the steward approves: the held run is published
    assert minihub.cli("approve", "places") == 0
    assert "places: PUBLISHED" in capsys.readouterr().out
    assert minihub.store.graph_size(minihub.live) == 40 * 5
    # and it is now the reference for the next run
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").status == "published"


def test_approve_without_a_held_run_says_so(minihub: MiniHub, capsys) -> None:
    assert minihub.cli("approve", "places") == 2
    assert "no held run" in capsys.readouterr().err


def test_remap_uses_the_raw_snapshot_without_reading_the_source(minihub: MiniHub) -> None:
    minihub.write(minihub.places(12))
    first = run_source(minihub.config, minihub.store, "places")
    assert first.ok
    snapshots = list((minihub.config.data_path / "raw" / "places").glob("*.jsonl.gz"))
    assert len(snapshots) == 1
    minihub.csv.unlink()  # the source is gone
    mapping = minihub.root / "mappings" / "places.yml"
    mapping.write_text(
        mapping.read_text().replace("it~lang", "fr~lang")
    )  # the steward fixes a mapping
    report = run_source(minihub.config, minihub.store, "places", replay="latest")
    assert report.status == "published", report.message
    assert report.records == 12
    assert "replayed raw snapshot" in report.message
    assert b'"Luogo 1"@fr' in minihub.live_dump()


def test_raw_snapshots_keep_types_and_are_pruned(minihub: MiniHub) -> None:
    import datetime as dt
    from decimal import Decimal

    from hub.pipeline.snapshots import SnapshotStore

    snaps = SnapshotStore(minihub.config.data_path, "places", keep=2)
    record = {
        "a": Decimal("43.10"),
        "d": dt.date(2026, 5, 1),
        "t": dt.datetime(2026, 5, 1, 10, 30),
        "b": b"\x00\x01",
        "n": None,
        "l": [1, "x"],
        "s": "è",
    }
    for run in ("r1", "r2", "r3"):
        list(snaps.tee_records([record], run))
    snaps.prune()
    assert [p.name for p in snaps.runs()] == ["r2.jsonl.gz", "r3.jsonl.gz"]
    assert list(snaps.read_records(snaps.latest())) == [record]
