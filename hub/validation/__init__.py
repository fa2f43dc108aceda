"""SHACL validation of staged named graphs, compiled to SPARQL and run inside the store.

    shapes = load_shapes("ontology/shapes.ttl")  # parse once; refuses unsupported features
    report = validate_graph(store, staging_graph, shapes, limit=1000)
    if report.error_count: ...                   # only sh:Violation results fail a run
    report.groups("it")                          # by shape, exact counts, a few examples

Each shape becomes a few SPARQL queries over the whole named graph (never one per entity):
value checks scan the predicate once and keep the bad rows, counts use GROUP BY or MINUS,
and the aggregate query runs only when there are more results than `limit`. Every pattern
names the graph (`GRAPH <g>`), so other graphs in the store are never read.

Supported (verdicts equal to pySHACL's with default options, `inference="none"`, checked by
tests/validation/test_shacl_equivalence.py):

- targets: sh:targetClass (with rdfs:subClassOf closure taken from the data graph, like
  pySHACL), sh:targetNode, sh:targetSubjectsOf, sh:targetObjectsOf, implicit class targets
  (a shape typed rdfs:Class, or typed with a class the shapes graph declares a subclass of it);
- paths: predicates, sh:inversePath, sequences, sh:alternativePath, sh:zeroOrMorePath,
  sh:oneOrMorePath, sh:zeroOrOnePath;
- constraints: sh:minCount, sh:maxCount, sh:datatype, sh:nodeKind, sh:class, sh:in,
  sh:pattern (+ sh:flags), sh:minLength, sh:maxLength, sh:minInclusive, sh:maxInclusive,
  sh:minExclusive, sh:maxExclusive, sh:languageIn, sh:uniqueLang, sh:hasValue, sh:closed
  (+ sh:ignoredProperties), sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals,
  sh:node, sh:not, sh:and, sh:or, sh:xone;
- sh:severity, sh:message (by language tag: `Violation.text("it")`, `report.groups("fr")`;
  an untagged message counts as English), sh:deactivated.

Refused by `load_shapes` with a `ShapesError` naming the file, shape and feature (there is
no silent pySHACL fallback: a check either runs in the store or is refused): qualified value
shapes, SPARQL-based constraints, SHACL-AF targets and rules, recursive shapes, counts above
4 inside nested shapes, references to undefined shapes, malformed parameters and patterns the
store's regex engine rejects.

Where verdicts differ from pySHACL, on purpose (tests/validation: test_known_differences):

- Oxigraph stores valid literals of integer subtypes (xsd:int, xsd:long, ...) as xsd:integer
  (oxigraph issue #1413), so sh:datatype xsd:int accepts any xsd:integer in the int range,
  and sh:datatype xsd:integer accepts "5"^^xsd:int; likewise xsd:dateTimeStamp/xsd:dateTime.
- Well-formedness follows XSD (as the store parses literals), not rdflib's Python converters:
  "1e3"^^xsd:decimal, "1_000"^^xsd:double, a dateTime typed xsd:date are ill-typed here.
- Ordering comparisons (sh:minInclusive & co., sh:lessThan, sh:lessThanOrEquals) between
  literals that cannot be compared (ill-typed, or of unrelated types such as a boolean and a
  number, a date and a dateTime) are always results: the SPARQL comparison fails. rdflib falls
  back to ordering by datatype IRI or by text, so pySHACL lets some of them through.
"""

from hub.validation.report import ConstraintCount, ValidationReport, Violation
from hub.validation.shapes import UNSUPPORTED, Shapes, ShapesError
from hub.validation.validate import load_shapes, validate_graph

__all__ = [
    "UNSUPPORTED",
    "ConstraintCount",
    "Shapes",
    "ShapesError",
    "ValidationReport",
    "Violation",
    "load_shapes",
    "validate_graph",
]
