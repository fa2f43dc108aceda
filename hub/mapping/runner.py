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
from hub.mapping import parallel
from hub.mapping.fastpath import KeysOf, NodePlan, ObjectPlan, specialise
from hub.mapping.functions import truth
from hub.mapping.model import (
    FunctionCall,
    Mapping,
    RefObjectMap,
    TermMap,
    TriplesMap,
)
from hub.mapping.terms import (
    LANGUAGE_TAG,
    coerce_lexical,
    datatype_problem,
    escape_literal,
    is_absolute_iri,
    lexical_form,
)
from hub.mapping.values import part_values
from hub.mapping.values import template_values as _template_values
from hub.mapping.values import values as _values
from hub.util.jsonpath import compile_path, parse_path

Renderer = Callable[[Any], list[str]]
MAX_KEPT_ERRORS = 1000
_FIELD_SAMPLE = 200


@dataclass
class RecordFailure:
    """One record left out of a run, and why."""

    number: int
    key: str
    error: RecordError
    location: str = ""  # in the source's own terms: `offers.csv line 14`, `x.json $.data[3]`

    def message(self, source: str, *, hide_value: bool = False) -> str:
        """The failure for people; `hide_value`: without the record's value (public reports)."""
        place = f", {self.location}" if self.location else ""
        where = f"source `{source}`, record `{self.key}` (record #{self.number}{place})"
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


def _literal_suffix(term: TermMap) -> str:
    if term.language:
        return f"@{term.language}"
    if term.datatype:
        return f"^^<{term.datatype}>"
    return ""


def holds(calls: list[FunctionCall], node: Any) -> bool:
    """True when every condition gives a true value for the node."""
    return all(any(truth(v) for v in _values(call, node)) for call in calls)


def compile_term(term: TermMap, file: str, prefixes: dict[str, str] | None = None) -> Renderer:
    """A function from a node to the N-Triples terms this term map makes for it."""
    render = _compile_term(term, file, prefixes or {})
    if not term.condition:
        return render
    condition = term.condition
    return lambda node: render(node) if holds(condition, node) else []


def _dynamic_literal(term: TermMap, file: str, prefixes: dict[str, str]) -> Renderer:
    """A literal whose language or datatype comes from the data (RML's language / datatype map)."""
    parts = term.parts or [term.constant or ""]
    language_parts, datatype_parts = term.language_parts, term.datatype_parts

    def languages(node: Any) -> list[str]:
        out = []
        for tag in _template_values(language_parts or [], node, False):
            if not LANGUAGE_TAG.match(tag):
                raise RecordError(
                    f"`{tag}` is not a language tag (BCP 47, e.g. it, fr, en-GB); fix the "
                    "value at the source",
                    file=file,
                    line=term.language_line or term.line,
                    value=tag,
                )
            out.append(tag)
        return out

    def datatypes(node: Any) -> list[str]:
        out = []
        for text in _template_values(datatype_parts or [], node, False):
            iri = text.strip().removeprefix("<").removesuffix(">")
            prefix, _, local = iri.partition(":")
            if prefix in prefixes and not local.startswith("//"):
                iri = prefixes[prefix] + local
            problem = None if is_absolute_iri(iri) else f"`{text}` is not a datatype IRI"
            problem = problem or datatype_problem(iri)
            if problem:
                raise RecordError(
                    problem, file=file, line=term.datatype_line or term.line, value=text
                )
            out.append(iri)
        return out

    def render(node: Any) -> list[str]:
        found = part_values(parts, node)
        if not found:
            return []
        out = []
        if language_parts is not None:
            for tag in languages(node):
                out.extend(f'"{escape_literal(lexical_form(v)[0])}"@{tag}' for v in found)
            return out
        for datatype in datatypes(node):
            for value in found:
                try:
                    text = coerce_lexical(value, datatype)
                except ValueError as exc:
                    raise RecordError(
                        f"value {exc}",
                        file=file,
                        line=term.datatype_line or term.line,
                        value=lexical_form(value)[0],
                    ) from None
                out.append(f'"{escape_literal(text)}"^^<{datatype}>')
        return out

    return render


