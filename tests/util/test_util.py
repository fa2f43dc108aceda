"""The neutral helpers of hub.util: chunked streams, N-Triples chunks, the JSONPath subset."""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest

from hub.util.chunks import ChunkReader
from hub.util.jsonpath import compile_path
from hub.util.ntriples import ntriples_chunks


def test_chunk_reader_reads_the_chunks_in_order_as_a_file() -> None:
    stream = io.BufferedReader(ChunkReader([b"<a> ", b"", b"<b> <c> .\n"]), 4)
    assert stream.read() == b"<a> <b> <c> .\n"


def test_chunk_reader_surfaces_the_producers_error() -> None:
    def chunks():  # noqa: ANN202
        yield b"one"
        raise RuntimeError("source broke off")

    reader = ChunkReader(chunks())
    assert reader.read(3) == b"one"
    with pytest.raises(RuntimeError, match="broke off"):
        reader.read(3)


def test_ntriples_chunks_joins_whole_lines() -> None:
    triple = ox.Triple(
        ox.NamedNode("https://e.example/s"),
        ox.NamedNode("https://e.example/p"),
        ox.Literal("x", language="it"),
    )
    assert list(ntriples_chunks([triple] * 3, per_chunk=2)) == [
        b'<https://e.example/s> <https://e.example/p> "x"@it .\n' * 2,
        b'<https://e.example/s> <https://e.example/p> "x"@it .\n',
    ]


def test_jsonpath_subset() -> None:
    document = {"data": {"items": [{"id": 1}, {"id": 2}]}, "a.b": 3}
    assert compile_path("data.items[*].id")(document) == [1, 2]
    assert compile_path("a.b")(document) == [3]  # a key with a dot wins
    with pytest.raises(ValueError, match="not in the supported subset") as refused:
        compile_path("a[?x]")
    assert str(refused.value).endswith("at `[?x]`")  # names where the path stops being supported
