"""Gates between staging and publishing: what keeps damaged data from readers.

Each gate looks at one kind of damage and answers with `Finding`s. The source's
`quality` settings (`hub.config.Quality`) say what a finding does: "warn" (the run
publishes and says so), "hold" (the version waits for `hub approve` / `hub reject`)
or "fail" (nothing is kept). A run (`hub.pipeline.run`) and `hub check` call the
same gates, so a check says exactly what the run would do.

    >>> verdict = Verdict()
    >>> verdict.add(record_drop(records=40, last=100, incremental=False, quality=Quality()))
    >>> verdict.outcome
    'hold'
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from hub.config import HubConfig, Quality
from hub.iris import RDF, Iris
from hub.mapping.runner import MappingRunner
from hub.validation import ValidationReport

__all__ = [
    "CATEGORY",
    "THEME",
    "Finding",
    "Verdict",
    "VersionProfile",
    "controlled_namespaces",
    "count_gates",
    "no_triples",
    "profile_version",
    "record_drop",
    "shacl_gate",
    "unknown_concepts",
    "unmatched_references",
    "vanished_properties",
    "version_subjects",
]

CATEGORY = "https://w3id.org/marittimo-hub/category/"
THEME = "https://w3id.org/marittimo-hub/theme/"
ACTION_STATUS = "https://w3id.org/marittimo-hub/action-status/"
SUPPORT_TYPE = "https://w3id.org/marittimo-hub/support-type/"
_TYPE = f"<{RDF}type>".encode()
_UNTYPED = "(untyped)"
# How many findings of one gate the run's message names (the rest are in its errors).
_NAMED = 3


@dataclass(frozen=True)
class Finding:
    """One thing a gate found, what the settings make it do, and its facts for `hub check --json`."""

    gate: str  # the setting that governs it: "unmatched_reference", "max_drop", ...
    action: str  # "warn" | "hold" | "fail"
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict:
    """The findings of every gate a staged version went through."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def of(self, action: str) -> list[Finding]:
        return [f for f in self.findings if f.action == action]

    @property
    def outcome(self) -> str:
        """The strongest action of any finding: "fail", "hold" or "publish"."""
        if self.of("fail"):
            return "fail"
        return "hold" if self.of("hold") else "publish"

    def causes(self, action: str) -> str:
        """The findings of one action as one sentence, a few named per gate."""
        by_gate: dict[str, list[Finding]] = {}
        for finding in self.of(action):
            by_gate.setdefault(finding.gate, []).append(finding)
        parts = []
        for gate, found in by_gate.items():
            text = "; ".join(f.message for f in found[:_NAMED])
            if len(found) > _NAMED:
                text += f" (and {len(found) - _NAMED} more; see the errors)"
            parts.append(f"[{gate}] {text}")
        return "; ".join(parts)


def _finding(gate: str, action: str, message: str, **details: Any) -> Finding:
    return Finding(gate=gate, action=action, message=message, details=details)


# -- counts ---------------------------------------------------------------------
def count_gates(
    records: int, failed: int, quality: Quality, first_error: str = ""
) -> list[Finding]:
    """Too few records, or too many that could not be mapped: the run fails.

    `first_error` (the first record's error, values hidden) is quoted, so that the run's
    message says what went wrong (e.g. a key field missing from every record).
    """
    if records < quality.min_records:
        return [
            _finding(
                "min_records",
                "fail",
                f"{records} records harvested, fewer than the minimum {quality.min_records}; "
                "check the source (empty file, wrong query?) — nothing was published",
                records=records,
                minimum=quality.min_records,
            )
        ]
    rate = failed / records if records else 0.0
    if rate > quality.max_error_rate:
        return [
            _finding(
                "max_error_rate",
                "fail",
                f"{failed} of {records} records ({rate:.0%}) could not be mapped, above the "
                f"limit of {quality.max_error_rate:.0%}"
                + (f"; the first: {first_error}" if first_error else "")
                + "; fix the mapping or the data (see the errors) — nothing was published",
                failed=failed,
                records=records,
            )
        ]
    return []


def record_drop(records: int, last: int, *, incremental: bool, quality: Quality) -> list[Finding]:
    """(d) A full harvest far smaller than the last published one."""
    if incremental or not last or records >= last * (1 - quality.max_drop):
        return []
    return [
        _finding(
            "record_drop",
            quality.record_drop,
            f"{records} records, {1 - records / last:.0%} fewer than the {last} of the last "
            f"published run (limit {quality.max_drop:.0%})",
            records=records,
            last=last,
        )
    ]


