"""The SPARQL 1.1 Service Description that a bare GET /sparql returns to RDF clients.

It says what the endpoint speaks (SPARQL 1.1 Query, its result formats, the GeoSPARQL
functions its store evaluates), that its default graph is the union of all named graphs,
which named graphs it holds (with their sizes, linked to their void:Dataset), and where
the VoID description is.
"""

from __future__ import annotations

import pyoxigraph as ox

from hub.api.negotiation import GRAPH_FORMATS, RESULT_FORMATS
from hub.api.void import SD, VOID, HubStats, dataset_iri
from hub.iris import DCT, RDF, RDFS, XSD, Iris

FORMATS_NS = "http://www.w3.org/ns/formats/"
ENTAILMENT_SIMPLE = "http://www.w3.org/ns/entailment/Simple"

FORMAT_IRIS = {
    "json": FORMATS_NS + "SPARQL_Results_JSON",
    "xml": FORMATS_NS + "SPARQL_Results_XML",
    "csv": FORMATS_NS + "SPARQL_Results_CSV",
    "tsv": FORMATS_NS + "SPARQL_Results_TSV",
    "turtle": FORMATS_NS + "Turtle",
    "nt": FORMATS_NS + "N-Triples",
    "jsonld": FORMATS_NS + "JSON-LD",
    "rdfxml": FORMATS_NS + "RDF_XML",
}
"""W3C format IRIs (https://www.w3.org/ns/formats/) of the formats /sparql serves, by name."""

ABOUT = (
    "Read-only SPARQL 1.1 query endpoint of Marittimo Hub. Unless the request "
    "(default-graph-uri, named-graph-uri) or the query (FROM, FROM NAMED) names a dataset, "
    "the default graph is the union "
    "of all named graphs (one per source, plus the metadata, programme and links graphs). "
    "Send a query as ?query=... (GET), as the form field `query` (POST), or as a POST body "
    "of type application/sparql-query. Updates and SERVICE are refused; a result larger "
    "than the endpoint's size limit is refused (413), never truncated."
)


def _nn(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_nn(XSD + "integer"))


def _graph(node: ox.NamedNode | ox.BlankNode, triples: int) -> list[ox.Triple]:
    return [
        ox.Triple(node, _nn(RDF + "type"), _nn(SD + "Graph")),
        ox.Triple(node, _nn(VOID + "triples"), _int(triples)),
    ]


def service_triples(
    stats: HubStats,
    iris: Iris,
    endpoint: str,
    void_url: str,
    *,
    functions: tuple[str, ...] = (),
) -> list[ox.Triple]:
    """The sd:Service of the endpoint at `endpoint`, with its default dataset and functions."""
    service = ox.BlankNode()
    dataset = ox.BlankNode()
    default = ox.BlankNode()
    out = [
        ox.Triple(service, _nn(RDF + "type"), _nn(SD + "Service")),
        ox.Triple(service, _nn(SD + "endpoint"), _nn(endpoint)),
        ox.Triple(service, _nn(SD + "supportedLanguage"), _nn(SD + "SPARQL11Query")),
        ox.Triple(service, _nn(SD + "feature"), _nn(SD + "UnionDefaultGraph")),
        ox.Triple(service, _nn(SD + "defaultEntailmentRegime"), _nn(ENTAILMENT_SIMPLE)),
        ox.Triple(
            service, _nn(DCT + "title"), ox.Literal("Marittimo Hub SPARQL endpoint", language="en")
        ),
        ox.Triple(service, _nn(RDFS + "comment"), ox.Literal(ABOUT, language="en")),
        ox.Triple(service, _nn(RDFS + "seeAlso"), _nn(void_url)),
        ox.Triple(service, _nn(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, _nn(RDF + "type"), _nn(SD + "Dataset")),
        ox.Triple(dataset, _nn(RDFS + "seeAlso"), _nn(void_url)),
        ox.Triple(dataset, _nn(SD + "defaultGraph"), default),
        *_graph(default, stats.triples),
    ]
    for function in functions:  # GeoSPARQL's geof: functions the store evaluates
        out += [
            ox.Triple(service, _nn(SD + "extensionFunction"), _nn(function)),
            ox.Triple(_nn(function), _nn(RDF + "type"), _nn(SD + "Function")),
        ]
    for fmt in RESULT_FORMATS + GRAPH_FORMATS:
        out.append(ox.Triple(service, _nn(SD + "resultFormat"), _nn(FORMAT_IRIS[fmt.name])))
    for graph, figures in stats.graphs.items():
        named = ox.BlankNode()
        iri = dataset_iri(iris, graph, stats)
        described: ox.NamedNode | ox.BlankNode = _nn(iri) if iri else ox.BlankNode()
        out += [
            ox.Triple(dataset, _nn(SD + "namedGraph"), named),
            ox.Triple(named, _nn(RDF + "type"), _nn(SD + "NamedGraph")),
            ox.Triple(named, _nn(SD + "name"), _nn(graph)),
            ox.Triple(named, _nn(SD + "graph"), described),
            *_graph(described, figures.triples),
        ]
    return out
