"""The `sparql` kind: triples from another SPARQL endpoint, as N-Triples chunks.

`options.query` is a CONSTRUCT (or DESCRIBE), whose RDF answer is parsed as a stream, or a
SELECT binding ?s ?p ?o, each solution one triple. The query is sent with SPARQLWrapper
(SPARQL 1.1 Protocol, POST); like `rdf`, the harvester yields UTF-8 N-Triples chunks
(`harvest_sparql.produces = "ntriples"`).

With `page_size` the query is sent again and again with `LIMIT n OFFSET k` appended,
until a page comes back short (SELECT) or empty (CONSTRUCT). Pages are consistent only
if the query has an ORDER BY over a total order and the data does not change meanwhile;
without ORDER BY an endpoint may return rows twice or skip some between pages. Blank
nodes cannot be followed across pages: page only data without blank nodes.
"""

from __future__ import annotations

import ast
import http.client
import os
import re
import socket
import urllib.error
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pyoxigraph as ox
from pydantic import Field

from harvesters._common import mask_url, scrub
from harvesters._http import USER_AGENT, Auth, AuthOption, Headers, auth_of
from harvesters._options import KindOptions, PositiveInt, Seconds, Text, declared
from harvesters.context import HarvestContext
from harvesters.rdf import parse_error
from hub.errors import HarvestError
from hub.util.ntriples import ntriples_chunks

if TYPE_CHECKING:  # SPARQLWrapper is imported when a `sparql` source runs, not at config load
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

__all__ = ["Options", "harvest_sparql"]

_ACCEPT_RDF = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
_PAGING = re.compile(r"\b(LIMIT|OFFSET)\s+\d+\s*$", re.IGNORECASE)
_STATUS_HINTS = {
    400: "the endpoint did not accept the query: fix options.query",
    401: "the endpoint wants credentials: set options.auth (and its environment variable)",
    403: "the endpoint refuses these credentials or this query: check options.auth",
    404: "no SPARQL endpoint at this address: check options.endpoint",
    414: "the query is too long for the endpoint",
    500: "the endpoint failed on this query: try a simpler query or a smaller page_size",
}


class Options(KindOptions):
    """The options a `sparql` source may set, with their types (checked at config load)."""

    endpoint: Text = Field(
        description='the http(s) URL of the SPARQL endpoint, e.g. "https://dati.example.it/sparql"'
    )
    query: Text = Field(description="a CONSTRUCT, or a SELECT of ?s ?p ?o")
    page_size: PositiveInt | None = Field(None, description="adds LIMIT and OFFSET to page")
    timeout: Seconds = 60.0
    auth: AuthOption | None = None
    headers: Headers = Field(default_factory=dict)


@dataclass(frozen=True)
class SparqlOptions:
    """The checked options of a `sparql` source."""

    endpoint: str
    shown: str
    query: str
    page_size: int | None
    timeout: int
    auth: Auth | None
    headers: Mapping[str, str]


def parse_options(source_id: str, options: Mapping[str, Any], root: Path) -> SparqlOptions:
    """Check the options of a `sparql` source; errors say which option to fix and how."""
    given = declared(source_id, "sparql", Options, options)
    endpoint, query, page_size = given.endpoint, given.query, given.page_size
    if urlsplit(endpoint).scheme.lower() not in ("http", "https"):
        raise HarvestError(
            source_id,
            "options.endpoint must be the http(s) URL of the SPARQL endpoint, "
            'e.g. "https://dati.example.it/sparql"',
        )
    if page_size is not None and _PAGING.search(_strip_comments(query)):
        raise HarvestError(
            source_id,
            "options.query ends with its own LIMIT or OFFSET; remove it, or remove "
            "options.page_size (which adds LIMIT and OFFSET to page through the results)",
        )
    return SparqlOptions(
        endpoint=endpoint,
        shown=mask_url(endpoint),
        query=query,
        page_size=page_size,
        timeout=max(1, round(given.timeout)),
        auth=auth_of(given.auth),
        headers=dict(given.headers),
    )


def _strip_comments(query: str) -> str:
    """The query without # comments (a # inside an IRI or a string is kept)."""
    return re.sub(r'(<[^>\s]*>|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|#[^\n]*', r"\1", query)


