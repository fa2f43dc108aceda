"""The results of validating a staged graph: one `Violation` per SHACL result, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field

SH = "http://www.w3.org/ns/shacl#"

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
    message: str

    @property
    def component(self) -> str:
        """The constraint component IRI, as in a SHACL validation report."""
        return component_iri(self.constraint)


@dataclass(frozen=True)
class ConstraintCount:
    """How many results one constraint of one shape produced (counted past the limit)."""

    shape: str
    path: str | None
    constraint: str
    severity: str
    count: int


@dataclass
class ValidationReport:
    """The outcome of validating one graph: totals are exact, `violations` stops at the limit."""

    graph: str
    violations: list[Violation] = field(default_factory=list)
    counts: list[ConstraintCount] = field(default_factory=list)
    limit: int = 1000
    queries: int = 0
    seconds: float = 0.0

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
            "counts": [c.__dict__ for c in self.counts],
            "violations": [v.__dict__ for v in self.violations],
        }
