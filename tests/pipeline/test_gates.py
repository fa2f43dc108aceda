"""Gates that stop damaged data: each holds the run (or warns, or fails) as its setting says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import HubConfig, Quality, load_config
from hub.pipeline import gates
from hub.pipeline.publish import Publisher
from hub.pipeline.run import run_source
from hub.pipeline.state import load_state
from tests.pipeline.conftest import MAPPING, MiniHub

SCHEMA = "http://schema.org/"
CATEGORY = "https://w3id.org/marittimo-hub/category/"


def set_quality(minihub: MiniHub, **settings: str | float) -> None:
    """Give the source its own quality table (the global [quality] stays as it is)."""
    toml = minihub.root / "hub.toml"
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
    text = toml.read_text().replace(
        "[sources.places.options]", f"[sources.places.quality]\n{lines}\n\n[sources.places.options]"
    )
    toml.write_text(text)
    minihub.config = load_config(toml)


def set_mapping(minihub: MiniHub, text: str) -> None:
    (minihub.root / "mappings" / "places.yml").write_text(text, encoding="utf-8")


def first_publish(minihub: MiniHub, n: int = 10) -> str:
    minihub.write(minihub.places(n))
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published", report.message
    return report.run_id


def assert_held_and_unchanged(minihub: MiniHub, before: bytes, published: str, report) -> None:
    assert report.status == "held", report.message
    assert minihub.live_dump() == before
    assert load_state(minihub.config.data_path, "places").run_id == published
    assert Publisher(minihub.config, minihub.store).held_runs("places") == [report.run_id]


# -- the settings --------------------------------------------------------------------
def test_a_source_quality_table_overrides_only_what_it_sets(minihub: MiniHub) -> None:
    set_quality(minihub, unknown_concept="warn")
    quality = minihub.config.quality_for(minihub.config.source("places"))
    assert quality.unknown_concept == "warn"
    assert quality.max_error_rate == 0.2  # from [quality], not the default 0.05
    assert quality.unmatched_reference == "hold"


def test_a_gate_setting_is_warn_hold_or_fail(tmp_path: Path) -> None:
    from hub.config import parse_config
    from hub.errors import ConfigError

    with pytest.raises(ConfigError, match="quality.unmatched_reference"):
        parse_config({"quality": {"unmatched_reference": "ignore"}}, tmp_path / "hub.toml")


# -- (a) a mapping reference that matches nothing ---------------------------------------
def test_a_misspelt_reference_holds_the_run(minihub: MiniHub) -> None:
    published = first_publish(minihub)
    before = minihub.live_dump()
    set_mapping(minihub, MAPPING.replace("$(lat)", "$(lta)"))
    report = run_source(minihub.config, minihub.store, "places")
    assert_held_and_unchanged(minihub, before, published, report)
    assert "mappings/places.yml line 8: `lta` matched no value" in report.message
    assert "did you mean `lat`?" in report.message
    assert "[vanished_property]" in report.message  # and so schema:latitude is gone
    assert "hub approve places" in report.message and "hub reject places" in report.message
    # the steward rejects it: nothing changes, the held run is gone
    assert Publisher(minihub.config, minihub.store).reject("places").status == "rejected"
    assert minihub.live_dump() == before


@pytest.mark.parametrize(("action", "status"), [("warn", "published"), ("fail", "failed")])
def test_the_unmatched_reference_gate_can_warn_or_fail(
    minihub: MiniHub, action: str, status: str
) -> None:
    set_quality(minihub, unmatched_reference=action)
    minihub.write(minihub.places(5))
    set_mapping(minihub, MAPPING + "      - [schema:alternateName, $(alias)]\n")
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == status, report.message
    messages = report.warnings if action == "warn" else [report.message]
    assert any("`alias` matched no value" in m for m in messages), messages


def test_a_column_empty_in_every_record_only_warns(minihub: MiniHub) -> None:
    minihub.write([(i, name, "", lon) for i, name, _, lon in minihub.places(5)])
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published", report.message
    assert any("`lat` matched no value" in w and "empty in every one" in w for w in report.warnings)


# -- (b) a property most entities had is gone -------------------------------------------
def test_a_property_gone_from_every_entity_holds_the_run(minihub: MiniHub) -> None:
    published = first_publish(minihub)
    before = minihub.live_dump()
    set_mapping(minihub, MAPPING.replace("      - [schema:longitude, $(lon), xsd:decimal]\n", ""))
    report = run_source(minihub.config, minihub.store, "places")
    assert_held_and_unchanged(minihub, before, published, report)
    assert "[vanished_property]" in report.message
    assert f"<{SCHEMA}longitude> was on 10 of the 10 <{SCHEMA}Place> entities" in report.message
    # the steward meant it: approve publishes the version without longitudes
    assert Publisher(minihub.config, minihub.store).approve("places").status == "published"
    assert b"longitude" not in minihub.live_dump()


def test_vanished_properties_counts_per_class(tmp_path: Path) -> None:
    def version(name: str, lines: list[str]) -> Path:
        path = tmp_path / name
        path.write_text("".join(sorted(f"{line} .\n" for line in lines)))
        return path

    t = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    old = version(
        "old.nt",
        [f"<e{i}> {t} <C>" for i in range(10)]
        + [f'<e{i}> <name> "n"' for i in range(10)]
        + [f'<e{i}> <rare> "r"' for i in range(7)]  # 70 %: below the 80 % line
        + ['<x> <name> "untyped"'],
    )
    new = version("new.nt", [f"<e{i}> {t} <C>" for i in range(8)] + ['<x> <other> "untyped"'])
    found = gates.vanished_properties(old, new, Quality())
    assert [(f.details["cls"], f.details["property"]) for f in found] == [
        ("(untyped)", "name"),
        ("C", "name"),
    ]
    assert all(f.action == "hold" for f in found)
    assert (
        gates.vanished_properties(old, new, Quality(vanished_property_share=0.7))[-1].details[
            "property"
        ]
        == "rare"
    )
    assert gates.vanished_properties(None, new, Quality()) == []


# -- (c) an IRI in a controlled vocabulary that it does not have --------------------------
def test_an_unknown_category_holds_the_run(minihub: MiniHub) -> None:
    published = first_publish(minihub)
    before = minihub.live_dump()
    set_mapping(
        minihub,
        "prefixes:\n  category: https://w3id.org/marittimo-hub/category/\n"
        + MAPPING
        + "      - [mh:category, category:musems~iri]\n",
    )
    report = run_source(minihub.config, minihub.store, "places")
    assert_held_and_unchanged(minihub, before, published, report)
    assert f"<{CATEGORY}musems> (10 triple(s)" in report.message
    assert f"did you mean <{CATEGORY}museums>?" in report.message


def test_known_terms_come_from_the_ontology_files_and_the_config(minihub: MiniHub) -> None:
    known = gates.known_terms(minihub.config)
    base = minihub.config.base_iri
    assert f"{CATEGORY}museums" in known
    assert "https://w3id.org/marittimo-hub/theme/co-marketing" in known
    assert f"{base}id/programme/region/corse" in known
    assert f"{base}id/programme/project/itinera" in known
    path = minihub.root / "v.nt"
    path.write_text(
        f"<{base}id/places/p1> <{SCHEMA}x> <{base}id/programme/region/corsica> .\n"
        f"<{base}id/places/p1> <{SCHEMA}x> <{base}id/programme/region/corse> .\n"
        f"<{base}id/places/p1> <{SCHEMA}x> <https://w3id.org/marittimo-hub/theme/sea> .\n"
        f"<{base}id/places/p1> <{SCHEMA}x> <{gates.ACTION_STATUS}completed> .\n"
        f"<{base}id/places/p1> <{SCHEMA}x> <{gates.ACTION_STATUS}finished> .\n"
        f"<{base}id/places/p1> <{SCHEMA}x> <{gates.SUPPORT_TYPE}nonsense> .\n"
        # a controlled IRI quoted in a text is not a term the entity uses
        f'<{base}id/places/p2> <{SCHEMA}x> "see <{gates.SUPPORT_TYPE}quoted> here" .\n'
        f"<{gates.SUPPORT_TYPE}subject> <{SCHEMA}x> <{base}id/places/p2> .\n"
    )
    found = gates.unknown_concepts(path, minihub.config, Quality(unknown_concept="fail"))
    assert [f.details["iri"] for f in found] == [
        f"{base}id/programme/region/corsica",
        f"{gates.ACTION_STATUS}finished",
        f"{gates.SUPPORT_TYPE}nonsense",
        f"{gates.SUPPORT_TYPE}subject",
        "https://w3id.org/marittimo-hub/theme/sea",
    ]
    assert found[0].details["example"] == f"{base}id/places/p1"
    assert {f.action for f in found} == {"fail"}


# -- (d) a sharp drop in records ---------------------------------------------------------
def test_a_record_drop_set_to_warn_publishes_with_a_warning(minihub: MiniHub) -> None:
    set_quality(minihub, record_drop="warn")
    first_publish(minihub, 20)
    minihub.write(minihub.places(5))
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published", report.message
    assert any("75% fewer than the 20" in w for w in report.warnings)


def test_record_drop_alone() -> None:
    quality = Quality(max_drop=0.5)
    assert gates.record_drop(40, 100, incremental=False, quality=quality)[0].action == "hold"
    assert gates.record_drop(60, 100, incremental=False, quality=quality) == []
    assert gates.record_drop(1, 100, incremental=True, quality=quality) == []
    assert gates.record_drop(5, 0, incremental=False, quality=quality) == []


# -- (e) records in, no triples out -------------------------------------------------------
def test_records_in_and_no_triples_out_holds_the_run(minihub: MiniHub) -> None:
    set_quality(minihub, unmatched_reference="warn")
    published = first_publish(minihub)
    before = minihub.live_dump()
    # every record maps to nothing: the subject's field is in no record
    set_mapping(minihub, MAPPING.replace("s: id:$(id)", "s: id:$(ident)"))
    report = run_source(minihub.config, minihub.store, "places")
    assert_held_and_unchanged(minihub, before, published, report)
    assert "[no_triples] 10 records mapped without error but no triple came out" in report.message


def test_no_triples_alone() -> None:
    assert gates.no_triples(10, 0, 0, Quality())[0].gate == "no_triples"
    assert gates.no_triples(10, 10, 0, Quality()) == []  # all failed: the error rate speaks
    assert gates.no_triples(10, 0, 3, Quality()) == []
    assert gates.no_triples(0, 0, 0, Quality()) == []


def test_the_verdict_is_the_strongest_action() -> None:
    verdict = gates.Verdict()
    assert verdict.outcome == "publish"
    verdict.add([gates.Finding("a", "warn", "w")])
    assert verdict.outcome == "publish"
    verdict.add([gates.Finding("b", "hold", "h1"), gates.Finding("b", "hold", "h2")])
    assert verdict.outcome == "hold" and verdict.causes("hold") == "[b] h1; h2"
    verdict.add([gates.Finding("c", "fail", "f")])
    assert verdict.outcome == "fail"


def test_the_demo_passes_every_gate(demo_config: HubConfig) -> None:
    """The bundled demo's vocabularies and mappings are consistent: no gate trips."""
    from hub.pipeline.check import check_source

    for source in demo_config.sources:
        result = check_source(demo_config, source, limit=0)
        assert result.outcome == "publish", (source, result.message)
        assert not result.gates, (source, [g.message for g in result.gates])
