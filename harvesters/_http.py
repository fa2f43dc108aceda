"""The HTTP layer harvesters share: rate limit, timeouts, retries, conditional requests, auth.

API (stable; other kinds build on it):

    HttpFields                   the declaration of this layer's options (headers, auth,
                                 rate_limit, timeout, retries, backoff); a kind's own
                                 declaration inherits it. HTTP_OPTIONS: their names
    parse_http_options(source_id, options) -> HttpOptions
                                 the HTTP options of a kind's declared (checked) options,
                                 or of a table holding only HTTP options
    HttpClient(source_id, http_options, context=None)
                                 one per source run; a context manager (closes the session).
                                 Reads auth secrets from os.environ when created.
      .get(url, *, params=None, headers=None, conditional=False, state_key="http",
           mark_unchanged=True, stream=False) -> requests.Response
                                 a 2xx response, or a 304 when `conditional` and the server
                                 says nothing changed; anything else raises HarvestError
      .json(response) -> Any     the parsed body, or HarvestError naming the URL
      .show(url, params=None) -> str
                                 the URL as messages show it (secrets masked)
      .scrub(text) -> str        `text` with URLs masked and secret values replaced by ***
      .error(message) -> HarvestError
                                 an error of this source with secret values replaced by ***
                                 (put URLs in it through `show`, followed by a space)

Behaviour of `get`:

- Rate limit: at most `rate_limit` requests per second from this client (every attempt
  counts, retries included); `None` means no limit.
- Retries: on 429, 5xx, timeouts, refused or broken connections and bodies cut short,
  up to `retries` times, waiting `backoff * 2**n` seconds (n = 0, 1, ...) or what the
  server's `Retry-After` asks (seconds or an HTTP date). A Retry-After longer than
  RETRY_AFTER_CAP s fails the request at once (the next run tries again), as retrying
  sooner than the server asked would only be refused again.
- Every attempt adds 1 to `context.requests`.
- Conditional (`conditional=True`): sends If-None-Match / If-Modified-Since from
  `context.previous[state_key]` ({"url": ..., "etag": ..., "last_modified": ...}) when it
  was saved for the same URL (query included, secrets masked), and records the response's
  validators into `context.state[state_key]`. A 304 copies the previous validators into
  the state and, if `mark_unchanged`, sets `context.unchanged = True`.
- Auth (`auth` option; values name ENVIRONMENT VARIABLES, never secrets):
      { type = "bearer",  token_env = "NAME" }                 Authorization: Bearer ...
      { type = "api_key", key_env = "NAME", header = "X-API-Key" }   (or param = "api_key")
      { type = "basic",   username = "hub" | username_env = "NAME", password_env = "NAME" }
- Errors: every failure raises `hub.errors.HarvestError(source_id, ...)` naming the URL
  (masked), the HTTP status if any, and what to do. Secret values never appear in it.
- Redirects are followed; credentials (Authorization and an api_key header) are not sent
  on to another host.
- With `stream=True` the body is not read: retries cover the status line only, and the
  caller must close the response (use it as a context manager).

    >>> opts = parse_http_options("vivimed-events", {"rate_limit": 5, "retries": 2})
    >>> with HttpClient("vivimed-events", opts, context) as client:
    ...     data = client.json(client.get("http://127.0.0.1:8711/events"))
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import requests
from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from harvesters._common import mask_url, scrub
from harvesters._options import (
    AcceptsSecret,
    Allowed,
    KindOptions,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    Seconds,
    Text,
    declared,
)
from harvesters.context import HarvestContext
from hub.errors import HarvestError

__all__ = [
    "HTTP_OPTIONS",
    "RETRY_AFTER_CAP",
    "AuthOption",
    "Headers",
    "HttpClient",
    "HttpFields",
    "HttpOptions",
    "auth_of",
    "parse_http_options",
]

RETRY_AFTER_CAP = 60.0
"""The longest wait (seconds) a server's Retry-After may impose before a retry."""
USER_AGENT = "MarittimoHub-harvester/1"
_SECRET_HEADERS = ("authorization", "cookie")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_ENV = "the NAME of the environment variable that holds the secret"


# --- the declaration of the options -------------------------------------------------------


class BearerAuth(KindOptions):
    """`{ type = "bearer", token_env = "NAME" }`: Authorization: Bearer <token>."""

    type: Literal["bearer"]
    token_env: Text = Field(description=f'{_ENV}, e.g. token_env = "VIVIMED_TOKEN"')


