"""The `portal` kind: records from the web pages of a portal, crawled politely with Scrapy.

Each page gives one record per schema.org item in its JSON-LD or microdata, and/or one
record of the CSS/XPath `fields` the source declares (merged into the page's items when
it has some). Every record carries `_url` (the page) and `_syntax` (`json-ld`,
`microdata` or `html`). The crawl obeys robots.txt, waits `download_delay` seconds
between requests to the portal, sends no cookies and names the hub in its User-Agent.

Scrapy's reactor cannot be restarted in one process, so every crawl runs in a child
process (`harvesters/_portal_spider.py`) that streams its records back as JSON lines:
the harvest yields them as they arrive, and stopping it early kills the crawl.

A page that is gone (404, 410), closed (401, 403) or forbidden by robots.txt is left out
and logged. Any other page that gives nothing (5xx, 429, a timeout, a cut body, a
redirect loop, markup or an encoding that cannot be read) fails the harvest once the
crawl ends, naming the pages: its records are unknown, and publishing without them would
remove them from the hub (decisions #27).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import importlib.util
import json
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import Field

from harvesters._common import mask_url
from harvesters._options import (
    Allowed,
    KindOptions,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    Seconds,
    Text,
    TextList,
    declared,
)
from harvesters.context import HarvestContext
from hub.errors import HarvestError

log = logging.getLogger("harvesters.portal")

Extractor = Literal["jsonld", "microdata", "fields"]
EXTRACTORS: tuple[str, ...] = get_args(Extractor)
DEFAULT_CONTACT = "https://w3id.org/marittimo-hub"
USER_AGENT = "MarittimoHub/0.1 (+{contact})"
SPIDER = Path(__file__).with_name("_portal_spider.py")
_SELECTOR = re.compile(r"^(?P<kind>css|xpath):(?P<expr>.+?)(?P<many>\[\])?$", re.DOTALL)
_URL_ATTRIBUTE = re.compile(r"(::attr\(\s*(href|src)\s*\)|/@(href|src))\s*$")
_SHOWN_FAILURES = 5
_GONE = frozenset({401, 403, 404, 410})  # pages a crawl may leave out (see `left_out`)


Extract = Annotated[
    list[Extractor] | Extractor, Allowed(f"a list of some of {', '.join(EXTRACTORS)}")
]
Selectors = Annotated[
    dict[str, Text], Allowed('a table of name = "css:..." or "xpath:..." (end with [] for a list)')
]


class Options(KindOptions):
    """The options a `portal` source may set, with their types (checked at config load)."""

    start_urls: TextList = Field(
        description='the portal\'s home page(s), e.g. ["https://portal.example/"]'
    )
    allowed_domains: TextList | None = Field(None, description="default: the start URLs' hosts")
    follow: TextList = Field(default_factory=list, description="regexes of URLs to follow")
    item_urls: TextList = Field(default_factory=list, description="regexes of item pages")
    extract: Extract = Field(default_factory=lambda: list(EXTRACTORS))
    fields: Selectors = Field(default_factory=dict)
    types: TextList = Field(default_factory=list, description="schema.org types to keep")
    max_pages: PositiveInt = 5000
    download_delay: NonNegativeFloat = Field(0.5, description="seconds between requests")
    concurrency: PositiveInt = 2
    autothrottle: bool = False
    timeout: Seconds = 30.0
    retries: NonNegativeInt = 2
    contact: Text = Field(DEFAULT_CONTACT, description="a URL or e-mail for the User-Agent")


@dataclass(frozen=True)
class PortalOptions:
    """The checked options of a `portal` source, as the crawler process receives them."""

    start_urls: list[str]
    allowed_domains: list[str]
    follow: list[str]
    item_urls: list[str]
    extract: list[str]
    fields: dict[str, dict[str, Any]]
    types: list[str]
    max_pages: int
    download_delay: float
    concurrency: int
    autothrottle: bool
    timeout: float
    retries: int
    user_agent: str


# --- options ------------------------------------------------------------------------------


def _as_list(value: str | list[str] | None) -> list[str]:
    """A list option that may be written as one string."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _regexes(source_id: str, name: str, patterns: list[str]) -> list[str]:
    """The option's regular expressions, each checked to compile."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise HarvestError(
                source_id, f"options.{name}: `{pattern}` is not a valid regular expression: {exc}"
            ) from None
    return patterns


def _start_urls(source_id: str, urls: list[str]) -> list[str]:
    if not urls:
        raise HarvestError(source_id, "options.start_urls is empty; give at least one page")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise HarvestError(
                source_id, f"options.start_urls: `{url}` is not an http(s) URL with a host"
            )
    return urls


def _allowed_domains(source_id: str, given: list[str] | None, starts: list[str]) -> list[str]:
    hosts = list(dict.fromkeys((urlsplit(u).hostname or "").lower() for u in starts))
    domains = [d.lower() for d in (given if given is not None else hosts)]
    for domain in domains:
        if any(c in domain for c in "/:@ "):
            raise HarvestError(
                source_id,
                f"options.allowed_domains: `{domain}` must be a host name only, without scheme, "
                "port or path (e.g. `portal.example.org`; its subdomains are allowed too)",
            )
    for url in starts:
        host = (urlsplit(url).hostname or "").lower()
        if not any(host == d or host.endswith("." + d) for d in domains):
            raise HarvestError(
                source_id,
                f"options.start_urls: `{url}` is outside options.allowed_domains "
                f"({', '.join(domains)}); add its host `{host}`",
            )
    return domains


def _fields(source_id: str, declared: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    from parsel import Selector  # Scrapy's selector library: checks exactly what will run

    probe = Selector(text="<html><body><p>probe</p></body></html>")
    fields: dict[str, dict[str, Any]] = {}
    for name, selector in declared.items():
        match = _SELECTOR.match(selector)
        if match is None:
            raise HarvestError(
                source_id,
                f"options.fields.{name} = {selector!r} must start with `css:` or `xpath:` "
                '(e.g. "css:h1::text", "xpath://span[@class=\'lat\']/text()"; '
                "end it with [] for a list)",
            )
        kind, expr = match["kind"], match["expr"].strip()
        try:
            probe.css(expr) if kind == "css" else probe.xpath(expr)
        except Exception as exc:  # cssselect and lxml raise several types
            raise HarvestError(
                source_id, f"options.fields.{name}: `{expr}` is not a valid {kind} selector: {exc}"
            ) from None
        fields[str(name)] = {
            "kind": kind,
            "expr": expr,
            "many": match["many"] is not None,
            "url": _URL_ATTRIBUTE.search(expr) is not None,  # href/src values made absolute
        }
    return fields


def parse_options(source_id: str, options: Mapping[str, Any]) -> PortalOptions:
    """Check the options of a `portal` source; errors say which option to fix and how."""
    given = declared(source_id, "portal", Options, options)
    starts = _start_urls(source_id, _as_list(given.start_urls))
    extract = _as_list(given.extract)
    if not extract:
        raise HarvestError(
            source_id, f"options.extract must list some of {', '.join(EXTRACTORS)}, not []"
        )
    fields = _fields(source_id, given.fields)
    if fields and "fields" not in extract:
        raise HarvestError(
            source_id, 'options.fields is declared but options.extract leaves out "fields"; add it'
        )
    allowed_domains = None if given.allowed_domains is None else _as_list(given.allowed_domains)
    return PortalOptions(
        start_urls=starts,
        allowed_domains=_allowed_domains(source_id, allowed_domains, starts),
        follow=_regexes(source_id, "follow", _as_list(given.follow)),
        item_urls=_regexes(source_id, "item_urls", _as_list(given.item_urls)),
        extract=extract,
        fields=fields,
        types=_as_list(given.types),
        max_pages=given.max_pages,
        download_delay=given.download_delay,
        concurrency=given.concurrency,
        autothrottle=given.autothrottle,
        timeout=given.timeout,
        retries=given.retries,
        user_agent=USER_AGENT.format(contact=given.contact),
    )


# --- the crawl ----------------------------------------------------------------------------


def _check_installed(source_id: str) -> None:
    missing = [name for name in ("scrapy", "extruct") if importlib.util.find_spec(name) is None]
    if missing:
        raise HarvestError(
            source_id,
            f"the portal harvester needs {' and '.join(missing)}; "
            f"install with `pip install {' '.join(missing)}`",
        )


def _drain(stream: IO[bytes], tail: collections.deque[str]) -> None:
    """Keep the last lines the crawler wrote to stderr (Scrapy's warnings) for messages."""
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)
            log.debug("crawler: %s", line)


