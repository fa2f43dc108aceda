"""Harvesters say where each record they yield is in the source, for error messages."""

from __future__ import annotations

from harvesters import record_location
from harvesters._readers import read_csv, read_geojson, read_json


def locations(records) -> list[str]:
    seen = []
    for _ in records:  # read while the record is the one just yielded, as the mapping does
        seen.append(record_location.get())
    return seen


def test_csv_rows_by_their_line_in_the_file() -> None:
    batches = iter([["id;name\n", "a;A\n"], [], ["\n", "b;B\n"]])
    assert locations(read_csv("s", "x.csv", batches, ";")) == ["x.csv line 2", "x.csv line 4"]


def test_json_records_by_their_path() -> None:
    document = {"data": {"items": [{"id": 1}, {"id": 2}]}}
    found = locations(read_json("s", "x.json", document, "data.items"))
    assert found == ["x.json $.data.items[0]", "x.json $.data.items[1]"]
    assert locations(read_json("s", "y.json", [{"id": 1}], None)) == ["y.json $[0]"]


def test_geojson_features_by_their_number() -> None:
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9, 42]}}
    document = {"type": "FeatureCollection", "features": [feature, feature]}
    found = locations(read_geojson("s", "z.geojson", document, None))
    assert found == ["z.geojson feature 1", "z.geojson feature 2"]
