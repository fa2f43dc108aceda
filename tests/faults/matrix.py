"""The fault matrix: one hub with a source of every harvester kind, and the faults each can meet.

`MatrixHub` writes a hub (config, mappings, shapes, data files) in a folder whose HTTP
sources point at one `FaultServer`. Each `Row` is one source: it puts its good content in
place (`good`) and applies one fault at a time (`apply`), saying what the run's message
must name. `RESULTS` collects each cell's outcome; the local conftest prints the matrix.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hub.config import HubConfig, load_config
from hub.pipeline.programme import load_programme
from hub.store import open_store
from hub.store.oxigraph import OxigraphStore
from tests.faults.faultserver import FaultServer, Reply, closed_port, redirect_loop

FAULTS = (
    "5xx",
    "429 Retry-After",
    "timeout",
    "refused",
    "invalid body",
    "truncated",
    "redirect loop",
    "encoding",
    "missing keys",
    "count drop",
    "schema drift",
)
NETWORK = FAULTS[:4] + ("redirect loop",)
N = 6  # records in a good harvest; a drop keeps 2 (a 67% drop, above max_drop 0.5)

# matrix cell -> "✓" (the test passed) or "✗"; cells never set are not applicable
RESULTS: dict[tuple[str, str], str] = {}

MAPPING = """\
mappings:
  place:
    s: id:$({key})
    po:
      - [a, schema:Place]
      - [schema:identifier, $({key})]
      - [schema:name, $(name), it~lang]
"""
CONSTRUCT = """\
PREFIX schema: <http://schema.org/>
PREFIX ex: <https://example.org/v#>
CONSTRUCT {{ ?e a schema:Place ; schema:identifier ?id ; schema:name ?name }}
WHERE {{
  ?x ex:id ?id .
  OPTIONAL {{ ?x ex:name ?name }}
  BIND(IRI(CONCAT("{{{{id}}}}", ENCODE_FOR_URI(?id))) AS ?e)
}}
"""
SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<urn:x:PlaceShape> a sh:NodeShape ; sh:targetClass schema:Place ;
  sh:property [ sh:path schema:identifier ; sh:minCount 1 ] .
"""
HTTP = "timeout = 0.5\nretries = 1\nbackoff = 0.01\n"


def places(n: int = N, *, drift: bool = False, keyless: bool = False) -> list[dict]:
    """`n` places with an accented name (so a wrong encoding shows); drift renames `name`."""
    out = []
    for i in range(n):
        record = {"id": f"p{i}", "title" if drift else "name": f"Città {i}"}
        if keyless:
            del record["id"]
        out.append(record)
    return out


def as_csv(records: list[dict], encoding: str = "utf-8") -> bytes:
    columns = list(dict.fromkeys(k for r in records for k in r)) or ["id", "name"]
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return text.getvalue().encode(encoding)


def as_json(records: list[dict], encoding: str = "utf-8") -> bytes:
    return json.dumps({"items": records}, ensure_ascii=False).encode(encoding)


def as_turtle(records: list[dict], encoding: str = "utf-8") -> bytes:
    lines = ["@prefix ex: <https://example.org/v#> ."]
    for number, r in enumerate(records):
        props = [f'ex:id "{r["id"]}"'] if "id" in r else []
        props += [f'ex:{k} "{v}"@it' for k, v in r.items() if k != "id"]
        lines.append(f"<https://example.org/p/{number}> " + " ; ".join(props) + " .")
    return ("\n".join(lines) + "\n").encode(encoding)


def as_sparql_json(records: list[dict], encoding: str = "utf-8", *, no_o: bool = False) -> bytes:
    bindings = []
    for number, r in enumerate(records):
        s = {"type": "uri", "value": f"https://example.org/p/{number}"}
        for k, v in r.items():
            binding = {"s": s, "p": {"type": "uri", "value": f"https://example.org/v#{k}"}}
            if not no_o:
                binding["o"] = {"type": "literal", "value": v}
            bindings.append(binding)
    variables = ["s", "p"] if no_o else ["s", "p", "o"]
    body = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    return json.dumps(body, ensure_ascii=False).encode(encoding)


