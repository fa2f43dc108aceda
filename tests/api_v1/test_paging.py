"""Paging: page/size and cursors, their edges, and cursors that stay stable under the sort."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient


def walk_cursor(client: TestClient, url: str, size: int) -> list[str]:
    ids: list[str] = []
    page = client.get(f"{url}&size={size}").json()
    ids += [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = client.get(f"{url}&size={size}&cursor={page['next_cursor']}").json()
        ids += [i["id"] for i in page["items"]]
        assert len(page["items"]) <= size
    return ids


def walk_pages(client: TestClient, url: str, size: int) -> list[str]:
    ids: list[str] = []
    number = 1
    while True:
        page = client.get(f"{url}&size={size}&page={number}").json()
        if not page["items"]:
            return ids
        ids += [i["id"] for i in page["items"]]
        number += 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/entities?fields=name",
        "/api/v1/entities?sort=-updated&fields=updated",
        "/api/v1/entities?sort=updated&lang=fr",
        "/api/v1/entities?near=42.5,9.0&radius=250",
        "/api/v1/entities?bbox=8.5,41.3,9.6,43.1",
        "/api/v1/entities?bbox=7.0,41.0,10.5,44.5&sort=-updated",
        "/api/v1/entities?q=sample&region=corse,sardegna",
        "/api/v1/entities?type=Event&lang=it",
    ],
)
def test_cursor_and_pages_see_every_row_once_in_the_same_order(
    client: TestClient, url: str
) -> None:
    total = client.get(url).json()["total"]
    by_cursor = walk_cursor(client, url, 7)
    by_page = walk_pages(client, url, 7)
    assert by_cursor == by_page
    assert len(by_cursor) == len(set(by_cursor)) == total > 0


def test_a_cursor_gives_the_same_page_every_time(client: TestClient) -> None:
    first = client.get("/api/v1/entities?size=5").json()
    cursor = first["next_cursor"]
    second = client.get(f"/api/v1/entities?size=5&cursor={cursor}").json()
    again = client.get(f"/api/v1/entities?size=5&cursor={cursor}").json()
    assert second == again
    assert second["page"] is None and second["links"]["next"].endswith(second["next_cursor"])
    # the next page starts right after the last row of this one, whatever the page size
    bigger = client.get(f"/api/v1/entities?size=10&cursor={cursor}").json()
    assert [i["id"] for i in bigger["items"][:5]] == [i["id"] for i in second["items"]]


def test_a_page_past_the_end_is_empty(client: TestClient) -> None:
    total = client.get("/api/v1/entities").json()["total"]
    page = client.get(f"/api/v1/entities?size=10&page={total // 10 + 2}").json()
    assert page["items"] == [] and page["total"] == total
    assert page["next_cursor"] is None and "next" not in page["links"]


def test_the_last_page_has_no_next(client: TestClient) -> None:
    total = client.get("/api/v1/entities").json()["total"]
    last = -(-total // 10)
    response = client.get(f"/api/v1/entities?size=10&page={last}")
    page = response.json()
    assert len(page["items"]) == total - (last - 1) * 10
    assert page["next_cursor"] is None and "next" not in page["links"] and "prev" in page["links"]
    assert 'rel="next"' not in response.headers.get("link", "")
    assert response.headers["x-total-count"] == str(total)


def test_an_empty_result(client: TestClient) -> None:
    page = client.get("/api/v1/entities?q=zzzzzz").json()
    assert page["total"] == 0 and page["items"] == [] and page["next_cursor"] is None


def test_link_headers(client: TestClient) -> None:
    response = client.get("/api/v1/entities?size=5&page=2")
    link = response.headers["link"]
    assert 'rel="next"' in link and 'rel="prev"' in link and "page=3" in link


def _cursor(body: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        _cursor({"v": 1}),
        _cursor({"v": 2, "s": "name", "l": "en", "f": "x", "k": ["a", "b"]}),
        _cursor(["a"]),
        "A" * 3000,
    ],
)
def test_a_bad_cursor_is_a_400(client: TestClient, cursor: str) -> None:
    response = client.get("/api/v1/entities", params={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["message"]


def test_a_cursor_of_another_query_is_refused(client: TestClient) -> None:
    cursor = client.get("/api/v1/entities?size=2&region=corse").json()["next_cursor"]
    for other in ("region=paca", "region=corse&lang=fr", "region=corse&sort=-updated"):
        response = client.get(f"/api/v1/entities?size=2&{other}&cursor={cursor}")
        assert response.status_code == 400, other
        assert "cursor" in response.json()["error"]["message"]


def test_a_tampered_cursor_with_a_wrong_key_type_is_refused(client: TestClient) -> None:
    cursor = client.get("/api/v1/entities?size=2").json()["next_cursor"]
    body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    body["k"] = [1.5, "x"]
    response = client.get(f"/api/v1/entities?size=2&cursor={_cursor(body)}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("size=0", "size=0"),
        ("size=1001", "1..1000"),
        ("size=ten", "whole number"),
        ("page=0", "page=0"),
        ("page=-1", "page=-1"),
        ("page=20000&size=1", "cursor"),
        ("page=2&cursor=abc", "either page"),
    ],
)
def test_bad_paging(client: TestClient, query: str, words: str) -> None:
    response = client.get(f"/api/v1/entities?{query}")
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


def test_the_largest_page(client: TestClient) -> None:
    page = client.get("/api/v1/entities?size=1000").json()
    assert len(page["items"]) == page["total"]


@pytest.mark.parametrize("order", ["", "&sort=-updated", "&sort=updated&lang=fr", "&lang=it"])
def test_a_text_search_alone_is_sorted_as_with_another_filter(
    client: TestClient, order: str
) -> None:
    """A text search alone sorts its matches in the narrow `sorts` table; with any other
    filter (here one that keeps everything) it sorts `entities` rows: the same order."""
    alone = f"/api/v1/entities?q=sample{order}"
    filtered = f"{alone}&updated_since=1970-01-01"
    assert walk_cursor(client, alone, 7) == walk_cursor(client, filtered, 7)
    assert walk_pages(client, alone, 7) == walk_pages(client, filtered, 7)
    assert len(walk_pages(client, alone, 7)) == client.get(alone).json()["total"] > 7
