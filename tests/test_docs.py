"""The README documents every setting of hub.toml and every harvester kind."""

from __future__ import annotations

import re
from pathlib import Path

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
            if not re.search(rf"^#?\s*{name}\b", reference, flags=re.M) and f"{name} =" not in reference:
                missing.append(f"[{section}] {name}")
    for name in SourceConfig.model_fields:
        if name == "id":
            continue  # the table name
        if not re.search(rf"^{name}\b", reference, flags=re.M) and f"[sources.itinera-trails.{name}]" not in reference:
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