def _no_page_message(opts: PortalOptions, failures: list[dict[str, Any]]) -> str:
    """Why a crawl fetched no page at all, and what to do about it."""
    starts = ", ".join(opts.start_urls)
    by_kind = {f["kind"]: f for f in reversed(failures)}  # the first failure of each kind
    if "robots" in by_kind:
        url = by_kind["robots"]["url"]
        return (
            f"robots.txt of the portal forbids {url} to the hub (User-Agent "
            f"`{opts.user_agent}`); no page was harvested. Ask the portal's owner to allow "
            "the hub, or choose options.start_urls that robots.txt allows"
        )
    if "network" in by_kind:
        f = by_kind["network"]
        return (
            f"cannot connect to {f['url']}: {f['detail']}; check options.start_urls and that "
            "the portal is up (no page was harvested)"
        )
    if "http" in by_kind:
        f = by_kind["http"]
        return (
            f"every page answered with an error ({f['url']}: {f['detail']}); no page was "
            "harvested. Check options.start_urls in a browser, or try again later"
        )
    if failures:
        f = failures[0]
        return f"no page of {starts} could be fetched ({f['url']}: {f['detail']})"
    return f"no page of {starts} could be fetched; check options.start_urls"


def left_out(failure: Mapping[str, Any]) -> bool:
    """Whether a page that gave nothing may be left out of the harvest.

    A page robots.txt forbids, or one the portal says is gone or closed (404, 410, 401,
    403), is not part of what the portal publishes. Any other failure (5xx, 429, a
    timeout, a refused or cut connection, a redirect loop, a page that cannot be read)
    leaves the crawl incomplete: its records are unknown, not gone.
    """
    if failure["kind"] == "robots":
        return True
    return failure["kind"] == "http" and failure.get("status") in _GONE


