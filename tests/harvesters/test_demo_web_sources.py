"""The `rest` and `portal` harvesters against the demo's web sources on loopback
(hub/demo/web_sources.py): Ecostrim's OData feed ($skip/$top, @odata.count), Art Lab
Net's WordPress REST API (Link header), Stratus's WordPress site (microdata)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harvesters import get_harvester
from hub.demo import web_sources
from hub.errors import HarvestError

REPO = Path(__file__).resolve().parents[2]
SOURCES = tomllib.loads((REPO / "hub.toml").read_text(encoding="utf-8"))["sources"]


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[web_sources.WebSources, str]]:
    server, base = web_sources.start(0)
    yield server, base.rstrip("/")
    web_sources.stop(server)


def options(source: str, base: str) -> dict[str, Any]:
    """The demo source's options from hub.toml, pointed at the server on its free port."""
    given = dict(SOURCES[source]["options"])
    for key in ("url", "start_urls"):
        if key in given:
            value = given[key]
            moved = [
                v.replace("http://127.0.0.1:8714", base)
                for v in ([value] if isinstance(value, str) else value)
            ]
            given[key] = moved[0] if isinstance(value, str) else moved
    return given


def test_odata_skip_top_paging_stops_at_the_count(site: tuple[web_sources.WebSources, str]) -> None:
    server, base = site
    server.requests.clear()
    records = list(
        get_harvester("rest")("ecostrim-support", options("ecostrim-support", base), root=REPO)
    )
    assert [r["NetworkCode"] for r in records] == ["ECO-N1", "ECO-N2", "ECO-N3"]
    assert all(r["Services"] for r in records)  # $expand was sent
    # size 2 and @odata.count 3: two pages, and no request for an empty third page
    assert len(server.requests) == 2
    assert "%24skip=2" in server.requests[1] and "%24top=2" in server.requests[1]


def test_offset_paging_without_total_asks_for_the_empty_page(
    site: tuple[web_sources.WebSources, str],
) -> None:
    server, base = site
    given = options("ecostrim-support", base)
    given["paging"] = {k: v for k, v in given["paging"].items() if k != "total_path"}
    server.requests.clear()
    assert len(list(get_harvester("rest")("e", given, root=REPO))) == 3
    assert len(server.requests) == 3


def test_total_path_that_is_not_a_number_is_refused(
    site: tuple[web_sources.WebSources, str],
) -> None:
    _, base = site
    given = options("ecostrim-support", base)
    given["paging"] = {**given["paging"], "total_path": "['@odata.context']"}
    with pytest.raises(
        HarvestError, match=r"total_path `\['@odata.context'\]` finds .* not a whole number"
    ):
        list(get_harvester("rest")("e", given, root=REPO))


def test_wordpress_rest_api_link_paging(site: tuple[web_sources.WebSources, str]) -> None:
    server, base = site
    server.requests.clear()
    records = list(
        get_harvester("rest")("art-lab-net-labs", options("art-lab-net-labs", base), root=REPO)
    )
    assert [r["acf"]["codice"] for r in records] == [f"aln-0{n}" for n in range(1, 8)]
    assert len(server.requests) == 3  # 7 posts, 3 a page, the last page has no next link


def test_wordpress_site_microdata(site: tuple[web_sources.WebSources, str]) -> None:
    _, base = site
    records = list(
        get_harvester("portal")("stratus-sites", options("stratus-sites", base), root=REPO)
    )
    assert len(records) == 9
    faron = next(r for r in records if r["identifier"] == "stratus-faron")
    assert faron["_syntax"] == "microdata"
    assert faron["name"] == "Mont Faron et sa forêt domaniale"
    assert faron["geo"]["latitude"] == "43.14404"
    assert faron["address"]["addressRegion"] == "paca"
