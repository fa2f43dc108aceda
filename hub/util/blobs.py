"""Compressed blobs of N-Triples: an entity's triples in the read model and in the change feed.

`pack` writes Zstandard (level 3: about a third of zlib's time for the same size on an
entity's kilobyte of N-Triples, and twice as fast to read back); `unpack` reads Zstandard
and the zlib blobs written before (a change feed keeps its items forever). The two
formats cannot be confused: a Zstandard frame starts with its magic number, a zlib
stream with a header whose first byte is 0x08-0x78 (decisions #43).

Compressor objects are not thread-safe, so each thread keeps its own.
"""

from __future__ import annotations

import threading
import zlib

import zstandard

LEVEL = 3
_MAGIC = b"\x28\xb5\x2f\xfd"
_local = threading.local()


def pack(text: bytes) -> bytes:
    """`text` compressed (Zstandard, with its size in the frame)."""
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
    return compressor.compress(text)


def unpack(blob: bytes) -> bytes:
    """The bytes `pack` (or, before it, `zlib.compress`) compressed."""
    if not blob.startswith(_MAGIC):
        return zlib.decompress(blob)
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(blob)