def _incomplete(
    source_id: str, requested: int, failures: list[dict[str, Any]]
) -> HarvestError | None:
    """The error of a crawl some of whose pages could not be read, or None."""
    failed = [f for f in failures if not left_out(f)]
    if not failed:
        return None
    shown = "; ".join(f"{f['url']} ({f['detail']})" for f in failed[:_SHOWN_FAILURES])
    more = len(failed) - _SHOWN_FAILURES
    return HarvestError(
        source_id,
        mask_url(
            f"{len(failed)} of {requested} requested pages could not be read: {shown}"
            + (f" and {more} more" if more > 0 else "")
            + "; the crawl is incomplete, so nothing was published (their records would "
            "have vanished). The next run tries again; if the portal keeps failing on a "
            "page, ask its owner to fix it, or leave it out with options.follow"
        ),
    )


def _summarise(
    source_id: str,
    opts: PortalOptions,
    requested: int,
    failures: list[dict[str, Any]],
    truncated: bool,
) -> None:
    """Log the pages left out (gone, closed, or forbidden by robots.txt)."""
    forbidden = [f for f in failures if f["kind"] == "robots"]
    failed = [f for f in failures if f["kind"] != "robots"]
    if failed:
        shown = mask_url("; ".join(f"{f['url']} ({f['detail']})" for f in failed[:_SHOWN_FAILURES]))
        more = len(failed) - _SHOWN_FAILURES
        log.warning(
            "source `%s`: %d of %d requested pages gave nothing: %s%s",
            source_id,
            len(failed),
            requested,
            shown,
            f" and {more} more" if more > 0 else "",
        )
    if forbidden:
        log.info(
            "source `%s`: %d pages left alone as the portal's robots.txt asks (e.g. %s)",
            source_id,
            len(forbidden),
            mask_url(forbidden[0]["url"]),
        )
    if truncated:
        log.warning(
            "source `%s`: stopped at options.max_pages = %d; raise it to harvest the whole portal",
            source_id,
            opts.max_pages,
        )


def _crawl(source_id: str, opts: PortalOptions, context: HarvestContext | None) -> Iterator[dict]:
    """Run the crawler process and yield its records as they arrive."""
    process = subprocess.Popen(
        # -P: the script's folder (harvesters/) must not shadow other modules
        [sys.executable, "-P", str(SPIDER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # Ctrl-C reaches the harvest, which then stops the crawl
    )
    assert process.stdin and process.stdout and process.stderr
    tail: collections.deque[str] = collections.deque(maxlen=8)
    drainer = threading.Thread(target=_drain, args=(process.stderr, tail), daemon=True)
    drainer.start()
    done: dict[str, Any] | None = None
    failures: list[dict[str, Any]] = []
    try:
        try:
            process.stdin.write(json.dumps(dataclasses.asdict(opts)).encode("utf-8") + b"\n")
            process.stdin.flush()  # stdin stays open: the crawler exits when it closes
        except BrokenPipeError:
            pass  # the process died at once; its exit code and stderr say why, below
        for line in process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                raise HarvestError(
                    source_id, f"the crawler process sent an unreadable line: {line[:200]!r}"
                ) from None
            if message["t"] == "record":
                yield message["v"]
            elif message["t"] == "failed":
                failures.append(message)
            elif message["t"] == "done":
                done = message
        code = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        drainer.join(5)
        process.stderr.close()
    if done is None or done.get("reason") != "finished":
        last = " | ".join(tail) or "nothing"
        raise HarvestError(
            source_id,
            mask_url(
                f"the crawler process stopped before the end of the crawl (exit code {code}); "
                f"its last messages: {last}"
            ),
        )
    # pages the crawl asked for, less those robots.txt kept it from requesting
    requested = done["requested"] - sum(f["kind"] == "robots" for f in failures)
    if context is not None:
        context.requests += requested
    if done["pages"] == 0:
        raise HarvestError(source_id, mask_url(_no_page_message(opts, failures)))
    incomplete = _incomplete(source_id, requested, failures)
    if incomplete is not None:
        raise incomplete
    _summarise(source_id, opts, requested, failures, bool(done.get("truncated")))


def harvest_portal(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[dict]:
    """Records of a portal's pages; options are checked now, the portal crawled lazily."""
    opts = parse_options(source_id, options)
    _check_installed(source_id)
    return _crawl(source_id, opts, context)
