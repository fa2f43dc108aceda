"""The values a reference, a template or a function gives for one node (RML's evaluation)."""

from __future__ import annotations

import itertools
from typing import Any

from hub.errors import RecordError
from hub.mapping.terms import iri_safe, lexical_form


def values(ref: Any, node: Any) -> list[Any]:
    """The non-empty values a Reference or FunctionCall selects; lists give one value per item."""
    found = ref.select(node)
    out: list[Any] = []
    for value in found:
        if isinstance(value, list):
            out.extend(v for v in value if v is not None and v != "")
        elif isinstance(value, dict):
            keys = ", ".join(sorted(value)[:8])
            raise RecordError(
                f"reference `{ref.path}` selects an object, not a value; reference one of its "
                f"fields ({keys})",
                line=ref.line,
            )
        elif value is not None and value != "":
            out.append(value)
    if out:
        ref.hits += 1
    return out


def template_values(parts: list[Any], node: Any, encode: bool) -> list[str]:
    """The texts a template makes: one per combination of its references' values."""
    pieces: list[list[str]] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append([part])
            continue
        found = [lexical_form(v)[0] for v in values(part, node)]
        if not found:
            return []
        pieces.append([iri_safe(v) for v in found] if encode else found)
    if all(len(p) == 1 for p in pieces):
        return ["".join(p[0] for p in pieces)]
    return ["".join(combo) for combo in itertools.product(*pieces)]


def part_values(parts: list[Any], node: Any) -> list[Any]:
    """Like template_values, but a single reference or function keeps its values' types."""
    if len(parts) == 1 and not isinstance(parts[0], str):
        return values(parts[0], node)
    return list(template_values(parts, node, False))
