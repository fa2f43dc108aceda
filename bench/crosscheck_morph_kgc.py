"""Cross-check the hub's mapping engine against Morph-KGC on the golden mapping cases.

Morph-KGC pins old pyoxigraph and rdflib, so it runs in its own virtual environment:

    python3 -m venv /tmp/mkgc && /tmp/mkgc/bin/pip install morph-kgc
    python bench/crosscheck_morph_kgc.py --morph-python /tmp/mkgc/bin/python

For each case in tests/mapping/cases/ the script writes the records to a JSON file,
points the mapping's source at it, declares the hub's built-in prefixes, runs
Morph-KGC, and compares its graph with the hub's (rdflib isomorphism). It prints a
table and, for each difference, the triples only one side made.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import yaml
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from hub.iris import PREFIXES, Iris
from hub.mapping.compile import load_mapping
from hub.mapping.runner import MappingRunner

CASES = Path(__file__).resolve().parents[1] / "tests" / "mapping" / "cases"
BASE = "https://hub.example.org/"


def hub_graph(case: Path) -> Graph:
    mapping = load_mapping(case / "mapping.yml", source_id="case", iris=Iris(BASE))
    runner = MappingRunner(mapping, source="case")
    records = json.loads((case / "records.json").read_text(encoding="utf-8"))
    return Graph().parse(data=b"".join(runner.run(records)).decode(), format="nt")


def morph_mapping(case: Path, folder: Path) -> Path:
    """The case's mapping with a real JSON source and the hub's built-in prefixes declared."""
    doc = yaml.safe_load((case / "mapping.yml").read_text(encoding="utf-8"))
    iris = Iris(BASE)
    prefixes = dict(PREFIXES)
    prefixes.update(
        {"id": iris.entity_prefix("case"), "hubid": f"{BASE}id/", "programme": iris.programme_base}
    )
    prefixes.update(doc.get("prefixes") or {})
    doc["prefixes"] = prefixes
    data = folder / "records.json"
    data.write_text((case / "records.json").read_text(encoding="utf-8"), encoding="utf-8")
    for body in doc["mappings"].values():
        iterator = "$[*]"
        sources = body.get("sources")
        if sources:
            inner = sources[0][1] if isinstance(sources[0], list) else sources[0]["iterator"]
            iterator = "$[*]" + inner.removeprefix("$")
        body["sources"] = [[f"{data}~jsonpath", iterator]]
    path = folder / "mapping.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def morph_graph(case: Path, python: str) -> Graph:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mapping = morph_mapping(case, folder)
        config = folder / "config.ini"
        out = folder / "out.nt"
        config.write_text(
            f"[CONFIGURATION]\noutput_file={out}\noutput_format=N-TRIPLES\n\n"
            f"[DataSource1]\nmappings={mapping}\n",
            encoding="utf-8",
        )
        subprocess.run(
            [python, "-m", "morph_kgc", str(config)],
            check=True,
            capture_output=True,
            text=True,
            cwd=folder,
        )
        if not out.exists():
            return Graph()
        # Morph-KGC's YARRRML reader maps the `schema:` prefix to http://schema.org/ whatever
        # the mapping declares: the hub's own `schema:` since decisions #28.
        return Graph().parse(data=out.read_text(encoding="utf-8"), format="nt")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--morph-python", required=True, help="python of the venv with morph-kgc")
    args = parser.parse_args()
    print("| case | hub triples | Morph-KGC triples | same graph |")
    print("|---|---:|---:|---|")
    notes = []
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        if not (case / "records.json").exists():  # CSV cases: see docs/mappings.md
            notes.append(f"{case.name}: skipped (no records.json)")
            continue
        ours = hub_graph(case)
        try:
            theirs = morph_graph(case, args.morph_python)
        except subprocess.CalledProcessError as exc:
            print(f"| {case.name} | {len(ours)} | error | — |")
            notes.append(f"{case.name}: Morph-KGC failed: {exc.stderr.strip().splitlines()[-1:]}")
            continue
        same = isomorphic(ours, theirs)
        print(f"| {case.name} | {len(ours)} | {len(theirs)} | {'yes' if same else 'NO'} |")
        if not same:
            _, only_ours, only_theirs = graph_diff(to_isomorphic(ours), to_isomorphic(theirs))
            notes.append(
                f"{case.name}:\n  only hub:\n    "
                + "\n    ".join(sorted(only_ours.serialize(format="nt").strip().splitlines())[:6])
                + "\n  only Morph-KGC:\n    "
                + "\n    ".join(sorted(only_theirs.serialize(format="nt").strip().splitlines())[:6])
            )
    for note in notes:
        print()
        print(note)


if __name__ == "__main__":
    main()
