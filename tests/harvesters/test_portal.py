"""The `portal` harvester: real Scrapy crawls (in child processes) of real pages on loopback."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harvesters.context import HarvestContext
from harvesters.portal import harvest_portal
from hub.demo import tesori_portal
from hub.errors import HarvestError
from hub.iris import Iris
from hub.mapping.compile import compile_mapping
from hub.mapping.runner import MappingRunner
from hub.store import open_store
from hub.validation import load_shapes, validate_graph

SITE = Path(__file__).parent / "portal_site"
REPO = Path(__file__).resolve().parents[2]
LOG = "harvesters.portal"


# --- a real HTTP server that keeps a log of the requests it received ----------------------


@dataclass
class Hit:
    """One request the server received."""

    at: float
    path: str
    headers: dict[str, str]


@dataclass
class Site:
    """A ThreadingHTTPServer serving a folder, with canned routes and a request log."""

    base: str
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return self.base + path.lstrip("/")

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [h.path for h in self.hits]

    def pages(self) -> list[Hit]:
        """The requests other than robots.txt."""
        return [h for h in self.hits if h.path != "/robots.txt"]


def _serve(folder: Path, host: str = "127.0.0.1") -> tuple[ThreadingHTTPServer, Site]:
    site = Site(base="")
    lock = threading.Lock()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self) -> None:
            with lock:
                site.hits.append(Hit(time.monotonic(), self.path, dict(self.headers.items())))
            route = site.routes.get(self.path)
            if route is None:
                super().do_GET()
                return
            status, headers, body = route
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    site.base = f"http://{host}:{server.server_address[1]}/"
    return server, site


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    """The test portal on 127.0.0.1, and an `external` site on `localhost` it links to."""
    external_server, external = _serve(tmp_path_factory.mktemp("external"), host="localhost")
    server, site = _serve(SITE)
    links = f'<html><body><a href="{external.url("page.html")}">elsewhere</a></body></html>'
    site.routes["/links.html"] = (200, {"Set-Cookie": "session=abc; Path=/"}, links.encode())
    site.routes["/broken.html"] = (500, {}, b"<html><body>Internal error</body></html>")
    bad = b'<html><head><script type="application/ld+json">{"@type": </script></head></html>'
    site.routes["/bad-jsonld.html"] = (200, {}, bad)
    yield site, external
    for s in (server, external_server):
        s.shutdown()
        s.server_close()


@pytest.fixture
def site(servers: tuple[Site, Site]) -> Site:
    """The test portal, with an empty request log."""
    servers[0].hits.clear()
    return servers[0]


def crawl(options: dict[str, Any], context: HarvestContext | None = None) -> list[dict]:
    """All records of a portal source called `test`."""
    return list(harvest_portal("test", options, root=Path("."), context=context))


FIELDS = {
    "name": "css:h1::text",
    "summary": "css:.description p::text",
    "lat": "xpath://span[@class='lat']/text()",
    "lon": "xpath:string(//span[@class='lon'])",
    "images": "css:img::attr(src)[]",
    "tags": "css:ul.tags li[]",
}


@dataclass
class Crawl:
    """One full crawl of the test portal: its records, the request logs and the log messages."""

    base: str
    records: list[dict]
    hits: list[Hit]
    external_hits: list[Hit]
    warnings: list[str]
    context: HarvestContext
    error: str  # why the harvest failed once the crawl ended ("" if it did not)

    def at(self, path: str) -> list[dict]:
        """The records of one page."""
        return [r for r in self.records if r["_url"].endswith(path)]


@pytest.fixture(scope="module")
def full_crawl(servers: tuple[Site, Site]) -> Crawl:
    """The test portal crawled once from its home page with every extractor and some fields."""
    site, external = servers
    site.hits.clear()
    external.hits.clear()
    handler = _ListHandler()
    logger = logging.getLogger(LOG)
    logger.addHandler(handler)
    context = HarvestContext()
    records: list[dict] = []
    error = ""
    options = {"start_urls": [site.base], "download_delay": 0, "fields": FIELDS, "retries": 1}
    try:
        # the portal's broken.html (HTTP 500) fails the harvest, after the crawl
        for record in harvest_portal("test", options, root=Path("."), context=context):
            records.append(record)
    except HarvestError as exc:
        error = str(exc)
    finally:
        logger.removeHandler(handler)
    return Crawl(
        site.base, records, list(site.hits), list(external.hits), handler.messages, context, error
    )


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


# --- extraction ---------------------------------------------------------------------------


def test_jsonld_item_is_a_record_with_its_page_url(full_crawl: Crawl) -> None:
    [record] = full_crawl.at("/places/jsonld.html")
    assert record["@type"] == "TouristAttraction"
    assert record["identifier"] == "t-1"
    assert record["geo"] == {"@type": "GeoCoordinates", "latitude": 44.05, "longitude": 10.38}
    assert record["address"]["addressLocality"] == "Vergemoli"
    assert record["_syntax"] == "json-ld"
    # the BreadcrumbList on the same page describes the page, not a place: left out


def test_fields_fill_in_what_the_markup_lacks_but_never_override_it(full_crawl: Crawl) -> None:
    [record] = full_crawl.at("/places/jsonld.html")
    assert record["name"] == "Grotta del Vento"  # JSON-LD's own, though `name` is a field too
    assert record["summary"] == "Una grotta di prova."  # a field the JSON-LD lacks


def test_jsonld_graph_gives_one_record_per_node(full_crawl: Crawl) -> None:
    records = full_crawl.at("/places/graph.html")
    assert [(r["@type"], r["identifier"]) for r in records] == [
        ("Museum", "t-4"),
        ("TouristAttraction", "t-5"),
    ]


def test_microdata_item_comes_in_jsonld_shape(full_crawl: Crawl) -> None:
    [record] = full_crawl.at("/places/microdata.html")
    assert record["@type"] == "TouristAttraction"
    assert record["name"] == "Chapelle Saint-Test"
    assert record["identifier"] == "t-2"
    assert record["geo"] == {"@type": "GeoCoordinates", "latitude": "42.10", "longitude": "9.05"}
    assert record["_syntax"] == "microdata"


def test_css_and_xpath_fields_of_a_page_without_markup(full_crawl: Crawl) -> None:
    [record] = full_crawl.at("/places/plain.html")
    assert record == {
        "name": "Hidden Cove",  # whitespace normalized
        "summary": "A small cove reached on foot.",  # first match only
        "lat": "43.21",
        "lon": "7.35",
        "images": [
            full_crawl.base + "img/cove-1.jpg",
            full_crawl.base + "img/cove-2.jpg",
        ],  # src made absolute
        "tags": ["sea", "walk"],  # a list; the blank item left out
        "_url": record["_url"],
        "_syntax": "html",
    }
    assert record["_url"].endswith("/places/plain.html")  # the #fragment dropped


def test_pages_whose_fields_find_nothing_give_no_record(full_crawl: Crawl) -> None:
    # the index pages have an <h1>, so they give a record of that field; links.html has none
    assert full_crawl.at("/links.html") == []
    assert {r["_url"].rsplit("/", 1)[-1] for r in full_crawl.records} == {
        "",
        "index.html",
        "page-2.html",
        "jsonld.html",
        "microdata.html",
        "plain.html",
        "graph.html",
    }


# --- politeness ---------------------------------------------------------------------------


def test_robots_txt_is_read_first_and_obeyed(full_crawl: Crawl) -> None:
    paths = [h.path for h in full_crawl.hits]
    assert paths[0] == "/robots.txt"
    assert "/private/secret.html" not in paths
    assert not full_crawl.at("/private/secret.html")


def test_links_outside_allowed_domains_are_not_followed(full_crawl: Crawl) -> None:
    assert "/links.html" in [h.path for h in full_crawl.hits]
    assert full_crawl.external_hits == []


def test_user_agent_names_the_hub_and_no_cookies_are_sent(full_crawl: Crawl) -> None:
    assert {h.headers["User-Agent"] for h in full_crawl.hits} == {
        "MarittimoHub/0.1 (+https://w3id.org/marittimo-hub)"
    }
    # links.html set a cookie; no later request sends it back
    assert not [h for h in full_crawl.hits if "Cookie" in h.headers]


def test_every_page_is_requested_once(full_crawl: Crawl) -> None:
    paths = [h.path for h in full_crawl.hits if h.path != "/broken.html"]
    assert len(paths) == len(set(paths))
    # pages asked for: robots.txt, and the page it forbids, not counted
    assert full_crawl.context.requests == 9


def test_a_500_page_is_retried_the_crawl_goes_on_then_the_harvest_fails(full_crawl: Crawl) -> None:
    assert [h.path for h in full_crawl.hits].count("/broken.html") == 2  # retries = 1
    assert len(full_crawl.at("/places/plain.html")) == 1  # pages after it were crawled
    # ...but the crawl is incomplete: publishing it would drop that page's records
    assert "1 of 9 requested pages could not be read" in full_crawl.error
    assert "broken.html (HTTP 500)" in full_crawl.error
    assert "nothing was published" in full_crawl.error


def test_download_delay_is_a_lower_bound_between_requests(site: Site) -> None:
    records = crawl(
        {"start_urls": [site.base], "download_delay": 0.4, "concurrency": 4, "max_pages": 4}
    )
    assert records
    starts = [h.at for h in site.hits]
    assert len(starts) == 5  # robots.txt + 4 pages
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.35, gaps


def test_max_pages_stops_the_crawl_and_says_so(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOG):
        crawl({"start_urls": [site.base], "download_delay": 0, "max_pages": 3})
    assert len(site.pages()) == 3
    assert "stopped at options.max_pages = 3" in caplog.text


def test_follow_and_item_urls_narrow_the_crawl(site: Site) -> None:
    records = crawl(
        {
            "start_urls": [site.base],
            "download_delay": 0,
            "follow": [r"/page-\d+\.html$"],
            "item_urls": [r"/places/graph\.html$"],
        }
    )
    assert sorted(site.paths()) == ["/", "/page-2.html", "/places/graph.html", "/robots.txt"]
    assert [r["identifier"] for r in records] == ["t-4", "t-5"]


def test_extract_and_types_choose_what_becomes_a_record(site: Site) -> None:
    options: dict[str, Any] = {
        "start_urls": [site.url("places/jsonld.html"), site.url("places/microdata.html")],
        "download_delay": 0,
        "item_urls": ["/places/"],
        "follow": ["^$"],  # no link followed: only the start pages
    }
    assert [r["_syntax"] for r in crawl({**options, "extract": ["microdata"]})] == ["microdata"]
    records = crawl({**options, "extract": ["jsonld"], "types": ["BreadcrumbList"]})
    assert [r["@type"] for r in records] == ["BreadcrumbList"]


def test_a_page_that_cannot_be_read_fails_the_harvest_after_the_crawl(site: Site) -> None:
    urls = [site.url("bad-jsonld.html"), site.url("places/graph.html")]
    options = {"start_urls": urls, "download_delay": 0, "follow": ["^$"]}
    records: list[dict] = []
    with pytest.raises(HarvestError) as caught:
        for record in harvest_portal("test", options, root=Path(".")):
            records.append(record)
    assert [r["identifier"] for r in records] == ["t-4", "t-5"]
    assert "1 of 2 requested pages could not be read" in str(caught.value)
    assert "bad-jsonld.html (its markup cannot be read: JSONDecodeError" in str(caught.value)


def test_a_page_that_is_gone_is_left_out_and_logged(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    urls = [site.url("no-such-page.html"), site.url("places/graph.html")]
    with caplog.at_level(logging.WARNING, logger=LOG):
        records = crawl({"start_urls": urls, "download_delay": 0, "follow": ["^$"]})
    assert [r["identifier"] for r in records] == ["t-4", "t-5"]
    assert "1 of 2 requested pages gave nothing" in caplog.text
    assert "no-such-page.html (HTTP 404)" in caplog.text


# --- errors -------------------------------------------------------------------------------


def test_connection_refused_raises_harvest_error(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    with pytest.raises(HarvestError) as caught:
        crawl({"start_urls": [url], "retries": 0})
    message = str(caught.value)
    assert f"cannot connect to {url}" in message
    assert "check options.start_urls and that the portal is up" in message


def test_robots_txt_forbidding_every_start_url_raises(site: Site) -> None:
    with pytest.raises(HarvestError, match=r"robots\.txt of the portal forbids .*secret\.html"):
        crawl({"start_urls": [site.url("private/secret.html")]})
    assert "/private/secret.html" not in site.paths()


def test_every_page_failing_raises(site: Site) -> None:
    with pytest.raises(HarvestError, match=r"every page answered with an error .*HTTP 500"):
        crawl({"start_urls": [site.url("broken.html")], "retries": 0})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"options\.start_urls is required: give .* \(the portal's home page"),
        ({"start_urls": ["ftp://x/"]}, r"`ftp://x/` is not an http\(s\) URL"),
        ({"start_urls": ["http://a.example/"], "max_page": 3}, r"did you mean `max_pages`"),
        (
            {"start_urls": ["http://a.example/"], "allowed_domains": ["a.example:8080"]},
            r"must be a host name only",
        ),
        (
            {"start_urls": ["http://a.example/"], "allowed_domains": ["b.example"]},
            r"outside options\.allowed_domains .*add its host `a\.example`",
        ),
        ({"start_urls": ["http://a.example/"], "follow": ["("]}, r"not a valid regular expr"),
        (
            {"start_urls": ["http://a.example/"], "fields": {"n": "h1::text"}},
            r"options\.fields\.n = 'h1::text' must start with `css:` or `xpath:`",
        ),
        (
            {"start_urls": ["http://a.example/"], "fields": {"n": "xpath://h1[@"}},
            r"options\.fields\.n: `//h1\[@` is not a valid xpath selector",
        ),
        (
            {"start_urls": ["http://a.example/"], "fields": {"n": "css:h1::bogus"}},
            r"not a valid css selector",
        ),
        (
            {"start_urls": ["http://a.example/"], "extract": ["rdfa"]},
            r"options\.extract must be a list of some of jsonld, microdata, fields, not \['rdfa'\]",
        ),
        (
            {"start_urls": ["http://a.example/"], "extract": ["jsonld"], "fields": {"n": "css:h1"}},
            r"leaves out \"fields\"",
        ),
        ({"start_urls": ["http://a.example/"], "download_delay": -1}, r"a number >= 0"),
    ],
)
def test_bad_options_are_refused_before_any_crawl(options: dict, message: str) -> None:
    with pytest.raises(HarvestError, match=message):
        harvest_portal("test", options, root=Path("."))


# --- the child process --------------------------------------------------------------------


def _crawler_children() -> list[int]:
    """Pids of this process's children that run the portal spider (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"_portal_spider" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_closing_the_harvest_early_kills_the_crawl(site: Site) -> None:
    records = harvest_portal(
        "test", {"start_urls": [site.base], "download_delay": 0.3}, root=Path(".")
    )
    first = next(records)
    assert first["_url"].startswith(site.base)
    assert _crawler_children()
    records.close()
    assert _crawler_children() == []
    requested = len(site.hits)
    time.sleep(0.8)  # more than two delays
    assert len(site.hits) == requested  # nothing more was fetched


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_crawler_that_dies_raises_harvest_error(site: Site) -> None:
    records = harvest_portal(
        "test", {"start_urls": [site.base], "download_delay": 0.3}, root=Path(".")
    )
    next(records)
    [pid] = _crawler_children()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(HarvestError, match=r"crawler process stopped .* \(exit code -9\)"):
        list(records)