class ApiKeyAuth(KindOptions):
    """`{ type = "api_key", key_env = "NAME", header = "X-API-Key" }` (or `param = "..."`)."""

    type: Literal["api_key"]
    key_env: Text = Field(description=f'{_ENV}, e.g. key_env = "PORTAL_KEY"')
    header: Text | None = Field(None, description="the header that carries the key")
    param: Text | None = Field(None, description="the query parameter that carries the key")

    @model_validator(mode="after")
    def _one_place(self) -> ApiKeyAuth:
        if (self.header is None) == (self.param is None):
            raise ValueError(
                'needs exactly one of header = "X-API-Key" (send the key in a header) '
                'or param = "api_key" (in the query string)'
            )
        return self


class BasicAuth(KindOptions):
    """`{ type = "basic", username = "hub" | username_env = "NAME", password_env = "NAME" }`."""

    type: Literal["basic"]
    username: Text | None = None
    username_env: Text | None = Field(None, description="the variable holding the user name")
    password_env: Text = Field(description=f'{_ENV}, e.g. password_env = "PORTAL_PASSWORD"')

    @model_validator(mode="after")
    def _one_user(self) -> BasicAuth:
        if (self.username is None) == (self.username_env is None):
            raise ValueError(
                "needs exactly one of username (the user name) or username_env "
                "(the environment variable holding it)"
            )
        return self


def _auth_type(value: Any) -> Any:
    return value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)


AuthOption = Annotated[
    Annotated[BearerAuth, Tag("bearer")]
    | Annotated[ApiKeyAuth, Tag("api_key")]
    | Annotated[BasicAuth, Tag("basic")],
    Discriminator(_auth_type),
    Allowed(
        'a table with type = "bearer", "api_key" or "basic", e.g. '
        '{ type = "bearer", token_env = "VIVIMED_TOKEN" } (secrets are given as the NAME '
        "of an environment variable)"
    ),
]


def _no_secret_headers(headers: dict[str, Any]) -> dict[str, Any]:
    for name in headers:
        if name.lower() in _SECRET_HEADERS:
            raise ValueError(
                f"must not set {name}: that would write a secret into the config file; "
                "use options.auth, which reads it from an environment variable"
            )
    return headers


Headers = Annotated[
    dict[str, Annotated[str, AcceptsSecret, Allowed("a string")]],
    AfterValidator(_no_secret_headers),
    Allowed('a table of strings, e.g. { Accept = "application/json" }'),
]


class HttpFields(KindOptions):
    """The options of the HTTP layer, shared by the kinds that download (`files`, `rest`...)."""

    headers: Headers = Field(default_factory=dict)
    auth: AuthOption | None = None
    rate_limit: PositiveFloat | None = Field(None, description="requests per second")
    timeout: Seconds = 30.0
    retries: NonNegativeInt = Field(3, description="retries after the first attempt")
    backoff: NonNegativeFloat = Field(0.5, description="seconds before the first retry")


HTTP_OPTIONS = tuple(HttpFields.model_fields)


# --- the checked options, as the client uses them -----------------------------------------


@dataclass(frozen=True)
class Auth:
    """How a source authenticates; holds environment variable NAMES, not values."""

    type: str
    secret_env: str
    header: str | None = None
    param: str | None = None
    username: str | None = None
    username_env: str | None = None


@dataclass(frozen=True)
class HttpOptions:
    """The checked HTTP options of a source."""

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5
    rate_limit: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: Auth | None = None


def auth_of(auth: BearerAuth | ApiKeyAuth | BasicAuth | None) -> Auth | None:
    """The declared `auth` option as the client uses it."""
    if isinstance(auth, BearerAuth):
        return Auth("bearer", auth.token_env)
    if isinstance(auth, ApiKeyAuth):
        return Auth("api_key", auth.key_env, header=auth.header, param=auth.param)
    if isinstance(auth, BasicAuth):
        return Auth(
            "basic", auth.password_env, username=auth.username, username_env=auth.username_env
        )
    return None


def parse_http_options(source_id: str, options: HttpFields | Mapping[str, Any]) -> HttpOptions:
    """The HTTP options of a source: its declared options, or a table of HTTP options only."""
    fields = (
        options
        if isinstance(options, HttpFields)
        else declared(source_id, "http", HttpFields, options)
    )
    return HttpOptions(
        timeout=fields.timeout,
        retries=fields.retries,
        backoff=fields.backoff,
        rate_limit=fields.rate_limit,
        headers=dict(fields.headers),
        auth=auth_of(fields.auth),
    )


