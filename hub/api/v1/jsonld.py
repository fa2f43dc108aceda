"""JSON-LD answers of /api/v1: an entity's published triples, nothing added (decisions #29).

Each entity is written from the triples the read model keeps for it (its node, its
sub-resources such as `<entity>/address`, and its skolem nodes, grouped as the change
feed groups them), so the JSON-LD, expanded, is exactly what the store holds. Entities
sit in their source's named graph (`BASE/graph/{source}`, as in the store); the
catalogue facts (dataset, licence, project) are a separate node about the source's
dataset, in the default graph, never in the entity's node.

Every value is written in a form that means the same under schema.org's own context:
IRIs as `{"@id"}`, typed literals as `{"@value", "@type"}`, text with a language as
`{"@value", "@language"}`; only plain strings, canonical integers and booleans are bare.

    >>> entity_nodes(b'<https://h/id/s/a> <http://schema.org/name> "A"@it .\\n', "https://h/id/s/a")
    [{'@id': 'https://h/id/s/a', 'name': {'@value': 'A', '@language': 'it'}}]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.api.v1.caching import send
from hub.api.v1.formats import dump_json
from hub.iris import DCAT, GEO, MH, PREFIXES, RDF, SCHEMA, XSD, Iris
from hub.readmodel import SourceInfo
from hub.readmodel._model import EntityRow

router = APIRouter(tags=["entities"])
CONTEXT_PATH = "/context.jsonld"

CONTEXT: dict[str, str] = {
    "@vocab": SCHEMA,
    "schema": SCHEMA,
    "mh": MH,
    "geosparql": GEO,
    **{name: PREFIXES[name] for name in ("xsd", "rdf", "rdfs", "skos", "dct", "dcat", "prov")},
    "owl": PREFIXES["owl"],
    "foaf": PREFIXES["foaf"],
}
"""The @context of every JSON-LD answer, also served at /api/v1/context.jsonld.

`@vocab` is schema.org's own (`http://schema.org/`), so a bare term is the schema.org
property of that name, as under schema.org's context. GeoSPARQL is `geosparql:`, not
`geo:`: `geo` is a schema.org property (schema:geo) in schema.org's context, and so here.
"""

_SIMPLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CANONICAL_INT = re.compile(r"^-?(?:0|[1-9][0-9]{0,14})$")  # exact in every JSON reader
_PREFIXES = sorted(
    ((k, v) for k, v in CONTEXT.items() if not k.startswith("@") and k != "schema"),
    key=lambda kv: -len(kv[1]),
)


def _schema_term(iri: str) -> str | None:
    local = iri[len(SCHEMA) :]
    if iri.startswith(SCHEMA) and _SIMPLE.match(local) and local not in CONTEXT:
        return local
    return None


def _compact(iri: str) -> str:
    """A property or datatype IRI as the shortest form the context expands back to it."""
    term = _schema_term(iri)
    if term is not None:
        return term
    for prefix, namespace in _PREFIXES:
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and local and not local.startswith("//"):
            return f"{prefix}:{local}"
    return iri


def _node_id(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def _literal(term: ox.Literal) -> Any:
    if term.language:
        return {"@value": term.value, "@language": term.language}
    datatype = term.datatype.value
    if datatype == XSD + "string":
        return term.value
    if datatype == XSD + "boolean" and term.value in ("true", "false"):
        return term.value == "true"
    if datatype == XSD + "integer" and _CANONICAL_INT.match(term.value):
        return int(term.value)
    return {"@value": term.value, "@type": _compact(datatype)}


def entity_nodes(ntriples: bytes, root: str) -> list[dict[str, Any]]:
    """The entity's node, its sub-resources nested where one triple points at them.

    A node that several triples point at, or none, is listed after the entity's node.
    """
    by_subject: dict[str, list[ox.Triple]] = {}
    for triple in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES):
        by_subject.setdefault(_node_id(triple.subject), []).append(triple)
    pointed = Counter(
        _node_id(t.object)
        for triples in by_subject.values()
        for t in triples
        if isinstance(t.object, ox.NamedNode | ox.BlankNode)
    )
    placed: set[str] = {root}

    def node(subject: str) -> dict[str, Any]:
        out: dict[str, Any] = {"@id": subject}
        types: list[str] = []
        values: dict[str, list[Any]] = {}
        for triple in by_subject.get(subject, []):
            obj = triple.object
            if triple.predicate.value == RDF + "type" and isinstance(obj, ox.NamedNode):
                types.append(_schema_term(obj.value) or obj.value)
                continue
            if isinstance(obj, ox.Literal):
                value: Any = _literal(obj)
            else:
                target = _node_id(obj)
                if target in by_subject and target not in placed and pointed[target] == 1:
                    placed.add(target)
                    value = node(target)
                else:
                    value = {"@id": target}
            values.setdefault(_compact(triple.predicate.value), []).append(value)
        if types:
            out["@type"] = types
        for key, found in values.items():
            out[key] = found[0] if len(found) == 1 else found
        return out

    nodes = [node(root)]
    for subject in by_subject:
        if subject not in placed:
            placed.add(subject)
            nodes.append(node(subject))
    return nodes


def dataset_node(source: SourceInfo, iris: Iris) -> dict[str, Any]:
    """The catalogue's facts about a source's dataset, as the metadata graph states them."""
    return {
        "@id": iris.dataset(source.id),
        "@type": [DCAT + "Dataset"],
        "dct:identifier": source.id,
        "dct:license": {"@id": source.licence},
        "mh:project": {"@id": iris.project(source.project)},
        "mh:namedGraph": {"@id": iris.source_graph(source.id)},
    }


def document(
    rows: Iterable[EntityRow],
    triples: Mapping[int, bytes],
    sources: Mapping[str, SourceInfo],
    iris: Iris,
) -> dict[str, Any]:
    """Entities in their sources' named graphs (page order within a source), then the datasets.

    >>> document([], {}, {}, Iris("https://h/"))["@graph"]
    []
    """
    graphs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        iri = row.doc["iri"]
        graphs.setdefault(row.source, []).extend(entity_nodes(triples.get(row.id, b""), iri))
    parts: list[dict[str, Any]] = [
        {"@id": iris.source_graph(source), "@graph": nodes} for source, nodes in graphs.items()
    ]
    parts += [dataset_node(sources[s], iris) for s in graphs if s in sources]
    return {"@context": CONTEXT, "@graph": parts}


@router.get(
    CONTEXT_PATH,
    summary="The JSON-LD context of the API's JSON-LD answers",
    description=(
        "`@vocab` is `http://schema.org/`, as in schema.org's own context, so terms mean "
        "what they mean there; prefixes for the hub's vocabulary (`mh:`), GeoSPARQL "
        "(`geosparql:`), XSD, DCAT, Dublin Core and SKOS. Served by the hub: it works offline. "
        "Every JSON-LD answer carries the same context inline."
    ),
    response_class=Response,
    responses={200: {"content": {"application/ld+json": {}}}},
)
async def context(request: Request) -> Response:
    """The @context document."""
    return send(request, dump_json({"@context": CONTEXT}), "application/ld+json", max_age=86400)
