"""`hub check`: what a run would do, from a scratch folder; the store and read model untouched."""

from __future__ import annotations

import json
import shutil

import pytest

from hub.cli import main
from hub.config import HubConfig
from hub.layout import DataLayout
from hub.pipeline.check import check_source
from hub.pipeline.run import run_source
from hub.pipeline.state import load_state
from tests.pipeline.conftest import MAPPING, MiniHub

SCHEMA = "http://schema.org/"


def check(minihub: MiniHub, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`hub check` in-process, beside the fixture's open store (as beside `hub serve`)."""
    code = main(["--config", str(minihub.config.path), "check", "places", *args])
    return code, capsys.readouterr().out


def test_check_works_with_no_store_and_writes_nothing(
    minihub: MiniHub, capsys: pytest.CaptureFixture[str]
) -> None:
    minihub.store.close()
    shutil.rmtree(minihub.config.store_path)
    minihub.write(minihub.places(5))
    code, out = check(minihub, capsys, "--limit", "2")
    assert code == 0, out
    assert not minihub.config.store_path.exists()
    data = minihub.config.data_path
    assert not data.exists() or not any(data.rglob("*")), sorted(data.rglob("*"))
    # two records, each beside its triples
    assert "#1 id='p0', name='Luogo 0'" in out and "#3" not in out
    assert 'id:p0 schema:name "Luogo 0"@it' in out
    assert "Changes against the published version (nothing published yet): 5 entities added" in out
    assert out.rstrip().endswith("places: WOULD PUBLISH")


def test_check_exit_codes_publish_hold_fail(
    minihub: MiniHub, capsys: pytest.CaptureFixture[str]
) -> None:
    minihub.write(minihub.places(5))
    assert check(minihub, capsys)[0] == 0
    # a misspelt reference: held (3), named with its file, line and the likely field
    mapping = minihub.root / "mappings" / "places.yml"
    mapping.write_text(MAPPING.replace("$(lon)", "$(lng)"))
    code, out = check(minihub, capsys)
    assert code == 3, out
    assert "mappings/places.yml line 9: `lng` matched no value" in out
    assert "did you mean `lon`?" in out
    assert "source fields no mapping reference uses: lon" in out
    assert "WOULD BE HELD" in out
    # a SHACL violation: the run would fail (1)
    mapping.write_text(MAPPING)
    rows = minihub.places(5)
    rows[2] = ("p2", "Luogo 2", "200", "10")
    minihub.write(rows)
    code, out = check(minihub, capsys)
    assert code == 1, out
    assert "SHACL: 1 violations" in out
    assert (
        "sh:Violation ex:PlaceShape schema:latitude ×1: schema:latitude value … is not at most 90"
        in out
    )
    assert 'id:p2 (record `p2`) = "200"^^' in out  # the entity, its record and the value
    assert "WOULD FAIL — 1 SHACL violation(s)" in out
    # a broken source: the run would fail too, with the reason
    minihub.csv.unlink()
    code, out = check(minihub, capsys)
    assert code == 1 and "WOULD FAIL" in out


def test_check_json_and_the_change_preview(
    minihub: MiniHub, capsys: pytest.CaptureFixture[str]
) -> None:
    minihub.write(minihub.places(10))
    published = run_source(minihub.config, minihub.store, "places")
    assert published.status == "published"
    before = minihub.live_dump()
    rows = minihub.places(11)
    rows[3] = ("p3", "Luogo nuovo", rows[3][2], rows[3][3])  # one name changed
    del rows[9]  # p9 gone, p10 new
    minihub.write(rows)
    code, out = check(minihub, capsys, "--json", "--limit", "1")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {
        "source", "outcome", "exit_code", "message", "records", "record_errors", "triples",
        "samples", "errors", "coverage", "shacl", "changes", "gates",
    }  # fmt: skip
    assert (doc["outcome"], doc["exit_code"], doc["records"]) == ("publish", 0, 10)
    assert doc["samples"][0]["record"]["id"] == "p0" and len(doc["samples"]) == 1
    assert any("schema.org/name" in t for t in doc["samples"][0]["triples"])
    assert doc["coverage"] == {"unused_fields": [], "unmatched_references": []}
    assert doc["shacl"]["violations"] == 0
    changes = doc["changes"]
    entity = minihub.iris.entity_prefix("places")
    assert changes["published_run"] == published.run_id
    assert (changes["entities_added"], changes["entities_removed"]) == (1, 1)
    assert changes["added"] == [entity + "p10"] and changes["removed"] == [entity + "p9"]
    assert changes["changed"] == [{"entity": entity + "p3", "properties": [SCHEMA + "name"]}]
    assert changes["properties_changed"] == {SCHEMA + "name": 1}
    # nothing was published or kept
    assert minihub.live_dump() == before
    assert load_state(minihub.config.data_path, "places").run_id == published.run_id
    layout = DataLayout(minihub.config.data_path)
    assert [p.stem for p in layout.versions("places").glob("*.nt")] == [published.run_id]
    assert len(list(layout.raw("places").iterdir())) == 1


def test_check_json_of_a_held_run_names_the_reference(
    minihub: MiniHub, capsys: pytest.CaptureFixture[str]
) -> None:
    minihub.write(minihub.places(4))
    (minihub.root / "mappings" / "places.yml").write_text(MAPPING.replace("$(lat)", "$(lta)"))
    code, out = check(minihub, capsys, "--json")
    assert code == 3
    doc = json.loads(out)
    (ref,) = doc["coverage"]["unmatched_references"]
    assert (ref["file"], ref["line"], ref["reference"], ref["suggestion"]) == (
        "mappings/places.yml", 8, "lta", "lat"
    )  # fmt: skip
    assert doc["coverage"]["unused_fields"] == ["lat"]
    assert [g["gate"] for g in doc["gates"]] == ["unmatched_reference"]
    assert doc["gates"][0]["action"] == "hold"


def test_check_snapshot_maps_the_last_raw_snapshot(
    minihub: MiniHub, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(minihub, capsys, "--snapshot")
    assert code == 1 and "has no raw snapshot yet" in out
    minihub.write(minihub.places(6))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    minihub.write(minihub.places(2))  # the source changed since; the snapshot did not
    result = check_source(minihub.config, "places", snapshot=True)
    assert result.outcome == "publish" and result.records == 6
    assert result.changes["triples_added"] == result.changes["triples_removed"] == 0
    assert check_source(minihub.config, "places").outcome == "hold"  # 2 of 6: record drop


def test_a_misspelt_reference_in_the_demo_is_checked_then_held(
    demo_config: HubConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11: `$(descripton_en)` in smartic-operators: check says so, harvest holds."""

    def hub(*args: str) -> tuple[int, str]:
        code = main(["--config", str(demo_config.path), *args])
        return code, capsys.readouterr().out

    graph = f"{demo_config.base_iri}graph/smartic-operators"
    select = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o"
    assert hub("check", "smartic-operators")[0] == 0
    assert not demo_config.store_path.exists()  # check opened no store
    assert hub("harvest", "smartic-operators")[0] == 0
    code, published = hub("query", "--format", "tsv", select)
    assert code == 0 and "description" in published
    run_id = load_state(demo_config.data_path, "smartic-operators").run_id

    mapping = demo_config.root / "mappings" / "smartic-operators.yml"
    text = mapping.read_text(encoding="utf-8")
    assert text.count("$(description_en)") == 1
    mapping.write_text(text.replace("$(description_en)", "$(descripton_en)"), encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "$(description_en)" in row)

    code, out = hub("check", "smartic-operators")
    assert code != 0 and code == 3
    assert f"mappings/smartic-operators.yml line {line}: `descripton_en`" in out
    assert "did you mean `description_en`?" in out
    assert "WOULD BE HELD" in out

    code, out = hub("harvest", "smartic-operators")
    assert code == 1
    assert "smartic-operators: HELD" in out and "descripton_en" in out
    assert hub("query", "--format", "tsv", select) == (0, published)
    assert load_state(demo_config.data_path, "smartic-operators").run_id == run_id
    held = DataLayout(demo_config.data_path).held("smartic-operators")
    assert len(list(held.glob("*.nt"))) == 1
    # the steward rejects it; the graph stays as it was
    assert hub("reject", "smartic-operators", "--reason", "misspelt field")[0] == 0
    assert hub("query", "--format", "tsv", select) == (0, published)
