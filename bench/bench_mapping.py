"""Benchmark: the mapping runner's per-record hot path (records -> N-Triples).

Maps the demo's real mapping files over synthetic records shaped like their sources
(smartic-operators: a CSV register, itinera-trails: GeoJSON features with nested lists),
plus a mapping that uses functions, a condition and a join, and prints records/s and
triples/s in CPU time of this process (best of --repeat runs, so that a busy machine
disturbs less; wall time is shown too), for the specialised code the runner compiles
(hub/mapping/fastpath.py) and for the interpreted renderers alone (`specialised=False`,
the engine before issue 14), with the same output.

    .venv/bin/python bench/bench_mapping.py [--records 50000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.iris import Iris  # noqa: E402
from hub.mapping.compile import compile_mapping, load_mapping  # noqa: E402
from hub.mapping.runner import MappingRunner  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IRIS = Iris("https://hub.example.org/")

YARRRML = """\
prefixes:
  grel: http://users.ugent.be/~bjdmeest/function/grel.ttl#
  idlab-fn: https://w3id.org/imec/idlab/function#
sources:
  ops: ['operators.csv~csv']
mappings:
  operator:
    sources: ops
    s: id:$(id)
    condition:
      function: idlab-fn:notEqual
      parameters:
        - [grel:valueParameter, $(type)]
        - [grel:valueParameter2, closed]
    po:
      - [a, schema:LocalBusiness]
      - [schema:name, 'grel:toUpperCase($(name_it))', it~lang]
      - [schema:name, $(name_fr), fr~lang]
      - [schema:latitude, $(lat), xsd:decimal]
      - [schema:longitude, $(lon), xsd:decimal]
      - p: schema:containedInPlace
        o:
          mapping: town
          condition:
            function: equal
            parameters:
              - [str1, $(municipality)]
              - [str2, $(municipality)]
  town:
    sources: ops
    s: id:town/$(municipality)
    po:
      - [a, schema:Place]
      - [schema:name, $(municipality)]
"""


def operators(n: int) -> list[dict]:
    return [
        {
            "id": f"smc-{i:06d}",
            "name_it": f"Locanda numero {i}",
            "name_fr": f"Auberge numéro {i}",
            "type": "lodging",
            "schema_type": "LodgingBusiness",
            "category": "accommodation",
            "municipality": f"Comune {i % 300}",
            "region": "toscana",
            "lat": f"{42 + (i % 1000) / 1000:.4f}",
            "lon": f"{10 + (i % 997) / 1000:.4f}",
            "website": f"https://op-{i}.example",
            "mark_awarded": "2019-11-14",
            "description_it": "Locanda nel centro storico, colazione con prodotti dell'isola.",
            "description_fr": "Auberge dans le centre historique, petit-déjeuner.",
            "description_en": "Inn in the old town, breakfast with produce from the island.",
        }
        for i in range(n)
    ]


def trails(n: int) -> list[dict]:
    return [
        {
            "type": "Feature",
            "properties": {
                "id": f"tr-{i}",
                "name_it": f"Sentiero {i}",
                "name_fr": f"Sentier {i}",
                "name_en": f"Trail {i}",
                "description_it": "Un sentiero lungo la costa.",
                "length_km": 12.5,
                "difficulty": "medium",
                "mode": "walking",
                "regions": ["toscana", "corse"],
                "stages": [{"n": k, "from": f"A{k}", "to": f"B{k}"} for k in range(1, 4)],
            },
            "wkt": "LINESTRING (10.1 42.1, 10.2 42.2, 10.3 42.3)",
        }
        for i in range(n)
    ]


def measure(runner_factory, records: list[dict], repeat: int, specialised: bool):
    best = wall = float("inf")
    triples = 0
    for _ in range(repeat):
        runner = runner_factory(specialised)
        start, cpu = time.perf_counter(), time.process_time()
        for _chunk in runner.run(records):
            pass
        best = min(best, time.process_time() - cpu)
        wall = min(wall, time.perf_counter() - start)
        triples = runner.stats.triples
        assert runner.stats.failed == 0, runner.stats.failures[:3]
    return best, wall, triples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    cases = []
    smartic = load_mapping(
        ROOT / "mappings/smartic-operators.yml", source_id="smartic-operators", iris=IRIS
    )
    cases.append(
        (
            "smartic-operators.yml (CSV)",
            lambda fast: MappingRunner(
                smartic, source="smartic-operators", record_key="id", specialised=fast
            ),
            operators(args.records),
        )
    )
    itinera = load_mapping(
        ROOT / "mappings/itinera-trails.yml", source_id="itinera-trails", iris=IRIS
    )
    cases.append(
        (
            "itinera-trails.yml (GeoJSON)",
            lambda fast: MappingRunner(
                itinera, source="itinera-trails", record_key="properties.id", specialised=fast
            ),
            trails(args.records),
        )
    )
    try:
        yarrrml = compile_mapping(YARRRML, file="bench.yml", source_id="bench", iris=IRIS)
    except Exception as exc:  # the YARRRML features are not there before issue 13
        print(f"functions/condition/join mapping: not supported here ({exc})")
    else:
        cases.append(
            (
                "functions + condition + join",
                lambda fast: MappingRunner(
                    yarrrml, source="bench", record_key="id", specialised=fast
                ),
                operators(args.records),
            )
        )
    print(f"{args.records} records, best of {args.repeat}")
    for name, factory, records in cases:
        timings = {}
        for label, fast in (("specialised", True), ("interpreted", False)):
            seconds, wall, triples = measure(factory, records, args.repeat, fast)
            timings[label] = seconds
            print(
                f"{name:30s} {label:11s} {seconds:6.3f} s CPU ({wall:6.3f} s wall) "
                f"{len(records) / seconds:9,.0f} records/s {triples / seconds:10,.0f} triples/s "
                f"({triples} triples)"
            )
        ratio = timings["interpreted"] / timings["specialised"]
        print(f"{'':30s} specialised code {ratio:.1f}x the interpreted renderers")


if __name__ == "__main__":
    main()
