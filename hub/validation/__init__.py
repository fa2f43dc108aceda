"""SHACL validation of a staged source graph, in one pass over the N-Triples the mapping wrote.

    shapes = load_shapes("ontology/shapes.ttl")  # parse once; refuses unsupported features
    report = validate_ntriples(Path("version.unsorted"), shapes, graph=staging_graph)
    report = validate_graph(store, staging_graph, shapes)   # the same, read out of a store
    if report.error_count: ...                   # only sh:Violation results fail a run
    report.groups("it")                          # by shape, exact counts, a few examples

The triples are read into memory (`graph.DataGraph`: per subject, its predicates and objects)
and each shape's constraints run as Python checks, focus node by focus node (`engine`).
What a shape can look at is that graph alone: the source's staged graph. A class (targets,
sh:class, with rdfs:subClassOf+ from the data graph, like pySHACL) is what that graph says;
references into other graphs (the programme's regions, another source's operators) are
checked by form (sh:nodeKind, sh:pattern), as ontology/shapes.ttl explains.

Supported (verdicts equal to pySHACL's with default options, `inference="none"`, checked by
tests/validation/test_shacl_equivalence.py and tests/validation/test_demo_equivalence.py):

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
no silent fallback: a check either runs or is refused): qualified value shapes, SPARQL-based
constraints, SHACL-AF targets and rules, recursive shapes, references to undefined shapes,
malformed parameters and patterns Python's `re` (which pySHACL uses too) cannot compile.

Where verdicts differ from pySHACL, on purpose (tests/validation: test_known_differences):

- Well-formedness follows the XSD lexical spaces, not rdflib's Python converters:
  "1e3"^^xsd:decimal, "1_000"^^xsd:double, a dateTime typed xsd:date are ill-typed here.
- Ordering comparisons (sh:minInclusive & co., sh:lessThan, sh:lessThanOrEquals) follow
  SPARQL: literals that cannot be compared (ill-typed, or of unrelated types such as a
  boolean and a number) are always results. rdflib falls back to ordering by datatype IRI or
  by text, so pySHACL lets some of them through.
"""

from hub.validation.report import ConstraintCount, ValidationReport, Violation
from hub.validation.shapes import UNSUPPORTED, Shapes, ShapesError
from hub.validation.validate import load_shapes, validate_graph, validate_ntriples

__all__ = [
    "UNSUPPORTED",
    "ConstraintCount",
    "Shapes",
    "ShapesError",
    "ValidationReport",
    "Violation",
    "load_shapes",
    "validate_graph",
    "validate_ntriples",
]
