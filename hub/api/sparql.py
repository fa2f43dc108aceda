"""GET/POST /sparql: the read-only SPARQL 1.1 Protocol query operation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.api import void
from hub.api.deps import ConfigDep, StoreDep
from hub.api.errors import ApiError
from hub.api.metrics import observe_query
from hub.api.negotiation import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Format,
    find_format,
    format_for_value,
    known_format_value,
    negotiate,
    rdf_response,
    wants_html,
)
from hub.api.page import sparql_page
from hub.api.results import QueryRequest, run_query
from hub.api.service import service_triples
from hub.config import HubConfig
from hub.iris import Iris, schema_namespace_warning
from hub.store import Store

router = APIRouter(tags=["sparql"])
# /void belongs with the endpoint it describes; app.py includes this router only.
router.include_router(void.router)

# A bare GET names an RDF type only by its canonical media type: `application/json`
# or `application/xml` alone is a client expecting results, told how to send a query.
_DESCRIPTION_FORMATS = tuple(replace(f, aliases=(), siblings=()) for f in GRAPH_FORMATS)

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

HOW_TO_QUERY = (
    "no query given; send one as `?query=...` (GET), as the form field `query` "
    f"(POST {FORM}), or as the body of a POST with Content-Type {SPARQL_QUERY}"
)
WARNING_HEADER = "X-Hub-Warning"
"""A query answered as written, with something its author should know (decisions #28)."""
READ_ONLY = (
    "this SPARQL endpoint is read-only: updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ...) "
    "are not accepted; the hub changes its data only by harvesting and publishing sources"
)


def _formats_doc() -> str:
    results = ", ".join(f"`{f.media_type}` ({f.name})" for f in RESULT_FORMATS)
    graphs = ", ".join(f"`{f.media_type}` ({f.name})" for f in GRAPH_FORMATS)
    return f"SELECT/ASK: {results}. CONSTRUCT/DESCRIBE: {graphs}."


DESCRIPTION = f"""Read-only SPARQL 1.1 Protocol query endpoint.

**Dataset** (SPARQL 1.1). `default-graph-uri` and `named-graph-uri` (both repeatable) give
exactly the dataset, over the query's `FROM` / `FROM NAMED`; a side not given is empty
(`named-graph-uri` alone: an empty default graph). Without them, the query's `FROM` /
`FROM NAMED` give it. Without either, the default graph is the **union of all named
graphs** (each source is published in its own named graph, `BASE/graph/{{source}}`), and
every named graph is available to `GRAPH`. Relative IRIs resolve against this endpoint's URL.

**Formats.** Chosen by `Accept` (q-values honoured, `*/*` gets the first of each list),
or by `format=` (or `output=`, as SPARQLWrapper sends) which overrides it: a short name or
media types. {_formats_doc()} A graph asked for with only `application/sparql-results+json`
(or `application/json`) comes as JSON-LD, with the XML results types as RDF/XML. Nothing
acceptable gives 406.

**schema.org namespace.** The data uses `http://schema.org/` (what schema.org's JSON-LD
context expands to). A query naming `https://schema.org/` is run as written and its
answer carries an `X-Hub-Warning` header (and `Warning: 299`) saying which to use.

**Limits.** Updates are refused (403), as is `SERVICE`. A result larger than the
endpoint's size limit gives 413, never a truncated result.

**Without a query**, a browser (Accept `text/html`) gets the query page, with example
queries; an RDF client (Accept `text/turtle`, `application/ld+json`, ... or `*/*`, or
`format=turtle`) gets the SPARQL 1.1 Service Description: result formats, the union
default graph, the named graphs with their sizes, and a link to the VoID description
at `/void`.
"""

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The query result in the negotiated format.",
        "content": {f.media_type: {} for f in RESULT_FORMATS + GRAPH_FORMATS},
    },
    400: {"description": "Missing or malformed query (the parser's message)."},
    403: {"description": "An update, or a SERVICE clause: this endpoint is read-only."},
    406: {"description": "No acceptable format for this kind of result."},
    413: {
        "description": "The result is larger than the endpoint's limit ([store] "
        "max_result_bytes), or the request body than [serve] max_request_bytes."
    },
}

