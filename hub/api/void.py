"""GET /void (and /.well-known/void): the VoID description of the hub's data.

One void:Dataset per named graph (each source, the metadata, the programme, the
links) with its size, classes and properties, all subsets of one void:Dataset for
the whole hub. The figures come from SPARQL over the store; they are cached until
the store changes (see `state_key`), so a publish is seen at the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hub.api.deps import ConfigDep, StoreDep
from hub.api.dumps import HUB_DUMP, available_dumps
from hub.api.errors import ApiError
from hub.api.negotiation import (
    GRAPH_FORMATS,
    Format,
    find_format,
    format_names,
    negotiate,
    rdf_response,
    wants_html,
)
from hub.config import HubConfig
from hub.errors import HubError
from hub.iris import DCAT, DCT, MH, PREFIXES, PROV, RDF, XSD, Iris
from hub.store import Store

router = APIRouter(tags=["sparql"])

VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
FOAF = "http://xmlns.com/foaf/0.1/"
DOC_PREFIXES = {**PREFIXES, "void": VOID, "sd": SD}
"""Prefixes written in the Turtle of /void and of the service description."""

SPECIAL_GRAPHS = {
    "meta": "Marittimo Hub metadata: the catalogue of sources and the history of their runs",
    "programme": "The programme: projects, working groups, regions, quality marks, themes "
    "and the hub's vocabulary",
    "links": "Cross-source links (owl:sameAs) reviewed by data stewards",
}
"""The hub's own graphs (BASE/graph/{name}), with the title of their void:Dataset."""


@dataclass(frozen=True)
class GraphStats:
    """What one named graph holds: triples, typed entities, and counts per class and property."""

    triples: int = 0
    entities: int = 0
    classes: tuple[tuple[str, int], ...] = ()
    properties: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class SourceMeta:
    """A source as the metadata graph's dcat:Dataset describes it."""

    dataset: str
    graph: str
    identifier: str
    title: str | None = None
    description: str | None = None
    license: str | None = None
    project: str | None = None
    modified: ox.Literal | None = None


@dataclass(frozen=True)
class HubStats:
    """Every named graph's figures, and the sources that the metadata graph describes."""

    graphs: dict[str, GraphStats] = field(default_factory=dict)
    sources: dict[str, SourceMeta] = field(default_factory=dict)

    @property
    def triples(self) -> int:
        """Triples of the default graph, the union of all named graphs (not deduplicated)."""
        return sum(g.triples for g in self.graphs.values())


def _iri(term: object) -> str:
    return term.value  # type: ignore[attr-defined]


def _text(row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal], name: str) -> str | None:
    term = row.get(name)
    return term.value if term is not None else None


def state_key(store: Store, iris: Iris) -> tuple[object, ...]:
    """What changes whenever published data changes: graphs, small-graph sizes, latest run.

    Every publish (and every harvest attempt) records a run in the metadata graph,
    and the programme and links graphs are small enough to count on each request.
    """
    special = " ".join(f"<{iris.base}graph/{name}>" for name in SPECIAL_GRAPHS)
    sizes = store.select(
        f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {special} }} GRAPH ?g {{ ?s ?p ?o }} }} "
        "GROUP BY ?g"
    )
    latest = store.select(
        f"SELECT (MAX(STR(?t)) AS ?latest) WHERE {{ GRAPH <{iris.meta_graph}> "
        f"{{ ?run <{PROV}startedAtTime> ?t }} }}"
    )
    return (
        tuple(store.named_graphs()),
        tuple(sorted((_iri(r["g"]), int(r["n"].value)) for r in sizes)),
        _text(latest[0], "latest") if latest else None,
    )


