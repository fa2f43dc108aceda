"""Run the RML test cases (CSV and JSON) through the hub's YARRRML engine.

    git clone https://github.com/kg-construct/rml-core          # RML-Core (rml: w3id.org/rml/)
    git clone https://github.com/RMLio/rml-test-cases            # the older RML vocabulary
    python bench/rml_test_cases.py rml-core/test-cases
    python bench/rml_test_cases.py rml-test-cases/test-cases --only RMLTC0009

The test cases are not in this repository (CI has no internet): give the folder of a
checkout. Each case folder holds mapping.ttl (RML in Turtle), its CSV or JSON input and
output.nq (none when the mapping must be refused). For each `*-CSV` / `*-JSON` case:

1. mapping.ttl is read with rdflib and written as the YARRRML a person would write for
   it (either vocabulary: R2RML `rr:` + `rml:` of semweb.mmlab.be, or RML-Core); what
   YARRRML cannot say (rml:UnsafeIRI, SQL sources, …) is "not supported (YARRRML)";
2. the hub compiles that YARRRML (hub.mapping.compile): a refusal is "not supported
   (hub)" with the hub's message, or a pass when the case expects an error;
3. the case's files are the records, read as the `files` harvester reads them (CSV rows;
   a JSON document as one record, the mapping's iterator running within it). A case
   with several files is one record stream, as a hub source gives: a JSON document is
   wrapped as {file name: document} and the iterator prefixed with `$['file name']`; a
   CSV row gets a field `rmltc_source` with its file name and each mapping a condition
   on it (the way docs/mappings.md tells records of several shapes apart);
4. the hub's graph is compared with output.nq (rdflib isomorphism); a difference is
   classified as in bench/crosscheck_morph_kgc.py (natural datatypes: decisions #6).

Prints a table (case, what it tests, result) and the counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/ is not installed

from bench.crosscheck_morph_kgc import IRIS, compare, nt  # noqa: E402
from harvesters.files import harvest_files  # noqa: E402
from hub.errors import HubError  # noqa: E402
from hub.mapping.compile import compile_mapping  # noqa: E402
from hub.mapping.runner import MappingRunner  # noqa: E402

RML = Namespace("http://w3id.org/rml/")  # RML-Core
RR = Namespace("http://www.w3.org/ns/r2rml#")
RML_OLD = Namespace("http://semweb.mmlab.be/ns/rml#")
VOCABULARIES = (RML, RR, RML_OLD)
SOURCE_FIELD = "rmltc_source"  # the file a CSV row came from, when a case has several


class Unsupported(Exception):
    """The RML mapping uses something YARRRML has no way to write."""


class InvalidRML(Unsupported):
    """The RML mapping breaks RML's own syntax (checked here, as the hub reads YARRRML)."""


def local(term: Any) -> str:
    return re.split(r"[#/]", str(term).rstrip("/"))[-1]


@dataclass
class Reader:
    """Reads an RML mapping graph in either vocabulary (RML-Core, or R2RML + old RML)."""

    graph: Graph

    def one(self, node: Any, name: str) -> Any:
        for ns in VOCABULARIES:
            value = self.graph.value(node, ns[name])
            if value is not None:
                return value
        return None

    def all(self, node: Any, name: str) -> list[Any]:
        return [v for ns in VOCABULARIES for v in self.graph.objects(node, ns[name])]

    def is_a(self, term: Any, name: str) -> bool:
        return term is not None and local(term) == name

    def triples_maps(self) -> list[Any]:
        found = {s for ns in VOCABULARIES for s in self.graph.subjects(RDF.type, ns.TriplesMap)}
        found |= {s for ns in (RML, RML_OLD) for s in self.graph.subjects(ns.logicalSource, None)}
        return sorted(found, key=str)