def no_triples(records: int, failed: int, triples: int, quality: Quality) -> list[Finding]:
    """(e) Records went in and were mapped, but no triple came out."""
    if records - failed <= 0 or triples:
        return []
    return [
        _finding(
            "no_triples",
            quality.no_triples,
            f"{records - failed} records mapped without error but no triple came out; "
            "the mapping's iterators or subjects match nothing in these records",
            records=records,
        )
    ]


def shacl_gate(result: ValidationReport, quality: Quality) -> list[Finding]:
    """SHACL results of severity sh:Violation (warnings never block)."""
    if not result.error_count:
        return []
    return [
        _finding(
            "fail_on_shacl_violation",
            "fail" if quality.fail_on_shacl_violation else "warn",
            f"{result.error_count} SHACL violation(s) in the staged data; "
            "fix the mapping or the data — nothing was published",
            violations=result.error_count,
        )
    ]


# -- the mapping against the records ----------------------------------------------
def unmatched_references(runner: MappingRunner, quality: Quality) -> list[Finding]:
    """(a) Mapping references that matched no value in any record.

    A plain field that the records do have, empty in all of them, only warns: the
    column is there (an optional one, empty this time). If it was filled before, the
    vanished-property gate speaks.
    """
    if runner.stats.records == 0:
        return []
    seen = sorted(runner.stats.fields_seen)
    refs = [ref for ref in runner.mapping.references() if not ref.hits]
    # The runner words the message (file, line, "did you mean"); its order is the references'.
    messages = runner.unmatched_references()
    out = []
    for ref, message in zip(refs, messages, strict=True):
        head = ref.path.lstrip("$.").split(".")[0].split("[")[0]
        hint = difflib.get_close_matches(head, seen, n=1)
        action = quality.unmatched_reference
        if ref.path.lstrip("$.") == head and head in runner.stats.fields_seen:
            action = "warn"
            message += " (the field is in the records, empty in every one)"
        out.append(
            _finding(
                "unmatched_reference",
                action,
                message,
                file=runner.mapping.file,
                line=ref.line,
                reference=ref.path,
                suggestion=hint[0] if hint and hint[0] != head else None,
            )
        )
    return out


# -- the version against the published one ----------------------------------------
def version_subjects(path: Path) -> Iterator[tuple[bytes, list[tuple[bytes, bytes]]]]:
    """(subject, [(predicate, rest)]) of a sorted version file, one subject at a time."""
    subject: bytes | None = None
    lines: list[tuple[bytes, bytes]] = []
    with path.open("rb") as data:
        for line in data:
            parts = line.split(b" ", 2)
            if len(parts) < 3:
                continue
            s, p, rest = parts
            if s != subject:
                if subject is not None:
                    yield subject, lines
                subject, lines = s, []
            lines.append((p, rest))
    if subject is not None:
        yield subject, lines


@dataclass
class VersionProfile:
    """Per class: how many entities a version has, and how many of them have each property."""

    entities: Counter[str] = field(default_factory=Counter)
    having: dict[str, Counter[str]] = field(default_factory=dict)


def profile_version(path: Path) -> VersionProfile:
    """Count entities and properties per class of a sorted version file, in one pass."""
    entities: Counter[bytes] = Counter()
    having: dict[bytes, Counter[bytes]] = {}
    untyped = [_UNTYPED.encode()]
    for _, lines in version_subjects(path):
        types = [rest.split(b" ", 1)[0] for p, rest in lines if p == _TYPE] or untyped
        predicates = {p for p, _ in lines}
        for cls in types:
            entities[cls] += 1
            counts = having.get(cls)
            if counts is None:
                counts = having[cls] = Counter()
            counts.update(predicates)
    # (the bytes are decoded once per class and property, not once per line)
    profile = VersionProfile()
    for cls, count in entities.items():
        name = _name(cls)
        profile.entities[name] += count
        target = profile.having.setdefault(name, Counter())
        for prop, n in having[cls].items():
            target[_name(prop)] += n
    return profile