def _secret(source_id: str, name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise HarvestError(
            source_id,
            f"environment variable {name} (named in options.auth) is not set or empty; "
            "export it before running the source",
        )
    return value


class _Endpoint:
    """One SPARQLWrapper set up for the source: method, timeout, auth, headers."""

    def __init__(self, source_id: str, opts: SparqlOptions) -> None:
        self.source_id = source_id
        self.opts = opts
        self.secrets: list[str] = []
        from SPARQLWrapper import BASIC, POST, SPARQLWrapper

        wrapper = SPARQLWrapper(opts.endpoint, agent=USER_AGENT)
        wrapper.setMethod(POST)
        wrapper.setTimeout(opts.timeout)
        for name, value in opts.headers.items():
            wrapper.addCustomHttpHeader(name, value)
        auth = opts.auth
        if auth is not None:
            secret = _secret(source_id, auth.secret_env)
            self.secrets.append(secret)
            if auth.type == "basic":
                user = _secret(source_id, auth.username_env) if auth.username_env else auth.username
                wrapper.setHTTPAuth(BASIC)
                wrapper.setCredentials(user or "", secret)
            elif auth.type == "bearer":
                wrapper.addCustomHttpHeader("Authorization", f"Bearer {secret}")
            elif auth.header:
                wrapper.addCustomHttpHeader(auth.header, secret)
            else:
                wrapper.addParameter(auth.param or "", secret)
        self.wrapper = wrapper

    def error(self, message: str) -> HarvestError:
        return HarvestError(self.source_id, scrub(message, self.secrets))

    def query_type(self, query: str) -> str:
        """SELECT, CONSTRUCT, DESCRIBE, ASK... as SPARQLWrapper reads the query."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.wrapper.setQuery(query)
        return str(self.wrapper.queryType)

    def send(self, query: str, accept: str, return_format: str) -> Any:
        """The open HTTP response to `query`; HarvestError with the server's message."""
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.wrapper.setQuery(query)
            self.wrapper.setReturnFormat(return_format)
        self.wrapper.addCustomHttpHeader("Accept", accept)
        shown = self.opts.shown
        try:
            return self.wrapper.query().response
        except SPARQLWrapperException as exc:
            raise self._status_error(exc) from None
        except urllib.error.HTTPError as exc:
            body = exc.read()[:2000].decode("utf-8", "replace")
            hint = _STATUS_HINTS.get(exc.code, "check options.endpoint and options.query")
            if exc.code >= 500:
                hint = "the endpoint is failing: try again later"
            asked = exc.headers.get("Retry-After") if exc.headers is not None else None
            if exc.code == 429:
                hint = "the endpoint is rate-limiting: the next run tries again"
            if asked and exc.code in (429, 503):
                # this kind does not retry within a run: say when the endpoint wants us back
                hint += f" (it asked to wait Retry-After: {asked}); schedule the source less often"
            raise self.error(
                f"HTTP {exc.code} {exc.reason} from {shown}: {_tidy(body)}; {hint}"
            ) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise self._timeout() from None
            raise self.error(
                f"cannot reach the SPARQL endpoint {shown}: {exc.reason}; check "
                "options.endpoint and that the server is up"
            ) from None
        except TimeoutError:
            raise self._timeout() from None
        except (http.client.HTTPException, OSError) as exc:
            raise self.error(
                f"the connection to {shown} broke: {exc!r}; try again, or check options.endpoint"
            ) from None

    def _timeout(self) -> HarvestError:
        return self.error(
            f"no answer from {self.opts.shown} within {self.opts.timeout} s; raise "
            "options.timeout, or page through the results with options.page_size"
        )

    def _status_error(self, exc: SPARQLWrapperException) -> HarvestError:
        text = str(exc)
        code = {
            "QueryBadFormed": 400,
            "Unauthorized": 401,
            "EndPointNotFound": 404,
            "URITooLong": 414,
            "EndPointInternalError": 500,
        }.get(type(exc).__name__, 0)
        body = ""
        if "Response:\n" in text:
            raw = text.split("Response:\n", 1)[1]
            try:
                body = ast.literal_eval(raw).decode("utf-8", "replace")
            except (ValueError, SyntaxError, AttributeError):
                body = raw
        says = f": the endpoint says: {_tidy(body)}" if body.strip() else ""
        hint = _STATUS_HINTS.get(code, "check options.endpoint and options.query")
        return self.error(f"HTTP {code or '?'} from {self.opts.shown}{says}; {hint}")


def _tidy(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " …"


def _rdf_triples(endpoint: _Endpoint, query: str, run: str) -> Iterator[ox.Triple]:
    response = endpoint.send(query, _ACCEPT_RDF, "turtle")
    with response:
        media = response.headers.get("Content-Type", "")
        fmt = ox.RdfFormat.from_media_type(media)
        if fmt is None:
            raise endpoint.error(
                f"{endpoint.opts.shown} answered the CONSTRUCT with Content-Type "
                f"{media or 'none'}, not RDF; check options.endpoint"
            )
        try:
            for quad in ox.parse(input=response, format=fmt):
                yield ox.Triple(_term(quad.subject, run), quad.predicate, _term(quad.object, run))
        except SyntaxError as exc:
            raise parse_error(
                endpoint.source_id, f"the answer of {endpoint.opts.shown}", fmt.name, exc
            ) from None
        except OSError as exc:
            raise endpoint.error(
                f"the answer of {endpoint.opts.shown} broke off: {exc}; try again"
            ) from None


def _term(value: Any, run: str) -> Any:
    # Blank node labels belong to the endpoint: prefixed with the run's own id, they never
    # meet another source's, yet stay linked across pages where the endpoint keeps them.
    if isinstance(value, ox.BlankNode):
        return ox.BlankNode(f"{run}{value.value}")
    return value


def _select_triples(
    endpoint: _Endpoint, query: str, run: str, counter: list[int]
) -> Iterator[ox.Triple]:
    response = endpoint.send(query, "application/sparql-results+json", "json")
    shown = endpoint.opts.shown
    with response:
        try:
            solutions = ox.parse_query_results(input=response, format=ox.QueryResultsFormat.JSON)
            names = [v.value for v in getattr(solutions, "variables", [])]
            if not {"s", "p", "o"} <= set(names):
                raise endpoint.error(
                    f"the SELECT binds {', '.join('?' + n for n in names) or 'nothing'}; a "
                    "SELECT must bind ?s ?p ?o (one triple per solution), or write a CONSTRUCT"
                )
            for number, solution in enumerate(solutions, start=1):
                counter[0] += 1
                s, p, o = solution["s"], solution["p"], solution["o"]
                if s is None or p is None or o is None:
                    continue  # an OPTIONAL that did not match gives no triple
                try:
                    yield ox.Triple(_term(s, run), p, _term(o, run))
                except TypeError:
                    raise endpoint.error(
                        f"solution {number} of the SELECT is not a triple (?s {s}, ?p {p}); "
                        "?s must be an IRI or blank node and ?p an IRI"
                    ) from None
        except SyntaxError as exc:
            raise endpoint.error(
                f"the answer of {shown} is not valid SPARQL JSON results: {exc}; try again, "
                "or raise options.timeout if the endpoint cut it short"
            ) from None
        except OSError as exc:
            raise endpoint.error(f"the answer of {shown} broke off: {exc}; try again") from None


def _triples(endpoint: _Endpoint, opts: SparqlOptions) -> Iterator[ox.Triple]:
    from SPARQLWrapper import CONSTRUCT, DESCRIBE, SELECT

    kind = endpoint.query_type(opts.query)
    if kind not in (SELECT, CONSTRUCT, DESCRIBE):
        raise endpoint.error(
            f"options.query is a{'n' if kind[:1] in 'AEIOU' else ''} {kind} query; the "
            "harvester needs a CONSTRUCT, or a SELECT of ?s ?p ?o"
        )
    run = f"r{uuid.uuid4().hex[:12]}x"
    offset = 0
    while True:
        query = opts.query
        if opts.page_size is not None:
            query = f"{opts.query}\nLIMIT {opts.page_size} OFFSET {offset}"
        got = 0
        if kind == SELECT:
            counter = [0]
            yield from _select_triples(endpoint, query, run, counter)
            got = counter[0]
        else:
            for triple in _rdf_triples(endpoint, query, run):
                got += 1
                yield triple
        # a short SELECT page is the last; a CONSTRUCT page's triples are not its solutions
        if opts.page_size is None or got == 0 or (kind == SELECT and got < opts.page_size):
            return
        offset += opts.page_size


def _iterate(source_id: str, opts: SparqlOptions) -> Iterator[bytes]:
    endpoint = _Endpoint(source_id, opts)
    yield from ntriples_chunks(_triples(endpoint, opts))


def harvest_sparql(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[bytes]:
    """N-Triples chunks of a CONSTRUCT (or a SELECT of ?s ?p ?o) sent to an endpoint."""
    opts = parse_options(source_id, options, Path(root))
    return _iterate(source_id, opts)


harvest_sparql.produces = "ntriples"  # type: ignore[attr-defined]