def as_page(record: dict, encoding: str = "utf-8") -> bytes:
    item = {"@context": "https://schema.org", "@type": "Place"}
    item.update({("identifier" if k == "id" else k): v for k, v in record.items()})
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<script type="application/ld+json">{json.dumps(item, ensure_ascii=False)}</script>'
        f"</head><body><h1>{record.get('name', '')}</h1></body></html>"
    )
    return html.encode(encoding)


def as_index(count: int) -> bytes:
    links = "".join(f'<a href="/portal/p{i}.html">{i}</a> ' for i in range(count))
    return f"<!doctype html><html><body>{links}</body></html>".encode()


@dataclass
class Cell:
    """What a fault must lead to: the run's status and words its message must hold."""

    status: str
    needles: tuple[str, ...]
    check: Callable[[], None] | None = None  # more to check after the run (e.g. the waits)


class MatrixHub:
    """A hub in `root` with one source per row, on one fault server, and its store."""

    def __init__(self, root: Path, server: FaultServer, rows: list[Row]) -> None:
        self.root = root
        self.server = server
        self.rows = {row.name: row for row in rows}
        (root / "mappings").mkdir(parents=True)
        (root / "data").mkdir()
        (root / "mappings" / "records.yml").write_text(MAPPING.format(key="id"), "utf-8")
        (root / "mappings" / "portal.yml").write_text(MAPPING.format(key="identifier"), "utf-8")
        (root / "mappings" / "triples.rq").write_text(CONSTRUCT.format(), "utf-8")
        (root / "shapes.ttl").write_text(SHAPES, "utf-8")
        blocks = [
            '[hub]\nstore = "store"\nshapes = "shapes.ttl"\n',
        ]
        for row in rows:
            row.hub = self
            mapping = {"rdf": "triples.rq", "sparql": "triples.rq", "portal": "portal.yml"}
            blocks.append(
                textwrap.dedent(
                    f"""\
                    [sources.{row.source}]
                    project = "itinera"
                    kind = "{row.kind}"
                    mapping = "mappings/{mapping.get(row.kind, "records.yml")}"
                    title = "{row.name}"
                    licence = "https://creativecommons.org/licenses/by/4.0/"
                    steward = "mailto:steward@example.org"
                    key = "{"identifier" if row.kind == "portal" else "id"}"
                    [sources.{row.source}.options]
                    """
                )
                + row.options()
            )
            row.good()
        (root / "hub.toml").write_text("\n".join(blocks), "utf-8")
        self.config: HubConfig = load_config(root / "hub.toml")
        self.store: OxigraphStore = open_store(self.config.store_path)
        load_programme(self.store, self.config)

    def live(self, source: str) -> bytes:
        """The source's published graph, as sorted N-Triples read from the store."""
        graph = self.config.base_iri + f"graph/{source}"
        return b"\n".join(sorted(self.store.dump_graph(graph).splitlines()))

    def options(self, source: str) -> dict:
        """The source's options as the runs read them (a test may change them)."""
        return self.config.source(source).options