def yarrrml_template(text: str) -> str:
    """An RML template (`http://ex/{ID}`, `\\{` escapes) as a YARRRML one (`http://ex/$(ID)`)."""
    out: list[str] = []
    name: list[str] | None = None  # inside {…}
    chars = iter(text)
    for char in chars:
        if char == "\\":
            (out if name is None else name).append(next(chars, ""))
        elif char == "{" and name is None:
            name = []
        elif char in "{}" and name is None or char == "{":
            raise InvalidRML(f"template `{text}`: an unescaped `{char}`")
        elif char == "}" and name is not None:
            out.append(reference("".join(name)))
            name = None
        else:
            (out if name is None else name).append(char)
    if name is not None:
        raise Unsupported(f"template `{text}`: `{{` is not closed")
    return "".join(out)


def reference(name: str) -> str:
    if ")" in name:
        raise Unsupported(f"reference `{name}`: YARRRML's `$(…)` cannot hold a `)`")
    return f"$({name})"


@dataclass
class Translation:
    """A case's mapping as YARRRML, and what it uses (for the table)."""

    doc: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)  # file -> csv | jsonpath
    features: list[str] = field(default_factory=list)


class Translator:
    """RML (Turtle, parsed) -> a YARRRML document."""

    def __init__(self, graph: Graph, base: str | None) -> None:
        self.rml = Reader(graph)
        self.base = base
        self.names: dict[Any, str] = {}
        self.features: Counter[str] = Counter()

    def value(self, node: Any, role: str) -> tuple[str, str, dict[str, Any]]:
        """(YARRRML value, term type, extra long-form keys) of a term map."""
        rml, extra = self.rml, {}
        term_type = rml.one(node, "termType")
        constant = rml.one(node, "constant")
        template = rml.one(node, "template")
        ref = rml.one(node, "reference")
        if rml.one(node, "functionExecution") is not None or rml.one(node, "quotedTriplesMap"):
            raise Unsupported("functions (FNML) and RML-star are not RML-Core")
        if constant is not None:
            text, kind, extra = self.constant(constant)
        elif template is not None:
            self.features["template"] += 1
            text, kind = yarrrml_template(str(template)), "iri"
        elif ref is not None:
            self.features["reference"] += 1
            text = reference(str(ref))
            kind = "literal" if role == "object" else "iri"
        elif term_type is not None and local(term_type) == "BlankNode":
            text, kind = "", "blanknode"  # one blank node per iteration
        else:
            raise Unsupported(f"a {role} map without constant, template or reference")
        if term_type is not None:
            name = local(term_type)
            self.features[f"termType {name}"] += 1
            if name == "UnsafeIRI":
                raise Unsupported("rml:UnsafeIRI: YARRRML has no IRI without percent-encoding")
            if name == "URI":
                raise Unsupported(
                    "rml:URI (ASCII only: non-ASCII letters percent-encoded): YARRRML has iri only"
                )
            if name == "Literal" and role == "subject":
                raise Unsupported("a literal subject: YARRRML cannot write one")
            kind = {"IRI": "iri", "URI": "iri", "BlankNode": "blanknode", "Literal": "literal"}.get(
                name, name
            )
        if role == "object":
            for key, name in (("language", "language"), ("datatype", "datatype")):
                given = rml.one(node, name)
                if given is not None:
                    extra[key] = str(given)
                    self.features[name] += 1
                    kind = "literal" if term_type is None else kind
                expression = rml.one(node, f"{name}Map")
                if expression is not None:
                    extra[key], _, _ = self.value(expression, "object")
                    self.features[f"{name}Map"] += 1
                    kind = "literal" if term_type is None else kind
        return text, kind, extra

    def constant(self, constant: Any) -> tuple[str, str, dict[str, Any]]:
        self.features["constant"] += 1
        if not isinstance(constant, Literal):
            return str(constant), "iri", {}
        if constant.language:
            return str(constant), "literal", {"language": constant.language}
        if constant.datatype:
            return str(constant), "literal", {"datatype": str(constant.datatype)}
        return str(constant), "literal", {}

    def graphs(self, node: Any, body: dict[str, Any]) -> None:
        """Graph maps: written as YARRRML `g:`, unless they name the default graph."""
        for graph_map in self.rml.all(node, "graphMap"):
            text, _, _ = self.value(graph_map, "graph")
            if not text.endswith("defaultGraph"):
                body.setdefault("g", []).append(text)
        for graph in self.rml.all(node, "graph"):
            if local(graph) != "defaultGraph":
                body.setdefault("g", []).append(str(graph))
        if "g" in body:
            self.features["named graph"] += 1

    def join_value(self, node: Any, plain: str, expression: str) -> str:
        given = self.rml.one(node, plain)
        if given is not None:
            return reference(str(given))
        mapped = self.rml.one(node, expression)
        if mapped is None:
            raise Unsupported(f"a join condition without {plain}")
        return self.value(mapped, "object")[0]

    def object(self, node: Any) -> Any:
        rml = self.rml
        parent = rml.one(node, "parentTriplesMap")
        if parent is not None:
            self.features["join" if rml.all(node, "joinCondition") else "parent map"] += 1
            out: dict[str, Any] = {"mapping": self.names[parent]}
            conditions = []
            for join in rml.all(node, "joinCondition"):
                child = self.join_value(join, "child", "childMap")
                parent_value = self.join_value(join, "parent", "parentMap")
                conditions.append(
                    {
                        "function": "equal",
                        "parameters": [["str1", child, "s"], ["str2", parent_value, "o"]],
                    }
                )
            if conditions:
                out["condition"] = conditions if len(conditions) > 1 else conditions[0]
            return out
        text, kind, extra = self.value(node, "object")
        return {"value": text, "type": kind, **extra}

    def triples_map(self, tmap: Any, sources: dict[str, Any], translation: Translation) -> dict:
        rml, body = self.rml, {}
        logical = rml.one(tmap, "logicalSource")
        if logical is None:
            raise Unsupported("a triples map without rml:logicalSource (R2RML tables)")
        source = rml.one(logical, "source")
        if rml.one(logical, "query") is not None or rml.one(tmap, "sqlQuery") is not None:
            raise Unsupported("a query source")
        if isinstance(source, Literal):
            file = str(source)
        elif source is not None and rml.one(source, "path") is not None:
            file = str(rml.one(source, "path"))
        else:
            raise Unsupported(f"source `{source}`: not a file")
        formulation = local(rml.one(logical, "referenceFormulation") or "").lower()
        if not formulation:
            formulation = "csv" if file.lower().endswith(".csv") else "jsonpath"
        if formulation not in ("csv", "jsonpath"):
            raise Unsupported(f"reference formulation {formulation}")
        translation.files[file] = formulation
        iterator = rml.one(logical, "iterator")
        entry = [f"{file}~{formulation}"] + ([str(iterator)] if iterator is not None else [])
        key = next((k for k, v in sources.items() if v == entry), f"source{len(sources) + 1}")
        sources[key] = entry
        body["sources"] = key
        if len(rml.all(tmap, "subjectMap")) > 1:
            raise InvalidRML("two subject maps (YARRRML would take them as two subjects)")
        subject_map = rml.one(tmap, "subjectMap")
        po: list[Any] = []
        if subject_map is None and rml.one(tmap, "subject") is not None:
            body["s"] = str(rml.one(tmap, "subject"))
        elif subject_map is not None:
            text, kind, _ = self.value(subject_map, "subject")
            if kind == "blanknode":
                self.features["blank node subject"] += 1  # YARRRML: no `s:`
            else:
                body["s"] = text
            for cls in rml.all(subject_map, "class"):
                po.append(["a", str(cls)])
                self.features["class"] += 1
            self.graphs(subject_map, body)
        for pom in rml.all(tmap, "predicateObjectMap"):
            predicates = [str(p) for p in rml.all(pom, "predicate")]
            for predicate_map in rml.all(pom, "predicateMap"):
                predicates.append(self.value(predicate_map, "predicate")[0])
            objects = [self.object(o) for o in rml.all(pom, "objectMap")]
            for constant in rml.all(pom, "object"):
                text, kind, extra = self.constant(constant)
                objects.append({"value": text, "type": kind, **extra})
            entry_body: dict[str, Any] = {"p": predicates, "o": objects}
            self.graphs(pom, entry_body)
            po.append(entry_body)
        if po:
            body["po"] = po
        return body

    def translate(self) -> Translation:
        tmaps = self.rml.triples_maps()
        if not tmaps:
            raise Unsupported("no triples map")
        for index, tmap in enumerate(tmaps, start=1):
            name = local(tmap) if isinstance(tmap, URIRef) else f"map{index}"
            self.names[tmap] = name if name not in self.names.values() else f"{name}-{index}"
        translation = Translation(doc={})
        sources: dict[str, Any] = {}
        mappings = {self.names[t]: self.triples_map(t, sources, translation) for t in tmaps}
        doc: dict[str, Any] = {}
        if self.base:
            doc["base"] = self.base
        doc["sources"] = sources
        doc["mappings"] = mappings
        translation.doc = doc
        translation.features = [f for f, _ in self.features.most_common()]
        return translation


