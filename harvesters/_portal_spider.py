"""The `portal` crawl's child process: a Scrapy spider that streams records as JSON lines.

`harvesters.portal` runs this file as a script in a fresh interpreter (Twisted's reactor
cannot be restarted in one process) and sends the checked options as one JSON line on
stdin. Every message goes to stdout as one JSON line:

    {"t": "record", "v": {...}}                                  a record
    {"t": "failed", "url": "...", "kind": "...", "detail": "..."} a page that gave nothing
    {"t": "done", "pages": 12, "requested": 13, "truncated": false, "reason": "finished"}

`kind` is `http` (with `status`), `network`, `robots`, `extract`, `encoding` or `other`.
The process exits as soon as its stdin closes (the harvest was stopped or its process
died), so a crawl never outlives its harvest. It imports only Scrapy, extruct and the standard library.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urldefrag, urlsplit

import scrapy
from extruct.jsonld import JsonLdExtractor
from extruct.w3cmicrodata import MicrodataExtractor
from scrapy import exceptions as scrapy_exceptions
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.settings import default_settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure

Emit = Callable[[dict[str, Any]], None]

# Recent Scrapy wraps Twisted's network errors in its own; older versions raise Twisted's.
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    net_error.DNSLookupError,
    net_error.ConnectError,  # ConnectionRefusedError and friends
    net_error.TimeoutError,
    net_error.ConnectionLost,
    net_error.ConnectionDone,
    *(
        getattr(scrapy_exceptions, name)
        for name in (
            "DownloadConnectionRefusedError",
            "CannotResolveHostError",
            "DownloadTimeoutError",
            "DownloadFailedError",
            "ResponseDataLossError",
        )
        if hasattr(scrapy_exceptions, name)
    ),
)
# Items of these types describe the page, not what it is about; left out unless `types` asks.
FURNITURE = frozenset(
    {"BreadcrumbList", "WebSite", "WebPage", "SiteNavigationElement", "SearchAction", "ListItem"}
)
_JSONLD = JsonLdExtractor()
_MICRODATA = MicrodataExtractor()


# --- extraction (pure functions of a page) ---------------------------------------------


def _is_schema_org(context: Any) -> bool:
    """Whether a JSON-LD @context names schema.org (or names no vocabulary at all)."""
    if context is None:
        return True
    return "schema.org" in json.dumps(context)


def _type_names(item: dict[str, Any]) -> set[str]:
    """The item's @type values without their schema.org namespace."""
    types = item.get("@type", [])
    types = types if isinstance(types, list) else [types]
    return {str(t).rsplit("/", 1)[-1].removeprefix("schema:") for t in types}


def _furniture(item: dict[str, Any]) -> bool:
    """Whether the item only describes the page itself (breadcrumbs, the site, ...)."""
    names = _type_names(item)
    return bool(names) and names <= FURNITURE


def jsonld_items(root: Any) -> Iterator[dict[str, Any]]:
    """The schema.org objects of a page's JSON-LD scripts; a `@graph` gives one per node."""
    for item in _JSONLD.extract_items(root):
        if not isinstance(item, dict) or not _is_schema_org(item.get("@context")):
            continue
        graph = item.get("@graph")
        if isinstance(graph, list):
            for node in graph:
                if isinstance(node, dict):
                    yield {"@context": item.get("@context"), **node}
        else:
            yield item


def _uniform(value: Any) -> Any:
    """A microdata value in JSON-LD's shape: items become {"@type": ..., property: ...}."""
    if isinstance(value, list):
        return [_uniform(v) for v in value]
    if isinstance(value, dict) and "properties" in value:
        out: dict[str, Any] = {}
        if value.get("type"):
            types = (
                [str(t).rsplit("/", 1)[-1] for t in value["type"]]
                if isinstance(value["type"], list)
                else str(value["type"]).rsplit("/", 1)[-1]
            )
            out["@type"] = types
        if value.get("id"):
            out["@id"] = value["id"]
        for name, prop in value["properties"].items():
            out[name] = _uniform(prop)
        return out
    return value


def microdata_items(root: Any, base_url: str) -> Iterator[dict[str, Any]]:
    """The page's top-level schema.org microdata items, in JSON-LD's shape."""
    for item in _MICRODATA.extract_items(root, base_url):
        types = item.get("type", [])
        types = types if isinstance(types, list) else [types]
        if all("schema.org" in str(t) for t in types):
            yield {"@context": "https://schema.org", **_uniform(item)}


