"""The shared HTTP layer (harvesters/_http.py) against real servers on loopback."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest

from harvesters._http import HttpClient, parse_http_options
from harvesters.context import HarvestContext
from hub.errors import HarvestError
from tests.harvesters.servers import ApiServer, Reply, failing, serve, with_etag

SECRET = "s3cr3t-Value-42"


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """A scripted JSON API on loopback."""
    with serve() as server:
        yield server


def client(
    options: dict[str, Any] | None = None, context: HarvestContext | None = None
) -> HttpClient:
    """An HttpClient for source `src` with fast retries unless the options say otherwise."""
    opts = parse_http_options("src", {"backoff": 0.05, **(options or {})})
    return HttpClient("src", opts, context)


def ok(request: Any) -> Reply:
    return Reply(body={"ok": True})


def test_get_and_json(api: ApiServer) -> None:
    url = api.route("/thing", ok)
    context = HarvestContext()
    with client(context=context) as http:
        assert http.json(http.get(url, params={"a": 1})) == {"ok": True}
    assert context.requests == 1
    assert api.requests[0].query == {"a": "1"}
    assert api.requests[0].headers["Accept"] == "application/json"


def test_500_then_ok_is_retried(api: ApiServer) -> None:
    url = api.route("/flaky", failing(2, Reply(500, {"error": "boom"}), ok))
    context = HarvestContext()
    with client({"retries": 3}, context) as http:
        assert http.json(http.get(url)) == {"ok": True}
    assert context.requests == 3
    assert len(api.hits("/flaky")) == 3


def test_429_retry_after_seconds_is_honoured(api: ApiServer) -> None:
    url = api.route("/limited", failing(1, Reply(429, {}, {"Retry-After": "1"}), ok))
    context = HarvestContext()
    with client({"retries": 2}, context) as http:
        http.get(url)
    first, second = api.hits("/limited")
    assert second.at - first.at >= 0.9
    assert context.requests == 2


def test_retry_after_http_date_is_honoured(api: ApiServer) -> None:
    # HTTP dates have whole seconds: ask for "now + 2 s", which is 1..2 s away
    later = formatdate(time.time() + 2, usegmt=True)
    url = api.route("/limited", failing(1, Reply(503, {}, {"Retry-After": later}), ok))
    with client({"retries": 1}) as http:
        http.get(url)
    first, second = api.hits("/limited")
    assert second.at - first.at >= 0.9


def test_persistent_5xx_fails_after_retries(api: ApiServer) -> None:
    url = api.route("/down", lambda r: Reply(503, {"error": "maintenance"}))
    context = HarvestContext()
    with client({"retries": 2}, context) as http, pytest.raises(HarvestError) as err:
        http.get(url)
    message = str(err.value)
    assert "HTTP 503" in message and url in message and "3 attempts" in message
    assert "retries" in message
    assert context.requests == 3


def test_404_is_not_retried(api: ApiServer) -> None:
    url = api.url("/missing")
    with client({"retries": 3}) as http, pytest.raises(HarvestError, match="HTTP 404.*options.url"):
        http.get(url)
    assert len(api.requests) == 1


def test_timeout_is_retried_then_fails(api: ApiServer) -> None:
    url = api.route("/hang", lambda r: Reply(body={}, delay=5))
    context = HarvestContext()
    started = time.monotonic()
    with (
        client({"timeout": 0.3, "retries": 1}, context) as http,
        pytest.raises(HarvestError) as err,
    ):
        http.get(url)
    assert time.monotonic() - started >= 0.6
    assert "no answer" in str(err.value) and "within 0.3 s" in str(err.value)
    assert "options.timeout" in str(err.value)
    assert context.requests == 2


def test_connection_refused(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/x?token={SECRET}"
    context = HarvestContext()
    with client({"retries": 1}, context) as http, pytest.raises(HarvestError) as err:
        http.get(url)
    message = str(err.value)
    assert "cannot connect" in message and "server is up" in message
    assert SECRET not in message and "token=***" in message
    assert context.requests == 2


def test_body_cut_short_is_retried_then_fails(api: ApiServer) -> None:
    url = api.route("/cut", lambda r: Reply(body=b'{"data": [1, 2', content_length=1000))
    with client({"retries": 1}) as http, pytest.raises(HarvestError, match="broke off"):
        http.get(url)
    assert len(api.requests) == 2


def test_invalid_json_names_the_url(api: ApiServer) -> None:
    url = api.route(
        "/html", lambda r: Reply(body=b"<html>oops</html>", headers={"Content-Type": "text/html"})
    )
    with client() as http:
        response = http.get(url)
        with pytest.raises(HarvestError) as err:
            http.json(response)
    assert (
        url in str(err.value)
        and "not valid JSON" in str(err.value)
        and "text/html" in str(err.value)
    )


def test_rate_limit_spaces_requests(api: ApiServer) -> None:
    url = api.route("/r", ok)
    started = time.monotonic()
    with client({"rate_limit": 5}) as http:
        for _ in range(10):
            http.get(url)
    # 10 requests at 5 per second: the 10th starts >= 9 intervals (1.8 s) after the first
    assert time.monotonic() - started >= 1.7
    assert api.requests[-1].at - api.requests[0].at >= 1.7


def test_conditional_get_records_validators_and_gets_304(api: ApiServer) -> None:
    url = api.route("/doc", with_etag({"v": 1}, '"abc"'))
    first = HarvestContext()
    with client(context=first) as http:
        assert http.get(url, conditional=True).status_code == 200
    assert first.state["http"] == {
        "url": url,
        "etag": '"abc"',
        "last_modified": "Wed, 01 Apr 2026 10:00:00 GMT",
    }
    second = HarvestContext(previous=first.state)
    with client(context=second) as http:
        assert http.get(url, conditional=True).status_code == 304
    assert second.unchanged and second.requests == 1
    assert second.state["http"] == first.state["http"]
    assert api.requests[-1].headers["If-None-Match"] == '"abc"'
    assert api.requests[-1].headers["If-Modified-Since"] == "Wed, 01 Apr 2026 10:00:00 GMT"


def test_validators_of_another_url_are_not_sent(api: ApiServer) -> None:
    url = api.route("/doc", with_etag({"v": 1}, '"abc"'))
    previous = {"http": {"url": url + "?since=1", "etag": '"abc"'}}
    context = HarvestContext(previous=previous)
    with client(context=context) as http:
        assert http.get(url, conditional=True).status_code == 200
    assert "If-None-Match" not in api.requests[-1].headers
    assert not context.unchanged


def test_304_without_mark_unchanged(api: ApiServer) -> None:
    url = api.route("/doc", with_etag({"v": 1}, '"abc"'))
    context = HarvestContext(previous={"res1": {"url": url, "etag": '"abc"'}})
    with client(context=context) as http:
        response = http.get(url, conditional=True, state_key="res1", mark_unchanged=False)
    assert response.status_code == 304 and not context.unchanged
    assert context.state["res1"]["etag"] == '"abc"'


def _auth_header(request: Any) -> Reply:
    return Reply(
        body={"auth": request.headers.get("Authorization"), "key": request.headers.get("X-Api-Key")}
    )


def test_bearer_token_from_environment(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TEST_TOKEN", SECRET)
    url = api.route("/me", _auth_header)
    with client({"auth": {"type": "bearer", "token_env": "HUB_TEST_TOKEN"}}) as http:
        assert http.json(http.get(url))["auth"] == f"Bearer {SECRET}"


def test_api_key_header_and_param(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TEST_KEY", SECRET)
    url = api.route("/me", _auth_header)
    auth = {"type": "api_key", "key_env": "HUB_TEST_KEY", "header": "X-Api-Key"}
    with client({"auth": auth}) as http:
        assert http.json(http.get(url))["key"] == SECRET
    with client({"auth": {"type": "api_key", "key_env": "HUB_TEST_KEY", "param": "k"}}) as http:
        http.get(url, params={"q": "x"})
        assert http.show(url, {"q": "x"}) == url + "?q=x"
    assert api.requests[-1].query == {"q": "x", "k": SECRET}


def test_credentials_are_not_sent_on_to_another_host(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_TEST_KEY", SECRET)
    # 127.0.0.1 and localhost are different hosts to a client
    elsewhere = api.url("/me").replace("127.0.0.1", "localhost")
    url = api.route("/moved", lambda r: Reply(302, headers={"Location": elsewhere}))
    api.route("/me", _auth_header)
    auth = {"type": "api_key", "key_env": "HUB_TEST_KEY", "header": "X-Api-Key"}
    with client({"auth": auth}) as http:
        assert http.json(http.get(url)) == {"auth": None, "key": None}
        assert http.json(http.get(api.url("/me")))["key"] == SECRET  # same host: sent


def test_basic_auth(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TEST_PASSWORD", SECRET)
    url = api.route("/me", _auth_header)
    auth = {"type": "basic", "username": "hub", "password_env": "HUB_TEST_PASSWORD"}
    with client({"auth": auth}) as http:
        header = http.json(http.get(url))["auth"]
    assert base64.b64decode(header.split()[1]).decode() == f"hub:{SECRET}"


def test_401_names_the_variable_not_the_secret(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_TEST_KEY", SECRET)
    url = api.route("/private", lambda r: Reply(401, {"error": f"bad key {SECRET}"}))
    auth = {"type": "api_key", "key_env": "HUB_TEST_KEY", "param": "my_param"}
    with client({"auth": auth}) as http, pytest.raises(HarvestError) as err:
        http.get(url)
    message = str(err.value)
    assert "HTTP 401" in message and "HUB_TEST_KEY" in message
    assert SECRET not in message and SECRET not in repr(err.value)


def test_missing_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_TEST_TOKEN", raising=False)
    with pytest.raises(HarvestError, match="environment variable HUB_TEST_TOKEN .*not set"):
        client({"auth": {"type": "bearer", "token_env": "HUB_TEST_TOKEN"}})


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"timeout": 0}, "options.timeout must be a positive number"),
        ({"retries": -1}, "options.retries must be a whole number"),
        ({"retries": 1.5}, "options.retries must be a whole number"),
        ({"rate_limit": "fast"}, "options.rate_limit must be a positive number"),
        ({"headers": {"X": 1}}, "options.headers.X must be a string, not 1"),
        ({"headers": {"Authorization": "Bearer x"}}, "use options.auth"),
        ({"auth": "secret"}, "options.auth must be a table"),
        (
            {"auth": {"type": "bearer", "token": "abc"}},
            "options.auth.token is not an option of auth type `bearer`; did you mean `token_env`?",
        ),
        (
            {"auth": {"type": "bearer"}},
            "options.auth.token_env is required: give a non-empty string (the NAME of the",
        ),
        ({"auth": {"type": "api_key", "key_env": "K"}}, "needs exactly one of header"),
        ({"auth": {"type": "basic", "password_env": "P"}}, "needs exactly one of username"),
    ],
)
def test_option_errors(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(HarvestError) as err:
        parse_http_options("src", options)
    assert needle in str(err.value)
    assert str(err.value).startswith("source `src`: ")
