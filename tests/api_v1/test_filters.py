"""Every /api/v1/entities filter, checked against the same question asked of the store in SPARQL."""

from __future__ import annotations

import math
import unicodedata

import pytest
from fastapi.testclient import TestClient

from tests.api_v1.conftest import DemoHub, all_items, entity_ids

REGION = "<https://hub.example.org/id/programme/region/{}>"
THEME = "<https://w3id.org/marittimo-hub/theme/{}>"
CATEGORY = "<https://w3id.org/marittimo-hub/category/{}>"


def ids(client: TestClient, query: str) -> set[str]:
    return {item["id"] for item in all_items(client, f"/api/v1/entities?{query}")}


def test_no_filter_lists_every_entity(client: TestClient, demo_hub: DemoHub) -> None:
    expected = entity_ids(demo_hub)
    assert ids(client, "") == expected
    assert client.get("/api/v1/entities").json()["total"] == len(expected)


@pytest.mark.parametrize(
    "value",
    [
        "TouristTrip",
        "Event",
        "schema:LodgingBusiness",
        "http://schema.org/Store",
        "https://schema.org/Store",
    ],
)
def test_type(client: TestClient, demo_hub: DemoHub, value: str) -> None:
    local = value.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    expected = entity_ids(demo_hub, f"?e a schema:{local} .")
    assert expected
    assert ids(client, f"type={value}") == expected


def test_hub_classes_are_entities_under_their_schema_org_class(
    client: TestClient, demo_hub: DemoHub
) -> None:
    networks = entity_ids(demo_hub, "?e a mh:OperatorNetwork .")
    assert networks, "the demo has operator networks"
    assert ids(client, "type=mh:OperatorNetwork") == networks
    assert ids(client, "type=https://w3id.org/marittimo-hub/ns%23OperatorNetwork") == networks
    assert networks <= ids(client, "type=Organization")
    item = client.get(f"/api/v1/entities/{sorted(networks)[0]}").json()["entity"]
    assert item["types"] == ["Organization", "mh:OperatorNetwork"]


def test_several_values_of_one_filter_are_alternatives(
    client: TestClient, demo_hub: DemoHub
) -> None:
    expected = entity_ids(demo_hub, "?e a schema:TouristTrip .") | entity_ids(
        demo_hub, "?e a schema:Store ."
    )
    assert ids(client, "type=TouristTrip,Store") == expected
    assert ids(client, "type=TouristTrip&type=Store") == expected


def test_unknown_type_name_is_empty_and_a_malformed_one_is_refused(client: TestClient) -> None:
    assert client.get("/api/v1/entities?type=Volcano").json()["total"] == 0
    response = client.get("/api/v1/entities?type=not a class")
    assert response.status_code == 400
    assert "type=" in response.json()["error"]["message"]


@pytest.mark.parametrize("region", ["toscana", "liguria", "sardegna", "corse", "paca"])
def test_region(client: TestClient, demo_hub: DemoHub, region: str) -> None:
    expected = entity_ids(demo_hub, f"?e mh:region {REGION.format(region)} .")
    assert expected
    assert ids(client, f"region={region}") == expected


def test_a_cross_border_trail_is_in_both_regions(client: TestClient) -> None:
    both = ids(client, "region=corse") & ids(client, "region=sardegna")
    assert any(uid.startswith("itinera-trails/") for uid in both)


def test_project_and_source(client: TestClient, demo_hub: DemoHub) -> None:
    for source_id, source in demo_hub.config.sources.items():
        expected = {uid for uid in entity_ids(demo_hub) if uid.startswith(source_id + "/")}
        assert ids(client, f"source={source_id}") == expected
        projects = {s for s, c in demo_hub.config.sources.items() if c.project == source.project}
        in_project = {uid for uid in entity_ids(demo_hub) if uid.split("/")[0] in projects}
        assert ids(client, f"project={source.project}") == in_project
    used = {s.project for s in demo_hub.config.sources.values()}
    # The demo has a source for every project; one without (added under [projects]) has none.
    for idle in (p["id"] for p in client.get("/api/v1/projects").json()["items"]):
        if idle not in used:
            assert client.get(f"/api/v1/entities?project={idle}").json()["total"] == 0


@pytest.mark.parametrize("written", ["Bonifacio", "bonifacio", "BONIFACIO"])
def test_municipality_ignores_case(client: TestClient, demo_hub: DemoHub, written: str) -> None:
    expected = entity_ids(demo_hub, '?e mh:municipality ?m . FILTER(LCASE(?m) = "bonifacio")')
    assert len(expected) >= 2
    assert ids(client, f"municipality={written}") == expected


