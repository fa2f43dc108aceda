"""Cross-check the hub's mapping engine against Morph-KGC on the golden mapping cases.

Morph-KGC pins old pyoxigraph and rdflib, so it runs in its own virtual environment:

    python3 -m venv /tmp/mkgc && /tmp/mkgc/bin/pip install morph-kgc
    python bench/crosscheck_morph_kgc.py --morph-python /tmp/mkgc/bin/python

For each case in tests/mapping/cases/ the script gives Morph-KGC the case's records as
one JSON file (a CSV case's rows too, read as the `files` harvester reads them), points
every mapping's sources at it (see `morph_document`), declares the hub's built-in
prefixes, runs Morph-KGC and compares its graph with the hub's (rdflib isomorphism). It
prints a table and, for each difference, the triples only one side made, classified.
`bench/crosscheck_mappings.py` does the same for every mapping in mappings/.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from harvesters.files import harvest_files
from hub.iris import PREFIXES, Iris
from hub.mapping.compile import load_mapping
from hub.mapping.functions import FUNCTION_PREFIXES
from hub.mapping.model import FunctionCall, Mapping, RefObjectMap, TermMap
from hub.mapping.runner import MappingRunner

CASES = Path(__file__).resolve().parents[1] / "tests" / "mapping" / "cases"
BASE = "https://hub.example.org/"
IRIS = Iris(BASE)


# -- the hub's side ---------------------------------------------------------------------
def hub_graph(mapping: Mapping, records: list[Any], source_id: str, key: Any = None) -> Graph:
    """The hub's triples for the records (failed records are left out, as in a run)."""
    runner = MappingRunner(mapping, source=source_id, record_key=key)
    return Graph().parse(data=b"".join(runner.run(records)).decode(), format="nt")


def case_records(case: Path) -> list[Any]:
    """A golden case's records: records.json, or records.csv read as the `files` kind reads it."""
    if (case / "records.csv").exists():
        return list(harvest_files("case", {"path": "records.csv", "format": "csv"}, root=case))
    return json.loads((case / "records.json").read_text(encoding="utf-8"))


# -- Morph-KGC's side -------------------------------------------------------------------
def json_value(value: Any) -> Any:
    """JSON has no decimals, dates or bytes: write their lexical form (a string)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def write_records(records: list[Any], path: Path) -> None:
    """The records as one JSON array (what the rewritten sources iterate with `$[*]`)."""
    path.write_text(json.dumps(records, default=json_value, ensure_ascii=False), encoding="utf-8")


def morph_document(doc: dict[str, Any], mapping: Mapping, data: Path, source_id: str) -> dict:
    """The YARRRML document as Morph-KGC should read it, the records being in `data`.

    What is rewritten: the hub's built-in prefixes (`schema`, `mh`, `id`, `hubid`,
    `programme`, `grel`, `idlab-fn`, …) are declared; the top-level `sources:` is dropped;
    each mapping's `sources:` becomes `[data~jsonpath, $[*]<iterator>]`, one per distinct
    iterator of its compiled sources (the hub runs a mapping's iterator within each
    record, Morph-KGC over the array of records: `$.Services[*]` becomes
    `$[*].Services[*]`; a CSV source is a record, `$[*]`). Nothing else changes.
    """
    out = copy.deepcopy(doc)
    prefixes = {**PREFIXES, **FUNCTION_PREFIXES}
    prefixes.update(
        {
            "id": IRIS.entity_prefix(source_id),
            "hubid": f"{IRIS.base}id/",
            "programme": IRIS.programme_base,
        }
    )
    prefixes.update(out.get("prefixes") or {})
    out["prefixes"] = prefixes
    for key in ("sources", "source"):
        out.pop(key, None)
    bodies = next(out[k] for k in ("mappings", "mapping", "m") if k in out)
    for tmap in mapping.triples_maps:
        iterators = dict.fromkeys(s.iterator for s in tmap.sources) or {"$": None}
        body = bodies[tmap.name]
        body.pop("source", None)
        body["sources"] = [
            [f"{data}~jsonpath", "$[*]" + it.strip().removeprefix("$")] for it in iterators
        ]
    return out


class MorphError(Exception):
    """Morph-KGC stopped; the message is the last line it wrote."""


@dataclass
class MorphOutput:
    """Morph-KGC's graph, and the lines of its output that are not N-Triples."""

    graph: Graph
    invalid: list[str] = field(default_factory=list)