def compute_stats(store: Store, iris: Iris) -> HubStats:
    """Count triples, classes and properties per named graph, and read the sources' metadata."""
    graphs = store.named_graphs()
    properties: dict[str, list[tuple[str, int]]] = {g: [] for g in graphs}
    for row in store.select(
        "SELECT ?g ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p"
    ):
        properties.setdefault(_iri(row["g"]), []).append((_iri(row["p"]), int(row["n"].value)))
    classes: dict[str, list[tuple[str, int]]] = {}
    for row in store.select(
        f"SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{RDF}type> ?c }} }} "
        "GROUP BY ?g ?c"
    ):
        if isinstance(row["c"], ox.NamedNode):
            classes.setdefault(_iri(row["g"]), []).append((_iri(row["c"]), int(row["n"].value)))
    entities = {
        _iri(row["g"]): int(row["n"].value)
        for row in store.select(
            f"SELECT ?g (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{RDF}type> ?c }} }} "
            "GROUP BY ?g"
        )
    }
    stats = {
        g: GraphStats(
            triples=sum(n for _, n in props),
            entities=entities.get(g, 0),
            classes=tuple(sorted(classes.get(g, []))),
            properties=tuple(sorted(props)),
        )
        for g, props in sorted(properties.items())
    }
    return HubStats(graphs=stats, sources=read_sources(store, iris))


def read_sources(store: Store, iris: Iris) -> dict[str, SourceMeta]:
    """The sources described in the metadata graph, by the IRI of their named graph."""
    rows = store.select(
        f"""SELECT ?d ?g ?id ?title ?desc ?license ?project ?modified WHERE {{
          GRAPH <{iris.meta_graph}> {{
            ?d a <{DCAT}Dataset> ; <{MH}namedGraph> ?g ; <{DCT}identifier> ?id .
            OPTIONAL {{ ?d <{DCT}title> ?title }}
            OPTIONAL {{ ?d <{DCT}description> ?desc }}
            OPTIONAL {{ ?d <{DCT}license> ?license }}
            OPTIONAL {{ ?d <{MH}project> ?project }}
            OPTIONAL {{ ?d <{DCT}modified> ?modified }}
          }}
        }}"""
    )
    sources: dict[str, SourceMeta] = {}
    for row in rows:
        modified = row.get("modified")
        sources[_iri(row["g"])] = SourceMeta(
            dataset=_iri(row["d"]),
            graph=_iri(row["g"]),
            identifier=row["id"].value,
            title=_text(row, "title"),
            description=_text(row, "desc"),
            license=_text(row, "license"),
            project=_text(row, "project"),
            modified=modified if isinstance(modified, ox.Literal) else None,
        )
    return sources


class StatsCache:
    """The latest `HubStats` and the store state they were computed for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._stats: HubStats | None = None
        self.computed = 0

    def get(self, store: Store, iris: Iris) -> HubStats:
        """The figures for the store as it is now; recomputed only when its state changed."""
        key = state_key(store, iris)
        with self._lock:
            if self._stats is None or key != self._key:
                self._stats = compute_stats(store, iris)
                self._key = key
                self.computed += 1
            return self._stats


def stats_cache(request: Request) -> StatsCache:
    """The app's cache, made on first use (kept on `app.state`)."""
    cache = getattr(request.app.state, "hub_stats_cache", None)
    if cache is None:
        cache = request.app.state.hub_stats_cache = StatsCache()
    return cache


def _blocking_stats(cache: StatsCache, store: Store, iris: Iris) -> HubStats:
    try:
        return cache.get(store, iris)
    except ApiError:
        raise
    except (HubError, OSError, RuntimeError, ValueError) as exc:
        error = ApiError(503, f"the store cannot answer the dataset statistics: {exc}")
    # As in results.py: drop frames that may hold pyoxigraph results, on this thread.
    error.__traceback__ = error.__context__ = error.__cause__ = None
    raise error


async def current_stats(request: Request, store: Store, iris: Iris) -> HubStats:
    """The hub's figures, computed off the event loop when the store changed."""
    return await run_in_threadpool(_blocking_stats, stats_cache(request), store, iris)


def dataset_iri(iris: Iris, graph: str, stats: HubStats) -> str | None:
    """The void:Dataset IRI of a named graph: the source's DCAT IRI, or one of the hub's own."""
    if graph in stats.sources:
        return stats.sources[graph].dataset
    for name in SPECIAL_GRAPHS:
        if graph == f"{iris.base}graph/{name}":
            return hub_dataset_iri(iris, name)
    return None


def hub_dataset_iri(iris: Iris, name: str = "hub") -> str:
    """The IRI of the whole hub's void:Dataset, or of one of its own graphs' datasets."""
    return f"{iris.base}id/dataset/{name}"


