"""ETags, Cache-Control, 304s and CORS on /api/v1."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.pipeline.state import load_state
from hub.readmodel import rebuild_source
from tests.api_v1.conftest import DemoHub

READ_MODEL_URLS = [
    "/api/v1/entities?region=corse",
    "/api/v1/entities?region=corse&format=geojson",
    "/api/v1/stats?type=Event",
    "/api/v1/types",
    "/api/v1/themes",
    "/api/v1/projects",
]
STORE_URLS = ["/api/v1/sources", "/api/v1/runs", "/api/v1/entities/smartdest-offer/cor-0001"]


@pytest.mark.parametrize("url", READ_MODEL_URLS + STORE_URLS)
def test_etag_round_trip(client: TestClient, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("url", READ_MODEL_URLS)
def test_read_model_answers_may_be_cached_for_a_minute(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.headers["cache-control"] == "public, max-age=60"
    assert "Accept" in response.headers["vary"]


def test_store_answers_are_revalidated(client: TestClient) -> None:
    assert client.get("/api/v1/runs").headers["cache-control"] == "no-cache"


def test_the_etag_depends_on_query_format_and_language(client: TestClient) -> None:
    tags = {
        client.get(url, headers=headers).headers["etag"]
        for url, headers in [
            ("/api/v1/entities?region=corse", {}),
            ("/api/v1/entities?region=paca", {}),
            ("/api/v1/entities?region=corse", {"Accept": "text/csv"}),
            ("/api/v1/entities?region=corse", {"Accept-Language": "fr"}),
        ]
    }
    assert len(tags) == 4


def test_the_etag_changes_when_a_source_is_republished(hub_factory: DemoHub) -> None:
    with TestClient(create_app(hub_factory.config, hub_factory.store)) as client:
        url = "/api/v1/entities?source=itinera-trails"
        other = "/api/v1/entities?source=smartdest-offer"
        before, before_other = client.get(url).headers["etag"], client.get(other).headers["etag"]
        state = load_state(hub_factory.config.data_path, "itinera-trails")
        rebuild_source(
            hub_factory.config, "itinera-trails", hub_factory.config.data_path / state.version_file
        )
        assert client.get(url, headers={"If-None-Match": before}).status_code == 200
        assert client.get(url).headers["etag"] != before
        # a query that reads only another source keeps its ETag
        assert client.get(other).headers["etag"] == before_other


def test_cors(client: TestClient) -> None:
    response = client.get(
        "/api/v1/entities?size=1", headers={"Origin": "https://dashboard.example"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"]
    for header in ("ETag", "Link", "X-Total-Count"):
        assert header in exposed
    preflight = client.options(
        "/api/v1/entities",
        headers={
            "Origin": "https://dashboard.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