def _compile_term(term: TermMap, file: str, prefixes: dict[str, str]) -> Renderer:
    if term.language_parts is not None or term.datatype_parts is not None:
        return _dynamic_literal(term, file, prefixes)
    if term.kind == "iri":
        if term.constant is not None:
            constant = [f"<{term.constant}>"]
            return lambda node: constant
        parts = term.parts
        if len(parts) == 1:  # a reference-valued IRI: taken as is, must be absolute
            ref = parts[0]
            assert not isinstance(ref, str)

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
        assert not isinstance(ref, str)
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
    """Turns records into N-Triples with one compiled mapping, keeping stats and failures.

    Each triples map runs as specialised code (hub.mapping.fastpath) that hands what it
    does not cover to the interpreted renderers of this module; `specialised=False` runs
    the interpreted renderers only (the reference the fast code is tested against).
    `processes` > 1 maps batches of records in that many processes, this one included
    (hub.mapping.parallel: forked workers), with the same output, in the same order.

    Joins with a condition (`{mapping: other, condition: …}`) link records of the whole
    run: the parents' subjects are kept by join key and the children's subjects with
    their keys, and the links are written after the last record. Memory grows with the
    joined keys and subjects (not with the records' other fields).
    """

    def __init__(
        self,
        mapping: Mapping,
        *,
        source: str,
        record_key: str | list[str] | None = None,
        locate: Callable[[], str] | None = None,
        processes: int = 1,
        specialised: bool = True,
    ) -> None:
        self.mapping = mapping
        self.source = source
        self.processes = max(1, processes)
        # Where the record being mapped is in the source (a CSV line, a JSON path), if known.
        self.locate = locate
        self.stats = MappingStats()
        # The record's own key: a path, or alternatives for sources with several record shapes.
        paths = [record_key] if isinstance(record_key, str) else list(record_key or [])
        self._keys = [compile_path(p) for p in paths]
        self._key = self._first_key if paths else None
        steps = parse_path(paths[0]) if len(paths) == 1 else []
        self._plain_key = steps[0][1] if len(steps) == 1 and steps[0][0] == "key" else None
        self.key_path = " or ".join(f"`{p}`" for p in paths)
        file, prefixes = mapping.file, mapping.prefixes
        subjects = {tmap.name: self._subject(tmap) for tmap in mapping.triples_maps}
        self._join_predicates: list[list[str]] = []
        parents: dict[str, list[tuple[int, KeysOf]]] = {}
        children: dict[str, list[tuple[int, KeysOf]]] = {}
        objects_of: dict[str, list[ObjectPlan]] = {}
        for tmap in mapping.triples_maps:
            objects = objects_of[tmap.name] = []
            for pom in tmap.predicate_objects:
                predicates = [f"<{p}>" for p in pom.predicates]
                for obj in pom.objects:
                    if isinstance(obj, RefObjectMap) and obj.joins:
                        join_id = len(self._join_predicates)
                        self._join_predicates.append(predicates)
                        children.setdefault(tmap.name, []).append(
                            (join_id, _join_keys([j.child for j in obj.joins], pom.condition))
                        )
                        parents.setdefault(obj.parent, []).append(
                            (join_id, _join_keys([j.parent for j in obj.joins], None))
                        )
                        continue
                    conditions = [pom.condition] if pom.condition else []
                    if isinstance(obj, RefObjectMap):  # same records: the parent's subjects
                        objects.append(
                            ObjectPlan(predicates, subjects[obj.parent], None, conditions)
                        )
                        continue
                    if obj.condition:
                        conditions.append(obj.condition)
                    bare = _compile_term(obj, file, prefixes)
                    objects.append(ObjectPlan(predicates, bare, obj, conditions))
        self._plans: list[NodePlan] = []
        for tmap in mapping.triples_maps:
            objects = objects_of[tmap.name]
            mine, theirs = children.get(tmap.name, []), parents.get(tmap.name, [])
            iterated = any(s.iterator.strip() not in ("$", "") for s in tmap.sources)
            self._plans.append(
                NodePlan(
                    subject=tmap.subject if not tmap.subjects else None,
                    condition=tmap.condition,
                    objects=objects,
                    interpreted=_interpreted(subjects[tmap.name], objects, mine, theirs),
                    select_nodes=tmap.select_nodes if iterated or not tmap.sources else None,
                    children=mine,
                    parents=theirs,
                )
            )
        self._index: list[dict[tuple[str, ...], set[str]]] = [{} for _ in self._join_predicates]
        self._pending: list[dict[str, set[tuple[str, ...]]]] = [{} for _ in self._join_predicates]
        if specialised:
            self._map = specialise(self._plans, holds, mapping.file)
        else:
            self._map = _interpreted_record(self._plans)

    def _subject(self, tmap: TriplesMap) -> Renderer:
        """The subjects of a node: all subject maps, when the mapping's condition holds."""
        renders = [compile_term(s, self.mapping.file) for s in tmap.all_subjects()]
        render = renders[0]
        if len(renders) > 1:

            def render(node: Any) -> list[str]:
                return [s for r in renders for s in r(node)]

        if tmap.condition:
            return _conditional(render, tmap.condition)
        return render

    def _first_key(self, record: Any) -> list[Any]:
        for select in self._keys:
            found = select(record)
            if found and found[0] not in (None, ""):
                return found
        return []

    def _has_key(self, record: Any) -> bool:
        if self._plain_key is not None and record.__class__ is dict:
            value = record.get(self._plain_key)
            return value is not None and value != ""
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
        """The N-Triples lines of one record (not its links to others); RecordError if it fails."""
        lines: list[str] = []
        self._map(record, lines.append, [] if self._join_predicates else None)
        return lines

    def encoded(self, record: Any, found: list[Any] | None) -> tuple[bytes, int]:
        """The record's N-Triples as UTF-8 and their number; RecordError if the record fails.

        `found` collects the record's join keys (None when the mapping has no joins).
        """
        try:
            if self._key is not None and not self._has_key(record):
                raise RecordError(
                    f"the record has no value for {self.key_path}, the source's key; it "
                    "cannot get a stable IRI and was left out (fix the source, or the "
                    "source's `key` setting)"
                )
            lines: list[str] = []
            self._map(record, lines.append, found)
            # lone surrogates fail here, not in the store
            return "".join(lines).encode("utf-8"), len(lines)
        except UnicodeEncodeError as exc:
            raise RecordError(f"a value is not valid Unicode text: {exc.reason}") from None

    def _commit(self, found: list[tuple[Any, ...]]) -> None:
        for is_parent, join_id, subjects, keys in found:
            if is_parent:
                index = self._index[join_id]
                for key in keys:
                    index.setdefault(key, set()).update(subjects)
            else:
                pending = self._pending[join_id]
                for s in subjects:
                    pending.setdefault(s, set()).update(keys)

    def _join_lines(self) -> list[str]:
        """The links of every join, once all records are in; frees the join state."""
        lines = []
        for join_id, pending in enumerate(self._pending):
            index, predicates = self._index[join_id], self._join_predicates[join_id]
            for s, keys in pending.items():
                targets: set[str] = set()
                for key in keys:
                    targets.update(index.get(key, ()))
                for o in sorted(targets):
                    for p in predicates:
                        lines.append(f"{s} {p} {o} .\n")
            pending.clear()
            index.clear()
        return lines

    def run(self, records: Iterable[Any], chunk_triples: int = 50_000) -> Iterator[bytes]:
        """Map every record; yield UTF-8 N-Triples chunks of about `chunk_triples` lines."""
        if self.processes > 1 and parallel.available():
            yield from parallel.run(self, records, self.processes)
            return
        stats = self.stats
        buffer: list[bytes] = []
        buffered = 0
        joined = bool(self._join_predicates)
        encoded = self.encoded
        found: list[tuple[Any, ...]] | None = None
        for number, record in enumerate(records, start=1):
            stats.records = number
            if number <= _FIELD_SAMPLE and isinstance(record, dict):
                stats.fields_seen.update(record)
            if joined:
                found = []
            try:
                data, count = encoded(record, found)
            except RecordError as exc:
                self._fail(record, number, exc)
                continue
            if found:
                self._commit(found)
            buffer.append(data)
            buffered += count
            if buffered >= chunk_triples:
                stats.triples += buffered
                yield b"".join(buffer)
                buffer, buffered = [], 0
        stats.triples += buffered
        tail = self.finish()
        if tail:
            buffer.append(tail)
        if buffer:
            yield b"".join(buffer)

    def finish(self) -> bytes:
        """After the last record: the join links, counted in the stats."""
        if not self._join_predicates:
            return b""
        links = self._join_lines()
        self.stats.triples += len(links)
        return "".join(links).encode("utf-8")

    def _fail(self, record: Any, number: int, error: RecordError) -> None:
        if len(self.stats.failures) >= MAX_KEPT_ERRORS:
            self.stats.failed += 1
            return
        location = self.locate() if self.locate is not None else ""
        self.failed(number, self.record_key(record, number), error, location)

    def failed(self, number: int, key: str, error: RecordError, location: str = "") -> None:
        """Count a record left out, and keep why (the first MAX_KEPT_ERRORS of them)."""
        self.stats.failed += 1
        if not error.file:
            error.file = self.mapping.file
        if len(self.stats.failures) < MAX_KEPT_ERRORS:
            self.stats.failures.append(
                RecordFailure(number=number, key=key, error=error, location=location)
            )

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
            if ref.iterator:
                suggestion = (
                    " (a source's iterator runs within each record the harvester gives; if the "
                    "harvester already splits the file into these records, write `$`)"
                )
            warnings.append(
                f"{self.mapping.file} line {ref.line}: `{ref.path}` matched no value in any of "
                f"the {self.stats.records} records of source `{self.source}`{suggestion}"
            )
        return warnings