def base_iri(graph: Graph, case: Path, metadata: dict[str, str]) -> str | None:
    """rml:baseIRI, else the case's base in metadata.csv (RML-Core), else mapping.ttl's @base."""
    given = graph.value(None, RML.baseIRI)
    if given is not None:
        return str(given)
    if metadata.get(case.name):
        return metadata[case.name]
    found = _BASE.search((case / "mapping.ttl").read_text(encoding="utf-8"))
    return found.group(1) if found else None


_BASE = re.compile(r"^\s*(?:@base|BASE)\s*<([^>]*)>", re.MULTILINE | re.IGNORECASE)


def records_of(case: Path, translation: Translation) -> list[Any]:
    """The case's files as one record stream (see the module docstring); OSError if missing."""
    several = len(translation.files) > 1
    records: list[Any] = []
    for file, formulation in translation.files.items():
        path = case / file
        if not path.exists():
            raise FileNotFoundError(f"{file}: no such file")
        if formulation == "csv":
            rows = list(harvest_files("case", {"path": file, "format": "csv"}, root=case))
            if several:
                rows = [{**row, SOURCE_FIELD: file} for row in rows]
            records.extend(rows)
        else:
            document = json.loads(path.read_text(encoding="utf-8"))
            records.append({file: document} if several else document)
    return records


