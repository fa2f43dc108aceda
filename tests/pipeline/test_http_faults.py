"""Faults of an HTTP source end the run as failed (or held) and leave its published graph as it was."""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.store import open_store
from hub.store.oxigraph import OxigraphStore
from tests.harvesters.servers import ApiServer, Reply, serve

MAPPING = """\
mappings:
  thing:
    s: id:$(id)
    po:
      - [a, schema:Place]
      - [schema:name, $(name), it~lang]
"""

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<urn:x:PlaceShape> a sh:NodeShape ; sh:targetClass schema:Place ;
  sh:property [ sh:path schema:name ; sh:minCount 1 ] .
"""


def records(n: int) -> list[dict]:
    return [{"id": f"r{i}", "name": f"Luogo {i}"} for i in range(n)]


class ApiHub:
    """A one-source hub whose `rest` source is a scripted API."""

    def __init__(self, root: Path, api: ApiServer) -> None:
        self.api = api
        (root / "mappings").mkdir()
        (root / "mappings" / "things.yml").write_text(MAPPING, encoding="utf-8")
        (root / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
        (root / "hub.toml").write_text(
            textwrap.dedent(
                f"""\
                [hub]
                store = "store"
                shapes = "shapes.ttl"
                [sources.things]
                project = "vivimed"
                kind = "rest"
                mapping = "mappings/things.yml"
                licence = "https://creativecommons.org/licenses/by/4.0/"
                steward = "mailto:s@example.org"
                key = "id"
                [sources.things.options]
                url = "{api.url("/things")}"
                records = "items"
                timeout = 1
                retries = 1
                backoff = 0.05
                conditional = false
                """
            ),
            encoding="utf-8",
        )
        self.config: HubConfig = load_config(root / "hub.toml")
        self.store: OxigraphStore = open_store(self.config.store_path)
        load_programme(self.store, self.config)
        self.live = self.config.base_iri + "graph/things"

    def answer(self, reply: Reply) -> None:
        self.api.route("/things", lambda request: reply)

    def dump(self) -> bytes:
        return b"\n".join(sorted(self.store.dump_graph(self.live).splitlines()))


@pytest.fixture
def apihub(tmp_path: Path) -> Iterator[ApiHub]:
    with serve() as api:
        hub = ApiHub(tmp_path, api)
        hub.answer(Reply(body={"items": records(200)}))
        assert run_source(hub.config, hub.store, "things").status == "published"
        yield hub


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAULTS = {
    "HTTP 500": (Reply(status=500, body={"error": "boom"}), "500"),
    "429 with Retry-After": (Reply(status=429, headers={"Retry-After": "0"}), "429"),
    "invalid JSON": (Reply(body=b"{not json"), "JSON"),
    "truncated body": (Reply(body=b'{"items": [{"id": "r1"', content_length=500), "things"),
    "timeout": (Reply(body={"items": []}, delay=3), "no answer"),
    "no record list": (Reply(body={"data": []}), "items"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_fails_the_run_and_keeps_the_graph(apihub: ApiHub, fault: str) -> None:
    before = apihub.dump()
    reply, needle = FAULTS[fault]
    apihub.answer(reply)
    report = run_source(apihub.config, apihub.store, "things")
    assert report.status == "failed", report.summary()
    assert "things" in report.message and needle.lower() in report.message.lower(), report.message
    assert apihub.dump() == before


def test_connection_refused_fails_the_run_and_keeps_the_graph(apihub: ApiHub) -> None:
    before = apihub.dump()
    apihub.config.source("things").options["url"] = f"http://127.0.0.1:{closed_port()}/things"
    report = run_source(apihub.config, apihub.store, "things")
    assert report.status == "failed"
    assert "refused" in report.message.lower() or "connect" in report.message.lower()
    assert apihub.dump() == before


def test_an_empty_answer_where_hundreds_were_expected_is_held(apihub: ApiHub) -> None:
    before = apihub.dump()
    apihub.answer(Reply(body={"items": records(3)}))
    report = run_source(apihub.config, apihub.store, "things")
    assert report.status == "held"
    assert "fewer than the 200 of the last published run" in report.message
    assert apihub.dump() == before


def test_records_missing_their_key_are_reported(apihub: ApiHub) -> None:
    before = apihub.dump()
    items = records(200)
    for item in items[:50]:
        del item["id"]
    apihub.answer(Reply(body={"items": items}))
    report = run_source(apihub.config, apihub.store, "things")
    assert report.status == "failed"
    assert report.record_errors == 50
    assert "no value for `id`, the source's key" in report.errors[0]
    assert apihub.dump() == before
