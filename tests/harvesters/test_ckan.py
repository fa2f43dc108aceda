"""The `ckan` harvester against the demo CKAN portal (a real HTTP server on loopback)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests

from harvesters import HarvestContext, get_harvester
from harvesters.ckan import parse_options, search_params
from hub.demo import ckan_portal
from hub.errors import HarvestError

harvest_ckan = get_harvester("ckan")
AGRUMI = {"organization": "mare-di-agrumi", "tags": ["produttori"]}


@pytest.fixture
def portal() -> Iterator[str]:
    """The demo portal with its own sample catalogue; its base URL."""
    server, base = ckan_portal.start()
    try:
        yield base + "/"
    finally:
        ckan_portal.stop(server)


def make_catalogue(folder: Path, datasets: list[dict[str, Any]]) -> Path:
    """Write catalog.json and the files of `datasets` ({name, org, tags, files: {name: bytes}})."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for number, dataset in enumerate(datasets):
        resources = []
        for index, (name, body) in enumerate(dataset.get("files", {}).items()):
            if body is not None:
                (folder / name).write_bytes(body)
            fmt = name.rsplit(".", 1)[-1].upper().replace("GEOJSON", "GeoJSON")
            resources.append(
                {"id": f"res-{number}-{index}", "name": name, "format": fmt, "file": name}
            )
        entries.append(
            {
                "id": f"pkg-{number}",
                "name": dataset["name"],
                "title": dataset["name"],
                "notes": "",
                "organization": dataset.get("org", "demo-org"),
                "tags": dataset.get("tags", []),
                "resources": resources,
            }
        )
    (folder / "catalog.json").write_text(json.dumps({"datasets": entries}), encoding="utf-8")
    return folder


@pytest.fixture
def own_portal(tmp_path: Path) -> Iterator[Any]:
    """Start a portal on a catalogue written by the test: own_portal(datasets) -> base URL."""
    servers = []

    def start(datasets: list[dict[str, Any]]) -> str:
        folder = make_catalogue(tmp_path / f"portal-{len(servers)}", datasets)
        server, base = ckan_portal.start(data=folder)
        servers.append(server)
        return base

    yield start
    for server in servers:
        ckan_portal.stop(server)


def harvest(options: dict[str, Any], context: HarvestContext | None = None) -> list[dict]:
    """All records of a `ckan` source called `test`."""
    return list(harvest_ckan("test", options, root=Path("."), context=context))


# --- the demo portal ----------------------------------------------------------------


def test_demo_portal_csv_and_geojson_records_carry_dataset_and_resource(portal: str) -> None:
    records = harvest({"url": portal, **AGRUMI})
    producers = [r for r in records if "id" in r]
    orchards = [r for r in records if r.get("type") == "Feature"]
    assert len(producers) == 20 and len(orchards) == 20
    assert producers[0]["id"] == "agr-01" and producers[0]["municipality"] == "Savona"
    assert producers[0]["lat"] == "44.3075"  # CSV values stay text
    assert {r["_dataset"] for r in records} == {"produttori-agrumi"}
    assert {r["_resource"] for r in producers} == {"2c9a7e61-0d4b-4f7e-8d55-1b3f9e6a7c10"}
    assert orchards[0]["properties"]["producer_id"] == "agr-01"
    assert orchards[0]["wkt"].startswith("POINT (8.")


def test_formats_and_resource_name_select_resources(portal: str) -> None:
    only_geojson = harvest({"url": portal, **AGRUMI, "formats": ["geojson"]})
    assert len(only_geojson) == 20 and all(r["type"] == "Feature" for r in only_geojson)
    by_name = harvest({"url": portal, **AGRUMI, "resource_name": "^produttori"})
    assert len(by_name) == 20 and all("id" in r for r in by_name)


def test_free_text_query(portal: str) -> None:
    records = harvest({"url": portal, "query": "agrumeti produttori"})
    assert {r["_dataset"] for r in records} == {"produttori-agrumi"}