def _nn(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_nn(XSD + "integer"))


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def _graph_dataset(
    node: ox.NamedNode | ox.BlankNode, graph: str, figures: GraphStats, endpoint: str
) -> list[ox.Triple]:
    """The figures of one graph's void:Dataset: size, class and property partitions."""
    out = [
        ox.Triple(node, _nn(RDF + "type"), _nn(VOID + "Dataset")),
        ox.Triple(node, _nn(MH + "namedGraph"), _nn(graph)),
        ox.Triple(node, _nn(VOID + "sparqlEndpoint"), _nn(endpoint)),
        ox.Triple(node, _nn(VOID + "triples"), _int(figures.triples)),
        ox.Triple(node, _nn(VOID + "entities"), _int(figures.entities)),
        ox.Triple(node, _nn(VOID + "classes"), _int(len(figures.classes))),
        ox.Triple(node, _nn(VOID + "properties"), _int(len(figures.properties))),
    ]
    for cls, count in figures.classes:
        part = ox.BlankNode()
        out += [
            ox.Triple(node, _nn(VOID + "classPartition"), part),
            ox.Triple(part, _nn(VOID + "class"), _nn(cls)),
            ox.Triple(part, _nn(VOID + "entities"), _int(count)),
        ]
    for prop, count in figures.properties:
        part = ox.BlankNode()
        out += [
            ox.Triple(node, _nn(VOID + "propertyPartition"), part),
            ox.Triple(part, _nn(VOID + "property"), _nn(prop)),
            ox.Triple(part, _nn(VOID + "triples"), _int(count)),
        ]
    return out


def _source_facts(node: ox.NamedNode, source: SourceMeta, iris: Iris) -> list[ox.Triple]:
    """What the metadata graph says of a source: title, licence, project, last change."""
    out = [
        ox.Triple(node, _nn(RDF + "type"), _nn(DCAT + "Dataset")),
        ox.Triple(node, _nn(DCT + "identifier"), ox.Literal(source.identifier)),
        ox.Triple(node, _nn(VOID + "uriSpace"), ox.Literal(iris.entity_prefix(source.identifier))),
    ]
    if source.title:
        out.append(ox.Triple(node, _nn(DCT + "title"), ox.Literal(source.title)))
    if source.description:
        out.append(ox.Triple(node, _nn(DCT + "description"), ox.Literal(source.description)))
    if source.license:
        out.append(ox.Triple(node, _nn(DCT + "license"), _nn(source.license)))
    if source.project:
        out.append(ox.Triple(node, _nn(MH + "project"), _nn(source.project)))
    if source.modified is not None:
        out.append(ox.Triple(node, _nn(DCT + "modified"), source.modified))
    return out


def void_triples(
    stats: HubStats,
    iris: Iris,
    endpoint: str,
    document: str,
    dumps: Mapping[str, str] | None = None,
) -> list[ox.Triple]:
    """The VoID description: the hub's dataset and one subset per named graph.

    `dumps`: download URLs by source graph IRI, and `hub` for the whole hub (void:dataDump).
    """
    dumps = dumps or {}
    hub = _nn(hub_dataset_iri(iris))
    doc = _nn(document)
    out = [
        ox.Triple(doc, _nn(RDF + "type"), _nn(VOID + "DatasetDescription")),
        ox.Triple(doc, _nn(DCT + "title"), _en("VoID description of Marittimo Hub")),
        ox.Triple(doc, _nn(FOAF + "primaryTopic"), hub),
        ox.Triple(hub, _nn(RDF + "type"), _nn(VOID + "Dataset")),
        ox.Triple(hub, _nn(DCT + "title"), _en("Marittimo Hub")),
        ox.Triple(
            hub,
            _nn(DCT + "description"),
            _en(
                "The tourism data of the Interreg Italy–France Maritime projects, one named "
                "graph per source; the SPARQL endpoint's default graph is their union."
            ),
        ),
        ox.Triple(hub, _nn(VOID + "sparqlEndpoint"), _nn(endpoint)),
        ox.Triple(hub, _nn(VOID + "uriSpace"), ox.Literal(f"{iris.base}id/")),
        ox.Triple(hub, _nn(VOID + "triples"), _int(stats.triples)),
    ]
    if "hub" in dumps:
        out.append(ox.Triple(hub, _nn(VOID + "dataDump"), _nn(dumps["hub"])))
    for graph, figures in stats.graphs.items():
        iri = dataset_iri(iris, graph, stats)
        node: ox.NamedNode | ox.BlankNode = _nn(iri) if iri else ox.BlankNode()
        out.append(ox.Triple(hub, _nn(VOID + "subset"), node))
        out += _graph_dataset(node, graph, figures, endpoint)
        if graph in stats.sources and isinstance(node, ox.NamedNode):
            out += _source_facts(node, stats.sources[graph], iris)
            if graph in dumps:
                out.append(ox.Triple(node, _nn(VOID + "dataDump"), _nn(dumps[graph])))
        for name, title in SPECIAL_GRAPHS.items():
            if graph == f"{iris.base}graph/{name}":
                out.append(ox.Triple(node, _nn(DCT + "title"), _en(title)))
    return out


