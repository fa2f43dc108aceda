"""A source's agreement (owner, contact, licence, expected update, stewards) in the config,
in /api/v1/sources, and lateness measured against it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from hub.accounts import add_user
from hub.api import create_app
from hub.catalog import is_late
from hub.config import load_config
from hub.pipeline.run import run_source
from tests.pipeline.conftest import MiniHub

AGREEMENT = """\
owner = "Itinera partnership"
contact = "mailto:dati@itinera.example"
update_every = "7d"
stewards = ["olga"]
"""


def with_agreement(minihub: MiniHub) -> MiniHub:
    path = minihub.config.path
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('key = "id"\n', 'key = "id"\n' + AGREEMENT), encoding="utf-8")
    minihub.config = load_config(path)
    return minihub


def test_the_catalogue_shows_the_agreement(minihub: MiniHub) -> None:
    hub = with_agreement(minihub)
    add_user(hub.config, "anna", "steward", sources=["places"])
    hub.write(hub.places(5))
    assert run_source(hub.config, hub.store, "places").ok
    client = TestClient(create_app(hub.config, hub.store))
    [item] = client.get("/api/v1/sources").json()["items"]
    assert item["owner"] == "Itinera partnership"
    assert item["contact"] == "mailto:dati@itinera.example"
    assert item["update_every"] == "7d"
    assert item["stewards"] == ["anna", "olga"]
    assert item["late"] is False and item["last_good"] and item["held"] == 0


def test_late_is_measured_against_the_agreed_frequency(minihub: MiniHub) -> None:
    source = with_agreement(minihub).config.sources["places"]
    good = "2026-11-20T10:00:00+00:00"
    assert not is_late(source, good, datetime(2026, 11, 27, 10, 30, tzinfo=UTC))  # 7 d + grace
    assert is_late(source, good, datetime(2026, 11, 27, 11, 30, tzinfo=UTC))
    assert is_late(source, None)  # agreed, never delivered
    manual = source.model_copy(update={"update_every": None, "schedule": None})
    assert not is_late(manual, None)


def test_a_bad_frequency_is_refused_naming_the_key(minihub: MiniHub) -> None:
    import pytest

    from hub.errors import ConfigError

    path = minihub.config.path
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('key = "id"\n', 'key = "id"\nupdate_every = "weekly"\n'), encoding="utf-8"
    )
    with pytest.raises(
        ConfigError, match=r"sources\.places\.update_every: `weekly` is not a duration"
    ):
        load_config(path)