def test_second_run_is_unchanged_when_every_file_answers_304(portal: str) -> None:
    first = HarvestContext()
    assert len(harvest({"url": portal, **AGRUMI}, first)) == 40
    second = HarvestContext(previous=first.state)
    assert harvest({"url": portal, **AGRUMI}, second) == []
    assert second.unchanged
    assert second.requests == 3  # one search, two 304s
    assert second.state == first.state


# --- paging, limits and changes, on catalogues written by the tests -----------------


def csv_file(*rows: str) -> bytes:
    return ("id,name\n" + "".join(f"{r}\n" for r in rows)).encode()


def test_paging_reads_every_dataset_and_max_datasets_stops(own_portal: Any) -> None:
    datasets = [{"name": f"ds-{n}", "files": {f"f{n}.csv": csv_file(f"{n},x")}} for n in range(5)]
    base = own_portal(datasets)
    context = HarvestContext()
    records = harvest({"url": base, "page_size": 2}, context)
    assert [r["id"] for r in records] == ["0", "1", "2", "3", "4"]
    assert context.requests == 3 + 5  # three pages of datasets, five files
    limited = harvest({"url": base, "page_size": 2, "max_datasets": 3})
    assert [r["_dataset"] for r in limited] == ["ds-0", "ds-1", "ds-2"]


def test_xlsx_resource_is_read(own_portal: Any, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["code", "price"])
    book.active.append(["CB-1", 120.5])
    book.save(tmp_path / "p.xlsx")
    base = own_portal(
        [{"name": "pacchetti", "files": {"p.xlsx": (tmp_path / "p.xlsx").read_bytes()}}]
    )
    records = harvest({"url": base})
    assert records == [
        {"code": "CB-1", "price": 120.5, "_dataset": "pacchetti", "_resource": "res-0-0"}
    ]


def test_a_changed_file_makes_every_file_read_again(own_portal: Any, tmp_path: Path) -> None:
    files = {"a.csv": csv_file("1,a"), "b.csv": csv_file("2,b"), "c.csv": csv_file("3,c")}
    base = own_portal([{"name": "ds", "files": files}])
    folder = tmp_path / "portal-0"
    first = HarvestContext()
    assert len(harvest({"url": base}, first)) == 3
    (folder / "b.csv").write_bytes(csv_file("2,b", "4,d"))
    os.utime(folder / "b.csv", (1_900_000_000, 1_900_000_000))
    second = HarvestContext(previous=first.state)
    records = harvest({"url": base}, second)
    # a.csv answered 304 first and is fetched again once b.csv turned out changed
    assert sorted(r["id"] for r in records) == ["1", "2", "3", "4"]
    assert not second.unchanged
    assert second.state["ckan:res-0-1"] != first.state["ckan:res-0-1"]
    third = HarvestContext(previous=second.state)
    assert harvest({"url": base}, third) == [] and third.unchanged


def test_a_new_file_on_the_portal_is_a_change(own_portal: Any) -> None:
    old = own_portal([{"name": "ds", "files": {"a.csv": csv_file("1,a")}}])
    first = HarvestContext()
    harvest({"url": old}, first)
    # same resource ids as before plus one: the previous validators are the other portal's
    new = own_portal(
        [{"name": "ds", "files": {"a.csv": csv_file("1,a"), "b.csv": csv_file("2,b")}}]
    )
    second = HarvestContext(previous=first.state)
    assert len(harvest({"url": new}, second)) == 2
    assert not second.unchanged


# --- errors -------------------------------------------------------------------------


