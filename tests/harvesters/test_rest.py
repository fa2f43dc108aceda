"""The `rest` harvester against real JSON APIs on loopback, and the Vivimed demo API end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from harvesters import KINDS, HarvestContext, get_harvester
from hub.demo import vivimed_api
from hub.errors import HarvestError
from hub.iris import Iris
from hub.mapping.compile import load_mapping
from hub.mapping.runner import MappingRunner
from hub.store.oxigraph import OxigraphStore
from hub.validation import validate_graph
from hub.validation.validate import load_shapes
from tests.harvesters.servers import (
    ApiServer,
    Reply,
    by_cursor,
    by_link,
    by_offset,
    by_page,
    failing,
    make_records,
    serve,
    with_etag,
)

REPO = Path(__file__).resolve().parents[2]
harvest_rest = get_harvester("rest")
SECRET = "t0ken-Sekret-99"


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """A scripted JSON API on loopback."""
    with serve() as server:
        yield server


def harvest(options: dict[str, Any], context: HarvestContext | None = None) -> list[dict]:
    """Every record of a `rest` source `src`, with fast retries unless the options say otherwise."""
    return list(harvest_rest("src", {"backoff": 0.05, **options}, root=REPO, context=context))


def test_kind_is_registered() -> None:
    assert "rest" in KINDS


def test_no_paging_top_level_list(api: ApiServer) -> None:
    url = api.route("/all", lambda r: Reply(body=make_records(3)))
    context = HarvestContext()
    assert [r["id"] for r in harvest({"url": url}, context)] == [1, 2, 3]
    assert context.requests == 1 and not context.incremental


def test_page_paging(api: ApiServer) -> None:
    url = api.route("/p", by_page(make_records(25)))
    paging = {"type": "page", "size_param": "per_page", "size": 10}
    context = HarvestContext()
    got = harvest(
        {"url": url, "records": "items", "paging": paging, "params": {"lang": "it"}}, context
    )
    assert [r["id"] for r in got] == list(range(1, 26))
    # pages 1, 2, 3 (5 records) and 4 (empty: the end)
    assert context.requests == 4
    assert [r.query["page"] for r in api.requests] == ["1", "2", "3", "4"]
    assert all(r.query["lang"] == "it" and r.query["per_page"] == "10" for r in api.requests)


def test_offset_paging_survives_a_capped_page_size(api: ApiServer) -> None:
    url = api.route("/o", by_offset(make_records(23), cap=5))
    paging = {"type": "offset", "size": 10}
    got = harvest({"url": url, "records": "$.data.results", "paging": paging})
    assert [r["id"] for r in got] == list(range(1, 24))
    assert [r.query["offset"] for r in api.requests][:3] == ["0", "5", "10"]


def test_cursor_paging(api: ApiServer) -> None:
    url = api.route("/c", by_cursor(make_records(35)))
    paging = {"type": "cursor", "cursor_path": "meta.next", "limit_param": "limit", "size": 10}
    context = HarvestContext()
    got = harvest({"url": url, "records": "data", "paging": paging}, context)
    assert [r["id"] for r in got] == list(range(1, 36))
    assert context.requests == 4
    assert "cursor" not in api.requests[0].query and api.requests[1].query["cursor"] == "c10"


def test_link_header_paging(api: ApiServer) -> None:
    url = api.route("/linked", by_link(make_records(25), lambda: api.base))
    context = HarvestContext()
    got = harvest({"url": url, "paging": {"type": "link"}}, context)
    assert [r["id"] for r in got] == list(range(1, 26))
    assert context.requests == 3


def test_next_link_in_the_body(api: ApiServer) -> None:
    records = make_records(15)

    def handler(request: Any) -> Reply:
        start = int(request.query.get("from", "0"))
        more = start + 10 < len(records)
        return Reply(
            body={
                "results": records[start : start + 10],
                "next": f"{api.base}/n?from={start + 10}" if more else None,
            }
        )

    url = api.route("/n", handler)
    got = harvest(
        {"url": url, "records": "results", "paging": {"type": "link", "next_path": "next"}}
    )
    assert len(got) == 15


def test_records_are_streamed_page_by_page(api: ApiServer) -> None:
    url = api.route("/c", by_cursor(make_records(30)))
    paging = {"type": "cursor", "cursor_path": "meta.next"}
    records = harvest_rest("src", {"url": url, "records": "data", "paging": paging}, root=REPO)
    assert next(records)["id"] == 1
    assert len(api.requests) == 1  # the second page is not asked for before it is needed
    records.close()


def test_max_pages_stops_a_runaway_source(api: ApiServer) -> None:
    url = api.route("/p", by_page(make_records(100)))
    paging = {"type": "page", "max_pages": 3}
    with pytest.raises(HarvestError, match="after options.paging.max_pages = 3 pages"):
        harvest({"url": url, "records": "items", "paging": paging})


def test_a_repeated_cursor_is_a_loop(api: ApiServer) -> None:
    def handler(request: Any) -> Reply:
        n = int(request.query.get("cursor", "0"))
        return Reply(body={"data": [{"id": n}], "next_cursor": str((n + 1) % 3)})

    url = api.route("/loop", handler)
    with pytest.raises(
        HarvestError, match="cursor `1` that .* gave was already followed: the pages loop"
    ):
        harvest({"url": url, "records": "data", "paging": {"type": "cursor"}})


def test_a_repeated_next_link_is_a_loop(api: ApiServer) -> None:
    url = api.route(
        "/loop",
        lambda r: Reply(
            body=[{"id": r.query.get("x")}],
            headers={"Link": f'</loop?x={int(r.query.get("x", "0")) ^ 1}>; rel="next"'},
        ),
    )
    with pytest.raises(HarvestError, match="next link .* was already followed"):
        harvest({"url": url, "paging": {"type": "link"}})


def test_credentials_do_not_follow_a_next_link_to_another_server(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("HUB_REST_SECRET", SECRET)
    elsewhere = f"http://127.0.0.1:{closed_port}/steal"
    url = api.route(
        "/l", lambda r: Reply(body=[{"id": 1}], headers={"Link": f'<{elsewhere}>; rel="next"'})
    )
    auth = {"type": "bearer", "token_env": "HUB_REST_SECRET"}
    with pytest.raises(HarvestError, match="leads to another server"):
        harvest({"url": url, "paging": {"type": "link"}, "auth": auth})


def test_a_page_that_ignores_paging_is_caught(api: ApiServer) -> None:
    url = api.route("/same", lambda r: Reply(body={"items": make_records(10)}))
    with pytest.raises(HarvestError, match="same records as the page before"):
        harvest({"url": url, "records": "items", "paging": {"type": "page"}})


def test_invalid_json_names_the_page(api: ApiServer) -> None:
    good = api.route("/p", by_page(make_records(20)))

    def handler(request: Any) -> Reply:
        if request.query.get("page") == "2":
            return Reply(body=b'{"items": [{"id": 11}, oops]}')
        return by_page(make_records(20))(request)

    url = api.route("/bad", handler)
    assert good
    with pytest.raises(HarvestError) as err:
        harvest({"url": url, "records": "items", "paging": {"type": "page"}})
    assert f"{url}?page=2" in str(err.value) and "not valid JSON" in str(err.value)


def test_truncated_json_is_reported_as_cut(api: ApiServer) -> None:
    url = api.route("/cut", lambda r: Reply(body=b'{"data": [{"id": 1}, {"id"'))
    with pytest.raises(HarvestError, match="not valid JSON \\(the body looks cut short\\)"):
        harvest({"url": url, "records": "data"})


def test_body_shorter_than_content_length(api: ApiServer) -> None:
    url = api.route("/cut", lambda r: Reply(body=b'{"data": [', content_length=500))
    with pytest.raises(HarvestError, match="broke off"):
        harvest({"url": url, "records": "data", "retries": 1})


def test_records_path_that_finds_nothing(api: ApiServer) -> None:
    url = api.route("/x", lambda r: Reply(body={"results": [], "count": 0}))
    with pytest.raises(HarvestError) as err:
        harvest({"url": url, "records": "data.items"})
    message = str(err.value)
    assert "options.records `data.items` finds nothing" in message
    assert "top-level keys: results, count" in message


def test_records_path_needed_for_an_object(api: ApiServer) -> None:
    url = api.route("/x", lambda r: Reply(body={"results": [{"id": 1}]}))
    with pytest.raises(HarvestError, match="set options.records.*lists are under: results"):
        harvest({"url": url})


def test_records_that_are_not_objects(api: ApiServer) -> None:
    url = api.route("/x", lambda r: Reply(body={"data": [1, 2]}))
    with pytest.raises(HarvestError, match="record #1 of the page .* is int, not an object"):
        harvest({"url": url, "records": "data"})


def test_server_error_then_ok_is_retried(api: ApiServer) -> None:
    url = api.route(
        "/flaky", failing(1, Reply(500, {"error": "x"}), lambda r: Reply(body=make_records(2)))
    )
    context = HarvestContext()
    assert len(harvest({"url": url}, context)) == 2
    assert context.requests == 2


def test_429_with_retry_after_then_ok(api: ApiServer) -> None:
    url = api.route(
        "/slow",
        failing(1, Reply(429, {}, {"Retry-After": "1"}), lambda r: Reply(body=make_records(2))),
    )
    context = HarvestContext()
    assert len(harvest({"url": url}, context)) == 2
    first, second = api.requests
    assert second.at - first.at >= 0.9
    assert context.requests == 2


def test_hanging_server_times_out_after_retries(api: ApiServer) -> None:
    url = api.route("/hang", lambda r: Reply(body=[], delay=5))
    with pytest.raises(HarvestError, match="no answer from .* within 0.2 s \\(2 attempts\\)"):
        harvest({"url": url, "timeout": 0.2, "retries": 1})
    assert len(api.requests) == 2


def test_refused_connection(closed_port: int) -> None:
    with pytest.raises(HarvestError, match="cannot connect"):
        harvest({"url": f"http://127.0.0.1:{closed_port}/events", "retries": 1})


def test_unchanged_source_costs_one_request(api: ApiServer) -> None:
    url = api.route("/c", with_etag({"data": make_records(5), "next_cursor": None}, '"v1"'))
    options = {"url": url, "records": "data", "paging": {"type": "cursor"}}
    first = HarvestContext()
    assert len(harvest(options, first)) == 5
    second = HarvestContext(previous=first.state)
    assert harvest(options, second) == []
    assert second.unchanged and second.requests == 1
    assert api.requests[-1].headers["If-None-Match"] == '"v1"'


def test_conditional_can_be_switched_off(api: ApiServer) -> None:
    url = api.route("/c", with_etag(make_records(5), '"v1"'))
    first = HarvestContext()
    harvest({"url": url, "conditional": False}, first)
    second = HarvestContext(previous={"http": {"url": url, "etag": '"v1"'}})
    assert len(harvest({"url": url, "conditional": False}, second)) == 5
    assert "If-None-Match" not in api.requests[-1].headers and not second.unchanged


def test_since_passes_the_saved_value_and_saves_the_newest(api: ApiServer) -> None:
    records = make_records(40)

    def handler(request: Any) -> Reply:
        since = request.query.get("updated_since")
        return Reply(body=[r for r in records if since is None or r["updated_at"] >= since])

    url = api.route("/s", handler)
    options = {"url": url, "since": {"param": "updated_since", "field": "updated_at"}}
    first = HarvestContext()
    assert len(harvest(options, first)) == 40
    assert not first.incremental and "updated_since" not in api.requests[0].query
    assert first.state["since"] == "2026-01-28T10:00:00Z"
    second = HarvestContext(previous={"since": "2026-01-20T00:00:00Z"})
    got = harvest(options, second)
    assert second.incremental and 0 < len(got) < 40
    assert api.requests[-1].query["updated_since"] == "2026-01-20T00:00:00Z"
    assert second.state["since"] == "2026-01-28T10:00:00Z"


def test_since_without_field_saves_the_start_time(api: ApiServer) -> None:
    url = api.route("/s", lambda r: Reply(body=[]))
    context = HarvestContext(previous={"since": "2026-01-01T00:00:00Z"})
    before = time.strftime("%Y-%m-%dT%H:%M", time.gmtime())
    harvest({"url": url, "since": {"param": "changed_after"}}, context)
    assert context.state["since"][:16] >= before and context.state["since"].endswith("Z")


def test_since_keeps_the_old_value_when_nothing_changed(api: ApiServer) -> None:
    url = api.route("/s", lambda r: Reply(body=[]))
    context = HarvestContext(previous={"since": "2026-01-05T00:00:00Z"})
    harvest({"url": url, "since": {"param": "since", "field": "updated_at"}}, context)
    assert context.state["since"] == "2026-01-05T00:00:00Z"


@pytest.mark.parametrize(
    ("auth", "check"),
    [
        (
            {"type": "bearer", "token_env": "HUB_REST_SECRET"},
            lambda r: r.headers["Authorization"] == f"Bearer {SECRET}",
        ),
        (
            {"type": "api_key", "key_env": "HUB_REST_SECRET", "header": "X-API-Key"},
            lambda r: r.headers["X-API-Key"] == SECRET,
        ),
        (
            {"type": "api_key", "key_env": "HUB_REST_SECRET", "param": "apikey"},
            lambda r: r.query["apikey"] == SECRET,
        ),
        (
            {"type": "basic", "username": "hub", "password_env": "HUB_REST_SECRET"},
            lambda r: r.headers["Authorization"].startswith("Basic "),
        ),
    ],
)
def test_auth_is_sent_and_never_shown(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch, auth: dict, check: Any
) -> None:
    monkeypatch.setenv("HUB_REST_SECRET", SECRET)
    url = api.route("/c", by_cursor(make_records(15)))
    paging = {"type": "cursor", "cursor_path": "meta.next"}
    assert len(harvest({"url": url, "records": "data", "paging": paging, "auth": auth})) == 15
    assert all(check(r) for r in api.requests)
    bad = api.route("/bad", lambda r: Reply(401, {"error": "bad credentials"}))
    with pytest.raises(HarvestError) as err:
        harvest({"url": bad, "records": "data", "auth": auth})
    assert "HTTP 401" in str(err.value) and "HUB_REST_SECRET" in str(err.value)
    assert SECRET not in str(err.value)


def test_secret_not_in_invalid_json_error(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_REST_SECRET", SECRET)
    url = api.route("/x", lambda r: Reply(body=b"nope"))
    auth = {"type": "api_key", "key_env": "HUB_REST_SECRET", "param": "k"}
    with pytest.raises(HarvestError) as err:
        harvest({"url": url, "auth": auth})
    assert "not valid JSON" in str(err.value) and SECRET not in str(err.value)


def test_rate_limit_is_respected(api: ApiServer) -> None:
    url = api.route("/p", by_page(make_records(90), size=10))
    started = time.monotonic()
    got = harvest({"url": url, "records": "items", "paging": {"type": "page"}, "rate_limit": 5})
    assert len(got) == 90 and len(api.requests) == 10
    assert time.monotonic() - started >= 1.7  # 10 requests at 5/s: >= 9 intervals of 0.2 s


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({}, "options.url is required: give a non-empty string (the http(s) URL of the API)"),
        ({"url": "ftp://x/y"}, "is not an http(s) URL"),
        ({"url": "http://x", "pagin": {}}, "did you mean `paging`?"),
        (
            {"url": "http://x", "paging": {"type": "pages"}},
            "options.paging.type must be one of `none`, `page`, `offset`, `cursor`, `link`, not 'pages'",
        ),
        (
            {"url": "http://x", "paging": {"type": "cursor", "page_param": "p"}},
            "options.paging.page_param is not an option",
        ),
        (
            {"url": "http://x", "paging": {"type": "offset"}},
            "options.paging.size is required: give a positive whole number (records per page)",
        ),
        (
            {"url": "http://x", "paging": {"type": "page", "size": 0}},
            "options.paging.size must be a positive whole number (records per page), not 0",
        ),
        (
            {"url": "http://x", "paging": {"type": "cursor", "size": 10}},
            "needs options.paging.limit_param",
        ),
        ({"url": "http://x", "paging": "cursor"}, "options.paging must be a table"),
        ({"url": "http://x", "since": {"field": "updated_at"}}, "options.since.param is required"),
        ({"url": "http://x", "params": {"a": [1]}}, "options.params.a must be a string"),
        ({"url": "http://x", "records": "a[?x]"}, "options.records: JSONPath"),
        ({"url": "http://x", "conditional": "yes"}, "options.conditional must be true or false"),
        ({"url": "http://x", "rate_limit": 0}, "options.rate_limit must be a positive number"),
    ],
)
def test_option_errors_are_raised_at_once(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(HarvestError) as err:
        harvest_rest("src", options, root=REPO)  # no request: the options are checked first
    assert needle in str(err.value)


# --- the Vivimed demo API, end to end --------------------------------------------------

VIVIMED_OPTIONS = {
    "records": "data",
    "paging": {
        "type": "cursor",
        "cursor_param": "cursor",
        "cursor_path": "next_cursor",
        "limit_param": "limit",
        "size": 15,
    },
    "since": {"param": "updated_since", "field": "updated_at"},
}


@pytest.fixture
def vivimed() -> Iterator[tuple[vivimed_api.VivimedServer, str]]:
    """The demo API on a free port."""
    server, base = vivimed_api.start()
    yield server, base
    vivimed_api.stop(server)


def test_vivimed_demo_full_then_incremental_then_unchanged(vivimed: tuple[Any, str]) -> None:
    server, base = vivimed
    options = {"url": f"{base}/events", **VIVIMED_OPTIONS}
    first = HarvestContext()
    events = harvest(options, first)
    assert len(events) == 40 and len({e["id"] for e in events}) == 40
    assert first.requests == 3  # 15 + 15 + 10
    since = first.state["since"]
    assert since == max(e["updated_at"] for e in events)

    # an older `since` gives fewer events, and the run is incremental
    older = sorted(e["updated_at"] for e in events)[30]
    partial = HarvestContext(previous={"since": older})
    assert 0 < len(harvest(options, partial)) < 40 and partial.incremental

    # nothing changed since the first run: the second run asks from `since` (the newest
    # event comes back), the third gets 304 for the same query: one request, unchanged
    second = HarvestContext(previous=first.state)
    assert [e["updated_at"] for e in harvest(options, second)] == [since]
    third = HarvestContext(previous=second.state)
    assert harvest(options, third) == [] and third.unchanged and third.requests == 1

    # an edit shows up in the next run
    changed = dict(events[0], updated_at="2026-05-01T08:00:00Z")
    server.update(changed)
    fourth = HarvestContext(previous=third.state)
    got = harvest(options, fourth)
    assert changed in got and not fourth.unchanged
    assert fourth.state["since"] == "2026-05-01T08:00:00Z"


def test_vivimed_demo_with_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIVIMED_TOKEN", SECRET)
    server, base = vivimed_api.start(token=SECRET)
    try:
        auth = {"type": "bearer", "token_env": "VIVIMED_TOKEN"}
        assert len(harvest({"url": f"{base}/events", **VIVIMED_OPTIONS, "auth": auth})) == 40
        monkeypatch.setenv("VIVIMED_TOKEN", "wrong-token")
        with pytest.raises(HarvestError, match="HTTP 401.*VIVIMED_TOKEN"):
            harvest({"url": f"{base}/events", **VIVIMED_OPTIONS, "auth": auth})
    finally:
        vivimed_api.stop(server)


def test_vivimed_events_map_and_conform_to_the_shapes(
    vivimed: tuple[Any, str], tmp_path: Path
) -> None:
    _, base = vivimed
    events = harvest({"url": f"{base}/events", **VIVIMED_OPTIONS})
    iris = Iris("https://hub.example.org/")
    mapping = load_mapping(
        REPO / "mappings" / "vivimed-events.yml", source_id="vivimed-events", iris=iris
    )
    runner = MappingRunner(mapping, source="vivimed-events", record_key="id")
    data = b"".join(runner.run(events))
    assert runner.stats.failed == 0, [f.message("vivimed-events") for f in runner.stats.failures]
    graph = "https://hub.example.org/graph/vivimed-events"
    store = OxigraphStore(tmp_path / "store")
    store.bulk_load([data], graph)
    report = validate_graph(store, graph, load_shapes(REPO / "ontology" / "shapes.ttl"))
    assert report.conforms, [v for v in report.violations][:5]
    assert not report.violations, report.violations[:5]  # no warnings either
    event = "https://hub.example.org/id/vivimed-events/VM-EV-001"
    schema = "http://schema.org/"
    quads = list(store.quads(graph))
    assert ox.NamedNode(schema + "Event") in {
        q.object for q in quads if q.subject == ox.NamedNode(event)
    }
    assert len({q.subject for q in quads if q.object == ox.NamedNode(schema + "Event")}) == 40