def separate_files(translation: Translation) -> None:
    """Several files in one record stream: each mapping sees only its own file's records."""
    if len(translation.files) < 2:
        return
    sources = translation.doc["sources"]
    for body in translation.doc["mappings"].values():
        entry = sources[body["sources"]]
        file, formulation = entry[0].rsplit("~", 1)
        if formulation == "jsonpath":
            iterator = entry[1] if len(entry) > 1 else "$"
            name = f"{body['sources']}-in-{file}"
            sources[name] = [entry[0], f"$['{file}']" + iterator.strip().removeprefix("$")]
            body["sources"] = name
        else:
            body["condition"] = {
                "function": "equal",
                "parameters": [["str1", f"$({SOURCE_FIELD})"], ["str2", file]],
            }


@dataclass
class Outcome:
    status: str  # pass | fail | not supported | differs
    why: str = ""


def expected_graph(path: Path) -> Graph:
    dataset = Dataset()
    with warnings.catch_warnings():  # rdflib 7's N-Quads parser uses a deprecated name
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset.parse(path, format="nquads")
    graph = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def run_case(case: Path, bases: dict[str, str], show: bool = False) -> tuple[str, Outcome]:
    expected_file = case / "output.nq"
    wants_error = not expected_file.exists()
    try:
        graph = Graph().parse(case / "mapping.ttl", format="turtle", publicID=bases.get(case.name))
    except Exception as exc:  # noqa: BLE001 - rdflib raises several kinds
        return "", Outcome("not supported", f"rdflib cannot read mapping.ttl: {str(exc)[:80]}")
    try:
        translation = Translator(graph, base_iri(graph, case, bases)).translate()
    except InvalidRML as exc:
        return "", Outcome("not supported", f"invalid RML, refused by this script's reader: {exc}")
    except Unsupported as exc:
        return "", Outcome("not supported", f"YARRRML: {exc}")
    features = ", ".join(translation.features)
    separate_files(translation)
    text = yaml.safe_dump(translation.doc, allow_unicode=True, sort_keys=False)
    if show:
        print(f"# {case.name}\n{text}")
    try:
        mapping = compile_mapping(text, file=f"{case.name}.yml", source_id="case", iris=IRIS)
    except HubError as exc:
        if wants_error and _WHOLE_FEATURE.search(str(exc)):
            return features, Outcome("not supported", f"expects an error; the hub refuses: {exc}")
        if wants_error:
            return features, Outcome("pass", f"refused: {exc}")
        return features, Outcome("not supported", f"hub: {exc}")
    try:
        records = records_of(case, translation)
    except (OSError, ValueError, HubError, csv.Error) as exc:
        if wants_error:
            return features, Outcome("pass", f"refused when reading: {exc}")
        return features, Outcome("fail", f"reading the input: {exc}")
    runner = MappingRunner(mapping, source="case")
    got = Graph().parse(data=b"".join(runner.run(records)).decode(), format="nt")
    failures = [f.error.located() for f in runner.stats.failures]
    if wants_error:
        if failures:
            return features, Outcome("pass", f"refused a record: {failures[0]}")
        return features, Outcome("fail", f"expected an error; the hub made {len(got)} triples")
    if failures and "base" in translation.doc and _RELATIVE.search(failures[0]):
        return features, Outcome("not supported", f"{RELATIVE}: {failures[0]}")
    if failures:
        return features, Outcome("fail", f"record refused: {failures[0]}")
    result = compare(got, expected_graph(expected_file))
    if result.same:
        return features, Outcome("pass")
    labels = result.labels()
    if labels == ["natural datatype"]:
        return features, Outcome("differs", "natural datatype of JSON values (decisions #6)")
    shown = [f"hub: {nt(t)}" for t in result.only_hub[:2]]
    shown += [f"expected: {nt(t)}" for t in result.only_morph[:2]]
    return features, Outcome("fail", "; ".join(labels + shown))


