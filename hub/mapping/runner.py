"""Run a compiled mapping over records, record by record, into N-Triples text.

A record that cannot be mapped is reported (source, record key, mapping line,
reason) and left out whole; the rest of the run goes on.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hub.errors import RecordError
from hub.mapping.model import Mapping, Reference, TermMap
from hub.mapping.terms import (
    coerce_lexical,
    escape_literal,
    iri_safe,
    is_absolute_iri,
    lexical_form,
)
from hub.util.jsonpath import compile_path

Renderer = Callable[[Any], list[str]]
MAX_KEPT_ERRORS = 1000
_FIELD_SAMPLE = 200


@dataclass
class RecordFailure:
    """One record left out of a run, and why."""

    number: int
    key: str
    error: RecordError

    def message(self, source: str, *, hide_value: bool = False) -> str:
        """The failure for people; `hide_value`: without the record's value (public reports)."""
        where = f"source `{source}`, record `{self.key}` (record #{self.number})"
        return f"{where}: {self.error.located(hide_value=hide_value)}"


@dataclass
class MappingStats:
    """What a mapping run produced: counts, kept failures, references that matched nothing."""

    records: int = 0
    failed: int = 0
    triples: int = 0
    failures: list[RecordFailure] = field(default_factory=list)
    fields_seen: set[str] = field(default_factory=set)

    @property
    def mapped(self) -> int:
        return self.records - self.failed


def _values(ref: Reference, node: Any) -> list[Any]:
    """The non-empty values a reference selects; lists give one value per item."""
    found = ref.select(node)
    out: list[Any] = []
    for value in found:
        if isinstance(value, list):
            out.extend(v for v in value if v is not None and v != "")
        elif isinstance(value, dict):
            keys = ", ".join(sorted(value)[:8])
            raise RecordError(
                f"reference `{ref.path}` selects an object, not a value; reference one of its "
                f"fields ({keys})",
                line=ref.line,
            )
        elif value is not None and value != "":
            out.append(value)
    if out:
        ref.hits += 1
    return out


def _template_values(parts: list[str | Reference], node: Any, encode: bool) -> list[str]:
    pieces: list[list[str]] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append([part])
            continue
        values = [lexical_form(v)[0] for v in _values(part, node)]
        if not values:
            return []
        pieces.append([iri_safe(v) for v in values] if encode else values)
    if all(len(p) == 1 for p in pieces):
        return ["".join(p[0] for p in pieces)]
    return ["".join(combo) for combo in itertools.product(*pieces)]


def _literal_suffix(term: TermMap) -> str:
    if term.language:
        return f"@{term.language}"
    if term.datatype:
        return f"^^<{term.datatype}>"
    return ""


def compile_term(term: TermMap, file: str) -> Renderer:
    """A function from a node to the N-Triples terms this term map makes for it."""
    if term.kind == "iri":
        if term.constant is not None:
            constant = [f"<{term.constant}>"]
            return lambda node: constant
        parts = term.parts
        if len(parts) == 1:  # a reference-valued IRI: taken as is, must be absolute
            ref = parts[0]
            assert isinstance(ref, Reference)

            def reference_iri(node: Any) -> list[str]:
                out = []
                for value in _values(ref, node):
                    text = str(value).strip()
                    if not is_absolute_iri(text):
                        raise RecordError(
                            f"value `{text}` of `{ref.path}` is not an absolute IRI "
                            "(it needs a scheme such as https:, and no spaces)",
                            file=file,
                            line=term.line,
                            value=text,
                        )
                    out.append(f"<{text}>")
                return out

            return reference_iri
        return lambda node: [f"<{v}>" for v in _template_values(parts, node, True)]

    suffix = _literal_suffix(term)
    if term.constant is not None:
        constant = [f'"{escape_literal(term.constant)}"{suffix}']
        return lambda node: constant
    parts = term.parts
    datatype = term.datatype
    if len(parts) == 1:
        ref = parts[0]
        assert isinstance(ref, Reference)
        if term.language:
            return lambda node: [
                f'"{escape_literal(lexical_form(v)[0])}"{suffix}' for v in _values(ref, node)
            ]
        if datatype:

            def typed(node: Any) -> list[str]:
                out = []
                for value in _values(ref, node):
                    try:
                        text = coerce_lexical(value, datatype)
                    except ValueError as exc:
                        raise RecordError(
                            f"value of `{ref.path}`: {exc}",
                            file=file,
                            line=term.line,
                            value=str(value),
                        ) from None
                    out.append(f'"{escape_literal(text)}"{suffix}')
                return out

            return typed

        def natural(node: Any) -> list[str]:
            out = []
            for value in _values(ref, node):
                text, natural_type = lexical_form(value)
                tail = f"^^<{natural_type}>" if natural_type else ""
                out.append(f'"{escape_literal(text)}"{tail}')
            return out

        return natural

    def template_literal(node: Any) -> list[str]:
        out = []
        for text in _template_values(parts, node, False):
            if datatype:
                try:
                    text = coerce_lexical(text, datatype)
                except ValueError as exc:
                    raise RecordError(str(exc), file=file, line=term.line, value=text) from None
            out.append(f'"{escape_literal(text)}"{suffix}')
        return out

    return template_literal


