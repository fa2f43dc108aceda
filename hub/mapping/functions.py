"""The functions a mapping may call (RML-FNML): common GREL and IDLab ones, and the hub's.

Each function is named by its IRI and declares its parameters (IRIs) in order. A
parameter gets the list of values its reference, template or nested function gives
for the node; an array parameter (grel:p_array_a, grel:param_rep_b) gets the whole
list, any other one value at a time (several values: the function runs once per
combination). A missing value gives no result, except for functions that test for
it (isNull, isNotNull, controls_if's optional branch, …).

    >>> FUNCTIONS[GREL + "toUpperCase"].impl("Elba")
    'ELBA'
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.errors import RecordError
from hub.iris import MH
from hub.mapping.terms import lexical_form

GREL = "http://users.ugent.be/~bjdmeest/function/grel.ttl#"
IDLAB = "https://w3id.org/imec/idlab/function#"
IDLAB_OLD = "http://example.com/idlab/function/"  # the namespace of older IDLab mappings

FUNCTION_PREFIXES = {"grel": GREL, "idlab-fn": IDLAB}


@dataclass(frozen=True)
class Param:
    iri: str
    array: bool = False  # gets the whole list of values
    optional: bool = False
    constant: bool = False  # a YAML value written in the mapping (the value map's table)

    @property
    def local(self) -> str:
        return _local(self.iri)


@dataclass(frozen=True)
class Function:
    iri: str
    params: tuple[Param, ...]
    impl: Callable[..., Any]
    tests_missing: bool = False  # runs even when a parameter has no value (gets None)
    boolean: bool = False  # its result can be a condition

    @property
    def short(self) -> str:
        for prefix, namespace in (("grel", GREL), ("idlab-fn", IDLAB), ("mh", MH)):
            if self.iri.startswith(namespace):
                return f"{prefix}:{self.iri[len(namespace) :]}"
        return self.iri


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def text(value: Any) -> str:
    """A value as text (its lexical form: 12 -> '12', True -> 'true')."""
    return value if isinstance(value, str) else lexical_form(value)[0]


def truth(value: Any) -> bool:
    """A function result or a value read as a boolean (true, "true", 1, "1")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in ("true", "1")