class Row:
    """One source of the matrix: its kind, options, good content, and how each fault is made."""

    name = ""
    kind = ""
    source = ""
    applies: tuple[str, ...] = FAULTS
    hub: MatrixHub
    restore: Callable[[], None] | None = None  # undoes an option a fault changed

    @property
    def server(self) -> FaultServer:
        return self.hub.server

    def options(self) -> str:
        raise NotImplementedError

    def good(self) -> None:
        """Put the good content (N places) in place."""
        self.put(self.content(places()))

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        raise NotImplementedError

    def put(self, data: bytes) -> None:
        """Make `data` the source's content (a file, or what the server answers)."""
        raise NotImplementedError

    def invalid(self) -> bytes:
        """A body that is not in the source's format."""
        return b"<!doctype html><html><body><h1>Service temporarily down</h1></body></html>"

    # the cells; each returns what the run must say
    def apply(self, fault: str) -> Cell:
        name = {"5xx": "status", "429 Retry-After": "retry_after"}.get(fault, fault)
        return getattr(self, "fault_" + name.replace(" ", "_"))()

    def fault_invalid_body(self) -> Cell:
        self.put(self.invalid())
        return Cell("failed", self.invalid_needles)

    invalid_needles: tuple[str, ...] = ("not valid JSON",)

    def fault_truncated(self) -> Cell:
        raise NotImplementedError

    def fault_encoding(self) -> Cell:
        self.put(self.content(places(), "latin-1"))
        return Cell("failed", self.encoding_needles)

    encoding_needles: tuple[str, ...] = ("encoding",)

    def fault_missing_keys(self) -> Cell:
        self.put(self.content(places(keyless=True)))
        return Cell("failed", self.key_needles)

    key_needles: tuple[str, ...] = ("`id`",)

    def fault_count_drop(self) -> Cell:
        self.put(self.content(places(2)))
        return Cell("held", (f"fewer than the {self.published} of the last published run",))

    published = N  # records of the good harvest (rdf and sparql count triples)

    def fault_schema_drift(self) -> Cell:
        self.put(self.content(places(drift=True)))
        return Cell("held", self.drift_needles)

    drift_needles: tuple[str, ...] = ("`name` matched no value", "schema.org/name>")


