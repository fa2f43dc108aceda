"""Pieces of SQL the planner assembles: WHERE clauses, FTS5 queries, distances.

Every value is a bound parameter; FTS5 gets only quoted words; column names come from
the code, never from a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.readmodel._geo import unit_vector
from hub.readmodel._model import Word


def fts_expression(words: Sequence[Word]) -> str:
    """An FTS5 query that ANDs the words, each quoted as a string (FTS syntax cannot leak in)."""
    terms = []
    for word in words:
        quoted = '"' + word.text.replace('"', '""') + '"'
        terms.append(quoted + ("*" if word.prefix else ""))
    return " AND ".join(terms)


class Where:
    """A WHERE clause under construction: conditions and their parameters, in order."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        """Add a condition and its parameters."""
        self.conditions.append(condition)
        self.params.extend(params)

    def where(self) -> str:
        """The conditions joined with AND (`1` when there are none)."""
        return " AND ".join(self.conditions) if self.conditions else "1"


def placeholders(values: Sequence[Any]) -> str:
    """`?, ?, ?` for the values."""
    return ", ".join("?" * len(values))


def pipe(value: str) -> str:
    """A value as found in a `|a|b|` column: `|a|`."""
    return f"|{value}|"


def chord2_sql(alias: str = "e") -> str:
    """SQL for the squared chord from an entity to a point given as (x, x, y, y, z, z) params."""
    a = alias
    return f"(({a}.x - ?) * ({a}.x - ?) + ({a}.y - ?) * ({a}.y - ?) + ({a}.z - ?) * ({a}.z - ?))"


def xyz_params(near: tuple[float, float]) -> tuple[float, ...]:
    """The parameters of `chord2_sql` for a point."""
    x, y, z = unit_vector(*near)
    return (x, x, y, y, z, z)
