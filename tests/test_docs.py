"""The README documents every setting of hub.toml and every harvester kind, and the docs'
examples use real commands, options and routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harvesters import KINDS
from harvesters.kinds import REGISTRY
from hub.config import (
    HubSection,
    LogSection,
    Quality,
    ServeSection,
    SourceConfig,
    StoreSection,
)

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def config_reference() -> str:
    start = README.index("## Configuration reference")
    return README[start : README.index("\n## ", start + 5)]


def test_every_setting_is_in_the_config_reference() -> None:
    reference = config_reference()
    sections = {
        "hub": HubSection,
        "store": StoreSection,
        "quality": Quality,
        "serve": ServeSection,
        "log": LogSection,
    }
    missing = []
    for section, model in sections.items():
        for name in model.model_fields:
            if (
                not re.search(rf"^#?\s*{name}\b", reference, flags=re.M)
                and f"{name} =" not in reference
            ):
                missing.append(f"[{section}] {name}")
    for name in SourceConfig.model_fields:
        if name == "id":
            continue  # the table name
        if (
            not re.search(rf"^{name}\b", reference, flags=re.M)
            and f"[sources.itinera-trails.{name}]" not in reference
        ):
            missing.append(f"[sources.X] {name}")
    assert not missing, f"settings missing from the README's configuration reference: {missing}"


def test_every_harvester_kind_is_documented() -> None:
    for kind in KINDS:
        assert f"**`{kind}`**" in README, f"the README has no option table for kind `{kind}`"


def test_every_declared_option_is_documented() -> None:
    """Each option a kind declares (harvesters/kinds.py) is named in the README's text for it."""
    missing = []
    for kind in KINDS:
        start = README.index(f"**`{kind}`**")
        # up to the next kind's heading line (`rdf` and `sparql` share one table)
        ends = [m.start() for m in re.finditer(r"^\*\*`", README[start:], flags=re.M) if m.start()]
        text = README[start : start + min([*ends, README.index("\n## ", start) - start])]
        for name in REGISTRY[kind].options.model_fields:
            if f"`{name}`" not in text:
                missing.append(f"{kind}: {name}")
    assert not missing, f"options missing from the README's harvester tables: {missing}"


def test_every_command_is_documented() -> None:
    from hub.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for command in commands:
        assert f"`hub {command}" in README, f"`hub {command}` is not in the README's command table"


# The examples in README.md and docs/*.md: every `hub ...` command in a shell block parses
# with the real CLI, and every path under /api/v1/ or /sparql they name is a route of the app.

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```$", re.S | re.M)
LOOPBACK_URL = re.compile(
    r"https?://(?:127\.0\.0\.1|localhost)(?::\d+)?(/(?:<[^>\s]*>|[^\s'\"`)<>\]])*)"
)
CODE_PATH = re.compile(r"`(?:(GET|POST|HEAD|PUT|DELETE) )?(/(?:api/v1/|sparql)[^`\s]*)`")


def shell_commands() -> list[tuple[str, str]]:
    """(file, command) for each command line of the docs' shell blocks, continuations joined."""
    found = []
    for doc in DOCS:
        for block in SHELL_BLOCK.finditer(doc.read_text(encoding="utf-8")):
            for line in block.group(1).replace("\\\n", " ").splitlines():
                if line.strip():
                    found.append((doc.name, line.strip().removeprefix("$ ")))
    return found


def hub_invocations() -> list[tuple[str, list[str]]]:
    """(file and command, argv) for each `hub ...` in a shell block (also after `&&`, `;`, `|`)."""
    import shlex

    found = []
    for name, line in shell_commands():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        segment: list[str] = []
        for token in [*lexer, ";"]:
            if token and set(token) <= set(";&|"):
                if segment and segment[0] == "hub":
                    # `[--run RUN]` marks an optional part: check the option anyway
                    argv = [t.strip("[]") for t in segment[1:] if t.strip("[]")]
                    found.append((f"{name}: {line}", argv))
                segment = []
            else:
                segment.append(token)
    return found


