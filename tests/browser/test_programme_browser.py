"""The programme pages in headless Chromium: the matrix, and maps drawn with the vendored Leaflet.

The `page` fixture fails a test on any script error or any request leaving the hub; here
console errors (a Content-Security-Policy violation is one) fail it too.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def api(hub_url: str, path: str) -> Any:
    with urllib.request.urlopen(hub_url + path, timeout=10) as response:
        return json.load(response)


def watch_console(page: Any) -> list[str]:
    """Console errors (CSP violations among them) and failed requests, but the favicon's."""
    messages: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            messages.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            messages.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return messages


def point_features(hub_url: str, query: str) -> int:
    collection = api(hub_url, f"/api/v1/entities?{query}&format=geojson&size=1000")
    return sum(
        1 for f in collection["features"] if f["geometry"] and f["geometry"]["type"] == "Point"
    )


def test_matrix_then_a_source_map(page: Any, hub_url: str) -> None:
    console = watch_console(page)
    page.goto(f"{hub_url}/programme")
    assert page.locator("table.matrix").count() == 3
    integrated = page.locator('td[data-status="integrated"]')
    missing = page.locator('td[data-status="missing"]')
    summary = api(hub_url, "/api/v1/programme/matrix")["summary"]
    assert integrated.count() == summary["integrated"] > 0
    assert missing.count() == summary["missing"] > 0
    row = page.locator('table[data-group="digital-ecosystems"] tr[data-project="tesori-nascosti"]')
    portal = row.locator('td[data-result-type="portal"]')
    assert portal.get_attribute("data-status") == "integrated"

    portal.locator("a.source").click()
    page.wait_for_url("**/programme/sources/tesori-places*")
    page.wait_for_selector('#map[data-loaded="true"]')
    expected = point_features(hub_url, "source=tesori-places")
    assert expected > 0
    assert page.locator("#map .leaflet-marker-icon").count() == expected
    assert page.locator("#map-status").get_attribute("data-markers") == str(expected)
    assert page.locator("#map .leaflet-tile").count() == 0  # no tiles by default
    assert not console, console


def test_project_map_with_lines_and_points(page: Any, hub_url: str) -> None:
    console = watch_console(page)
    page.goto(f"{hub_url}/programme/projects/itinera")
    page.wait_for_selector('#map[data-loaded="true"]')
    total = api(hub_url, "/api/v1/entities?project=itinera&size=1")["total"]
    assert f"{total} entities, {total} on the map" in page.locator("#map-status").inner_text()
    # Trails are lines (SVG paths), drawn on top of the graticule's paths.
    assert page.locator("#map path.leaflet-interactive").count() >= total
    page.goto(f"{hub_url}/programme/projects/smart-destination")
    page.wait_for_selector('#map[data-loaded="true"]')
    markers = page.locator("#map .leaflet-marker-icon")
    assert markers.count() == point_features(hub_url, "project=smart-destination") > 0
    markers.first.dispatch_event("click")  # markers of one town overlap: no pointer click
    popup = page.locator(".leaflet-popup-content a")
    assert popup.inner_text().startswith("smartdest-offer/")
    assert not console, console