def test_two_crawls_in_one_process(site: Site) -> None:
    options = {"start_urls": [site.url("places/graph.html")], "download_delay": 0}
    first, second = crawl(options), crawl(options)
    assert [r["identifier"] for r in first] == [r["identifier"] for r in second] == ["t-4", "t-5"]


# --- end to end: the demo portal, mapped and validated -------------------------------------

# The options of `tesori-places` in hub.toml, used when the source is not (yet) there.
DEMO_OPTIONS: dict[str, Any] = {
    "follow": [r"/page-\d+\.html$"],
    "item_urls": [r"/luoghi/[^/]+\.html$"],
    "types": ["TouristAttraction"],
    "download_delay": 0.1,
    "fields": {
        "identifier": "css:article.place::attr(data-id)",
        "name_it": "css:article.place section[lang=it] .name::text",
        "name_fr": "css:article.place section[lang=fr] .name::text",
        "name_en": "css:article.place section[lang=en] .name::text",
        "description_it": "css:article.place section[lang=it] .description",
        "description_fr": "css:article.place section[lang=fr] .description",
        "description_en": "css:article.place section[lang=en] .description",
        "municipality": "css:article.place .municipality::text",
        "postal_code": "css:article.place .postal-code::text",
        "country": "css:article.place .country::text",
        "region": "css:article.place .region::attr(data-region)",
        "category": "css:article.place .category::attr(data-category)",
        "lat": "xpath://article[@class='place']//span[@class='lat']/text()",
        "lon": "xpath://article[@class='place']//span[@class='lon']/text()",
    },
}


