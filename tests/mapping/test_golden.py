"""Golden mapping cases: mapping + records -> expected graph, compared as graphs.

A case folder holds mapping.yml, the records (records.json, or records.csv read by the
`files` harvester) and expected.ttl, written by hand from the RML semantics.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from harvesters.files import harvest_files
from hub.iris import Iris
from hub.mapping.compile import load_mapping
from hub.mapping.runner import MappingRunner

CASES = Path(__file__).parent / "cases"


def run_case(case: Path) -> tuple[Graph, MappingRunner]:
    mapping = load_mapping(
        case / "mapping.yml", source_id="case", iris=Iris("https://hub.example.org/")
    )
    runner = MappingRunner(mapping, source="case")  # RML semantics: no key required
    if (case / "records.csv").exists():  # read as the `files` kind reads it
        records = list(harvest_files("case", {"path": "records.csv", "format": "csv"}, root=case))
    else:
        records = json.loads((case / "records.json").read_text(encoding="utf-8"))
    data = b"".join(runner.run(records))
    graph = Graph()
    graph.parse(data=data.decode("utf-8"), format="nt")
    return graph, runner


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_golden_case(case: str) -> None:
    got, runner = run_case(CASES / case)
    expected = Graph().parse(CASES / case / "expected.ttl", format="turtle")
    assert runner.stats.failed == 0, [f.message("case") for f in runner.stats.failures]
    if not isomorphic(got, expected):
        _, only_got, only_expected = graph_diff(to_isomorphic(got), to_isomorphic(expected))
        pytest.fail(
            f"case {case} differs\nonly in output:\n{only_got.serialize(format='nt')}\n"
            f"only expected:\n{only_expected.serialize(format='nt')}"
        )
    assert runner.stats.triples == len(got)