# -- dates -------------------------------------------------------------------
_JAVA_TOKENS = [
    ("yyyy", "%Y"),
    ("uuuu", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%m"),
    ("dd", "%d"),
    ("d", "%d"),
    ("HH", "%H"),
    ("H", "%H"),
    ("hh", "%I"),
    ("h", "%I"),
    ("mm", "%M"),
    ("m", "%M"),
    ("ss", "%S"),
    ("s", "%S"),
    ("SSSSSS", "%f"),
    ("SSS", "%f"),
    ("a", "%p"),
    ("XXX", "%z"),
    ("Z", "%z"),
    ("X", "%z"),
]
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%f", "%p", "%z")


def java_date_pattern(pattern: str) -> str:
    """A Java date pattern (dd/MM/yyyy, as GREL and IDLab take) as a strptime format."""
    out: list[str] = []
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "'":
            end = pattern.find("'", pos + 1)
            if end < 0:
                raise ValueError(f"date pattern `{pattern}`: a quote ' is not closed")
            out.append(pattern[pos + 1 : end].replace("%", "%%") or "'")
            pos = end + 1
            continue
        if char.isalpha():
            for token, directive in _JAVA_TOKENS:
                if pattern.startswith(token, pos):
                    out.append(directive)
                    pos += len(token)
                    break
            else:
                raise ValueError(
                    f"date pattern `{pattern}`: `{char}` is not supported "
                    "(use yyyy, yy, MM, MMM, dd, HH, hh, mm, ss, SSS, a, XXX)"
                )
            continue
        out.append("%%" if char == "%" else char)
        pos += 1
    return "".join(out)


def _parse_date(value: Any, pattern: Any, *, with_time: bool | None) -> Any:
    if isinstance(value, dt.datetime | dt.date) and not isinstance(pattern, str):
        return value
    fmt = java_date_pattern(text(pattern))
    raw = text(value).strip()
    try:
        parsed = dt.datetime.strptime(raw, fmt)
    except ValueError:
        raise ValueError(f"`{raw}` does not match the date pattern `{text(pattern)}`") from None
    has_time = any(d in fmt for d in _TIME_DIRECTIVES)
    if with_time is False or (with_time is None and not has_time):
        return parsed.date()
    return parsed


# -- the functions -------------------------------------------------------------
def _equal(a: Any, b: Any) -> bool:
    return (None if a is None else text(a)) == (None if b is None else text(b))


def _substring(s: Any, start: Any, end: Any = None) -> str:
    value = text(s)
    return value[int(text(start)) : None if end is None else int(text(end))]


def _value_map(value: Any, table: Any, default: Any = None) -> Any:
    key = text(value)
    if isinstance(table, dict) and key in table:
        return table[key]
    if default is not None:
        return default
    known = ", ".join(sorted(table)[:10]) if isinstance(table, dict) else ""
    raise ValueError(f"`{key}` is not in the value map ({known}); add it, or give mh:default")


def _if(condition: Any, yes: Any, no: Any = None) -> Any:
    return yes if truth(condition) else no


def _split(s: Any, sep: Any) -> list[str]:
    return [piece for piece in text(s).split(text(sep)) if piece != ""]


def _join(items: list[Any], sep: Any = None) -> str | None:
    return (text(sep) if sep is not None else "").join(text(i) for i in items) if items else None


def _concat(a: Any, b: Any, delimiter: Any = None) -> str:
    return text(a) + (text(delimiter) if delimiter is not None else "") + text(b)


_V = Param(GREL + "valueParameter")
_V2 = Param(GREL + "valueParameter2")
_SUB = Param(GREL + "string_sub")
_PATTERN = Param(GREL + "p_string_pattern")

_DEFINITIONS: list[Function] = [
    Function(GREL + "toUpperCase", (_V,), lambda s: text(s).upper()),
    Function(GREL + "toLowerCase", (_V,), lambda s: text(s).lower()),
    Function(GREL + "string_toTitlecase", (_V,), lambda s: text(s).title()),
    Function(GREL + "string_trim", (_V,), lambda s: text(s).strip()),
    Function(GREL + "string_length", (_V,), lambda s: len(text(s))),
    Function(
        GREL + "string_replace",
        (_V, Param(GREL + "p_string_find"), Param(GREL + "p_string_replace", optional=True)),
        lambda s, find, new=None: text(s).replace(text(find), "" if new is None else text(new)),
    ),
    Function(GREL + "string_split", (_V, Param(GREL + "p_string_sep")), _split),
    Function(
        GREL + "string_substring",
        (_V, Param(GREL + "param_int_i_from"), Param(GREL + "param_int_i_opt_to", optional=True)),
        _substring,
    ),
    Function(
        GREL + "string_contains",
        (_V, _SUB),
        lambda s, sub: text(sub) in text(s),
        boolean=True,
    ),
    Function(
        GREL + "string_startsWith",
        (_V, _SUB),
        lambda s, sub: text(s).startswith(text(sub)),
        boolean=True,
    ),
    Function(
        GREL + "string_endsWith",
        (_V, _SUB),
        lambda s, sub: text(s).endswith(text(sub)),
        boolean=True,
    ),
    Function(
        GREL + "array_join",
        (Param(GREL + "p_array_a", array=True), Param(GREL + "p_string_sep", optional=True)),
        _join,
        tests_missing=True,
    ),
    Function(GREL + "boolean_not", (Param(GREL + "bool_b"),), lambda b: not truth(b), boolean=True),
    Function(
        GREL + "boolean_and",
        (Param(GREL + "param_rep_b", array=True),),
        lambda bs: bool(bs) and all(truth(b) for b in bs),
        boolean=True,
        tests_missing=True,
    ),
    Function(
        GREL + "boolean_or",
        (Param(GREL + "param_rep_b", array=True),),
        lambda bs: any(truth(b) for b in bs),
        boolean=True,
        tests_missing=True,
    ),
    Function(
        GREL + "controls_if",
        (
            Param(GREL + "bool_b"),
            Param(GREL + "any_true", optional=True),
            Param(GREL + "any_false", optional=True),
        ),
        _if,
        tests_missing=True,
    ),
    Function(
        GREL + "date_toDate",
        (_V, _PATTERN),
        lambda s, pattern: _parse_date(s, pattern, with_time=None),
    ),
    Function(IDLAB + "equal", (_V, _V2), _equal, boolean=True, tests_missing=True),
    Function(
        IDLAB + "notEqual",
        (_V, _V2),
        lambda a, b: not _equal(a, b),
        boolean=True,
        tests_missing=True,
    ),
    Function(
        IDLAB + "isNull",
        (Param(IDLAB + "str", optional=True),),
        lambda s: s is None,
        boolean=True,
        tests_missing=True,
    ),
    Function(
        IDLAB + "isNotNull",
        (Param(IDLAB + "str", optional=True),),
        lambda s: s is not None,
        boolean=True,
        tests_missing=True,
    ),
    Function(
        IDLAB + "trueCondition",
        (Param(IDLAB + "strBoolean"), Param(IDLAB + "str")),
        lambda condition, s: s if truth(condition) else None,
    ),
    Function(
        IDLAB + "concat",
        (
            Param(IDLAB + "str"),
            Param(IDLAB + "otherStr"),
            Param(IDLAB + "delimiter", optional=True),
        ),
        _concat,
    ),
    Function(
        IDLAB + "normalizeDate",
        (Param(IDLAB + "strDate"), Param(IDLAB + "pattern")),
        lambda s, pattern: _parse_date(s, pattern, with_time=False),
    ),
    Function(
        IDLAB + "normalizeDateTime",
        (Param(IDLAB + "strDate"), Param(IDLAB + "pattern")),
        lambda s, pattern: _parse_date(s, pattern, with_time=True),
    ),
    Function(
        MH + "valueMap",
        (
            Param(MH + "value"),
            Param(MH + "map", constant=True),
            Param(MH + "default", optional=True),
        ),
        _value_map,
    ),
]

FUNCTIONS: dict[str, Function] = {f.iri: f for f in _DEFINITIONS}
for _f in _DEFINITIONS:
    if _f.iri.startswith(IDLAB):
        FUNCTIONS.setdefault(IDLAB_OLD + _f.iri[len(IDLAB) :], _f)

# YARRRML's names without a prefix, as written in conditions (`function: equal`).
BARE_NAMES: dict[str, Function] = {}
for _f in _DEFINITIONS:
    BARE_NAMES.setdefault(_local(_f.iri), _f)


def make_select(
    function: Function, evaluators: list[Any], path: str, line: int
) -> Callable[[Any], list[Any]]:
    """The `select(node)` of a call: its arguments' values for the node, through the function.

    `evaluators` holds, for each of the function's parameters in order, a function from
    the node to a list of values, a constant (for `constant` parameters), or None.
    """
    params = function.params
    impl = function.impl
    lenient = function.tests_missing

    def select(node: Any) -> list[Any]:
        columns: list[list[Any]] = []
        for param, evaluate in zip(params, evaluators, strict=True):
            if param.constant:
                columns.append([evaluate])
                continue
            found = evaluate(node) if evaluate is not None else []
            if param.array:
                columns.append([found])
            elif found:
                columns.append(found)
            elif param.optional or lenient:
                columns.append([None])
            else:
                return []
        out: list[Any] = []
        for combo in (
            itertools.product(*columns) if len(columns) != 1 else ([v] for v in columns[0])
        ):
            try:
                result = impl(*combo)
            except (ValueError, TypeError, ArithmeticError) as exc:
                first = combo[0] if combo else None
                shown = text(first) if first is not None and not isinstance(first, list) else None
                raise RecordError(f"{path}: {exc}", line=line, value=shown) from None
            if result is None or result == "":
                continue
            if isinstance(result, list):
                out.extend(result)
            else:
                out.append(result)
        return out

    return select
