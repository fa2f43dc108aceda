"""A read-only binary file over an iterator of byte chunks, for streaming bulk loads."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

__all__ = ["ChunkReader"]


class ChunkReader(io.RawIOBase):
    """Reads the bytes of `chunks` in order; the producer runs only as fast as the reader reads.

    An exception raised by the producer surfaces in the reader's `read()` call.

        >>> ChunkReader([b"ab", b"c"]).read()
        b'abc'
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