def _conditional(render: Renderer, condition: list[FunctionCall]) -> Renderer:
    return lambda node: render(node) if holds(condition, node) else []


def _join_keys(
    sides: list[list[Any]], condition: list[FunctionCall] | None
) -> Callable[[Any], list[tuple[str, ...]]]:
    """The join keys of a node: one tuple per combination of its values (as text)."""

    def keys(node: Any) -> list[tuple[str, ...]]:
        if condition and not holds(condition, node):
            return []
        columns = []
        for parts in sides:
            found = [lexical_form(v)[0] for v in part_values(parts, node)]
            if not found:
                return []
            columns.append(found)
        if len(columns) == 1:
            return [(v,) for v in columns[0]]
        return list(itertools.product(*columns))

    return keys


def _interpreted(
    subject: Renderer,
    objects: list[ObjectPlan],
    children: list[tuple[int, KeysOf]],
    parents: list[tuple[int, KeysOf]],
) -> Callable[[Any, Callable[[str], None], list[Any] | None], None]:
    """One node of a triples map through the interpreted renderers (the fast code's fallback)."""
    plan = [(obj.predicates, obj.render, obj.conditions) for obj in objects]

    def map_node(node: Any, append: Callable[[str], None], found: list[Any] | None) -> None:
        subjects = subject(node)
        if not subjects:
            return
        for s in subjects:
            for predicates, render, conditions in plan:
                if conditions and not all(holds(c, node) for c in conditions):
                    continue
                for o in render(node):
                    for p in predicates:
                        append(f"{s} {p} {o} .\n")
        if found is not None:
            for join_id, keys_of in children:
                keys = keys_of(node)
                if keys:
                    found.append((False, join_id, subjects, keys))
            for join_id, keys_of in parents:
                keys = keys_of(node)
                if keys:
                    found.append((True, join_id, subjects, keys))

    return map_node


def _interpreted_record(
    plans: list[NodePlan],
) -> Callable[[Any, Callable[[str], None], list[Any] | None], None]:
    """A whole record through the interpreted renderers, triples map by triples map."""
    steps = [(plan.select_nodes, plan.interpreted) for plan in plans]

    def map_record(record: Any, append: Callable[[str], None], found: list[Any] | None) -> None:
        for select_nodes, map_node in steps:
            for node in select_nodes(record) if select_nodes is not None else (record,):
                map_node(node, append, found)

    return map_record