def parse_lenient(text: str) -> MorphOutput:
    """Parse N-Triples; a line rdflib refuses is kept aside instead of failing the whole."""
    try:
        return MorphOutput(Graph().parse(data=text, format="nt"))
    except Exception:  # noqa: BLE001 - rdflib raises several kinds; retried line by line
        pass
    good, bad = [], []
    for line in text.splitlines():
        try:
            Graph().parse(data=line, format="nt")
        except Exception:  # noqa: BLE001
            bad.append(line)
        else:
            good.append(line)
    return MorphOutput(Graph().parse(data="\n".join(good), format="nt"), bad)


def morph_graph(
    doc: dict[str, Any], mapping: Mapping, records: list[Any], python: str, source_id: str
) -> MorphOutput:
    """Run Morph-KGC on the rewritten mapping over the records; its graph."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "records.json"
        write_records(records, data)
        path = folder / "mapping.yml"
        text = yaml.safe_dump(
            morph_document(doc, mapping, data, source_id), allow_unicode=True, sort_keys=False
        )
        path.write_text(text, encoding="utf-8")
        config = folder / "config.ini"
        out = folder / "out.nt"
        config.write_text(
            f"[CONFIGURATION]\noutput_file={out}\noutput_format=N-TRIPLES\n\n"
            f"[DataSource1]\nmappings={path}\n",
            encoding="utf-8",
        )
        done = subprocess.run(
            [python, "-m", "morph_kgc", str(config)], capture_output=True, text=True, cwd=folder
        )
        if done.returncode != 0:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            raise MorphError(lines[-1] if lines else f"exit status {done.returncode}")
        if not out.exists():
            return MorphOutput(Graph())
        # Morph-KGC's YARRRML reader maps `schema:` to http://schema.org/ whatever the
        # mapping declares: the hub's own `schema:` since decisions #28.
        return parse_lenient(out.read_text(encoding="utf-8"))


# Morph-KGC's KeyError names a function IRI it does not know, or a one-line call it did
# not parse (`…grel.ttl#string_split(valueParameter = $(tags), …)`): the function's name.
_UNKNOWN_FUNCTION = re.compile(r"KeyError: ['\"][^'\"(]*?[#/]([A-Za-z_]+)(?:\(|['\"])")


def _drop_entries(doc: dict[str, Any], needle: str) -> list[str]:
    """Remove the `po` entries that mention `needle` (a function's name); where they were."""
    dropped = []
    bodies = next(doc[k] for k in ("mappings", "mapping", "m") if k in doc)
    for name, body in bodies.items():
        key = next((k for k in ("po", "predicateobjects", "predicateobject") if k in body), None)
        if key is None:
            continue
        kept = [e for e in body[key] if needle not in yaml.safe_dump(e)]
        dropped += (
            [f"{name}: {len(body[key]) - len(kept)} `po` entries"]
            if len(kept) < len(body[key])
            else []
        )
        body[key] = kept
    return dropped


def morph_graph_without_unknown_functions(
    doc: dict[str, Any], mapping: Mapping, records: list[Any], python: str, source_id: str
) -> tuple[MorphOutput, list[str]]:
    """Like morph_graph; where Morph-KGC stops on a function it does not know (a KeyError
    naming its IRI), run again without the `po` entries that call it. Also says what went."""
    doc, removed = copy.deepcopy(doc), []
    for _ in range(5):
        try:
            return morph_graph(doc, mapping, records, python, source_id), removed
        except MorphError as exc:
            found = _UNKNOWN_FUNCTION.search(str(exc))
            if not found or not (dropped := _drop_entries(doc, found.group(1))):
                raise
            removed.append(
                f"`{found.group(1)}` unknown to Morph-KGC, left out ({'; '.join(dropped)})"
            )
    raise MorphError("too many unknown functions")


# -- comparing --------------------------------------------------------------------------
def _plain(term: Any) -> Any:
    """A literal without its datatype, numbers and booleans in one spelling."""
    if not isinstance(term, Literal) or term.language:
        return term
    text = str(term)
    if text in ("True", "False"):  # Python's spelling (pandas)
        text = text.lower()
    try:
        number = Decimal(text)
    except ArithmeticError:
        return Literal(text)
    if number.is_finite() and text.strip().lstrip("-+").replace(".", "", 1).isdigit():
        return Literal(str(number.normalize()))
    return Literal(text)


def _decoded(term: Any) -> Any:
    return ("iri", unquote(str(term))) if isinstance(term, URIRef) else term


@dataclass(frozen=True)
class Reason:
    """Why the two graphs differ: a short label for the table, and the explanation."""

    label: str
    text: str


NATURAL = Reason(
    "natural datatype",
    "the hub types JSON/SQL numbers, booleans and dates (R2RML natural mapping, "
    "decisions #6); Morph-KGC writes a plain string",
)
IRI_SAFE = Reason(
    "IRI-safe encoding",
    "Morph-KGC also percent-encodes non-ASCII letters (`Città` -> `Citt%C3%A0`); "
    "RFC 3987 iunreserved keeps them, as the hub does",
)
# Each explains a difference if the triple of one side equals one of the other's once
# both are normalised this way. Checked in this order; the first that explains wins.
NORMALISATIONS: list[tuple[Reason, Callable[[Any], Any]]] = [
    (NATURAL, _plain),
    (IRI_SAFE, _decoded),
    (Reason("natural datatype + IRI-safe encoding", ""), lambda t: _plain(_decoded(t))),
]


@dataclass
class Comparison:
    """Two graphs compared: the same (isomorphic), or the triples only one side made."""

    same: bool
    only_hub: list[tuple] = field(default_factory=list)
    only_morph: list[tuple] = field(default_factory=list)
    explained: dict[Reason, int] = field(default_factory=dict)  # reason -> triples
    invalid: list[str] = field(default_factory=list)  # Morph-KGC's lines that are not N-Triples

    def count(self, reason: Reason) -> None:
        self.explained[reason] = self.explained.get(reason, 0) + 1

    def labels(self) -> list[str]:
        """The short reasons, for a table cell."""
        found = list(dict.fromkeys(reason.label for reason in self.explained))
        if self.only_hub or self.only_morph:
            found.append("unexplained")
        if self.invalid:
            found.append("invalid N-Triples from Morph-KGC")
        return found

    def reasons(self) -> list[str]:
        found = [
            f"{r.label}: {r.text} ({n} triples)" if r.text else f"{r.label} ({n} triples)"
            for r, n in self.explained.items()
        ]
        if self.only_hub:
            found.append(f"unexplained: {len(self.only_hub)} triples only the hub makes")
        if self.only_morph:
            found.append(f"unexplained: {len(self.only_morph)} triples only Morph-KGC makes")
        if self.invalid:
            found.append(
                f"invalid N-Triples: {len(self.invalid)} lines of Morph-KGC's output "
                f"(e.g. `{self.invalid[0][-60:]}`)"
            )
        return found


def compare(ours: Graph, theirs: Graph, mapping: Mapping | None = None) -> Comparison:
    """Compare two graphs without blank nodes; explain what differs where an explanation fits."""
    if isomorphic(ours, theirs):
        return Comparison(True)
    _, only_ours, only_theirs = graph_diff(to_isomorphic(ours), to_isomorphic(theirs))
    hub_left, morph_left = set(only_ours), set(only_theirs)
    result = Comparison(False)
    for reason, norm in NORMALISATIONS:
        index: dict[tuple, list[tuple]] = {}
        for triple in morph_left:
            index.setdefault(tuple(norm(t) for t in triple), []).append(triple)
        for triple in sorted(hub_left):
            match = index.get(tuple(norm(t) for t in triple))
            if match:
                morph_left.discard(match.pop())
                hub_left.discard(triple)
                result.count(reason)
    result.only_hub, result.only_morph = sorted(hub_left), sorted(morph_left)
    if mapping is not None:
        explain_by_mapping(result, mapping)
    return result


_MULTI = re.compile(r"\[\*\]|\.\*")
_INDEX = re.compile(r"\[-?\d+\]")
_KINDS = {
    "multi-join": (
        "join on a multi-valued key",
        "RML joins each value of {paths}; Morph-KGC joins none",
    ),
    "lang-from-data": (
        "language from the data",
        "Morph-KGC's YARRRML reader writes `language: $(x)` as the text `@$(x)`",
    ),
    "function": (
        "function",
        "Morph-KGC's YARRRML reader does not run {paths} as written "
        "(a one-line call becomes an IRI of the call's text)",
    ),
    "index": (
        "array index in a reference",
        "Morph-KGC reads JSON through pandas, which flattens objects but not arrays: "
        "{paths} find no value",
    ),
    "multi-template": (
        "multi-valued reference in a template",
        "RML gives one term per value of {paths}; Morph-KGC gives none",
    ),
    "condition": (
        "condition",
        "Morph-KGC drops YARRRML conditions ({paths}) and maps every node",
    ),
}


def _feature(term: Any, in_template: bool) -> tuple[str, str] | None:
    """(kind, what) if Morph-KGC maps this term differently, from how the mapping writes it."""
    if isinstance(term, RefObjectMap):
        multi = [ref.path for ref in term.references if _MULTI.search(ref.path)]
        return ("multi-join", f"`$({multi[0]})`") if multi else None
    if term.language_parts or term.datatype_parts:
        return ("lang-from-data", "")
    call = next((part for part in term.parts if isinstance(part, FunctionCall)), None)
    if call is not None:
        return ("function", f"`{call.path}`")
    for ref in term.references:
        if _INDEX.search(ref.path):
            return ("index", f"`$({ref.path})`")
        if _MULTI.search(ref.path) and (in_template or len(term.parts) > 1):
            return ("multi-template", f"`$({ref.path})`")
    return None


def mapping_features(mapping: Mapping) -> tuple[dict[str, Reason], dict[str, Reason]]:
    """({predicate IRI: what the mapping writes for it that Morph-KGC maps differently},
    {predicate IRI: the condition Morph-KGC drops, which can only add triples on its side})."""
    found: dict[str, dict[str, list[str]]] = {}  # predicate -> kind -> what
    conditioned: dict[str, list[str]] = {}
    for tmap in mapping.triples_maps:
        subject = next((f for f in (_feature(s, True) for s in tmap.all_subjects()) if f), None)
        for pom in tmap.predicate_objects:
            for obj in pom.objects:
                is_iri = isinstance(obj, TermMap) and obj.kind == "iri"
                feature = _feature(obj, is_iri) or subject
                where = None
                if tmap.condition:
                    where = f"mapping `{tmap.name}`"
                elif pom.condition or (isinstance(obj, TermMap) and obj.condition):
                    where = f"line {pom.line}"
                for predicate in pom.predicates:
                    if feature:
                        kinds = found.setdefault(predicate, {})
                        kinds.setdefault(feature[0], []).append(feature[1])
                    if where:
                        conditioned.setdefault(predicate, []).append(where)

    def reason(kind: str, whats: list[str]) -> Reason:
        label, text = _KINDS[kind]
        return Reason(label, text.format(paths=", ".join(dict.fromkeys(w for w in whats if w))))

    features = {predicate: reason(*next(iter(kinds.items()))) for predicate, kinds in found.items()}
    conditions = {predicate: reason("condition", w) for predicate, w in conditioned.items()}
    return features, conditions


FUNCTION_TEXT = Reason(
    "function",
    "a one-line function call Morph-KGC's YARRRML reader does not parse "
    "(it writes the call's text as an IRI)",
)


def explain_by_mapping(result: Comparison, mapping: Mapping) -> None:
    """Explain the triples left unexplained by what the mapping writes for their predicate."""
    features, conditions = mapping_features(mapping)
    for side, extra in ((result.only_hub, {}), (result.only_morph, conditions)):
        kept = []
        for triple in side:
            text = " ".join(str(t) for t in triple)
            why = features.get(str(triple[1]))
            if not why and ("function#" in text or "grel.ttl#" in text):
                why = FUNCTION_TEXT
            why = why or extra.get(str(triple[1]))
            if why:
                result.count(why)
            else:
                kept.append(triple)
        side[:] = kept


def nt(triple: tuple) -> str:
    return " ".join(term.n3() for term in triple) + " ."


def difference_note(name: str, result: Comparison, show: int = 6) -> str:
    lines = [f"{name}:"]
    lines += [f"  - {reason}" for reason in result.reasons()]
    for label, triples in (("only hub", result.only_hub), ("only Morph-KGC", result.only_morph)):
        if triples:
            lines.append(f"  {label}:")
            lines += [f"    {nt(t)}" for t in triples[:show]]
            if len(triples) > show:
                lines.append(f"    … and {len(triples) - show} more")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--morph-python", required=True, help="python of the venv with morph-kgc")
    args = parser.parse_args()
    print("| case | hub triples | Morph-KGC triples | same graph | why not |")
    print("|---|---:|---:|---|---|")
    notes = []
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        mapping = load_mapping(case / "mapping.yml", source_id="case", iris=IRIS)
        doc = yaml.safe_load((case / "mapping.yml").read_text(encoding="utf-8"))
        records = case_records(case)
        ours = hub_graph(mapping, records, "case")
        try:
            morph, removed = morph_graph_without_unknown_functions(
                doc, mapping, records, args.morph_python, "case"
            )
        except MorphError as exc:
            print(f"| {case.name} | {len(ours)} | error | — | Morph-KGC failed |")
            notes.append(f"{case.name}: Morph-KGC failed: {exc}")
            continue
        result = compare(ours, morph.graph, mapping)
        result.invalid = morph.invalid
        same = "yes" if result.same and not morph.invalid else "no"
        why = "; ".join(result.labels()) if same == "no" else ""
        if removed:
            why = "; ".join(
                [why, "entries left out for Morph-KGC"] if why else ["entries left out"]
            )
        print(f"| {case.name} | {len(ours)} | {len(morph.graph)} | {same} | {why} |")
        if same == "no" or removed:
            notes.append(
                "\n".join([difference_note(case.name, result), *(f"  - {r}" for r in removed)])
            )
    for note in notes:
        print()
        print(note)


if __name__ == "__main__":
    main()