def test_municipality_ignores_accents(client: TestClient, demo_hub: DemoHub) -> None:
    rows = demo_hub.store.select(
        "SELECT DISTINCT ?m WHERE { GRAPH ?g { ?e <https://w3id.org/marittimo-hub/ns#municipality> ?m } }"
    )
    accented = sorted(r["m"].value for r in rows if r["m"].value.isascii() is False)
    assert accented, "the demo has municipalities with accents"
    name = accented[0]
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    expected = entity_ids(demo_hub, f'?e mh:municipality "{name}" .')
    assert ids(client, f"municipality={plain}") == expected
    assert ids(client, f"municipality={name}") == expected


def test_several_municipalities(client: TestClient) -> None:
    assert ids(client, "municipality=Ajaccio&municipality=Bastia") == (
        ids(client, "municipality=Ajaccio") | ids(client, "municipality=Bastia")
    )


@pytest.mark.parametrize("theme", ["itineraries-packages-maps", "brands-certifications"])
def test_theme(client: TestClient, demo_hub: DemoHub, theme: str) -> None:
    expected = entity_ids(demo_hub, f"?e mh:theme {THEME.format(theme)} .")
    assert expected
    assert ids(client, f"theme={theme}") == expected


@pytest.mark.parametrize("category", ["hiking", "food-wine", "museums"])
def test_category(client: TestClient, demo_hub: DemoHub, category: str) -> None:
    expected = entity_ids(demo_hub, f"?e mh:category {CATEGORY.format(category)} .")
    assert expected
    assert ids(client, f"category={category}") == expected


def test_filters_combine_with_and(client: TestClient, demo_hub: DemoHub) -> None:
    expected = entity_ids(demo_hub, f"?e a schema:Event ; mh:region {REGION.format('corse')} .")
    assert expected
    assert ids(client, "type=Event&region=corse") == expected
    assert ids(client, "type=Event&region=corse&source=smartdest-offer") == set()


def _text_oracle(hub: DemoHub, *words: str) -> set[str]:
    """Entities with every word in some name or description (any language), accents ignored."""

    def fold(text: str) -> str:
        return "".join(
            c
            for c in unicodedata.normalize("NFKD", text.casefold())
            if not unicodedata.combining(c)
        )

    rows = hub.store.select(
        "SELECT ?e ?t WHERE { GRAPH ?g { ?e <http://schema.org/name>|<http://schema.org/description> ?t } }"
    )
    texts: dict[str, str] = {}
    for row in rows:
        texts[row["e"].value] = texts.get(row["e"].value, "") + " " + fold(row["t"].value)
    everything = entity_ids(hub)
    prefix = hub.config.base_iri + "id/"
    import re

    hits = set()
    for iri, text in texts.items():
        tokens = set(re.findall(r"\w+", text))
        if all(
            any(t == w or (w.endswith("*") and t.startswith(w[:-1])) for t in tokens)
            for w in map(fold, words)
        ):
            hits.add(iri[len(prefix) :])
    return hits & everything


@pytest.mark.parametrize(
    "q",
    [
        "bonaparte",
        "Bonaparte",
        "museo",
        "musée",
        "musee",
        "citta vecchia",
        "aquarium",
        "acquario",
        "bonapar*",
        "sample data",
    ],
)
def test_text_search_in_every_language(client: TestClient, demo_hub: DemoHub, q: str) -> None:
    expected = _text_oracle(demo_hub, *q.split())
    assert expected, q
    assert ids(client, f"q={q}") == expected


def test_text_search_finds_names_in_any_language(client: TestClient) -> None:
    assert "smartdest-offer/lig-0001" in ids(client, "q=acquario") & ids(client, "q=aquarium")
    assert "smartdest-offer/lig-0001" in ids(client, "q=gênes") & ids(client, "q=genes")