class HttpRow(Row):
    """A source downloaded from the fault server (through the shared HTTP client)."""

    path = ""  # the path the network faults hit
    url_option = "url"
    timeout_needles: tuple[str, ...] = ("no answer", "within 0.5 s")

    def put(self, data: bytes) -> None:
        self.server.serve(self.path, Reply(body=data, headers={"Content-Type": self.media}))

    media = "application/json"

    def fault_status(self) -> Cell:
        self.server.fault(self.path, Reply(503, b"busy", {"Content-Type": "text/plain"}))
        return Cell("failed", ("HTTP 503",))

    def fault_retry_after(self) -> Cell:
        self.server.fault(self.path, Reply(429, b"slow down", {"Retry-After": "1"}))

        def waited() -> None:
            hits = self.server.hits_of(self.path)
            assert len(hits) >= 2, hits
            gap = hits[1].at - hits[0].at
            assert gap >= 0.9, f"the retry came {gap:.2f} s after a Retry-After of 1 s"

        return Cell("failed", ("HTTP 429", "Retry-After"), waited)

    def fault_timeout(self) -> Cell:
        answer = self.server.content[self.path]
        good = answer() if callable(answer) else answer
        self.server.fault(self.path, Reply(good.status, good.body, good.headers, delay=3))
        return Cell("failed", self.timeout_needles)

    def fault_refused(self) -> Cell:
        options = self.hub.options(self.source)
        url = options[self.url_option]
        options[self.url_option] = url.replace(
            self.server.base, f"http://127.0.0.1:{closed_port()}"
        )

        def restore() -> None:
            options[self.url_option] = url

        self.restore = restore
        return Cell("failed", ("refused",))

    def fault_redirect_loop(self) -> Cell:
        self.server.fault(self.path, redirect_loop(self.path))
        return Cell("failed", ("redirect",))

    def fault_truncated(self) -> Cell:
        body = self.content(places())
        self.server.fault(
            self.path, Reply(body=body, headers={"Content-Type": self.media}, cut=len(body) // 2)
        )
        return Cell("failed", self.truncated_needles)

    truncated_needles: tuple[str, ...] = ("broke off",)


class FilesLocal(Row):
    name, kind, source = "files (local CSV)", "files", "files-local"
    applies = tuple(f for f in FAULTS if f not in NETWORK)
    invalid_needles = ("line 4", "3 fields but the header has 2")
    key_needles = ("`id`",)

    @property
    def file(self) -> Path:
        return self.hub.root / "data" / "places.csv"

    def options(self) -> str:
        return 'path = "data/places.csv"\n'

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        return as_csv(records, encoding)

    def put(self, data: bytes) -> None:
        self.file.write_bytes(data)

    def invalid(self) -> bytes:
        return b"id,name\np0,Luogo\np1,Luogo\np2,Luogo,extra\n"

    def fault_truncated(self) -> Cell:
        data = self.content(places())
        self.put(data[: data.index(b"\n", len(data) // 2) + 2])  # cut inside a row
        return Cell("failed", ("cut short",))


class FilesHttp(HttpRow):
    name, kind, source = "files (CSV over HTTP)", "files", "files-http"
    path = "/files/places.csv"
    media = "text/csv"
    invalid_needles = ("HTML page, not CSV",)

    def options(self) -> str:
        return f'url = "{self.server.url(self.path)}"\n' + HTTP

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        return as_csv(records, encoding)


class Sql(Row):
    name, kind, source = "sql (SQLite)", "sql", "sql"
    applies = tuple(f for f in FAULTS if f not in ("5xx", "429 Retry-After", "redirect loop"))
    encoding_needles = ("UTF-8",)

    @property
    def file(self) -> Path:
        return self.hub.root / "data" / "places.sqlite"

    def options(self) -> str:
        return (
            'url = "sqlite:///data/places.sqlite?timeout=0.2"\n'
            'query = "SELECT id, name FROM places ORDER BY id"\n'
        )

    def write(self, records: list[dict], *, column: str = "name", raw: bool = False) -> None:
        self.file.unlink(missing_ok=True)
        with sqlite3.connect(self.file) as db:
            db.execute(f"CREATE TABLE places (id TEXT, {column} TEXT)")
            for r in records:
                value = r.get("name") or r.get("title")
                if raw:  # bytes stored as TEXT that are not UTF-8
                    db.execute(
                        "INSERT INTO places VALUES (?, CAST(? AS TEXT))",
                        (r.get("id"), value.encode("latin-1")),
                    )
                else:
                    db.execute("INSERT INTO places VALUES (?, ?)", (r.get("id"), value))
        db.close()

    def good(self) -> None:
        self.write(places())

    def fault_timeout(self) -> Cell:
        # another process holds the write lock for longer than the source's busy timeout
        locker = sqlite3.connect(self.file, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")

        def restore() -> None:
            locker.execute("ROLLBACK")
            locker.close()

        self.restore = restore
        return Cell("failed", ("database is locked", "SQLite"))

    def fault_refused(self) -> Cell:
        options = self.hub.options(self.source)
        url = options["url"]
        options["url"] = f"postgresql+psycopg2://hub@127.0.0.1:{closed_port()}/places"

        def restore() -> None:
            options["url"] = url

        self.restore = restore
        return Cell("failed", ("cannot connect", "refused"))

    def fault_invalid_body(self) -> Cell:
        self.file.write_bytes(b"this is not a SQLite database, only text\n" * 200)
        return Cell("failed", ("not a database", "SQLite file"))

    def fault_truncated(self) -> Cell:
        self.write(places(400))
        data = self.file.read_bytes()
        self.file.write_bytes(data[: len(data) // 2])
        return Cell("failed", ("malformed", "SQLite file"))

    def fault_encoding(self) -> Cell:
        self.write(places(), raw=True)
        return Cell("failed", self.encoding_needles)

    def fault_missing_keys(self) -> Cell:
        self.write(places(keyless=True))
        return Cell("failed", self.key_needles)

    def fault_count_drop(self) -> Cell:
        self.write(places(2))
        return Cell("held", ("fewer than the 6 of the last published run",))

    def fault_schema_drift(self) -> Cell:
        self.write(places(drift=True), column="title")
        return Cell("failed", ("no such column: name",))


class Rest(HttpRow):
    name, kind, source = "rest", "rest", "rest"
    path = "/api/places"

    def options(self) -> str:
        return (
            f'url = "{self.server.url(self.path)}"\nrecords = "items"\nconditional = false\n' + HTTP
        )

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        return as_json(records, encoding)

    encoding_needles = ("UTF-8",)


class Ckan(HttpRow):
    name, kind, source = "ckan", "ckan", "ckan"
    path = "/ckan/files/places.csv"
    api = "/ckan/api/3/action/package_search"
    media = "text/csv"
    invalid_needles = ("HTML page, not CSV",)

    def options(self) -> str:
        return f'url = "{self.server.url("/ckan/")}"\n' + HTTP

    def good(self) -> None:
        package = {
            "name": "places",
            "resources": [{"id": "r1", "format": "CSV", "url": self.server.url(self.path)}],
        }
        result = {"count": 1, "results": [package]}
        body = json.dumps({"success": True, "result": result}).encode()
        self.server.serve(self.api, Reply(body=body, headers={"Content-Type": "application/json"}))
        super().good()

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        return as_csv(records, encoding)

    def fault_status(self) -> Cell:  # the Action API fails
        self.server.fault(self.api, Reply(503, b"busy", {"Content-Type": "text/plain"}))
        return Cell("failed", ("HTTP 503",))

    def fault_timeout(self) -> Cell:
        answer = self.server.content[self.api]
        assert isinstance(answer, Reply)
        self.server.fault(self.api, Reply(200, answer.body, answer.headers, delay=3))
        return Cell("failed", self.timeout_needles)


class RdfHttp(HttpRow):
    name, kind, source = "rdf (Turtle over HTTP)", "rdf", "rdf-http"
    path = "/rdf/places.ttl"
    media = "text/turtle"
    invalid_needles = ("not valid turtle",)
    encoding_needles = ("UTF-8",)
    key_needles = ()
    applies = tuple(f for f in FAULTS if f != "missing keys")  # triples have no record key
    published = 2 * N
    drift_needles = ("schema.org/name>", "renamed")

    def options(self) -> str:
        return f'url = "{self.server.url(self.path)}"\nformat = "turtle"\n' + HTTP

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        return as_turtle(records, encoding)


class RdfLocal(RdfHttp):
    name, kind, source = "rdf (local Turtle)", "rdf", "rdf-local"
    applies = tuple(f for f in RdfHttp.applies if f not in NETWORK)

    @property
    def file(self) -> Path:
        return self.hub.root / "data" / "places.ttl"

    def options(self) -> str:
        return 'path = "data/places.ttl"\n'

    def put(self, data: bytes) -> None:
        self.file.write_bytes(data)

    def fault_truncated(self) -> Cell:
        data = self.content(places())
        self.put(data[: len(data) // 2])
        return Cell("failed", ("not valid turtle",))


class Sparql(HttpRow):
    name, kind, source = "sparql", "sparql", "sparql"
    path = "/sparql"
    url_option = "endpoint"
    media = "application/sparql-results+json"
    invalid_needles = ("not valid SPARQL JSON results",)
    encoding_needles = ("UTF-8",)
    key_needles = ("?s ?p ?o",)
    timeout_needles = ("no answer", "within 1 s")
    truncated_needles = ("not valid SPARQL JSON results",)
    drift_needles = ("schema.org/name>", "renamed")
    published = 2 * N

    def options(self) -> str:
        return (
            f'endpoint = "{self.server.url(self.path)}"\n'
            'query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p"\n'
            "timeout = 1\n"
        )

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        return as_sparql_json(records, encoding)

    def fault_missing_keys(self) -> Cell:  # the answer binds ?s ?p but no ?o
        self.put(as_sparql_json(places(), no_o=True))
        return Cell("failed", self.key_needles)

    def fault_retry_after(self) -> Cell:  # no retries in this kind: say what was asked
        self.server.fault(self.path, Reply(429, b"slow down", {"Retry-After": "1"}))
        return Cell("failed", ("HTTP 429", "Retry-After"))


class Portal(HttpRow):
    """A Scrapy crawl: an index page linking N item pages with schema.org JSON-LD."""

    name, kind, source = "portal (Scrapy)", "portal", "portal"
    path = "/portal/p0.html"  # faults hit one item page of six: the crawl goes on without it
    url_option = "start_urls"
    media = "text/html; charset=utf-8"
    timeout_needles = ("took longer than 0.5 seconds",)
    invalid_needles = ("p0.html", "markup cannot be read")
    key_needles = ("`identifier`",)
    truncated_needles = ("p0.html",)

    def options(self) -> str:
        return (
            f'start_urls = ["{self.server.url("/portal/")}"]\n'
            "download_delay = 0\nretries = 0\ntimeout = 0.5\nconcurrency = 4\n"
        )

    def good(self) -> None:
        self.pages(places())

    def pages(self, records: list[dict], encoding: str = "utf-8") -> None:
        self.server.serve("/portal/", Reply(body=as_index(len(records)), headers=self._html))
        for number, record in enumerate(records):
            self.server.serve(
                f"/portal/p{number}.html", Reply(body=as_page(record, encoding), headers=self._html)
            )

    _html = {"Content-Type": "text/html; charset=utf-8"}

    def content(self, records: list[dict], encoding: str = "utf-8") -> bytes:
        return as_page(records[0], encoding)

    def put(self, data: bytes) -> None:
        self.server.serve(self.path, Reply(body=data, headers=self._html))

    def invalid(self) -> bytes:
        return b'<html><head><script type="application/ld+json">{"@type": </script></head></html>'

    def fault_refused(self) -> Cell:
        options = self.hub.options(self.source)
        starts = options["start_urls"]
        options["start_urls"] = [f"http://127.0.0.1:{closed_port()}/portal/"]

        def restore() -> None:
            options["start_urls"] = starts

        self.restore = restore
        return Cell("failed", ("cannot connect", "refused"))

    def fault_retry_after(self) -> Cell:
        self.server.fault(self.path, Reply(429, b"slow down", {"Retry-After": "1"}))
        return Cell("failed", ("HTTP 429", "Retry-After"))

    def fault_encoding(self) -> Cell:
        self.put(as_page(places()[0], "latin-1"))
        return Cell("failed", ("p0.html", "utf-8"))

    def fault_missing_keys(self) -> Cell:
        self.pages(places(keyless=True))
        return Cell("failed", self.key_needles)

    def fault_count_drop(self) -> Cell:
        self.server.serve("/portal/", Reply(body=as_index(2), headers=self._html))
        return Cell("held", ("fewer than the 6 of the last published run",))

    def fault_schema_drift(self) -> Cell:
        self.pages(places(drift=True))
        return Cell("held", self.drift_needles)


ROWS: list[Callable[[], Row]] = [
    FilesLocal,
    FilesHttp,
    Sql,
    Rest,
    Ckan,
    RdfHttp,
    RdfLocal,
    Sparql,
    Portal,
]


def render(results: dict[tuple[str, str], str], rows: list[Row]) -> str:
    """The matrix as a text table: rows are sources, columns faults; ✓, ✗ or n.a."""
    width = max(len(r.name) for r in rows)
    head = " " * width + " | " + " | ".join(f.center(4) for f in FAULTS)
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = []
        for fault in FAULTS:
            mark = results.get((row.name, fault)) or ("·" if fault in row.applies else "n.a.")
            cells.append(mark.center(max(len(fault), 4)))
        lines.append(row.name.ljust(width) + " | " + " | ".join(cells))
    return "\n".join(lines)
