"""The query page: its examples (one file, parsed), the prefixes, links, and the examples run."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from hub.api.page import Example, examples, parse_examples
from hub.iris import PREFIXES

HTML = {"Accept": "text/html"}


def page_config(page: str) -> dict:
    """The JSON the page's script reads (base IRI, prefixes, examples)."""
    found = re.search(r'<script type="application/json" id="config">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))


def test_examples_file_parses_into_the_common_questions() -> None:
    ids = [e.id for e in examples()]
    assert ids[:5] == [
        "project-places",
        "in-municipality",
        "itineraries-in-region",
        "certified-operators",
        "entities-per-source",
    ]
    for example in examples():
        assert example.title
        assert example.query.startswith("PREFIX ") and example.query.endswith("\n")
        assert not any(line.startswith("#>") for line in example.query.splitlines())


def test_parse_examples_splits_at_headings_and_refuses_duplicates() -> None:
    text = "# header, not an example\n\n#> a | First\nASK {}\n\n#> b | Second one\nSELECT * {}\n"
    assert parse_examples(text) == (
        Example("a", "First", "ASK {}\n"),
        Example("b", "Second one", "SELECT * {}\n"),
    )
    with pytest.raises(ValueError, match="unique"):
        parse_examples("#> a | One\nASK {}\n#> a | Two\nASK {}\n")


def test_page_lists_every_example_and_embeds_them_for_its_script(client: TestClient) -> None:
    page = client.get("/sparql", headers=HTML).text
    for example in examples():
        assert f'<option value="{example.id}">{html.escape(example.title)}</option>' in page
    config = page_config(page)
    assert [Example(**e) for e in config["examples"]] == list(examples())
    assert config["prefixes"] == PREFIXES
    assert config["base"] == "https://hub.example.org/"


def test_page_prefills_owl_too(client: TestClient) -> None:
    page = client.get("/sparql", headers=HTML).text
    assert f"PREFIX owl: &lt;{PREFIXES['owl']}&gt;" in page


def test_embedded_json_cannot_close_the_script_element(client: TestClient) -> None:
    page = client.get("/sparql", headers=HTML).text
    found = re.search(r'id="config">(.*?)</script>', page, re.S)
    assert found and "<" not in found.group(1)


def test_page_offers_every_download_format(client: TestClient) -> None:
    page = client.get("/sparql", headers=HTML).text
    for name in ("json", "xml", "csv", "tsv", "turtle", "nt", "jsonld", "rdfxml"):
        assert f'<option value="{name}"' in page


def test_page_links_answer(client: TestClient) -> None:
    page = client.get("/sparql", headers=HTML).text
    for label in ("Service description", "VoID"):
        href = re.search(rf'<a href="([^"]+)">{label}', page)
        assert href, label
        res = client.get(html.unescape(href.group(1)), headers=HTML)
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/turtle")


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.id)
def test_every_example_answers_on_the_demo_data(demo_client: TestClient, example: Example) -> None:
    res = demo_client.post("/sparql", data={"query": example.query})
    assert res.status_code == 200, res.text
    assert res.json()["results"]["bindings"], f"example {example.id} returned no rows"