def _read_env(source_id: str, name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise HarvestError(
            source_id,
            f"environment variable {name} (named in options.auth) is not set or empty; "
            "export it before running the source",
        )
    return value


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")
_INCOMPLETE = re.compile(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)")


def _reason(exc: Exception) -> str:
    """The gist of a requests exception (the OS error, or how much of the body came)."""
    text = mask_url(str(exc))
    if found := _INCOMPLETE.search(text):
        return f"{found[1]} bytes came, {found[2]} more were announced"
    if found := _ERRNO.search(text):
        return found[0].strip()
    return text


class _Session(requests.Session):
    """A Session that drops secret headers, not only Authorization, on a redirect elsewhere."""

    secret_headers: tuple[str, ...] = ()

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: Any) -> None:
        """Strip credentials when a redirect leads to another host (as requests does)."""
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.secret_headers:
                prepared_request.headers.pop(name, None)


class HttpClient:
    """A requests.Session for one source run: rate limit, retries, conditional GETs, auth."""

    def __init__(
        self, source_id: str, options: HttpOptions, context: HarvestContext | None = None
    ) -> None:
        self.source_id = source_id
        self.options = options
        self.context = context if context is not None else HarvestContext()
        self._secrets: list[str] = []
        self._auth_params: dict[str, str] = {}
        self._session = _Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.headers["Accept"] = "application/json"
        self._session.headers.update(options.headers)
        self._setup_auth(options.auth)
        self._lock = threading.Lock()
        self._next_slot = 0.0

    def _setup_auth(self, auth: Auth | None) -> None:
        if auth is None:
            return
        secret = _read_env(self.source_id, auth.secret_env)
        self._secrets.append(secret)
        if auth.type == "bearer":
            self._session.headers["Authorization"] = f"Bearer {secret}"
        elif auth.type == "api_key" and auth.header:
            self._session.headers[auth.header] = secret
            self._session.secret_headers = (auth.header,)
        elif auth.type == "api_key" and auth.param:
            self._auth_params[auth.param] = secret
        else:
            username = auth.username
            if auth.username_env:
                username = _read_env(self.source_id, auth.username_env)
            self._session.auth = (username or "", secret)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session's connections."""
        self._session.close()

    def scrub(self, text: str) -> str:
        """`text` with URLs masked and this client's secret values replaced by ***."""
        return scrub(text, self._secrets)

    def show(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """The URL with `params` as messages show it: secrets masked, auth param hidden."""
        prepared = requests.Request("GET", url, params=dict(params or {})).prepare()
        return self.scrub(prepared.url or url)

    def _wait_for_slot(self) -> None:
        if not self.options.rate_limit:
            return
        interval = 1.0 / self.options.rate_limit
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_slot)
            self._next_slot = start + interval
        if start > now:
            time.sleep(start - now)

    def error(self, message: str) -> HarvestError:
        """A HarvestError of this source; secret values in `message` become ***."""
        return self._fail(message)

    def _fail(self, message: str) -> HarvestError:
        # URLs in messages are masked already (show), and _reason masks what requests says;
        # masking the whole message again would eat the punctuation after a masked value
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return HarvestError(self.source_id, message)

    def _status_error(self, response: requests.Response, shown: str) -> HarvestError:
        status = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
        code = response.status_code
        auth = self.options.auth
        if code in (401, 403):
            if auth is None:
                hint = "the API wants credentials: set options.auth"
            else:
                hint = (
                    f"check the credentials in environment variable {auth.secret_env} "
                    f"(options.auth, type {auth.type})"
                )
        elif code == 404:
            hint = "check options.url (and the paging parameters)"
        elif code == 429:
            hint = "the server is rate-limiting: lower options.rate_limit or raise options.retries"
        elif code >= 500:
            hint = "the server is failing; try again later or raise options.retries"
        else:
            hint = "check options.url, options.params and options.headers"
        tries = "" if code not in _RETRY_STATUS else f" ({self.options.retries + 1} attempts)"
        asked = response.headers.get("Retry-After")
        if asked and code in _RETRY_STATUS:
            tries = tries[:-1] + f", waiting as its Retry-After: {asked} asked)"
        return self._fail(f"{status} from {shown}{tries}; {hint}")

    def _too_long_to_wait(
        self, response: requests.Response, shown: str, wait: float
    ) -> HarvestError:
        status = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
        return self._fail(
            f"{status} from {shown} asks to wait {wait:.0f} s before trying again (Retry-After: "
            f"{response.headers.get('Retry-After')}), longer than the {RETRY_AFTER_CAP:.0f} s a "
            "harvest waits; nothing was published. The next run tries again: schedule the "
            "source less often if the server keeps asking"
        )

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        delay = self.options.backoff * (2**attempt)
        if response is not None:
            asked = _retry_after(response.headers.get("Retry-After"))
            if asked is not None:
                delay = asked
        return min(delay, RETRY_AFTER_CAP)

    def _conditional_headers(self, state_key: str, shown: str) -> dict[str, str]:
        previous = self.context.previous.get(state_key) or {}
        headers: dict[str, str] = {}
        # validators describe one URL's answer: another query (a new `since`) starts afresh
        if isinstance(previous, Mapping) and previous.get("url") == shown:
            if previous.get("etag"):
                headers["If-None-Match"] = str(previous["etag"])
            if previous.get("last_modified"):
                headers["If-Modified-Since"] = str(previous["last_modified"])
        return headers

    def _record_validators(self, response: requests.Response, state_key: str, shown: str) -> None:
        if response.status_code == 304:
            previous = self.context.previous.get(state_key)
            if isinstance(previous, Mapping):
                self.context.state[state_key] = dict(previous)
            return
        validators = {"url": shown}
        if response.headers.get("ETag"):
            validators["etag"] = response.headers["ETag"]
        if response.headers.get("Last-Modified"):
            validators["last_modified"] = response.headers["Last-Modified"]
        if len(validators) > 1:
            self.context.state[state_key] = validators
        else:
            self.context.state.pop(state_key, None)

    def _transport_error(self, exc: Exception, shown: str) -> HarvestError:
        tries = f"{self.options.retries + 1} attempts"
        if isinstance(exc, requests.Timeout):
            return self._fail(
                f"no answer from {shown} within {self.options.timeout} s ({tries}); "
                "check the server, or raise options.timeout"
            )
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return self._fail(
                f"the answer of {shown} broke off before its end ({tries}; {_reason(exc)}); "
                "try again later, or raise options.retries"
            )
        return self._fail(
            f"cannot connect ({shown}, {tries}): {_reason(exc)}; check options.url "
            "and that the server is up"
        )

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        conditional: bool = False,
        state_key: str = "http",
        mark_unchanged: bool = True,
        stream: bool = False,
    ) -> requests.Response:
        """GET `url`: a 2xx response (or 304 if `conditional`); HarvestError otherwise."""
        shown = self.show(url, params)
        all_headers = dict(headers or {})
        if conditional:
            all_headers.update(self._conditional_headers(state_key, shown))
        request = requests.Request(
            "GET", url, params={**dict(params or {}), **self._auth_params}, headers=all_headers
        )
        prepared = self._session.prepare_request(request)
        settings = self._session.merge_environment_settings(prepared.url, {}, stream, None, None)
        retries = self.options.retries
        for attempt in range(retries + 1):
            self._wait_for_slot()
            self.context.requests += 1
            try:
                response = self._session.send(
                    prepared, timeout=self.options.timeout, allow_redirects=True, **settings
                )
            except _TRANSIENT as exc:
                if attempt < retries:
                    time.sleep(self._delay(attempt, None))
                    continue
                raise self._transport_error(exc, shown) from None
            except requests.RequestException as exc:
                raise self._fail(
                    f"cannot GET {shown} ({_reason(exc)}); check options.url"
                ) from None
            code = response.status_code
            if code in _RETRY_STATUS and attempt < retries:
                asked = _retry_after(response.headers.get("Retry-After"))
                if asked is not None and asked > RETRY_AFTER_CAP:
                    # retrying sooner than asked is impolite and likely refused again
                    response.close()
                    raise self._too_long_to_wait(response, shown, asked)
                delay = self._delay(attempt, response)
                response.close()
                time.sleep(delay)
                continue
            if code == 304 and conditional:
                self._record_validators(response, state_key, shown)
                if mark_unchanged:
                    self.context.mark_unchanged(f"{shown} answered 304 Not Modified")
                return response
            if not 200 <= code < 300:
                response.close()
                raise self._status_error(response, shown)
            if conditional:
                self._record_validators(response, state_key, shown)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, response: requests.Response) -> Any:
        """The JSON body of `response`; HarvestError naming the URL if it is not valid JSON."""
        shown = self.scrub(response.url)
        try:
            content = response.content
        except (requests.RequestException, OSError) as exc:
            raise self._fail(
                f"the answer of {shown} broke off before its end ({_reason(exc)}); try again later"
            ) from None
        if not content.strip():
            raise self._fail(
                f"{shown} answered HTTP {response.status_code} with an empty body, not JSON; "
                "check options.url"
            )
        try:
            return json.loads(content)
        except UnicodeDecodeError as exc:
            raise self._fail(f"{shown} is not UTF-8 JSON: {exc}; check options.url") from None
        except json.JSONDecodeError as exc:
            size = len(content)
            cut = " (the body looks cut short)" if exc.pos >= size - 1 else ""
            media = response.headers.get("Content-Type", "none")
            raise self._fail(
                f"{shown} is not valid JSON{cut}: {exc.msg} at line {exc.lineno} column "
                f"{exc.colno} of {size} bytes (Content-Type {media}); check options.url, or "
                "try again if the server was cutting answers short"
            ) from None
