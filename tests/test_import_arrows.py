"""Imports point one way: harvesters -> hub.util; pipeline -> the kind registry; util -> nothing.

Every module of `harvesters` and `hub` is read with `ast`, not imported, so an import
inside a function counts as much as one at the top of the file.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harvesters", "hub")


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every module the file imports, wherever the import stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, then up
                package = module.split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            yield node.lineno, base
            for alias in node.names:  # `from hub import pipeline` imports hub.pipeline
                if is_module(f"{base}.{alias.name}"):
                    yield node.lineno, f"{base}.{alias.name}"


def harvester_kind(name: str) -> bool:
    """A module of `harvesters` other than the package and its registry."""
    return within(name, "harvesters") and name not in ("harvesters", "harvesters.kinds")


Rule = tuple[str, Callable[[str], bool], str]
RULES: list[Rule] = [
    (
        "harvesters",
        lambda name: within(name, "hub.pipeline") or within(name, "hub.mapping"),
        "harvesters must not import hub.pipeline or hub.mapping; move the helper to hub.util",
    ),
    (
        "hub.pipeline",
        harvester_kind,
        "the pipeline reaches harvesters only through `harvesters` and `harvesters.kinds`",
    ),
    (
        "hub.util",
        lambda name: (
            (within(name, "hub") and not within(name, "hub.util")) or within(name, "harvesters")
        ),
        "hub.util is neutral: the standard library and pyoxigraph only",
    ),
]


def arrows_pointing_back(rules: list[Rule]) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = module_name(path)
            for line, name in imports(module, path):
                for where, forbidden, why in rules:
                    if within(module, where) and forbidden(name):
                        found.append(f"{module} (line {line}) imports {name}: {why}")
    return found


def test_imports_point_one_way() -> None:
    found = arrows_pointing_back(RULES)
    assert not found, "imports that point back:\n" + "\n".join(found)


def test_every_ruled_package_exists() -> None:
    for where, _, _ in RULES:
        assert is_module(where), where


def test_lazy_relative_and_from_imports_are_seen(tmp_path: Path) -> None:
    code = (
        "import os\n"
        "def f():\n"
        "    from hub.pipeline.stream import ChunkReader\n"
        "    from . import rdf, not_a_module\n"
        "    from hub import mapping\n"
    )
    path = tmp_path / "example.py"
    path.write_text(code, encoding="utf-8")
    found = set(imports("harvesters.example", path))
    assert {(1, "os"), (3, "hub.pipeline.stream"), (4, "harvesters.rdf")} <= found
    assert (5, "hub.mapping") in found
    assert (4, "harvesters.not_a_module") not in found


def test_the_rules_catch_what_they_should() -> None:
    harvesters_rule, pipeline_rule, util_rule = (rule[1] for rule in RULES)
    assert harvesters_rule("hub.mapping.jsonpath") and harvesters_rule("hub.pipeline")
    assert not harvesters_rule("hub.util.jsonpath") and not harvesters_rule("hub.errors")
    assert pipeline_rule("harvesters.rdf") and pipeline_rule("harvesters._http")
    assert not pipeline_rule("harvesters") and not pipeline_rule("harvesters.kinds")
    assert util_rule("hub.errors") and util_rule("harvesters") and util_rule("hub")
    assert not util_rule("hub.util.chunks") and not util_rule("pyoxigraph")
