"""The bundled demo end to end through the CLI: harvest, sources, query, and failing runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main
from hub.config import HubConfig
from tests.api.demo_hub import harvest_demo

DEMO_SOURCES = ("smartdest-offer", "itinera-trails", "smartic-operators")
# The programme's 17 projects (ontology/programme.ttl): the demo has a source for each.
PROJECTS = {
    "smart-destination", "itinera", "cambusa", "ecostrim", "itaca", "mare-di-agrumi", "prometea",
    "sistina", "smartic", "stratus", "terragir3", "tesori-nascosti", "vivimed", "intense",
    "art-lab-net", "treno", "cievp",
}  # fmt: skip
# What the governance working group asked for, and which demo source publishes it.
GOVERNANCE = {
    "ActionPlan": "cievp-action-plans",
    "PlannedAction": "cievp-action-plans",
    "Indicator": "cievp-action-plans",
    "BusinessSupportNetwork": "ecostrim-support",
    "SupportService": "ecostrim-support",
}
# Stratus's sites that are the same real places as Smart Destination's entities
# (hub/demo/data/README.md): other names, coordinates a few metres apart.
SAME_PLACES = {
    "stratus-maremme": "tos-0004",
    "stratus-capo-caccia": "sar-0003",
    "stratus-bonifacio": "cor-0003",
    "stratus-porquerolles": "pac-0003",
    "stratus-faron": "pac-0004",
    "stratus-riomaggiore": "lig-0003",
}


def test_every_project_of_the_programme_has_a_demo_source(demo_config: HubConfig) -> None:
    assert {source.project for source in demo_config.sources.values()} == PROJECTS
    for source in demo_config.sources.values():
        assert source.title.endswith("(sample data)"), source.id


def hub(config: HubConfig, *args: str) -> int:
    return main(["--config", str(config.path), *args])


def query_rows(
    config: HubConfig, capsys: pytest.CaptureFixture[str], query: str
) -> list[dict[str, Any]]:
    """`hub query --format json` (exit 0 asserted): the result's bindings."""
    assert hub(config, "query", "--format", "json", query) == 0
    return json.loads(capsys.readouterr().out)["results"]["bindings"]


def test_demo_sources_all_publish_and_conform(
    demo_config: HubConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub(demo_config, "harvest") == 0
    out = capsys.readouterr().out
    assert set(DEMO_SOURCES) <= set(demo_config.sources)
    for source in demo_config.sources:
        line = next(li for li in out.splitlines() if li.startswith(f"{source}:"))
        assert "PUBLISHED" in line and " 0 rejected" in line and " 0 violations" in line, line
    assert "warning" not in out  # every reference of every mapping matched something

    rows = query_rows(
        demo_config,
        capsys,
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    )
    graphs = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
    base = demo_config.base_iri
    expected = {f"{base}graph/{s}" for s in demo_config.sources} | {
        f"{base}graph/meta",
        f"{base}graph/programme",
    }
    assert set(graphs) == expected
    assert all(n > 0 for n in graphs.values())

    assert hub(demo_config, "sources") == 0
    table = capsys.readouterr().out
    for source in demo_config.sources:
        assert any(li.startswith(source) and "published" in li for li in table.splitlines())

    # the governance results: action plans and networks of business-support tools
    query = """PREFIX mh: <https://w3id.org/marittimo-hub/ns#>
    SELECT ?g ?class (COUNT(?x) AS ?n) WHERE { GRAPH ?g { ?x a ?class }
      FILTER(STRSTARTS(STR(?class), STR(mh:))) } GROUP BY ?g ?class"""
    rows = query_rows(demo_config, capsys, query)
    found = {
        (r["class"]["value"].rsplit("#", 1)[1], r["g"]["value"]): int(r["n"]["value"]) for r in rows
    }
    for cls, source in GOVERNANCE.items():
        assert found.get((cls, f"{base}graph/{source}"), 0) >= 2, (cls, source)

    # the same real places in two projects' sources, a few metres apart
    values = " ".join(
        f"(<{base}id/stratus-sites/{s}> <{base}id/smartdest-offer/{o}>)"
        for s, o in SAME_PLACES.items()
    )
    query = f"""PREFIX schema: <http://schema.org/>
    SELECT ?a ?b ?la ?lb ?oa ?ob WHERE {{ ?a schema:latitude ?la ; schema:longitude ?oa .
      ?b schema:latitude ?lb ; schema:longitude ?ob . VALUES (?a ?b) {{ {values} }} }}"""
    pairs = query_rows(demo_config, capsys, query)
    assert len(pairs) == len(SAME_PLACES)
    for pair in pairs:
        dlat = abs(float(pair["la"]["value"]) - float(pair["lb"]["value"]))
        dlon = abs(float(pair["oa"]["value"]) - float(pair["ob"]["value"]))
        assert dlat + dlon > 0 and dlat < 0.0003 and dlon < 0.0003  # metres, not the same point


def test_demo_content_is_multilingual_and_in_the_five_regions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the demo harvested (`hub harvest` of every source is the test above): the session's copy
    demo_config, store = harvest_demo(tmp_path / "demo")
    store.close()
    query = """PREFIX mh: <https://w3id.org/marittimo-hub/ns#>
    SELECT (COUNT(DISTINCT ?r) AS ?regions) (COUNT(DISTINCT lang(?name)) AS ?langs) WHERE {
      ?e mh:region ?r . ?e <http://schema.org/name> ?name }"""
    row = query_rows(demo_config, capsys, query)[0]
    assert int(row["regions"]["value"]) == 5
    assert int(row["langs"]["value"]) >= 3


def test_relative_iris_in_hub_query_name_the_hubs_resources(
    demo_config: HubConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub(demo_config, "harvest", "itinera-trails") == 0
    capsys.readouterr()
    query = "SELECT (COUNT(*) AS ?n) ?at WHERE { GRAPH <graph/itinera-trails> { ?s ?p ?o } BIND(<id/x> AS ?at) } GROUP BY ?at"
    row = query_rows(demo_config, capsys, query)[0]
    assert int(row["n"]["value"]) > 0  # not the store server's address
    assert row["at"]["value"] == f"{demo_config.base_iri}id/x"


def test_harvest_exits_non_zero_when_a_source_fails(
    demo_config: HubConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub(demo_config, "harvest", "itinera-trails") == 0
    capsys.readouterr()
    geojson = demo_config.root / "hub" / "demo" / "data" / "itinera-trails.geojson"
    geojson.write_text(geojson.read_text(encoding="utf-8")[:500], encoding="utf-8")  # cut short
    assert hub(demo_config, "harvest", "itinera-trails") == 1
    out = capsys.readouterr().out
    assert "itinera-trails: FAILED" in out
    graph = f"{demo_config.base_iri}graph/itinera-trails"
    rows = query_rows(
        demo_config, capsys, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    )
    assert int(rows[0]["n"]["value"]) > 0  # still published


def test_unknown_source_and_bad_query_give_clear_errors(
    demo_config: HubConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub(demo_config, "harvest", "itinera-trial") == 2
    assert "no source `itinera-trial`" in capsys.readouterr().err
    assert hub(demo_config, "harvest", "itinera-trails") == 0
    capsys.readouterr()
    assert hub(demo_config, "query", "SELEC ?x WHERE {}") == 2
    assert "error:" in capsys.readouterr().err


def test_a_wrong_config_stops_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hub.toml").write_text("[hub]\nbase_iri = 'not an iri'\n")
    assert main(["--config", str(tmp_path / "hub.toml"), "sources"]) == 2
    assert "hub.base_iri" in capsys.readouterr().err
