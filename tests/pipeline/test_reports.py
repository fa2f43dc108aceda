"""Each run keeps a report for review; record values stay out of the public metadata graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.accounts import add_user
from hub.api import create_app
from hub.layout import DataLayout
from hub.pipeline.reports import change_preview, load_report, prune_reports, public_view
from hub.pipeline.run import run_source
from hub.review import ReviewError, run_detail
from tests.pipeline.conftest import MiniHub

META_ERRORS = (
    "SELECT ?m WHERE { GRAPH ?g { ?run <https://w3id.org/marittimo-hub/ns#errorMessage> ?m } }"
)


def test_a_record_value_is_in_the_stewards_report_only(minihub: MiniHub) -> None:
    rows = minihub.places(10)
    rows[3] = ("p3", "Luogo 3", "43,5017", "10.0030")  # a decimal comma: the record is left out
    minihub.write(rows)
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published" and report.record_errors == 1
    assert any("43,5017" in e for e in report.errors)  # the operator's terminal shows it

    published = [row["m"].value for row in minihub.store.select(META_ERRORS)]
    assert len(published) == 1
    assert "43,5017" not in published[0] and "‹value hidden›" in published[0]
    assert "record `p3` (record #4, places.csv line 5)" in published[0]
    assert "mappings/places.yml line" in published[0]

    layout = DataLayout(minihub.config.data_path)
    whole = load_report(layout, "places", report.run_id)
    assert whole is not None
    [error] = whole["errors"]
    assert error["record"] == "p3" and error["value"] == "43,5017" and "43,5017" in error["message"]
    assert error["line"] == 8 and error["record_number"] == 4
    assert error["location"] == "places.csv line 5"  # the CSV's own line (header on line 1)
    assert "(record #4, places.csv line 5)" in error["message"]
    public = public_view(whole)
    assert "43,5017" not in json.dumps(public)
    assert public["errors"][0]["record"] == "p3"


def test_a_held_run_keeps_its_change_preview(minihub: MiniHub) -> None:
    minihub.write(minihub.places(20))
    first = run_source(minihub.config, minihub.store, "places")
    minihub.write(minihub.places(4))  # a sharp drop: held
    held = run_source(minihub.config, minihub.store, "places")
    assert held.status == "held"
    detail = run_detail(minihub.store, minihub.config, "places", held.run_id, with_values=True)
    assert detail["pending"] and not detail["published"]
    changes = detail["report"]["changes"]
    assert changes["published_run"] == first.run_id
    assert changes["entities_removed"] == 16 and changes["entities_added"] == 0
    assert [g["gate"] for g in detail["report"]["gates"]] == ["record_drop"]


def test_run_ids_never_reach_a_path(minihub: MiniHub) -> None:
    for bad in ("../../users", "..%2F..%2Fusers", "20261204T000000Z-zzzz"):
        with pytest.raises(ReviewError) as refused:
            run_detail(minihub.store, minihub.config, "places", bad, with_values=True)
        assert refused.value.status == 404
    client = TestClient(create_app(minihub.config, minihub.store))
    assert client.get("/api/v1/sources/places/runs/..%2F..%2Fusers").status_code == 404
    assert client.get("/api/v1/sources/nope/runs").status_code == 404


def test_old_reports_are_pruned_but_held_ones_kept(minihub: MiniHub) -> None:
    minihub.write(minihub.places(20))
    run_source(minihub.config, minihub.store, "places")
    minihub.write(minihub.places(4))
    held = run_source(minihub.config, minihub.store, "places").run_id
    layout = DataLayout(minihub.config.data_path)
    folder = layout.report("places", held).parent
    newer = [f"29991231T00000{n}000000Z-abcd" for n in range(3)]
    for run in newer:
        (folder / f"{run}.json").write_text("{}", encoding="utf-8")
    prune_reports(layout, "places", keep=1)
    kept = sorted(p.stem for p in folder.glob("*.json"))
    assert kept == sorted([held, newer[-1]])


def test_the_api_shows_values_to_the_sources_stewards_only(minihub: MiniHub) -> None:
    rows = minihub.places(10)
    rows[3] = ("p3", "Luogo 3", "43,5017", "10.0030")
    minihub.write(rows)
    run = run_source(minihub.config, minihub.store, "places").run_id
    steward, _ = add_user(minihub.config, "anna", "steward", sources=["places"])
    other, _ = add_user(minihub.config, "olga", "steward", projects=["smartic"])
    client = TestClient(create_app(minihub.config, minihub.store))
    url = f"/api/v1/sources/places/runs/{run}"
    assert "43,5017" not in client.get(url).text
    assert "43,5017" not in client.get(url, headers={"Authorization": f"Bearer {other}"}).text
    mine = client.get(url, headers={"Authorization": f"Bearer {steward}"})
    assert mine.status_code == 200 and "43,5017" in mine.text


def test_the_preview_counts_a_changed_address_as_a_change_of_its_place(tmp_path: Path) -> None:
    prefix = "https://hub.example.org/id/places/"
    name, street = "<http://schema.org/name>", "<http://schema.org/streetAddress>"
    address, geo = "<http://schema.org/address>", "<http://schema.org/geo>"
    skolem = "<https://hub.example.org/.well-known/genid/g1>"

    def version(path_name: str, street_value: str, lat: str, extra: bool) -> object:
        lines = [
            f'<{prefix}p1> {name} "Uno" .',
            f"<{prefix}p1> {address} <{prefix}p1/address> .",
            f'<{prefix}p1/address> {street} "{street_value}" .',
            f"<{prefix}p2> {geo} {skolem} .",
            f'{skolem} <http://schema.org/latitude> "{lat}" .',
        ]
        if extra:
            lines.append(f'<{prefix}p3> {name} "Tre" .')
        path = tmp_path / path_name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    old = version("old.nt", "Via Roma 1", "43.1", extra=True)
    new = version("new.nt", "Via Roma 2", "43.2", extra=False)
    preview = change_preview(old, new, tmp_path / "scratch", "r1", prefix)
    assert preview["entities_changed"] == 2  # p1 by its address, p2 by its skolem geo node
    assert preview["entities_removed"] == 1 and preview["removed"] == [f"{prefix}p3"]
    assert preview["entities_added"] == 0
    changed = {c["entity"]: c["properties"] for c in preview["changed"]}
    assert changed == {
        f"{prefix}p1": ["http://schema.org/streetAddress"],
        f"{prefix}p2": ["http://schema.org/latitude"],
    }
    assert preview["triples_removed"] == 3 and preview["triples_added"] == 2
    assert not list((tmp_path / "scratch").iterdir())  # the diff files are scratch