def test_no_dataset_matched_names_the_filters(portal: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest({"url": portal, "organization": "mare-di-agrumi", "tags": ["limoni"]})
    message = str(caught.value)
    assert "no dataset of" in message
    assert "matches organization `mare-di-agrumi` and tags `limoni`" in message
    assert "loosen the filters" in message


def test_datasets_without_wanted_resources_say_what_they_have(portal: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest({"url": portal, "tags": ["agrumi"], "formats": ["XLSX"]})
    message = str(caught.value)
    assert "2 dataset(s) match tags `agrumi`" in message
    assert "none has a resource in xlsx" in message
    assert "CSV, GeoJSON, HTML, PDF" in message and "fix options.formats" in message


def test_ckan_validation_error_is_reported_with_its_message(portal: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest({"url": portal, "page_size": 5000})
    message = str(caught.value)
    assert "the portal refused" in message
    assert "HTTP 409: Validation Error: rows: Must be 0..1000" in message


def test_success_false_with_http_200(file_server: Any) -> None:
    options = {"url": file_server.base + "/"}
    opts = parse_options("test", options, Path("."))
    api = file_server.url("api/3/action/package_search")
    prepared = requests.Request("GET", api, params=search_params(opts, 0, 100)).prepare()
    body = {"success": False, "error": {"message": "Search index unavailable"}}
    file_server.route(
        prepared.path_url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with pytest.raises(HarvestError, match=r"success: false \(Search index unavailable\)"):
        harvest(options)


def test_portal_error_status_is_reported(file_server: Any) -> None:
    opts = parse_options("test", {"url": file_server.base}, Path("."))
    api = file_server.url("api/3/action/package_search")
    prepared = requests.Request("GET", api, params=search_params(opts, 0, 100)).prepare()
    file_server.route(prepared.path_url, b"oops", {"Content-Type": "text/plain"}, status=500)
    with pytest.raises(HarvestError, match=r"HTTP 500 .*package_search"):
        harvest({"url": file_server.base, "retries": 0})


def test_not_a_portal(file_server: Any) -> None:
    with pytest.raises(
        HarvestError,
        match=r"HTTP 404 from .*/api/3/action/package_search.*: no CKAN Action API there",
    ):
        harvest({"url": file_server.base, "retries": 0})


def test_unreachable_portal(closed_port: int) -> None:
    with pytest.raises(HarvestError, match=r"cannot connect .*package_search"):
        harvest({"url": f"http://127.0.0.1:{closed_port}/", "retries": 0})


def test_a_file_that_does_not_parse_names_dataset_and_resource(own_portal: Any) -> None:
    bad = b"id,name\n1,a\n2,b,c\n"
    base = own_portal([{"name": "rotto", "files": {"bad.csv": bad}}])
    records: list[dict] = []
    with pytest.raises(HarvestError) as caught:
        for record in harvest_ckan("test", {"url": base}, root=Path(".")):
            records.append(record)
    assert [r["id"] for r in records] == ["1"]
    message = str(caught.value)
    assert (
        f"dataset `rotto` resource {base}/dataset/rotto/resource/res-0-0/download/bad.csv line 3"
        in message
    )
    assert "the row has 3 fields but the header has 2" in message


def test_a_file_the_portal_cannot_serve_names_it(own_portal: Any) -> None:
    base = own_portal([{"name": "vuoto", "files": {"missing.csv": None}}])
    with pytest.raises(HarvestError) as caught:
        harvest({"url": base, "retries": 0})
    message = str(caught.value)
    assert "dataset `vuoto` resource" in message and "missing.csv (id res-0-0)" in message
    assert "HTTP 404" in message and "options.resource_name" in message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "options.url is required: give a non-empty string (the portal's http(s) address"),
        ({"url": "ftp://x/"}, "options.url must be the portal's http(s) address"),
        ({"url": "http://x/", "formats": ["PDF"]}, "options.formats: `PDF` cannot be read"),
        ({"url": "http://x/", "formats": "CSV"}, "options.formats must be a list"),
        (
            {"url": "http://x/", "tags": [1]},
            "options.tags must be a non-empty string or a list of them (tag names",
        ),
        ({"url": "http://x/", "resource_name": "("}, "options.resource_name is not a valid"),
        ({"url": "http://x/", "max_datasets": 0}, "options.max_datasets must be a positive"),
        ({"url": "http://x/", "organisation": "x"}, "did you mean `organization`"),
        ({"url": "http://x/", "delimiter": ";;"}, "options.delimiter must be one character"),
    ],
)
def test_bad_options_are_refused_when_called(options: dict[str, Any], message: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest_ckan("test", options, root=Path("."))
    assert message in str(caught.value)