def _name(term: bytes) -> str:
    text = term.decode("utf-8", "replace")
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def vanished_properties(old: Path | None, new: Path, quality: Quality) -> list[Finding]:
    """(b) A property most entities of a class had in the published version, none have now."""
    if old is None or not old.exists():
        return []
    before, after = profile_version(old), profile_version(new)
    share = quality.vanished_property_share
    out = []
    for cls, count in sorted(before.entities.items()):
        if not after.entities.get(cls):
            continue  # the class itself is gone: the record-drop gate speaks of that
        now = after.having.get(cls, Counter())
        for prop, having in sorted(before.having[cls].items()):
            if having / count >= share and not now.get(prop):
                out.append(
                    _finding(
                        "vanished_property",
                        quality.vanished_property,
                        f"<{prop}> was on {having} of the {count} <{cls}> entities of the "
                        f"published version and is on none of the {after.entities[cls]} now; "
                        "a renamed source field or a broken mapping line?",
                        property=prop,
                        cls=cls,
                        before=having,
                        entities=count,
                    )
                )
    return out


# -- controlled vocabularies ----------------------------------------------------------
def controlled_namespaces(config: HubConfig) -> dict[str, str]:
    """Namespace -> where its terms are declared, for the namespaces no source may extend."""
    return {
        CATEGORY: "ontology/themes.ttl",
        THEME: "ontology/themes.ttl",
        ACTION_STATUS: "ontology/themes.ttl",
        SUPPORT_TYPE: "ontology/themes.ttl",
        Iris(config.base_iri).programme_base: "ontology/programme.ttl or [projects]",
    }


def _line_blocks(data: BinaryIO, size: int = 8 << 20) -> Iterator[bytes]:
    """A file in blocks of about `size` bytes, each ending at a line's end."""
    rest = b""
    while chunk := data.read(size):
        chunk = rest + chunk
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            rest = chunk
            continue
        rest = chunk[cut:]
        yield chunk[:cut]
    if rest:
        yield rest + b"\n"


@lru_cache(maxsize=8)
def _known_terms(ntriples: bytes) -> frozenset[str]:
    return frozenset(
        t.subject.value
        for t in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)
        if isinstance(t.subject, ox.NamedNode)
    )


def known_terms(config: HubConfig) -> frozenset[str]:
    """Every IRI the ontology files (and [projects]) declare, read without a store."""
    from hub.pipeline.programme import programme_turtle

    return _known_terms(programme_turtle(config))


def unknown_concepts(version: Path, config: HubConfig, quality: Quality) -> list[Finding]:
    """(c) IRIs in a controlled vocabulary's namespace that the vocabulary does not have."""
    namespaces = controlled_namespaces(config)
    prefixes = tuple(namespaces)
    known = known_terms(config)
    unknown: dict[str, tuple[int, str]] = {}
    # Every IRI in a controlled namespace, found by one regular expression over blocks of
    # whole lines (C speed); the line around a hit is looked at only for unknown terms.
    controlled = re.compile(
        rb"<(" + b"|".join(re.escape(n.encode()) for n in prefixes) + rb")([^<>\s]*)>"
    )
    with version.open("rb") as data:
        for block in _line_blocks(data):
            for hit in controlled.finditer(block):
                iri = (hit.group(1) + hit.group(2)).decode("utf-8", "replace")
                if iri in known:
                    continue
                start = block.rfind(b"\n", 0, hit.start()) + 1
                if start != hit.start() and not block.startswith(b" .", hit.end()):
                    continue  # neither the subject nor the object (a literal's text)
                subject = block[start : block.index(b" ", start)].decode("utf-8", "replace")
                count, first = unknown.get(iri, (0, subject[1:-1]))
                unknown[iri] = (count + 1, first)
    out = []
    for iri, (count, first) in sorted(unknown.items()):
        namespace = next(n for n in prefixes if iri.startswith(n))
        close = difflib.get_close_matches(
            iri, sorted(k for k in known if k.startswith(namespace)), n=1, cutoff=0.8
        )
        hint = f" (did you mean <{close[0]}>?)" if close else ""
        out.append(
            _finding(
                "unknown_concept",
                quality.unknown_concept,
                f"<{iri}> ({count} triple(s), first of <{first}>) is not a term of "
                f"{namespaces[namespace]}{hint}; fix the value or the mapping, or add the term "
                "to the vocabulary",
                iri=iri,
                triples=count,
                example=first,
                suggestion=close[0] if close else None,
            )
        )
    return out
