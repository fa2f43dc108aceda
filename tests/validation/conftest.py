"""Fixtures for validation tests: staged graphs in a real on-disk store, and pySHACL's verdict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from rdflib.namespace import SH

from hub.store.oxigraph import OxigraphStore
from hub.validation import ValidationReport

DATA = Path(__file__).parent / "data"
GRAPH = "https://hub.example.org/graph/test/version/run-1"
OTHER = "https://hub.example.org/graph/other"

Key = tuple[str, str | None, str]  # focus node, path, constraint component (local name)


def ntriples(path: Path) -> bytes:
    """A Turtle file as N-Triples, parsed by Oxigraph (keeps lexical forms as written)."""
    return ox.serialize(ox.parse(path=str(path)), format=ox.RdfFormat.N_TRIPLES)


@pytest.fixture
def staged(tmp_path: Path) -> Callable[[str], OxigraphStore]:
    """Bulk-load a data file into GRAPH of a fresh on-disk store, with noise in another graph."""

    def stage(data_file: str) -> OxigraphStore:
        store = OxigraphStore(tmp_path / "store")
        store.bulk_load([ntriples(DATA / data_file)], GRAPH)
        store.bulk_load([ntriples(DATA / "noise.ttl")], OTHER)
        return store

    return stage


def _term_key(term: object) -> str:
    """An rdflib term as the validator reports it (blank nodes are all alike)."""
    if isinstance(term, rdflib.BNode):
        return "_:"
    if isinstance(term, rdflib.Literal):
        lang = term.language.lower() if term.language else None
        dtype = ox.NamedNode(str(term.datatype)) if term.datatype and not lang else None
        return str(ox.Literal(str(term), language=lang, datatype=dtype))
    return str(term)


def _path_key(path: str | None) -> str | None:
    """A reported path, with every complex path reduced to "complex"."""
    if path is None or path.startswith(("http://", "https://", "mailto:", "urn:")):
        return path
    return "complex"


def pyshacl_results(data_file: str, shapes_file: str) -> tuple[bool, list[Key]]:
    """pySHACL's verdict (default options, no inference) as (conforms, result keys)."""
    data = rdflib.Graph().parse(DATA / data_file)
    shapes = rdflib.Graph().parse(DATA / shapes_file)
    conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    keys = []
    for result in results.objects(None, SH.result):  # top-level results, not sh:detail ones
        path = results.value(result, SH.resultPath)
        component = str(results.value(result, SH.sourceConstraintComponent))
        keys.append(
            (
                _term_key(results.value(result, SH.focusNode)),
                str(path) if isinstance(path, rdflib.URIRef) else ("complex" if path else None),
                component.rsplit("#", 1)[1],
            )
        )
    return bool(conforms), keys


def hub_results(report: ValidationReport) -> list[Key]:
    """The validator's results as the same keys."""
    keys = []
    for v in report.violations:
        focus = "_:" if v.focus_node.startswith("_:") else v.focus_node
        keys.append((focus, _path_key(v.path), v.component.rsplit("#", 1)[1]))
    return keys