class MappingRunner:
    """Turns records into N-Triples with one compiled mapping, keeping stats and failures."""

    def __init__(
        self, mapping: Mapping, *, source: str, record_key: str | list[str] | None = None
    ) -> None:
        self.mapping = mapping
        self.source = source
        self.stats = MappingStats()
        # The record's own key: a path, or alternatives for sources with several record shapes.
        paths = [record_key] if isinstance(record_key, str) else list(record_key or [])
        self._keys = [compile_path(p) for p in paths]
        self._key = self._first_key if paths else None
        self.key_path = " or ".join(f"`{p}`" for p in paths)
        self._plans = []
        for tmap in mapping.triples_maps:
            subject = compile_term(tmap.subject, mapping.file)
            pos = [
                (
                    [f"<{p}>" for p in pom.predicates],
                    [compile_term(o, mapping.file) for o in pom.objects],
                )
                for pom in tmap.predicate_objects
            ]
            self._plans.append((tmap.select_nodes, subject, pos))

    def _first_key(self, record: Any) -> list[Any]:
        for select in self._keys:
            found = select(record)
            if found and found[0] not in (None, ""):
                return found
        return []

    def _has_key(self, record: Any) -> bool:
        found = self._key(record) if self._key is not None else []
        return bool(found) and found[0] not in (None, "")

    def record_key(self, record: Any, number: int) -> str:
        """The record's own key, for messages (its number when it has none)."""
        if self._key is not None:
            found = self._key(record)
            if found and found[0] not in (None, ""):
                return str(found[0])
            return f"#{number} (no {self.key_path})"
        return f"#{number}"

    def map_record(self, record: Any) -> list[str]:
        """The N-Triples lines of one record; RecordError if any part fails."""
        lines: list[str] = []
        for select_nodes, subject, pos in self._plans:
            for node in select_nodes(record):
                for s in subject(node):
                    for predicates, objects in pos:
                        for render in objects:
                            for o in render(node):
                                for p in predicates:
                                    lines.append(f"{s} {p} {o} .\n")
        return lines

    def run(self, records: Iterable[Any], chunk_triples: int = 50_000) -> Iterator[bytes]:
        """Map every record; yield UTF-8 N-Triples chunks of about `chunk_triples` lines."""
        stats = self.stats
        buffer: list[str] = []
        for number, record in enumerate(records, start=1):
            stats.records = number
            if number <= _FIELD_SAMPLE and isinstance(record, dict):
                stats.fields_seen.update(record)
            try:
                if self._key is not None and not self._has_key(record):
                    raise RecordError(
                        f"the record has no value for {self.key_path}, the source's key; it "
                        "cannot get a stable IRI and was left out (fix the source, or the "
                        "source's `key` setting)"
                    )
                lines = self.map_record(record)
                text = "".join(lines)
                text.encode("utf-8")  # lone surrogates fail here, not in the store
            except RecordError as exc:
                self._fail(record, number, exc)
                continue
            except UnicodeEncodeError as exc:
                self._fail(
                    record, number, RecordError(f"a value is not valid Unicode text: {exc.reason}")
                )
                continue
            buffer.append(text)
            stats.triples += len(lines)
            if len(buffer) * 8 >= chunk_triples:
                yield "".join(buffer).encode("utf-8")
                buffer = []
        if buffer:
            yield "".join(buffer).encode("utf-8")

    def _fail(self, record: Any, number: int, error: RecordError) -> None:
        self.stats.failed += 1
        if not error.file:
            error.file = self.mapping.file
        if len(self.stats.failures) < MAX_KEPT_ERRORS:
            key = self.record_key(record, number)
            self.stats.failures.append(RecordFailure(number=number, key=key, error=error))

    def unmatched_references(self) -> list[str]:
        """Warnings for references that matched no value in any record of the run."""
        if self.stats.records == 0:
            return []
        warnings = []
        seen = sorted(self.stats.fields_seen)
        for ref in self.mapping.references():
            if ref.hits:
                continue
            head = ref.path.lstrip("$.").split(".")[0].split("[")[0]
            hint = difflib.get_close_matches(head, seen, n=1)
            suggestion = f" (did you mean `{hint[0]}`?)" if hint and hint[0] != head else ""
            warnings.append(
                f"{self.mapping.file} line {ref.line}: `{ref.path}` matched no value in any of "
                f"the {self.stats.records} records of source `{self.source}`{suggestion}"
            )
        return warnings
