"""Compressed N-Triples blobs: Zstandard written, Zstandard and the older zlib read back."""

from __future__ import annotations

import random
import zlib
from concurrent.futures import ThreadPoolExecutor

from hub.util.blobs import pack, unpack


def _text(seed: int) -> bytes:
    rng = random.Random(seed)
    lines = [
        f'<https://hub.example.org/id/s/{rng.randrange(10**6)}> <http://schema.org/name> "Luogo {rng.random()}"@it .'
        for _ in range(rng.randrange(1, 30))
    ]
    return "\n".join(lines).encode() + b"\n"


def test_pack_is_zstandard_and_round_trips() -> None:
    text = _text(1)
    blob = pack(text)
    assert blob.startswith(b"\x28\xb5\x2f\xfd")  # a Zstandard frame
    assert len(blob) < len(text)
    assert unpack(blob) == text
    assert unpack(pack(b"")) == b""


def test_blobs_of_an_older_hub_in_zlib_are_read() -> None:
    text = _text(2)
    for blob in (zlib.compress(text), zlib.compress(text, 6, 12), zlib.compress(text, 9, 9)):
        assert unpack(blob) == text


def test_threads_pack_and_unpack_at_once() -> None:
    texts = [_text(seed) for seed in range(400)]

    def round_trip(text: bytes) -> bool:
        return unpack(pack(text)) == text and unpack(zlib.compress(text)) == text

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trip, texts * 5))