def _text(selected: Any) -> str:
    """The whitespace-normalized text of one selected node (an element's full text)."""
    root = selected.root
    if isinstance(root, (str, int, float)):  # text, an attribute, or an XPath string/number
        return " ".join(str(root).split())
    return " ".join((selected.xpath("string()").get() or "").split())


def field_values(response: TextResponse, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The declared fields' values on the page; a field that found nothing is left out."""
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        selection = (
            response.css(spec["expr"]) if spec["kind"] == "css" else response.xpath(spec["expr"])
        )
        values = [t for t in (_text(s) for s in selection) if t]
        if spec["url"]:
            values = [response.urljoin(v) for v in values]
        if spec["many"]:
            if values:
                out[name] = values
        elif values:
            out[name] = values[0]
    return out


def page_records(response: TextResponse, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of one page: one per schema.org item, or one of the fields alone."""
    extract, types = config["extract"], set(config["types"])
    root = response.selector.root
    items: list[tuple[str, dict[str, Any]]] = []
    if "jsonld" in extract:
        items += [("json-ld", item) for item in jsonld_items(root)]
    if "microdata" in extract:
        items += [("microdata", item) for item in microdata_items(root, response.url)]
    if types:
        items = [(syntax, item) for syntax, item in items if _type_names(item) & types]
    else:
        items = [(syntax, item) for syntax, item in items if not _furniture(item)]
    fields = field_values(response, config["fields"]) if "fields" in extract else {}
    if not items:
        return [{**fields, "_url": response.url, "_syntax": "html"}] if fields else []
    # The page's own markup wins: fields only fill in what its items lack.
    return [
        {
            **item,
            **{k: v for k, v in fields.items() if k not in item},
            "_url": response.url,
            "_syntax": s,
        }
        for s, item in items
    ]


# --- the spider ---------------------------------------------------------------------------


def _wrong_encoding(response: TextResponse) -> str:
    """Why the page's bytes are not in the encoding it declares (or that was detected), or ''."""
    try:
        response.body.decode(response.encoding)
    except UnicodeDecodeError as exc:
        return (
            f"the page is not {response.encoding} as it declares: byte {exc.object[exc.start]:#04x} "
            f"at {exc.start} cannot be read; the portal must declare the page's real encoding "
            "(Content-Type charset or <meta charset>)"
        )
    except LookupError:
        return ""
    return ""


def _failure_kind(failure: Failure) -> tuple[str, str]:
    """What went wrong with a request, as (kind, detail)."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        asked = response.headers.get("Retry-After")
        wait = f" (Retry-After: {asked.decode('latin-1')})" if asked else ""
        return "http", f"HTTP {response.status}{wait}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or "ignored"
        return ("robots" if "robots.txt" in text else "other"), text
    if isinstance(exc, _NETWORK_ERRORS):
        return "network", " ".join(str(exc).split()) or type(exc).__name__
    return "other", f"{type(exc).__name__}: {exc}"


class PortalSpider(scrapy.Spider):
    """Crawls one portal, following in-domain links, and emits the records of its pages."""

    name = "portal"

    def __init__(self, config: dict[str, Any], emit: Emit, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.emit = emit
        self.allowed_domains = list(config["allowed_domains"])
        # `follow` narrows the links followed; item pages are always followed too.
        self.links = LinkExtractor(
            allow=config["follow"] + config["item_urls"] if config["follow"] else ()
        )
        self.item_patterns = [re.compile(p) for p in config["item_urls"]]
        self.seen: set[str] = set()
        self.parsed: set[str] = set()
        self.pages = 0
        self.truncated = False

    def _request(self, url: str) -> scrapy.Request | None:
        """A request for `url` unless it was asked for already or max_pages is reached."""
        url = urldefrag(url)[0]
        if url in self.seen:
            return None
        if len(self.seen) >= self.config["max_pages"]:
            self.truncated = True
            return None
        self.seen.add(url)
        # `seen` dedupes already; Scrapy's own filter would silently drop a redirect back
        # to a page asked for before (a redirect loop), leaving the page out unreported
        return scrapy.Request(url, callback=self.parse_page, errback=self.failed, dont_filter=True)

    def _allowed(self, url: str) -> bool:
        """Whether the URL's host is an allowed domain or one of its subdomains (any port)."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    async def start(self) -> AsyncIterator[Any]:
        """The start URLs (always requested, even outside `follow`)."""
        for url in self.config["start_urls"]:
            request = self._request(url)
            if request is not None:
                yield request

    def parse_page(self, response: Response) -> Iterator[scrapy.Request]:
        """Emit the page's records, then follow its links."""
        if response.url in self.parsed:
            return  # a redirect to a page read already
        self.parsed.add(response.url)
        self.pages += 1
        if not isinstance(response, HtmlResponse):
            return  # images, PDFs, JSON, XML: neither records nor links
        wrong = _wrong_encoding(response)
        if wrong:
            # Scrapy would decode it anyway, replacing what it cannot read: no records of
            # garbled text, the page is reported instead
            self.emit({"t": "failed", "url": response.url, "kind": "encoding", "detail": wrong})
        elif not self.item_patterns or any(p.search(response.url) for p in self.item_patterns):
            try:
                records = page_records(response, self.config)
            except Exception as exc:  # a malformed page must not stop the crawl
                self.emit(
                    {
                        "t": "failed",
                        "url": response.url,
                        "kind": "extract",
                        "detail": f"its markup cannot be read: {type(exc).__name__}: {exc}",
                    }
                )
                records = []
            for record in records:
                self.emit({"t": "record", "v": record})
        for link in self.links.extract_links(response):
            if not self._allowed(link.url):
                continue
            request = self._request(link.url)
            if request is not None:
                yield request

    def failed(self, failure: Failure) -> None:
        """Report a request that gave no page (HTTP error, network, robots.txt)."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind, detail = _failure_kind(failure)
        message = {"t": "failed", "url": url, "kind": kind, "detail": detail}
        if isinstance(failure.value, HttpError):
            message["status"] = failure.value.response.status
        self.emit(message)

    def closed(self, reason: str) -> None:
        """Report the end of the crawl."""
        self.emit(
            {
                "t": "done",
                "pages": self.pages,
                "requested": len(self.seen),
                "truncated": self.truncated,
                "reason": reason,
            }
        )


# --- the process --------------------------------------------------------------------------


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """Scrapy settings for one polite crawl: robots.txt, a delay, no cookies, no cache."""
    delay = config["download_delay"]
    return {
        "BOT_NAME": "marittimo-hub",
        "USER_AGENT": config["user_agent"],
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": delay,
        # One crawl is one portal. A global limit above the per-domain one lets requests
        # pile up in the portal's download slot, which Scrapy 2.19 (asyncio reactor) then
        # drains at ~15 pages/s at concurrency 2 with no delay (measured); equal limits do not.
        "CONCURRENT_REQUESTS": config["concurrency"],
        "CONCURRENT_REQUESTS_PER_DOMAIN": config["concurrency"],
        "AUTOTHROTTLE_ENABLED": config["autothrottle"],
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(config["concurrency"]),
        "DOWNLOAD_TIMEOUT": config["timeout"],
        "RETRY_TIMES": config["retries"],
        "DOWNLOAD_MAXSIZE": 32 * 1024 * 1024,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # The spider yields only requests (records go straight to the pipe): Scrapy's default
        # of 100 parallel item workers per page costs more than it gives.
        "CONCURRENT_ITEMS": 4,
        "LOG_LEVEL": "WARNING",
        "LOG_STDOUT": False,
        # No random jitter: the delay is a floor the portal can count on.
        **(
            {"DOWNLOAD_DELAY_JITTER": 0}
            if hasattr(default_settings, "DOWNLOAD_DELAY_JITTER")
            else {"RANDOMIZE_DOWNLOAD_DELAY": False}
        ),
    }


def _emitter(out: Any) -> Emit:
    """Writes one message per line; a closed pipe means the harvest is gone: exit."""
    lock = threading.Lock()

    def emit(message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
        try:
            with lock:
                out.write(line)
                out.flush()
        except (BrokenPipeError, ValueError, OSError):
            os._exit(1)

    return emit


def _exit_when_parent_leaves() -> None:
    """Block until stdin closes, then end the process at once."""
    while os.read(0, 4096):  # the raw descriptor: no buffer lock to hold at exit
        pass
    os._exit(1)


def main() -> None:
    """Read the options, crawl, stream the messages; exit code 0 when the crawl finished."""
    config = json.loads(sys.stdin.buffer.readline())
    # Our stdout carries the messages; anything else that prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    threading.Thread(target=_exit_when_parent_leaves, daemon=True).start()
    process = CrawlerProcess(settings(config))
    process.crawl(PortalSpider, config=config, emit=_emitter(out))
    process.start()
    out.flush()
    sys.stderr.flush()
    os._exit(0)  # at once: the stdin watcher thread is still blocked in read()


if __name__ == "__main__":
    main()
