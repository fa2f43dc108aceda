"""The admin API runs a harvest now; it needs a bearer token and is off without one."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.catalog import source_statuses
from hub.config import HubConfig
from hub.pipeline.programme import load_programme
from hub.store import open_store

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture
def admin(demo_config: HubConfig):
    store = open_store(demo_config.store_path)
    load_programme(store, demo_config)
    return demo_config, store, TestClient(create_app(demo_config, store))


def test_admin_refuses_without_credentials(admin, monkeypatch) -> None:
    monkeypatch.delenv("HUB_ADMIN_TOKEN", raising=False)
    _, _, client = admin
    response = client.post("/api/admin/harvest/itinera-trails")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "hub user add" in response.json()["error"]["message"]


def test_a_short_admin_token_is_not_accepted(admin, monkeypatch) -> None:
    monkeypatch.setenv("HUB_ADMIN_TOKEN", "short")
    _, _, client = admin
    response = client.post(
        "/api/admin/harvest/itinera-trails", headers={"Authorization": "Bearer short"}
    )
    assert response.status_code == 401


def test_a_steward_is_not_an_admin(admin) -> None:
    from hub.accounts import add_user

    config, _, client = admin
    token, _ = add_user(config, "anna", "steward", sources=["itinera-trails"])
    response = client.post(
        "/api/admin/harvest/itinera-trails", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert "anna" in response.json()["error"]["message"]


def test_admin_needs_the_right_token(admin, monkeypatch) -> None:
    monkeypatch.setenv("HUB_ADMIN_TOKEN", TOKEN)
    _, _, client = admin
    assert client.post("/api/admin/harvest/itinera-trails").status_code == 401
    bad = client.post("/api/admin/harvest/itinera-trails", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert TOKEN not in bad.text
    unknown = client.post("/api/admin/harvest/nope", headers={"Authorization": f"Bearer {TOKEN}"})
    assert unknown.status_code == 404


def test_admin_harvest_runs_the_source(admin, monkeypatch) -> None:
    monkeypatch.setenv("HUB_ADMIN_TOKEN", TOKEN)
    config, store, client = admin
    response = client.post(
        "/api/admin/harvest/itinera-trails", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = {s.id: s for s in source_statuses(store, config)}["itinera-trails"]
        if status.last_status == "published":
            break
        time.sleep(0.1)
    assert status.last_status == "published"