FORMAT_VALUES = [
    "",  # ignored: SPARQLWrapper sends an empty one beside Accept */*
    *dict.fromkeys(
        v
        for f in RESULT_FORMATS + GRAPH_FORMATS
        for v in (f.name, *f.names, f.media_type, *f.aliases)
    ),
]
"""What `format=` / `output=` take: names and media types (a value with `/` is read as Accept)."""

QUERY_FORM = {"type": "string", "pattern": r"\S"}
"""A query is any text with something in it; its grammar is SPARQL's (a 400 names the error)."""
IRI = r'^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f-\x9f<>"{}|^`\\]*$'
"""An absolute IRI's outline (the store's IRI parser has the last word)."""
IRI_FORM = {"type": "string", "pattern": IRI}
FORMATS_FORM = {"type": "array", "items": {"type": "string", "enum": FORMAT_VALUES}}

_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["query"],
                    "properties": {
                        "query": QUERY_FORM,
                        "default-graph-uri": {"type": "array", "items": IRI_FORM},
                        "named-graph-uri": {"type": "array", "items": IRI_FORM},
                        "format": FORMATS_FORM["items"],
                        "output": FORMATS_FORM["items"],
                    },
                }
            },
            SPARQL_QUERY: {"schema": QUERY_FORM},
        },
    }
}


def _check_graphs(default_graphs: Iterable[str], named_graphs: Iterable[str]) -> None:
    """400 for a graph IRI that is not absolute (also without a query: never ignored)."""
    for name, iris in (("default-graph-uri", default_graphs), ("named-graph-uri", named_graphs)):
        for iri in iris:
            try:
                if not re.fullmatch(IRI, iri):
                    raise ValueError(iri)
                ox.NamedNode(iri)
            except ValueError:
                raise ApiError(400, f"{name} `{iri}` is not an absolute IRI") from None


def _build(
    queries: list[str],
    default_graphs: Iterable[str],
    named_graphs: Iterable[str],
    formats: Iterable[str],
    accept: str | None,
    base_iri: str,
) -> QueryRequest:
    """Check the protocol parameters and make a request of them."""
    if len(queries) > 1:
        raise ApiError(400, "more than one query given; send exactly one `query`")
    if not queries or not queries[0].strip():
        raise ApiError(400, HOW_TO_QUERY)
    request = QueryRequest(
        queries[0], list(default_graphs), list(named_graphs), list(formats), accept, base_iri
    )
    _check_graphs(request.default_graphs, request.named_graphs)
    for value in request.formats:
        if not known_format_value(value):
            raise ApiError(
                400,
                f"format={value} is unknown; use json, xml, csv, tsv (SELECT/ASK) "
                "or turtle, nt, jsonld, rdfxml (CONSTRUCT/DESCRIBE), or media types",
            )
    return request


def _endpoint(request: Request) -> str:
    """This endpoint's public URL: what relative IRIs in a query resolve against."""
    return str(request.url_for("sparql_get"))


async def _answer(request: Request, store: Store, query: QueryRequest) -> Response:
    """Run the query off the event loop and send its serialized result."""
    limit = request.app.state.max_result_bytes
    with observe_query(request):
        result = await run_in_threadpool(run_query, store, query, limit)
    headers = {"Vary": "Accept"}
    warning = schema_namespace_warning(query.query)
    if warning:
        headers[WARNING_HEADER] = warning
        headers["Warning"] = f'299 - "{warning}"'
        headers["Access-Control-Expose-Headers"] = WARNING_HEADER  # for query pages elsewhere
    return Response(result.body, media_type=result.media_type, headers=headers)


def _page(request: Request, config: HubConfig) -> str:
    """The query page, linking the API docs, the service description and VoID."""
    return sparql_page(
        request.app.docs_url or "/docs",
        base_iri=config.base_iri,
        service_url=f"{request.url_for('sparql_get')}?format=turtle",
        void_url=f"{request.url_for('void')}?format=turtle",
    )


def _description_format(formats: list[str], accept: str | None) -> Format | None:
    """The RDF format a query-less GET asks the service description in, if it asks for one."""
    formats = [f for f in formats if f.strip()]
    if formats:
        # `json` and `xml` name result formats too: without a query they are a mistake.
        if find_format(formats[-1], RESULT_FORMATS) is not None:
            return None
        return format_for_value(formats[-1], _DESCRIPTION_FORMATS)
    return negotiate(accept, _DESCRIPTION_FORMATS)


