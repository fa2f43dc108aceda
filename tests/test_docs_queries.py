"""Every ```sparql block of docs/queries.md answers on the demo data, through /sparql.

The query page's examples (hub/api/static/examples.rq) must appear in the doc word
for word, under their own title, so the page and the doc cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.api.page import Example, examples
from tests.api.demo_hub import harvest_demo

DOC = Path(__file__).resolve().parents[1] / "docs" / "queries.md"
BLOCK = re.compile(r"^```sparql\n(.*?)^```$", re.S | re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)
BASE = "https://hub.example.org/"
ID = BASE + "id/"


def doc_queries() -> list[tuple[str, str]]:
    """(the heading above it, the query) for each ```sparql block of the doc."""
    text = DOC.read_text(encoding="utf-8")
    found = []
    for block in BLOCK.finditer(text):
        headings = HEADING.findall(text[: block.start()])
        found.append((headings[-1] if headings else "", block.group(1)))
    return found


def slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


QUERIES = doc_queries()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app serving the demo sources, harvested once for this module."""
    config, store = harvest_demo(tmp_path_factory.mktemp("docs") / "demo")
    assert config.base_iri == BASE
    with TestClient(create_app(config, store)) as c:
        yield c
    store.close()


def answer(client: TestClient, query: str) -> Any:
    """SELECT: list of rows ({var: value}); ASK: bool; CONSTRUCT/DESCRIBE: an rdflib graph."""
    res = client.post(
        "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"},
    )
    assert res.status_code == 200, res.text
    if res.headers["content-type"].startswith("text/turtle"):
        return rdflib.Graph().parse(data=res.content, format="turtle")
    body = res.json()
    if "boolean" in body:
        return body["boolean"]
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


def check_project_places(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 40
    assert {r["source"] for r in rows} == {"smartdest-offer"}


def check_in_municipality(rows: list[dict[str, str]]) -> None:
    # the demo grows; these three entities of Portoferraio must always be found
    assert {r["entity"] for r in rows} >= {
        ID + "smartic-operators/smc-001",
        ID + "smartdest-offer/tos-0003",
        ID + "itinera-trails/itn-003",
    }


def check_itineraries_in_region(rows: list[dict[str, str]]) -> None:
    regions = {r["trip"].rsplit("/", 1)[-1]: r["regions"] for r in rows}
    itinera = {k: v for k, v in regions.items() if k.startswith("itn-")}
    assert itinera == {"itn-006": "sardegna", "itn-007": "sardegna", "itn-009": "corse, sardegna"}


def check_certified_operators(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 25
    assert {r["markName"] for r in rows} == {"S.MAR.T.I.C cultural-identity mark"}


def check_entities_per_source(rows: list[dict[str, str]]) -> None:
    counts = {(r["source"], r["class"].rsplit("/", 1)[-1]): int(r["entities"]) for r in rows}
    assert counts[("itinera-trails", "TouristTrip")] == 11
    assert counts[("smartdest-offer", "TouristAttraction")] == 20
    assert counts[("smartic-operators", "ns#Certification")] == 25


def check_catalogue(rows: list[dict[str, str]]) -> None:
    sources = [r["source"] for r in rows]
    assert sources == sorted(sources)
    assert set(sources) >= {"itinera-trails", "smartdest-offer", "smartic-operators"}
    assert {r["license"] for r in rows} == {"https://creativecommons.org/licenses/by/4.0/"}
    assert {r["projectName"] for r in rows} >= {"Itinera", "Smart Destination", "S.MAR.T.I.C"}


def check_multi_region(rows: list[dict[str, str]]) -> None:
    assert {r["trip"] for r in rows if "/itinera-trails/" in r["trip"]} == {
        ID + "itinera-trails/itn-009",
        ID + "itinera-trails/itn-010",
    }


def check_fallback_names(rows: list[dict[str, str]]) -> None:
    assert all(r.get("name") for r in rows)  # every hotel got a name in some language


def check_working_groups(rows: list[dict[str, str]]) -> None:
    assert {r["lead"] for r in rows} == {"Smart Destination", "S.MAR.T.I.C", "Intense"}


def check_one_itinerary(graph: rdflib.Graph) -> None:
    wkt = rdflib.URIRef("http://www.opengis.net/ont/geosparql#asWKT")
    assert any(str(o).startswith("LINESTRING") for o in graph.objects(None, wkt))


def check_ask(answer: bool) -> None:
    assert answer is True


EXPECTATIONS = {
    "all-places-of-a-project": check_project_places,
    "events-places-and-itineraries-in-a-municipality": check_in_municipality,
    "itineraries-crossing-a-region": check_itineraries_in_region,
    "operators-holding-a-certification": check_certified_operators,
    "count-entities-per-source-graph": check_entities_per_source,
    "the-catalogue-sources-projects-licences-last-publish": check_catalogue,
    "itineraries-through-more-than-one-region": check_multi_region,
    "a-name-in-your-language-with-a-fallback": check_fallback_names,
    "working-groups-their-lead-and-members": check_working_groups,
    "one-itinerary-as-a-graph": check_one_itinerary,
    "is-there": check_ask,
}


def test_the_doc_has_queries_under_distinct_headings() -> None:
    assert len(QUERIES) >= 12
    slugs = [slug(h) for h, _ in QUERIES]
    assert len(set(slugs)) == len(slugs), "give each query its own heading"
    assert set(EXPECTATIONS) <= set(slugs), set(EXPECTATIONS) - set(slugs)


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.id)
def test_every_page_example_is_in_the_doc_word_for_word(example: Example) -> None:
    in_doc = {slug(h): q for h, q in QUERIES}
    assert slug(example.title) in in_doc, f"add a section `### {example.title}` to {DOC}"
    assert in_doc[slug(example.title)] == example.query, (
        f"the query under `### {example.title}` in {DOC} differs from example "
        f"`{example.id}` in hub/api/static/examples.rq; make them the same"
    )


@pytest.mark.parametrize(("heading", "query"), QUERIES, ids=[slug(h) for h, _ in QUERIES])
def test_doc_query_answers_on_the_demo_data(client: TestClient, heading: str, query: str) -> None:
    result = answer(client, query)
    if isinstance(result, bool):
        assert result, f"`{heading}`: ASK answered false"
    else:
        assert len(result) > 0, f"`{heading}`: no results on the demo data"
    check = EXPECTATIONS.get(slug(heading))
    if check is not None:
        check(result)


def test_the_page_examples_section_is_exactly_the_page_examples() -> None:
    """The doc's section of page examples lists them all, in the page's order, and no other;
    its opening says how many there are."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## The query page's examples")
    section = text[start : text.index("\n## ", start + 5)]
    titles = re.findall(r"^### (.+?)\s*$", section, flags=re.M)
    assert [slug(t) for t in titles] == [slug(e.title) for e in examples()]
    words = {5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
    count = len(examples())
    assert f"the first {words.get(count, count)} queries below" in text, (
        f"docs/queries.md should say the page lists the first {count} queries"
    )
