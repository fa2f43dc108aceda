"""Compact JSON through orjson, and the standard library for what orjson refuses."""

from __future__ import annotations

import json
import math

from hub.util import jsonbytes


def test_the_same_text_as_the_standard_library_writes() -> None:
    value = {
        "name": "Città di Bastia — «Citadelle» 🏰",
        "lat": 42.697283,
        "n": [1, -2, 3.5, None, True, False],
        "nested": {"b": {"c": []}, "a": 'x\ny\t"z"\\'},
    }
    standard = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert jsonbytes.dumps(value) == standard
    assert jsonbytes.loads(standard) == value


def test_numbers_may_be_spelled_differently_but_read_the_same() -> None:
    value = {"tiny": 1e-7, "huge": 1.5e300, "neg": -0.0001}
    assert json.loads(jsonbytes.dumps(value)) == value


def test_values_orjson_refuses_go_through_the_standard_library() -> None:
    big = {"n": 2**70}
    assert jsonbytes.dumps(big) == b'{"n":1180591620717411303424}'
    assert jsonbytes.loads(jsonbytes.dumps(big)) == big


def test_nan_written_by_the_standard_library_is_read() -> None:
    old = json.dumps({"x": float("nan")})  # what an older read model may hold
    assert math.isnan(jsonbytes.loads(old)["x"])
