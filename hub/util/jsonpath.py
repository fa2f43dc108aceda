"""The JSONPath subset mappings use: `$`, dotted names, `[*]`, `[n]`, `['name']`, `.*`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_STEP = re.compile(
    r"""\.?(?:(?P<name>[^.\[\]]+)|\[(?P<index>-?\d+)\]|\[\*\]|\['(?P<quoted>[^']*)'\]|\["(?P<dquoted>[^"]*)"\])"""
)

Step = tuple[str, Any]  # ("key", name) | ("index", n) | ("all", None)


def parse_path(path: str) -> list[Step]:
    """Parse a JSONPath of the subset into steps; ValueError names what is not supported."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(
                f"JSONPath `{path}` is not in the supported subset "
                f"($, .name, ['name'], [n], [*], .*) at `{text[pos:]}`"
            )
        if match.group("name") is not None:
            name = match.group("name")
            steps.append(("all", None) if name == "*" else ("key", name))
        elif match.group("index") is not None:
            steps.append(("index", int(match.group("index"))))
        elif match.group("quoted") is not None or match.group("dquoted") is not None:
            steps.append(("key", match.group("quoted") or match.group("dquoted") or ""))
        else:
            steps.append(("all", None))
        pos = match.end()
    return steps


def compile_path(path: str) -> Callable[[Any], list[Any]]:
    """A function returning every value `path` selects in a document (a list, maybe empty)."""
    steps = parse_path(path)
    if not steps:
        return lambda node: [node]
    if len(steps) == 1 and steps[0][0] == "key":
        name = steps[0][1]

        def one_key(node: Any) -> list[Any]:
            if isinstance(node, dict) and name in node:
                return [node[name]]
            return []

        return one_key

    literal_key = path if not path.startswith("$") else None

    def select(node: Any) -> list[Any]:
        # A column literally named "a.b" (CSV, SQL) wins over the path a -> b.
        if literal_key is not None and isinstance(node, dict) and literal_key in node:
            return [node[literal_key]]
        current = [node]
        for kind, arg in steps:
            following: list[Any] = []
            for item in current:
                if kind == "key":
                    if isinstance(item, dict) and arg in item:
                        following.append(item[arg])
                elif kind == "index":
                    if isinstance(item, list) and -len(item) <= arg < len(item):
                        following.append(item[arg])
                elif isinstance(item, list):
                    following.extend(item)
                elif isinstance(item, dict):
                    following.extend(item.values())
            current = following
        return current

    return select