def _positions(coordinates: list) -> list[list[float]]:
    """Every [lon, lat] position of GeoJSON coordinates, however deeply nested."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [coordinates]
    return [p for part in coordinates for p in _positions(part)]


def test_bbox_keeps_what_meets_the_box(client: TestClient) -> None:
    every = all_items(client, "/api/v1/entities?fields=lat,lon,geometry")
    box = (8.5, 41.3, 9.6, 43.1)  # Corsica
    got = ids(client, "bbox=8.5,41.3,9.6,43.1")

    def meets(item: dict) -> bool:
        geometry = item["geometry"]
        if geometry is None:
            return False
        points = _positions(geometry["coordinates"])
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        return (
            max(lons) >= box[0]
            and min(lons) <= box[2]
            and max(lats) >= box[1]
            and min(lats) <= box[3]
        )

    assert got == {i["id"] for i in every if meets(i)}
    assert got


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_near_and_radius_nearest_first(client: TestClient) -> None:
    every = all_items(client, "/api/v1/entities?fields=lat,lon")
    center = (43.70, 7.27)  # Nice
    expected = {i["id"]: _km(*center, i["lat"], i["lon"]) for i in every if i["lat"] is not None}
    expected = {k: d for k, d in expected.items() if d <= 30}
    page = client.get("/api/v1/entities?near=43.70,7.27&radius=30&size=100").json()
    assert {i["id"] for i in page["items"]} == set(expected)
    assert page["total"] == len(expected)
    distances = [i["distance_km"] for i in page["items"]]
    assert distances == sorted(distances)
    for item in page["items"]:
        assert item["distance_km"] == pytest.approx(expected[item["id"]], abs=0.002)
    assert page["sort"] == "distance"


def test_near_defaults_to_ten_km(client: TestClient) -> None:
    items = client.get("/api/v1/entities?near=43.70,7.27&size=100").json()["items"]
    assert items and max(i["distance_km"] for i in items) <= 10


def test_updated_since(client: TestClient) -> None:
    every = all_items(client, "/api/v1/entities?fields=updated")
    for since in ("2024-03-01", "2024-03-15T12:00:00Z", "2024-03-15T14:00:00+02:00"):
        got = ids(client, f"updated_since={since.replace('+', '%2B')}")
        moment = since if "T" in since else since + "T00:00:00Z"
        from datetime import datetime

        limit = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        assert got == {
            i["id"]
            for i in every
            if datetime.fromisoformat(i["updated"].replace("Z", "+00:00")) >= limit
        }


def test_an_unencoded_plus_in_a_zone_offset_still_works(client: TestClient) -> None:
    assert ids(client, "updated_since=2024-03-15T14:00:00+02:00") == ids(
        client, "updated_since=2024-03-15T12:00:00Z"
    )


def test_filters_combine_with_text_and_geo(client: TestClient) -> None:
    corse = ids(client, "region=corse")
    sample = ids(client, "q=sample")
    box = ids(client, "bbox=8.5,41.3,9.6,43.1")
    assert ids(client, "region=corse&q=sample&bbox=8.5,41.3,9.6,43.1") == corse & sample & box


def test_language_with_fallback(client: TestClient) -> None:
    url = "/api/v1/entities?source=smartic-operators&fields=name,names&size=100"
    for lang, chain in (
        ("fr", ["fr", "en", "it"]),
        ("en", ["en", "it", "fr"]),
        ("co", ["co", "en", "it", "fr"]),
    ):
        for item in client.get(f"{url}&lang={lang}").json()["items"]:
            best = next(item["names"][c] for c in chain if c in item["names"])
            assert item["name"] == best
    item = client.get("/api/v1/entities/smartic-operators/smc-001?lang=en").json()["entity"]
    assert "en" not in item["names"] and item["name"] == item["names"]["it"]


def test_accept_language_picks_the_language(client: TestClient) -> None:
    page = client.get(
        "/api/v1/entities?q=bonaparte", headers={"Accept-Language": "fr-FR,fr;q=0.9"}
    ).json()
    assert page["lang"] == "fr" and page["items"][0]["name"] == "Maison Bonaparte"
    explicit = client.get(
        "/api/v1/entities?q=bonaparte&lang=it", headers={"Accept-Language": "fr"}
    ).json()
    assert explicit["items"][0]["name"] == "Casa Bonaparte"


def test_unknown_language_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/entities?lang=de")
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "lang=" in message and "it, fr, en" in message


def test_fields(client: TestClient) -> None:
    items = client.get("/api/v1/entities?fields=name,lat&size=5").json()["items"]
    assert all(set(i) == {"id", "name", "lat"} for i in items)
    response = client.get("/api/v1/entities?fields=name,colour")
    assert response.status_code == 400 and "colour" in response.json()["error"]["message"]
    assert client.get("/api/v1/entities?fields=distance_km").status_code == 400


@pytest.mark.parametrize("lang", ["it", "fr", "en"])
def test_sort_by_name_in_the_language(client: TestClient, lang: str) -> None:
    items = all_items(client, f"/api/v1/entities?lang={lang}&fields=name")

    def key(name: str) -> str:
        return " ".join(
            "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
            .casefold()
            .split()
        )

    names = [key(i["name"]) for i in items if i["name"]]
    assert names == sorted(names)


def test_sort_by_updated_both_ways(client: TestClient) -> None:
    up = [i["updated"] for i in all_items(client, "/api/v1/entities?sort=updated&fields=updated")]
    down = [
        i["updated"] for i in all_items(client, "/api/v1/entities?sort=-updated&fields=updated")
    ]
    assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) == len(down)


def test_bad_sort(client: TestClient) -> None:
    assert client.get("/api/v1/entities?sort=distance").status_code == 400
    response = client.get("/api/v1/entities?sort=price")
    assert response.status_code == 400 and "sort=" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("bbox=8.5,41.3,9.6", "4"),
        ("bbox=a,b,c,d", "not a number"),
        ("bbox=9.6,41.3,8.5,43.1", "minimum is above"),
        ("bbox=8.5,-91,9.6,43.1", "out of range"),
        ("near=43.7", "2"),
        ("near=95,7", "out of range"),
        ("radius=5", "without near"),
        ("near=43.7,7.2&radius=0", "out of range"),
        ("near=43.7,7.2&radius=1000", "at most 250"),
        ("updated_since=yesterday", "ISO 8601"),
        ("region=lombardia", "toscana"),
        ("project=nope", "known project"),
        ("source=nope", "known source"),
        ("theme=nope", "known theme"),
        ("category=nope", "known category"),
        ("q=***", "no words"),
        ("q=a*", "prefix"),
        ("q=" + "x" * 201, "at most 200"),
        ("lang=xx", "lang="),
        ("regoin=corse", "unknown parameter `regoin`"),
        ("q=a&q=b", "once"),
    ],
)
def test_bad_input_is_a_clear_400(client: TestClient, query: str, words: str) -> None:
    response = client.get(f"/api/v1/entities?{query}")
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == 400
    assert words in error["message"]
    assert query.split("&")[-1].split("=")[0] in error["message"]


def test_geo_totals_are_exact_at_the_edges(client: TestClient) -> None:
    """Totals come mostly from the R*Trees (float32, rounded outwards): edges must still be exact."""
    item = client.get("/api/v1/entities/smartdest-offer/cor-0001").json()["entity"]
    lat, lon = item["lat"], item["lon"]
    for box in (
        f"{lon},{lat},{lon},{lat}",  # the point itself
        f"{lon},{lat},{lon + 1},{lat + 1}",  # the point on the lower-left corner
        f"{lon - 1},{lat - 1},{lon},{lat}",  # on the upper-right corner
        f"{lon + 1e-6},{lat},{lon + 1},{lat + 1}",  # a hair to the east of it
        "8.5,41.3,9.6,43.1",
    ):
        page = client.get(f"/api/v1/entities?bbox={box}&size=1000").json()
        assert page["total"] == len(page["items"]), box
        inside = "smartdest-offer/cor-0001" in {i["id"] for i in page["items"]}
        assert inside == (not box.startswith(f"{lon + 1e-6}")), box
    for radius in (0.5, 5, 30, 120):
        page = client.get(f"/api/v1/entities?near={lat},{lon}&radius={radius}&size=1000").json()
        assert page["total"] == len(page["items"]), radius


def test_near_uses_the_entity_point_not_its_extent(client: TestClient) -> None:
    """A trail passes next to `near` but its point (middle vertex) is kilometres away."""
    trail = client.get("/api/v1/entities/itinera-trails/itn-001").json()["entity"]
    start_lon, start_lat = trail["geometry"]["coordinates"][0]
    assert _km(start_lat, start_lon, trail["lat"], trail["lon"]) > 3
    page = client.get(f"/api/v1/entities?near={start_lat},{start_lon}&radius=1&size=1000").json()
    assert "itinera-trails/itn-001" not in {i["id"] for i in page["items"]}
    assert page["total"] == len(page["items"])
    box = f"{start_lon - 0.001},{start_lat - 0.001},{start_lon + 0.001},{start_lat + 0.001}"
    page = client.get(f"/api/v1/entities?bbox={box}&size=1000").json()
    assert "itinera-trails/itn-001" in {i["id"] for i in page["items"]}  # its extent meets it
    assert page["total"] == len(page["items"])  # counted from `spans`: its point is not in it