GRAPH_FORMAT_FORM = {
    "type": "array",
    "items": {
        "type": "string",
        "enum": list(
            dict.fromkeys(
                v for f in GRAPH_FORMATS for v in (f.name, *f.names, f.media_type, *f.aliases)
            )
        ),
    },
}
"""`format=` of /void and /catalog: repeatable (the last wins), each a name or media type."""

DESCRIPTION_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "`format=` names no RDF format."},
    406: {"description": "No acceptable RDF format."},
    503: {"description": "The store cannot be read."},
}


def choose_graph_format(formats: Iterable[str], accept: str | None) -> Format:
    """The RDF format for a description: `format=` if given, else by Accept (Turtle for browsers)."""
    wanted = list(formats)
    for value in wanted:  # the last wins, but every one must be a format
        if find_format(value, GRAPH_FORMATS) is None:
            raise ApiError(
                400,
                f"format={value} is not an RDF format; use one of {format_names(GRAPH_FORMATS)}",
            )
    if wanted:
        return find_format(wanted[-1], GRAPH_FORMATS)  # type: ignore[return-value]
    if wants_html(accept):
        return GRAPH_FORMATS[0]  # browsers also accept application/xml; Turtle reads better
    fmt = negotiate(accept, GRAPH_FORMATS)
    if fmt is None:
        raise ApiError(
            406, f"no acceptable format; this document is RDF: {format_names(GRAPH_FORMATS)}"
        )
    return fmt


@router.get(
    "/void",
    summary="VoID description of the hub's datasets",
    response_class=Response,
    responses={
        200: {
            "description": "VoID in the negotiated RDF format (Turtle by default).",
            "content": {f.media_type: {} for f in GRAPH_FORMATS},
        },
        **DESCRIPTION_ERRORS,
    },
)
async def void(
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    format: Annotated[
        list[str],
        Query(
            description="Overrides Accept: turtle, nt, jsonld, rdfxml.",
            json_schema_extra=GRAPH_FORMAT_FORM,
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
) -> Response:
    """A void:Dataset per source (size, classes, licence, title) and one for the whole hub."""
    fmt = choose_graph_format(format, request.headers.get("accept"))
    iris = Iris(config.base_iri)
    stats = await current_stats(request, store, iris)
    endpoint = str(request.url_for("sparql_get"))
    document = str(request.url_for("void"))
    return rdf_response(
        void_triples(stats, iris, endpoint, document, dump_urls(request, config)), fmt, DOC_PREFIXES
    )


def dump_urls(request: Request, config: HubConfig) -> dict[str, str]:
    """The dumps on disk (`hub.api.dumps`), by source graph IRI and `hub`, as this server's URLs."""
    iris = Iris(config.base_iri)
    return {
        "hub" if name == HUB_DUMP else iris.source_graph(name): str(
            request.url_for("dump", name=name)
        )
        for name in available_dumps(config)
    }


@router.get("/.well-known/void", include_in_schema=False, response_class=Response)
async def well_known_void(
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    format: Annotated[list[str], Query()] = [],  # noqa: B006
) -> Response:
    """The VoID description at its well-known address (RFC 8615, VoID section 7)."""
    return await void(request, store, config, format)
