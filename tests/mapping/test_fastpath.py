"""The specialised code (hub.mapping.fastpath) against the interpreted renderers, and parallel runs.

Every comparison is on the exact bytes (order included), the failures' messages and
the references that matched, over the golden cases and over seeded random records
that hit the fallbacks: lists, numbers, missing and empty values, objects, bad
lexical forms, line breaks, quotes, lone surrogates, records that are not maps.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from harvesters.files import harvest_files
from hub.iris import Iris
from hub.mapping import parallel
from hub.mapping.compile import compile_mapping, load_mapping
from hub.mapping.runner import MappingRunner

CASES = Path(__file__).parent / "cases"
IRIS = Iris("https://hub.example.org/")

# Most term shapes the fast code writes, and the ones it hands to the interpreted renderers.
MAPPING = """\
prefixes:
  ex: http://example.com/
  grel: http://users.ugent.be/~bjdmeest/function/grel.ttl#
  idlab-fn: https://w3id.org/imec/idlab/function#
mappings:
  place:
    s: ex:place/$(id)
    po:
      - [a, schema:Place]
      - [[schema:name, ex:label], $(name), it~lang]
      - [schema:alternateName, $(name)]
      - [schema:latitude, $(lat), xsd:decimal]
      - [ex:count, $(count), xsd:int]
      - [ex:day, $(day), xsd:date]
      - [ex:kind, ex:kind/$(kind)/$(sub)~iri]
      - [schema:url, $(url)~iri]
      - [geo:asWKT, "POINT ($(lon) $(lat))", geo:wktLiteral]
      - [ex:deep, $(info.inner)]
      - [ex:every, '$(items[*].v)']
      - [ex:shout, 'grel:toUpperCase($(name))']
      - [ex:tagged, '$(name) ($(kind))', en~lang]
      - p: ex:inLanguage
        o: {value: $(name), language: $(lang)}
      - p: ex:typed
        o: {value: $(count), datatype: $(dtype)}
      - p: ex:onlyIfKind
        o: {value: $(kind)}
        condition:
          function: idlab-fn:notEqual
          parameters:
            - [grel:valueParameter, $(kind)]
            - [grel:valueParameter2, closed]
      - p: ex:town
        o: {mapping: town}
      - p: ex:near
        o:
          mapping: place
          condition:
            function: equal
            parameters:
              - [str1, $(near)]
              - [str2, $(id)]
  town:
    s: [ex:town/$(kind), ex:alias/$(sub)]
    po:
      - [schema:name, $(kind)]
  open:
    s: ex:open/$(id)
    condition:
      function: idlab-fn:notEqual
      parameters:
        - [grel:valueParameter, $(kind)]
        - [grel:valueParameter2, closed]
    po:
      - [ex:stage, $(n)]
      - [ex:constant, "a \\"quoted\\" {text}"]
  stage:
    sources:
      - ['records~jsonpath', '$.items[*]']
    s: ex:stage/$(v)
    po:
      - [schema:position, $(v), xsd:integer]