HUB_INVOCATIONS = hub_invocations()


def test_the_docs_show_hub_commands() -> None:
    assert len(HUB_INVOCATIONS) >= 10, HUB_INVOCATIONS  # README, queries.md, stewards.md


@pytest.mark.parametrize(("where", "argv"), HUB_INVOCATIONS, ids=[w for w, _ in HUB_INVOCATIONS])
def test_every_hub_command_in_the_docs_parses(
    where: str, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subcommands and options are real; placeholders (SOURCE, RUN, "...") are just values."""
    import argparse

    from hub.cli import build_parser

    def refuse(self: argparse.ArgumentParser, message: str) -> None:
        raise AssertionError(f"{where}\n  `hub {' '.join(argv)}`: {message}")

    monkeypatch.setattr(argparse.ArgumentParser, "error", refuse)
    build_parser().parse_args(argv)


def doc_paths() -> list[tuple[str, str, str | None]]:
    """(file, path, method or None for any) for each /api/v1/ or /sparql path the docs name:
    loopback URLs anywhere (curl examples), and code spans like `GET /api/v1/stats`."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for line in text.replace("\\\n", " ").splitlines():  # a `\` continues a command
            for url in LOOPBACK_URL.finditer(line):
                method = "GET"
                if re.search(r"-X\s*POST|--data|\s-d\s|-F\s", line):
                    method = "POST"
                found.append((doc.name, url.group(1), method))
            for span in CODE_PATH.finditer(line):
                found.append((doc.name, span.group(2), span.group(1)))
    kept = []
    for name, path, method in found:
        if "..." in path or "…" in path:
            continue  # an elided path (`/api/v1/...`) names no route
        path = re.split(r"[?#]", path)[0].rstrip(".,;:")
        if not path.startswith(("/api/v1/", "/sparql")):
            continue
        kept.append((name, path, method))
    return sorted(set(kept), key=lambda item: (item[0], item[1], item[2] or ""))


DOC_PATHS = doc_paths()


@pytest.fixture(scope="module")
def app():  # noqa: ANN201
    from hub.api import create_app
    from hub.config import load_config

    # Routes are registered when the app is made; nothing here touches the store.
    return create_app(load_config(ROOT / "hub.toml"), None)


def test_the_docs_name_api_paths() -> None:
    assert len(DOC_PATHS) >= 15, DOC_PATHS


@pytest.mark.parametrize(
    ("doc", "path", "method"), DOC_PATHS, ids=[f"{d}:{m or 'any'}:{p}" for d, p, m in DOC_PATHS]
)
def test_every_api_path_in_the_docs_is_a_route(
    app, doc: str, path: str, method: str | None
) -> None:  # noqa: ANN001
    """Placeholder segments (`{source}`, `<source>`, RUN) match a route's parameter."""
    from starlette.routing import Match

    methods = [method] if method else ["GET", "POST", "HEAD"]
    for candidate in methods:
        scope = {"type": "http", "path": path, "method": candidate, "root_path": "", "headers": []}
        if any(route.matches(scope)[0] == Match.FULL for route in app.router.routes):
            return
    raise AssertionError(
        f"{doc} names {method or ''} {path}, which no route of the app answers"
        f" (routes are in hub/api/); fix the doc"
    )


def test_every_cited_markdown_file_exists() -> None:
    """A doc or docstring that cites a Markdown file names a file of the repository."""
    cited = re.compile(r"(?<![\w./-])([\w./-]*\w\.md)\b")
    files = [*DOCS, ROOT / "hub" / "demo" / "data" / "README.md"]
    for folder in ("hub", "harvesters", "bench", "tests"):
        files += sorted((ROOT / folder).rglob("*.py"))
    missing = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in cited.findall(line):
                if not any((base / name).is_file() for base in (ROOT, path.parent, ROOT / "docs")):
                    missing.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert not missing, f"these cite a file the repository does not have: {missing}"
