"""Load YAML keeping the line of every mapping key and list item, for error messages."""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A dict that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):
    """A list that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]


def _convert(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(key_node)
            key = str(key) if not isinstance(key, str) else key
            out[key] = _convert(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LineList(_convert(item) for item in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items
    # Scalars: keep text as text (YARRRML values are strings), but honour explicit YAML types.
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"):
        return node.value
    if node.tag == "tag:yaml.org,2002:null":
        return None
    return node.value


def load_with_lines(text: str) -> Any:
    """Parse one YAML document into LineDict / LineList / str values."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    return None if node is None else _convert(node)


def line_of(container: Any, key: str | int, default: int = 0) -> int:
    """The line of a key of a LineDict or an item of a LineList."""
    if isinstance(container, LineDict):
        return container.key_lines.get(str(key), container.line or default)
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", default) or default