async def _service_description(
    request: Request, store: Store, config: HubConfig, fmt: Format
) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint, in `fmt`."""
    iris = Iris(config.base_iri)
    stats = await void.current_stats(request, store, iris)
    endpoint = str(request.url_for("sparql_get"))
    triples = service_triples(
        stats,
        iris,
        endpoint,
        str(request.url_for("void")),
        functions=store.capabilities.extension_functions,
    )
    return rdf_response(triples, fmt, void.DOC_PREFIXES)


@router.get(
    "/sparql",
    summary="SPARQL query (GET)",
    description=DESCRIPTION,
    responses=_RESPONSES,
    response_class=Response,
)
async def sparql_get(
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    query: Annotated[
        str | None, Query(description="The SPARQL query.", json_schema_extra=QUERY_FORM)
    ] = None,
    default_graph_uri: Annotated[
        list[str],
        Query(
            alias="default-graph-uri",
            description="A default graph (repeatable).",
            json_schema_extra={"items": IRI_FORM},
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
    named_graph_uri: Annotated[
        list[str],
        Query(
            alias="named-graph-uri",
            description="A named graph (repeatable).",
            json_schema_extra={"items": IRI_FORM},
        ),
    ] = [],  # noqa: B006
    format: Annotated[
        list[str],
        Query(
            description="Overrides Accept: json, xml, csv, tsv, turtle, nt, jsonld, rdfxml.",
            json_schema_extra=FORMATS_FORM,
        ),
    ] = [],  # noqa: B006
    output: Annotated[
        list[str],
        Query(
            description="The same as `format` (SPARQLWrapper sends both).",
            json_schema_extra=FORMATS_FORM,
        ),
    ] = [],  # noqa: B006
) -> Response:
    """Answer a query sent in the URL; without one, the query page or the service description."""
    accept = request.headers.get("accept")
    if "update" in request.query_params:
        raise ApiError(403, READ_ONLY)
    formats = format + output
    _check_graphs(default_graph_uri, named_graph_uri)
    if query is None:
        if not formats and wants_html(accept):
            return HTMLResponse(_page(request, config), headers={"Vary": "Accept"})
        described = _description_format(formats, accept)
        if described is not None:
            return await _service_description(request, store, config, described)
    queries = [] if query is None else request.query_params.getlist("query")
    built = _build(queries, default_graph_uri, named_graph_uri, formats, accept, _endpoint(request))
    return await _answer(request, store, built)


@router.post(
    "/sparql",
    summary="SPARQL query (POST)",
    description=DESCRIPTION,
    responses={**_RESPONSES, 415: {"description": "A body that is neither form nor query."}},
    response_class=Response,
    openapi_extra=_POST_BODY,
)
async def sparql_post(request: Request, store: StoreDep) -> Response:
    """Answer a query sent as a form field or as the request body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # Graph URIs may come in the URL (required for sparql-query bodies) or the form.
    fields: list[tuple[str, str]] = list(request.query_params.multi_items())
    if content_type in (FORM, MULTIPART):
        form = await request.form()
        fields += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    elif content_type == SPARQL_QUERY:
        body = await request.body()
        try:
            fields.append(("query", body.decode("utf-8")))
        except UnicodeDecodeError:
            raise ApiError(400, "the query body is not UTF-8; send it encoded as UTF-8") from None
    elif content_type == SPARQL_UPDATE:
        raise ApiError(403, READ_ONLY)
    else:
        raise ApiError(
            415,
            f"cannot read a POST body of type `{content_type or 'none'}`; "
            f"send the query as {FORM} (field `query`) or as {SPARQL_QUERY}",
        )
    if any(k == "update" for k, _ in fields):
        raise ApiError(403, READ_ONLY)

    def values(name: str) -> list[str]:
        return [v for k, v in fields if k == name]

    built = _build(
        values("query"),
        values("default-graph-uri"),
        values("named-graph-uri"),
        values("format") + values("output"),
        request.headers.get("accept"),
        _endpoint(request),
    )
    return await _answer(request, store, built)
