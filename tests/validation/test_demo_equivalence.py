"""The validator and pySHACL give the same results on the demo's output and on seeded faults.

The demo is harvested (every source and the programme graph, as published), then a copy is
broken with a fixed seed (tests/validation/faults.py); both validators read the same
N-Triples with ontology/shapes.ttl and must report the same set of (focus node, path,
constraint component, source shape).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyshacl
import pytest
import rdflib

from hub.validation import Shapes, load_shapes, validate_ntriples
from hub.validation.shapes import Namer
from tests.api.demo_hub import harvest_demo
from tests.validation.faults import Key, demo_ntriples, inject_faults, result_keys

SHAPES_TTL = Path(__file__).resolve().parents[2] / "ontology" / "shapes.ttl"
GRAPH = "https://hub.example.org/graph/demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    _, store = harvest_demo(tmp_path_factory.mktemp("demo"))
    try:
        return demo_ntriples(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return load_shapes(SHAPES_TTL)


def hub_keys(data: str, shapes: Shapes) -> set[Key]:
    report = validate_ntriples(data.encode(), shapes, graph=GRAPH, limit=1_000_000)
    assert len(report.violations) == report.violation_count
    return {(v.focus_node, v.path, v.component, v.shape) for v in report.violations}


def pyshacl_keys(data: str, shapes: Shapes) -> set[Key]:
    """pySHACL's results, each source shape named as the hub names it (a blank-node
    property shape by the node shape that lists it)."""
    shapes_graph = rdflib.Graph().parse(SHAPES_TTL)
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)  # ill-typed literals on purpose
    graph = rdflib.Graph().parse(data=data, format="nt")
    _, results, _ = pyshacl.validate(graph, shacl_graph=shapes_graph, inference="none")
    return result_keys(results, shapes_graph, Namer(shapes.prefixes))[0]


def test_demo_output_gives_the_same_results(demo: str, shapes: Shapes) -> None:
    assert len(demo.splitlines()) > 5000  # every source and the programme
    assert hub_keys(demo, shapes) == pyshacl_keys(demo, shapes)


@pytest.mark.parametrize("seed", [14, 1402])
def test_seeded_faults_give_the_same_results(demo: str, shapes: Shapes, seed: int) -> None:
    lines, injected = inject_faults(demo.splitlines(), seed=seed, rate=0.35)
    broken = "\n".join(lines) + "\n"
    assert len(injected) >= 20, injected  # most kinds of fault are in the sample
    ours = hub_keys(broken, shapes)
    theirs = pyshacl_keys(broken, shapes)
    assert ours == theirs, (sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])
    components = {key[2].rsplit("#", 1)[1] for key in ours}
    assert len(ours) >= 100 and len(components) >= 8, components


def test_references_of_the_wrong_class_give_the_same_results(demo: str, shapes: Shapes) -> None:
    """sh:class looks at the types of other entities of the graph (the programme's projects)."""
    kinds = {"programme of wrong class", "lead project of wrong class"}
    lines, injected = inject_faults(demo.splitlines(), seed=7, rate=0.5, only=kinds)
    broken = "\n".join(lines) + "\n"
    ours = hub_keys(broken, shapes)
    assert ours == pyshacl_keys(broken, shapes)
    classes = [key for key in ours if key[2].endswith("#ClassConstraintComponent")]
    # every project with a wrong mh:programme (action plans check mh:leadProject by pattern)
    assert len(classes) >= injected["programme of wrong class"] > 0, injected