def _demo_options(base_url: str) -> dict[str, Any]:
    config = tomllib.loads((REPO / "hub.toml").read_text(encoding="utf-8"))
    source = config.get("sources", {}).get("tesori-places")
    options = dict(source["options"]) if source else dict(DEMO_OPTIONS)
    options["start_urls"] = [base_url]
    options["download_delay"] = min(options.get("download_delay", 0.5), 0.1)
    return options


def test_demo_portal_gives_one_conforming_entity_per_place(tmp_path: Path) -> None:
    server, base_url = tesori_portal.start(0)
    try:
        records = crawl(_demo_options(base_url))
    finally:
        tesori_portal.stop(server)
    assert len(records) == 30
    assert {r["_syntax"] for r in records} == {"json-ld", "html"}
    assert len({r["identifier"] for r in records}) == 30

    iris = Iris("https://hub.example.org/")
    path = REPO / "mappings" / "tesori-places.yml"
    mapping = compile_mapping(
        path.read_text(encoding="utf-8"),
        file="mappings/tesori-places.yml",
        source_id="tesori-places",
        iris=iris,
    )
    runner = MappingRunner(mapping, source="tesori-places", record_key="identifier")
    data = b"".join(runner.run(records))
    assert runner.stats.failed == 0, [f.message("tesori-places") for f in runner.stats.failures]
    assert runner.unmatched_references() == []

    store = open_store(tmp_path / "store")
    graph = iris.source_graph("tesori-places")
    store.bulk_load([data], graph)
    rows = store.select(
        f"SELECT DISTINCT ?s ?p WHERE {{ GRAPH <{graph}> "
        "{ ?s a <http://schema.org/TouristAttraction> ; ?p ?o } }"
    )
    properties: dict[str, set[str]] = {}
    for row in rows:
        properties.setdefault(row["s"].value, set()).add(row["p"].value)
    assert len(properties) == 30
    # JSON-LD pages and plain pages give the same properties
    assert len({frozenset(ps) for ps in properties.values()}) == 1
    report = validate_graph(store, graph, load_shapes(REPO / "ontology" / "shapes.ttl"))
    assert report.conforms, report.violations[:5]
    assert report.warning_count == 0, report.violations[:5]
