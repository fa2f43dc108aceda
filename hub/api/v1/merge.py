"""What every source says about one entity and its owl:sameAs peers, read from the store.

Peers come from the links graph (both directions, transitively). For each peer
we read its statements in every graph, and those of its own sub-nodes (IRIs
under `peer/`, e.g. its address or geometry), each tagged with the graph it is in.
IRIs reach SPARQL only through `sparql_iri`, after validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from hub.errors import StoreError
from hub.iris import PREFIXES, XSD, Iris
from hub.store import Store, sparql_iri

OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
MAX_STATEMENTS = 5000
MAX_PEERS = 50


@dataclass
class Statement:
    """One triple and the graph it was read from."""

    graph: str
    subject: str
    predicate: str
    object: dict[str, Any]


def compact(iri: str) -> str:
    """`http://schema.org/name` -> `schema:name` for the hub's known prefixes."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def term_json(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, Any]:
    """A term as JSON: {"iri"} or {"value", "lang"?, "datatype"?} or {"bnode"}."""
    if isinstance(term, ox.NamedNode):
        return {"iri": term.value}
    if isinstance(term, ox.BlankNode):
        return {"bnode": term.value}
    out: dict[str, Any] = {"value": term.value}
    if term.language:
        out["lang"] = term.language
    elif term.datatype.value != XSD + "string":
        out["datatype"] = compact(term.datatype.value)
    return out


def _statements_pattern(node: str) -> str:
    """SPARQL binding ?g ?s ?p ?o to the statements about `node` and its sub-nodes."""
    return f"""{{ GRAPH ?g {{ {node} ?p ?o }} BIND({node} AS ?s) }}
      UNION
      {{ GRAPH ?g0 {{ {node} ?via ?s }}
         FILTER(isIRI(?s) && STRSTARTS(STR(?s), CONCAT(STR({node}), "/")))
         GRAPH ?g {{ ?s ?p ?o }} }}"""


def _statement(row: dict[str, Any]) -> Statement:
    return Statement(
        graph=row["g"].value,
        subject=row["s"].value,
        predicate=row["p"].value,
        object=term_json(row["o"]),
    )


def entity_and_peers(store: Store, iris: Iris, iri: str) -> tuple[list[str], list[Statement]]:
    """The entity's owl:sameAs peers (links graph, either direction, transitively) and the
    statements about it, in one query."""
    node = sparql_iri(iri)
    query = f"""SELECT ?peer ?g ?s ?p ?o WHERE {{
      {{ GRAPH {sparql_iri(iris.links_graph)} {{
           {node} (<{OWL_SAME_AS}>|^<{OWL_SAME_AS}>)+ ?peer }} }}
      UNION {_statements_pattern(node)}
    }} LIMIT {MAX_STATEMENTS + MAX_PEERS}"""
    peers: set[str] = set()
    found = []
    for row in store.select(query):
        peer = row.get("peer")
        if peer is None:
            found.append(_statement(row))
        elif isinstance(peer, ox.NamedNode) and peer.value != iri:
            try:
                sparql_iri(peer.value)
            except StoreError:
                continue
            peers.add(peer.value)
    return sorted(peers)[:MAX_PEERS], found


def statements(store: Store, subject: str) -> list[Statement]:
    """Statements about `subject` and its sub-nodes, in every graph."""
    node = sparql_iri(subject)
    query = f"SELECT ?g ?s ?p ?o WHERE {{ {_statements_pattern(node)} }} LIMIT {MAX_STATEMENTS}"
    return [_statement(row) for row in store.select(query)]


def ordered(found: list[Statement], subject: str) -> list[Statement]:
    """Statements about `subject` first, then by subject, predicate, object, graph."""
    return sorted(
        found, key=lambda s: (s.subject != subject, s.subject, s.predicate, repr(s.object), s.graph)
    )
