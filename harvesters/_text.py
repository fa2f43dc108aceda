"""Turn a stream of byte chunks into text lines, reporting undecodable bytes by offset."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from hub.errors import HarvestError

_EOL = re.compile(r"\r\n|\n|\r")
# the line breaks of `str.splitlines` that are not \n, \r\n or \r (each looked for with
# `in`, a memchr: 30 times faster than one regex character class over a 64 KB chunk)
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
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
    if not any(brk in pending for brk in _OTHER_BREAKS):
        # only \n, \r\n and \r: `splitlines` cuts where the regex would, in C
        lines = pending.splitlines(keepends=True)
        if lines and (
            not lines[-1].endswith(("\n", "\r"))  # the start of a line still to come
            or (not final and lines[-1].endswith("\r"))  # \r, maybe half of a \r\n
        ):
            return lines, lines.pop()
        return lines, ""
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

    As `decode_line_batches`, one line at a time.
    """
    for lines in decode_line_batches(source_id, name, chunks, encoding):
        yield from lines


def decode_line_batches(
    source_id: str, name: str, chunks: Iterator[bytes], encoding: str
) -> Iterator[list[str]]:
    """Yield the lines of the text in lists (the lines completed by each chunk).

    Lines keep their line ends; a leading byte order mark is dropped.

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
            yield lines
            line = line_count + len(lines) + pending.count("\n") + 1
            start = offset - len(buffered) + exc.start
            raise _decode_error(source_id, name, encoding, start, exc, line) from None
        offset += len(chunk)
        if first and text:
            text = text.removeprefix(_BOM)
            first = False
        lines, pending = _split(pending + text, final)
        line_count += len(lines)
        if lines:
            yield lines
        if final:
            if pending:
                yield [pending]
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
