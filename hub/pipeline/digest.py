"""An order-independent fingerprint of a set of N-Triples lines, to tell an unchanged run.

Each distinct line hashes to 128 bits; the fingerprint is their sum modulo 2**128 and
the line count, so the same triples in any order give the same value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

_MOD = 1 << 128


class GraphDigest:
    """Accumulates the fingerprint of N-Triples passing through `feed`."""

    def __init__(self) -> None:
        self.total = 0
        self.lines = 0
        self._rest = b""

    def feed(self, chunk: bytes) -> None:
        data = self._rest + chunk
        cut = data.rfind(b"\n") + 1
        self._rest = data[cut:]
        blake = hashlib.blake2b
        total = self.total
        count = 0
        for line in data[:cut].split(b"\n"):
            if line:
                total += int.from_bytes(blake(line, digest_size=16).digest(), "little")
                count += 1
        self.total = total % _MOD
        self.lines += count

    def tee(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass chunks through, fingerprinting them."""
        for chunk in chunks:
            self.feed(chunk)
            yield chunk

    def hexdigest(self) -> str:
        if self._rest.strip():
            self.feed(b"\n")
        return f"{self.lines}:{self.total:032x}"


def file_digest(path: Path) -> str:
    """The fingerprint of an N-Triples file."""
    digest = GraphDigest()
    with path.open("rb") as data:
        while block := data.read(1 << 20):
            digest.feed(block)
    return digest.hexdigest()