_WHOLE_FEATURE = re.compile(r"named graphs are not supported|blank-node subjects are not")
RELATIVE = "relative IRI (R2RML/RML resolve it against the base IRI; the hub refuses it)"
_RELATIVE = re.compile(r"not an absolute IRI|is not a datatype IRI")


def case_bases(folder: Path) -> dict[str, str]:
    """The base IRI of each case from metadata.csv (RML-Core gives one); R2RML's otherwise."""
    bases: dict[str, str] = {}
    metadata = folder / "metadata.csv"
    if metadata.exists():
        with metadata.open(encoding="utf-8") as lines:
            for row in csv.DictReader(lines):
                if row.get("base_iri"):
                    bases[row["ID"]] = row["base_iri"]
    return bases


def titles(folder: Path) -> dict[str, str]:
    for name, key, title in (
        ("descriptions.csv", "ID", "title"),
        ("metadata.csv", "ID", "title"),
        ("../metadata.csv", "RML id", "title"),
    ):
        path = folder / name
        if path.exists():
            with path.open(encoding="utf-8") as lines:
                return {row[key]: row[title].strip('"') for row in csv.DictReader(lines)}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="the test-cases folder of a checkout")
    parser.add_argument("--only", help="cases whose name starts with this")
    parser.add_argument("--yarrrml", action="store_true", help="print each case's YARRRML")
    args = parser.parse_args()
    folder = args.folder
    if not any(folder.glob("RMLTC*")) and (folder / "test-cases").is_dir():
        folder = folder / "test-cases"
    cases = sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() and p.name.endswith(("-CSV", "-JSON")) and (p / "mapping.ttl").exists()
    )
    if args.only:
        cases = [c for c in cases if c.name.startswith(args.only)]
    bases, names = case_bases(folder), titles(folder)
    counts: Counter[str] = Counter()
    print("| case | what it tests | uses | result | why |")
    print("|---|---|---|---|---|")
    for case in cases:
        features, outcome = run_case(case, bases, args.yarrrml)
        counts[outcome.status] += 1
        title = names.get(case.name, "")[:70]
        why = outcome.why.replace("|", "\\|").replace("\n", " ")[:300]
        print(f"| {case.name} | {title} | {features} | {outcome.status} | {why} |")
    print()
    print(f"{len(cases)} cases: " + ", ".join(f"{n} {status}" for status, n in counts.items()))


if __name__ == "__main__":
    main()
