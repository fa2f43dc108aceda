"""[serve] max_request_bytes: a larger body gets 413 with the limit and the fix, on every POST."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import parse_config
from hub.store import OxigraphStore

LIMIT = 200


@pytest.fixture
def small(tmp_path: Path, store: OxigraphStore) -> Iterator[TestClient]:
    config = parse_config({"serve": {"max_request_bytes": LIMIT}}, tmp_path / "hub.toml")
    with TestClient(create_app(config, store)) as c:
        yield c


def test_sparql_bodies_over_the_limit_get_413(small: TestClient) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 #" + "x" * LIMIT
    for response in (
        small.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"}),
        small.post("/sparql", data={"query": query}),
    ):
        assert response.status_code == 413, response.text
        message = response.json()["error"]["message"]
        assert f"{LIMIT} bytes" in message and "max_request_bytes" in message
    ok = small.post("/sparql", data={"query": "ASK {}"})
    assert ok.status_code == 200


def test_a_body_without_length_is_counted(small: TestClient) -> None:
    chunks = iter([b"query=ASK%20%7B%7D%20%23", b"x" * LIMIT])
    response = small.post(
        "/sparql", content=chunks, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


def test_review_decisions_too(small: TestClient) -> None:
    body = '{"reason": "' + "x" * LIMIT + '"}'
    response = small.post(
        "/api/v1/sources/any/runs/20260101T000000000000Z-ab12/reject",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
