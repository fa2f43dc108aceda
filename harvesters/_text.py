"""Turn a stream of byte chunks into text lines, reporting undecodable bytes by offset."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from hub.errors import HarvestError

_EOL = re.compile(r"\r\n|\n|\r")
_BOM = "\ufeff"


def check_encoding(source_id: str, encoding: str) -> str:
    """The encoding as given, or a HarvestError when Python does not know it."""
    try:
        codecs.lookup(encoding)
        return encoding
    except LookupError:
        raise HarvestError(
            source_id,
            f"unknown encoding `{encoding}` in options.encoding; use e.g. utf-8, latin-1, cp1252",
        ) from None


def _decode_error(
    source_id: str, name: str, encoding: str, start: int, exc: UnicodeDecodeError, line: int
) -> HarvestError:
    return HarvestError(
        source_id,
        f"cannot decode {name} as {encoding} at byte {start} (line {line}): {exc.reason}; "
        "set options.encoding to the file's encoding (e.g. 'latin-1' or 'cp1252')",
    )


def _split(pending: str, final: bool) -> tuple[list[str], str]:
    """The complete lines at the start of `pending`, and what is left after them."""
    lines = []
    end = 0
    for match in _EOL.finditer(pending):
        # a \r at the very end may be the first half of a \r\n split across chunks
        if match.group() == "\r" and match.end() == len(pending) and not final:
            break
        lines.append(pending[end : match.end()])
        end = match.end()
    return lines, pending[end:]


def decode_lines(
    source_id: str, name: str, chunks: Iterator[bytes], encoding: str
) -> Iterator[str]:
    """Yield the lines of the text, line ends kept, without a leading byte order mark.

    Lines end at \\n, \\r\\n or \\r only (not at the other breaks `str.splitlines` knows),
    as in a file opened with `newline=''`, which is what the csv module expects. On bytes
    that cannot be decoded, the complete lines before them are yielded, then it raises.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0  # bytes given to the decoder so far
    line_count = 0  # lines yielded so far
    pending = ""
    first = True
    while True:
        chunk = next(chunks, b"")
        final = not chunk
        buffered = decoder.getstate()[0]
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # the bytes before the bad one decode; give their complete lines first
            good = codecs.decode((buffered + chunk)[: exc.start], encoding)
            pending += good.removeprefix(_BOM) if first else good
            lines, pending = _split(pending, final=False)
            yield from lines
            line = line_count + len(lines) + pending.count("\n") + 1
            start = offset - len(buffered) + exc.start
            raise _decode_error(source_id, name, encoding, start, exc, line) from None
        offset += len(chunk)
        if first and text:
            text = text.removeprefix(_BOM)
            first = False
        lines, pending = _split(pending + text, final)
        line_count += len(lines)
        yield from lines
        if final:
            if pending:
                yield pending
            return


def decode_all(source_id: str, name: str, chunks: Iterator[bytes], encoding: str) -> str:
    """The whole text of the stream (for formats that are parsed in one go, like JSON)."""
    data = b"".join(chunks)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, "replace").count("\n") + 1
        raise _decode_error(source_id, name, encoding, exc.start, exc, line) from None
    return text.removeprefix(_BOM)
