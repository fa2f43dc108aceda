"""The query page in a real browser: pick an example, run it, read the table; errors; downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.api.page import examples

EXAMPLES = {e.id: e for e in examples()}
BASE = "https://hub.example.org/"
MALFORMED = "PREFIX schema: <http://schema.org/>\nSELECT ?s WHERE {\n  ?s schema:name\n}\n"


def test_example_runs_and_shows_a_table_with_links(page: Any, hub_url: str) -> None:
    page.goto(f"{hub_url}/sparql")
    assert "PREFIX owl: <http://www.w3.org/2002/07/owl#>" in page.input_value("#query")
    page.select_option("#examples", "certified-operators")
    assert page.input_value("#query") == EXAMPLES["certified-operators"].query
    page.click("#run")
    page.wait_for_selector("#results tbody tr")
    assert page.locator("#results tbody tr").count() == 25
    assert page.locator("#results th").first.inner_text() == "?operator"
    links = page.locator(f'#results a[href^="{BASE}id/smartic-operators/"]')
    assert links.count() == 25
    assert links.first.inner_text().startswith(BASE)
    assert "25 rows" in page.inner_text("#status")
    assert page.is_hidden("#error")
    assert page.url.endswith("#example=certified-operators")


def test_malformed_query_shows_the_parser_error_and_the_line(page: Any, hub_url: str) -> None:
    page.goto(f"{hub_url}/sparql")
    page.fill("#query", MALFORMED)
    page.click("#run")
    page.wait_for_selector("#error:not([hidden])")
    message = page.inner_text("#error")
    assert "The query cannot be run (HTTP 400)" in message
    assert "malformed query: error at 4:1" in message
    assert "line 4: }" in message
    assert page.inner_text("#lines .bad") == "4"
    assert page.locator("#results").count() == 0


def test_the_other_schema_spelling_shows_a_warning(page: Any, hub_url: str) -> None:
    page.goto(f"{hub_url}/sparql")
    assert "http://schema.org/" in page.inner_text("header")
    page.fill(
        "#query", "PREFIX schema: <https://schema.org/>\nSELECT ?s WHERE { ?s a schema:Place }"
    )
    page.click("#run")
    page.wait_for_selector("#error.warning:not([hidden])")
    assert "write PREFIX schema: <http://schema.org/>" in page.inner_text("#error")
    assert "0 rows" in page.inner_text("#status")


def hub_config_sources() -> list[str]:
    from hub.config import load_config

    return list(load_config(Path(__file__).resolve().parents[2] / "hub.toml").sources)


def test_a_link_opens_an_example_and_ctrl_enter_runs_it(page: Any, hub_url: str) -> None:
    page.goto(f"{hub_url}/sparql#example=multi-region")
    assert page.input_value("#query") == EXAMPLES["multi-region"].query
    page.focus("#query")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results tbody tr")
    cells = page.locator("#results tbody tr td:first-child a").all_inner_texts()
    # the demo grows: the two cross-border Itinera trails are always among them
    assert {f"{BASE}id/itinera-trails/itn-009", f"{BASE}id/itinera-trails/itn-010"} <= set(cells)


def test_describe_button_shows_the_resource_as_turtle(page: Any, hub_url: str) -> None:
    page.goto(f"{hub_url}/sparql#example=itineraries-in-region")
    page.click("#run")
    page.wait_for_selector("#results tbody tr")
    page.locator("#results button.describe").first.click()
    page.wait_for_selector("pre.graph")
    # the first itinerary of the region (Itinera's, TERRAGIR3's, Itaca's...: the demo grows)
    assert page.input_value("#query").startswith(f"DESCRIBE <{BASE}id/")
    assert "<http://schema.org/TouristTrip>" in page.inner_text("pre.graph")


def test_download_in_a_chosen_format(page: Any, hub_url: str, tmp_path: Path) -> None:
    page.goto(f"{hub_url}/sparql#example=sources")
    page.select_option("#format", "csv")
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "marittimo-hub-results.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source,title,projectName,license,graph,modified,records"
    assert len(lines) == 1 + len(hub_config_sources())


def test_a_format_that_does_not_fit_is_explained(page: Any, hub_url: str) -> None:
    page.goto(f"{hub_url}/sparql#example=sources")
    page.select_option("#format", "turtle")
    page.click("#download")
    page.wait_for_selector("#error:not([hidden])")
    assert "does not fit this kind of result (HTTP 406)" in page.inner_text("#error")