"""

_VALUES: list[Any] = [
    None,
    "",
    "x",
    "a b",
    'quote"d',
    "back\\slash",
    "line\nbreak",
    "trailing\n",
    "12",
    "12\n",
    "-5",
    "3000000000",
    "3.14",
    "3,14",
    "2020-02-29",
    "2019-02-29",
    "2020-13-01",
    7,
    2.5,
    True,
    [],
    ["a", "b"],
    ["", None],
    ["c"],
    {"k": 1},
    "http://example.org/a",
    " http://example.org/b ",
    "not an iri",
    "Città",
    "closed",
    "lone \ud800 surrogate",
    "en",
    "it",
    "not-a-tag-",
    "http://www.w3.org/2001/XMLSchema#integer",
    "xsd:decimal",
    "xsd:nope",
]


def _good(name: str, i: int) -> str:
    """A value of field `name` that maps without a failure."""
    return {
        "lat": f"4{i % 10}.5",
        "lon": f"9.{i % 7}",
        "count": str(i),
        "day": f"2021-06-{i % 28 + 1:02d}",
        "url": f"http://example.org/{i}",
        "lang": ["it", "fr", "en-GB"][i % 3],
        "dtype": ["xsd:integer", "http://www.w3.org/2001/XMLSchema#decimal"][i % 2],
        "near": f"r{(i * 7) % 97}",
    }.get(name, f"{name} {i % 13}é")


def random_records(seed: int, n: int) -> list[Any]:
    """Records mostly right, each field sometimes one of the awkward values above."""
    rng = random.Random(seed)
    fields = ["name", "lat", "lon", "count", "day", "kind", "sub", "url", "lang", "dtype", "near"]
    records: list[Any] = []
    for i in range(n):
        if rng.random() < 0.02:
            records.append(rng.choice([["not", "a", "map"], "text", 5]))
            continue
        record: dict[str, Any] = {
            "id": f"r{i % 97}" if rng.random() < 0.97 else rng.choice(_VALUES)
        }
        for name in fields:
            if rng.random() < 0.9:
                record[name] = rng.choice(_VALUES) if rng.random() < 0.05 else _good(name, i)
        record["info"] = rng.choice([{"inner": rng.choice(_VALUES)}, None, "flat", {"inner": "v"}])
        if rng.random() < 0.2:
            record["info.inner"] = rng.choice(_VALUES)
        items = [{"v": rng.choice(["1", "2", 3, None, "x"])} for _ in range(rng.randrange(3))]
        record["items"] = items
        record["n"] = rng.choice(_VALUES)
        records.append(record)
    return records


def outcome(runner: MappingRunner, records: list[Any]) -> tuple[Any, ...]:
    data = b"".join(runner.run(records))
    stats = runner.stats
    hit = sorted(f"{ref.line}:{ref.path}" for ref in runner.mapping.references() if ref.hits)
    failures = [(f.number, f.key, f.message("x")) for f in stats.failures]
    return (
        data,
        stats.records,
        stats.failed,
        stats.triples,
        failures,
        hit,
        sorted(stats.fields_seen),
    )


def fresh(specialised: bool = True, processes: int = 1, key: str | None = "id") -> MappingRunner:
    mapping = compile_mapping(MAPPING, file="mappings/x.yml", source_id="x", iris=IRIS)
    return MappingRunner(
        mapping, source="x", record_key=key, specialised=specialised, processes=processes
    )


@pytest.mark.parametrize("seed", range(6))
def test_fast_code_equals_interpreted_on_random_records(seed: int) -> None:
    records = random_records(seed, 400)
    fast = outcome(fresh(), records)
    assert fast == outcome(fresh(specialised=False), records)
    data, _, failed, triples, failures, _, _ = fast
    assert triples > 1000 and data.count(b"\n") == triples  # the records really map
    assert 0 < failed < 400 and len(failures) == failed  # and the fallbacks really fail some


def test_fast_code_equals_interpreted_without_key() -> None:
    records = random_records(99, 300)
    assert outcome(fresh(key=None), records) == outcome(fresh(False, key=None), records)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_fast_code_equals_interpreted_on_golden_cases(case: str) -> None:
    folder = CASES / case
    if (folder / "records.csv").exists():
        records = list(harvest_files("case", {"path": "records.csv", "format": "csv"}, root=folder))
    else:
        records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    results = []
    for specialised in (True, False):
        mapping = load_mapping(folder / "mapping.yml", source_id="case", iris=IRIS)
        results.append(
            outcome(MappingRunner(mapping, source="case", specialised=specialised), records)
        )
    assert results[0] == results[1]
    assert results[0][3] > 0


def test_values_with_a_final_line_break_are_not_written_raw() -> None:
    # `$` in the checks used to accept "x\n" as IRI-safe, absolute or a valid xsd:decimal
    records = [{"id": "a\n", "name": "n"}, {"id": "b", "lat": "1.5\n"}]
    data, _, failed, _, failures, _, _ = outcome(fresh(), records)
    assert b"<http://example.com/place/a%0A> <http://schema.org/name>" in data
    assert failed == 1 and "`1.5\n` is not a valid xsd:decimal" in failures[0][2]


@pytest.mark.skipif(not parallel.available(), reason="needs the fork start method")
@pytest.mark.parametrize(("processes", "batch"), [(2, 37), (3, 37), (2, 400)])
def test_parallel_run_equals_one_process(
    processes: int, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 37: many batches (a partial last one), each back through the pipe; 400: spooled
    monkeypatch.setattr(parallel, "BATCH_RECORDS", batch)
    records = random_records(7, 900)
    single = outcome(fresh(), records)
    several = outcome(fresh(processes=processes), records)
    assert several == single
    assert single[2] > 0 and b"<http://example.com/near>" in single[0]  # failures and joins


@pytest.mark.skipif(not parallel.available(), reason="needs the fork start method")
def test_parallel_run_keeps_each_failure_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "BATCH_RECORDS", 4)
    records = [{"id": f"r{i}", "lat": "bad" if i % 5 == 0 else "1.0"} for i in range(20)]
    where = iter(range(1, 21))
    current = ["line 0"]

    def reading() -> Any:
        for record in records:
            current[0] = f"line {next(where)}"
            yield record

    runner = fresh(processes=2)
    runner.locate = lambda: current[0]
    b"".join(runner.run(reading()))
    assert [(f.number, f.key, f.location) for f in runner.stats.failures] == [
        (n, f"r{n - 1}", f"line {n}") for n in (1, 6, 11, 16)
    ]


_map_batch = parallel.map_batch


def slow_map_batch(first: int, records: list[Any]) -> Any:
    """A worker's map_batch, slowed down (module level: the pool sends it by name)."""
    time.sleep(0.05)
    return _map_batch(first, records)


@pytest.mark.skipif(not parallel.available(), reason="needs the fork start method")
def test_the_calling_process_maps_while_the_workers_are_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "BATCH_RECORDS", 50)
    mapped_here = []
    local = parallel._map_records

    def counted(runner: MappingRunner, first: int, records: list[Any]) -> Any:
        mapped_here.append(first)  # only this process's calls land in this list
        return local(runner, first, records)

    monkeypatch.setattr(parallel, "map_batch", slow_map_batch)
    monkeypatch.setattr(parallel, "_map_records", counted)
    records = random_records(11, 1000)
    several = outcome(fresh(processes=2), records)
    assert mapped_here, "the calling process never mapped a batch"
    assert len(mapped_here) < 20  # and the worker mapped some of the 20 batches
    assert several == outcome(fresh(), records)
