"""The results of validating a staged graph: one `Violation` per SHACL result, and the report.

Stewards read results in Italian, French or English: `Violation.text(lang)` and
`ValidationReport.groups(lang)` use the shape's `sh:message` in that language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SH = "http://www.w3.org/ns/shacl#"

# "value" in the languages of the shapes' messages; other languages read it in English.
_VALUE = {"en": "value", "it": "valore", "fr": "valeur"}
_SEVERITY_RANK = {"sh:Violation": 0, "sh:Warning": 1, "sh:Info": 2}

# sh:minCount -> sh:MinCountConstraintComponent, as SHACL names the components.
_COMPONENTS = {
    "sh:class": "ClassConstraintComponent",
    "sh:datatype": "DatatypeConstraintComponent",
    "sh:nodeKind": "NodeKindConstraintComponent",
    "sh:minCount": "MinCountConstraintComponent",
    "sh:maxCount": "MaxCountConstraintComponent",
    "sh:minExclusive": "MinExclusiveConstraintComponent",
    "sh:minInclusive": "MinInclusiveConstraintComponent",
    "sh:maxExclusive": "MaxExclusiveConstraintComponent",
    "sh:maxInclusive": "MaxInclusiveConstraintComponent",
    "sh:minLength": "MinLengthConstraintComponent",
    "sh:maxLength": "MaxLengthConstraintComponent",
    "sh:pattern": "PatternConstraintComponent",
    "sh:languageIn": "LanguageInConstraintComponent",
    "sh:uniqueLang": "UniqueLangConstraintComponent",
    "sh:equals": "EqualsConstraintComponent",
    "sh:disjoint": "DisjointConstraintComponent",
    "sh:lessThan": "LessThanConstraintComponent",
    "sh:lessThanOrEquals": "LessThanOrEqualsConstraintComponent",
    "sh:not": "NotConstraintComponent",
    "sh:and": "AndConstraintComponent",
    "sh:or": "OrConstraintComponent",
    "sh:xone": "XoneConstraintComponent",
    "sh:node": "NodeConstraintComponent",
    "sh:closed": "ClosedConstraintComponent",
    "sh:hasValue": "HasValueConstraintComponent",
    "sh:in": "InConstraintComponent",
}


def component_iri(constraint: str) -> str:
    """The SHACL constraint component IRI of a parameter such as `sh:minCount`."""
    return SH + _COMPONENTS[constraint]


def pick_message(messages: Mapping[str, str], lang: str) -> tuple[str, str] | None:
    """(language, message) for `lang`, its primary language (`fr-CA` -> `fr`), else English.

    >>> pick_message({"en": "needs a name", "it": "manca il nome"}, "it-CH")
    ('it', 'manca il nome')
    """
    lang = lang.lower()
    for key in (lang, lang.split("-")[0], "en"):
        if key in messages:
            return key, messages[key]
    return None


@dataclass(frozen=True)
class Violation:
    """One validation result.

    `focus_node` and `value` are IRIs as plain strings, blank nodes as `_:id`, and
    literals in N-Triples syntax (`"abc"^^<http://www.w3.org/2001/XMLSchema#decimal>`).
    `path` is the predicate IRI, or a SPARQL property path for complex SHACL paths.
    """

    focus_node: str
    path: str | None
    value: str | None
    constraint: str
    shape: str
    severity: str
    message: str  # text("en"), as built by the validator
    #: The shape's sh:message by language ("en", "it", "fr"); empty when it has none.
    messages: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    # What text() assembles: focus and value as people read them (`id:b1`, `"12,5"`), the
    # constraint as written (`sh:datatype xsd:decimal`) and the generated English sentence.
    focus_text: str = field(default="", compare=False, repr=False)
    value_text: str | None = field(default=None, compare=False, repr=False)
    rule: str = field(default="", compare=False, repr=False)
    description: str = field(default="", compare=False, repr=False)

    @property
    def component(self) -> str:
        """The constraint component IRI, as in a SHACL validation report."""
        return component_iri(self.constraint)

    def text(self, lang: str = "en") -> str:
        """The steward's sentence in `lang`: entity, message, offending value, shape.

        Falls back to the English message, then to the generated description:

            id:p1: schema:latitude deve essere un solo xsd:decimal compreso tra -90 e 90
            (sh:datatype xsd:decimal) — valore "12,5" — shape mhs:latitude
        """
        chosen = pick_message(self.messages, lang)
        if chosen is None and not self.description:
            return self.message  # built without its parts (by hand, in a test)
        if chosen is None:
            said, body = "en", self.description
            # The generated sentence names the value itself, where there is one.
            show = self.value_text is not None and self.value_text not in body
        else:
            said, body = chosen[0], f"{chosen[1]} ({self.rule})" if self.rule else chosen[1]
            # A node shape's value is the focus node: no need to say it twice.
            show = self.value_text is not None and self.value != self.focus_node
        text = f"{self.focus_text or self.focus_node}: {body}"
        if show:
            text += f" — {_VALUE.get(said, 'value')} {self.value_text}"
        return f"{text} — shape {self.shape}"


@dataclass(frozen=True)
class ConstraintCount:
    """How many results one constraint of one shape produced (counted past the limit)."""

    shape: str
    path: str | None
    constraint: str
    severity: str
    count: int
    #: The shape's sh:message by language, as on `Violation.messages`.
    messages: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    rule: str = field(default="", compare=False)  # sh:maxCount 1
    description: str = field(default="", compare=False)  # generated, when there is no message

    @property
    def key(self) -> tuple[str, str | None, str, str]:
        """(shape, path, constraint, severity): what results are grouped by."""
        return (self.shape, self.path, self.constraint, self.severity)


@dataclass
class ValidationReport:
    """The outcome of validating one graph: totals are exact, `violations` stops at the limit."""

    graph: str
    violations: list[Violation] = field(default_factory=list)
    counts: list[ConstraintCount] = field(default_factory=list)
    limit: int = 1000
    queries: int = 0  # SPARQL queries asked of Oxigraph (comparisons Python does not decide)
    seconds: float = 0.0
    triples: int = 0  # triples read

    @property
    def violation_count(self) -> int:
        """Total number of results of any severity."""
        return sum(c.count for c in self.counts)

    @property
    def conforms(self) -> bool:
        """SHACL conformance: true only when there is no result at all, whatever its severity."""
        return self.violation_count == 0

    def _severity_count(self, severity: str) -> int:
        return sum(c.count for c in self.counts if c.severity == severity)

    @property
    def error_count(self) -> int:
        """Results of severity sh:Violation (the ones that fail a pipeline run)."""
        return self._severity_count("sh:Violation")

    @property
    def warning_count(self) -> int:
        """Results of severity sh:Warning."""
        return self._severity_count("sh:Warning")

    @property
    def info_count(self) -> int:
        """Results of severity sh:Info."""
        return self._severity_count("sh:Info")

    @property
    def truncated(self) -> bool:
        """True when more results exist than `violations` lists."""
        return self.violation_count > len(self.violations)

    def summary(self) -> str:
        """One line for logs: totals by severity."""
        state = "conforms" if self.conforms else "does not conform"
        text = (
            f"{self.graph} {state}: {self.error_count} violations, {self.warning_count} warnings, "
            f"{self.info_count} infos"
        )
        if self.truncated:
            text += f" (first {len(self.violations)} listed)"
        return text

    def as_dict(self) -> dict:
        """A JSON-ready dict (for the API and the steward pages)."""
        return {
            "graph": self.graph,
            "conforms": self.conforms,
            "violation_count": self.violation_count,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "info_count": self.info_count,
            "truncated": self.truncated,
            "counts": [
                {k: getattr(c, k) for k in ("shape", "path", "constraint", "severity", "count")}
                for c in self.counts
            ],
            "groups": self.groups("en"),
            "violations": [
                {
                    k: getattr(v, k)
                    for k in (
                        "focus_node",
                        "path",
                        "value",
                        "constraint",
                        "shape",
                        "severity",
                        "message",
                        "messages",
                    )
                }
                for v in self.violations
            ],
        }

    def groups(self, lang: str = "en", examples: int = 5) -> list[dict]:
        """Results grouped by (shape, path, constraint, severity), for a steward's page.

        Each group has the exact `count` (from `counts`, whatever the limit), the shape's
        `message` in `lang` (else English, else a generated sentence), the `rule` and up to
        `examples` results listed in `violations`, as `{"focus", "path", "value"}`.
        Violations come first, then warnings and infos; within each, the largest groups.
        """
        keys = {c.key for c in self.counts}
        listed: dict[tuple[str, str | None, str, str], list[Violation]] = {}
        for v in self.violations:
            key = (v.shape, v.path, v.constraint, v.severity)
            if key not in keys:  # sh:closed reports the property; its count has no path
                key = (v.shape, None, v.constraint, v.severity)
            listed.setdefault(key, []).append(v)
        out = []
        for c in self.counts:
            if not c.count:
                continue
            found = listed.get(c.key, [])
            messages = c.messages or (found[0].messages if found else {})
            chosen = pick_message(messages, lang)
            fallback = c.description or (found[0].description if found else "")
            out.append(
                {
                    "shape": c.shape,
                    "path": c.path,
                    "constraint": c.constraint,
                    "severity": c.severity,
                    "count": c.count,
                    "message": chosen[1] if chosen else fallback or c.rule or c.constraint,
                    "rule": c.rule or (found[0].rule if found else "") or c.constraint,
                    "examples": [
                        {"focus": v.focus_node, "path": v.path, "value": v.value}
                        for v in found[: max(examples, 0)]
                    ],
                }
            )
        out.sort(
            key=lambda g: (
                _SEVERITY_RANK.get(g["severity"], len(_SEVERITY_RANK)),
                -g["count"],
                g["shape"],
                g["path"] or "",
                g["constraint"],
            )
        )
        return out
