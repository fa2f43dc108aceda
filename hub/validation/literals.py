"""Literal checks: is a literal well-formed for its datatype, and how two literals compare.

Well-formedness follows the XSD 1.1 lexical spaces (no surrounding spaces; dates must exist);
well-formed numbers compare in Python (decimals exactly). Other values against a bound
(sh:minInclusive & co.: dates, strings, ill-typed numbers) compare as pySHACL compares them,
with rdflib; sh:lessThan and sh:lessThanOrEquals use SPARQL's own `<` in Oxigraph, once per
distinct pair, so an incomparable pair (an error in SPARQL) is a result, as SHACL says.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox
import rdflib

from hub.validation.terms import RDF_LANG_STRING, XSD, XSD_STRING, parts, unescape

RDFS_LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"
_RDFLIB_LOG = logging.getLogger("rdflib.term")

INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    XSD + "integer": (None, None),
    XSD + "long": (-(2**63), 2**63 - 1),
    XSD + "int": (-(2**31), 2**31 - 1),
    XSD + "short": (-(2**15), 2**15 - 1),
    XSD + "byte": (-128, 127),
    XSD + "unsignedLong": (0, 2**64 - 1),
    XSD + "unsignedInt": (0, 2**32 - 1),
    XSD + "unsignedShort": (0, 2**16 - 1),
    XSD + "unsignedByte": (0, 255),
    XSD + "nonNegativeInteger": (0, None),
    XSD + "positiveInteger": (1, None),
    XSD + "nonPositiveInteger": (None, 0),
    XSD + "negativeInteger": (None, -1),
}
_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_YEAR = r"-?([1-9][0-9]{3,}|0[0-9]{3})"
_TIME = r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
_DATE = rf"(?P<y>{_YEAR})-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12][0-9]|3[01])"
_DURATION_DT = r"([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?"
_LEXICAL = {
    XSD + "decimal": r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)",
    XSD + "double": r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD + "float": r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD + "boolean": r"true|false|1|0",
    XSD + "date": _DATE + _TZ,
    XSD + "dateTime": rf"{_DATE}T{_TIME}{_TZ}",
    XSD + "dateTimeStamp": rf"{_DATE}T{_TIME}(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))",
    XSD + "time": _TIME + _TZ,
    XSD + "gYear": _YEAR + _TZ,
    XSD + "gYearMonth": rf"{_YEAR}-(0[1-9]|1[0-2]){_TZ}",
    XSD + "gMonth": rf"--(0[1-9]|1[0-2]){_TZ}",
    XSD + "gDay": rf"---(0[1-9]|[12][0-9]|3[01]){_TZ}",
    XSD + "gMonthDay": rf"--(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12][0-9]|3[01]){_TZ}",
    XSD + "duration": rf"-?P(?=[0-9T])([0-9]+Y)?([0-9]+M)?{_DURATION_DT}",
    XSD + "dayTimeDuration": rf"-?P(?=[0-9T]){_DURATION_DT}",
    XSD + "yearMonthDuration": r"-?P(?=[0-9])([0-9]+Y)?([0-9]+M)?",
    XSD + "hexBinary": r"([0-9a-fA-F]{2})*",
}
_COMPILED = {dt: re.compile(rf"(?:{pattern})\Z") for dt, pattern in _LEXICAL.items()}
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_EXACT = {XSD + "decimal", *INTEGER_RANGES}
_STORED_AS = {dt: XSD + "integer" for dt in INTEGER_RANGES} | {
    XSD + "dateTimeStamp": XSD + "dateTime"
}
_INEXACT = {XSD + "double", XSD + "float"}


def _day_exists(match: re.Match[str]) -> bool:
    groups = match.groupdict()
    if "d" not in groups or groups["d"] is None:
        return True
    day, month = int(groups["d"]), int(groups["m"])
    if groups.get("y") is None:  # gMonthDay: February 29 exists
        return day <= (29 if month == 2 else calendar.monthrange(2001, month)[1])
    year = int(groups["y"])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)  # year 0 is a leap year
    return day <= (29 if month == 2 and leap else calendar.monthrange(2001, month)[1])


def well_formed(lexical: str, datatype: str) -> bool:
    """True when `lexical` is in the lexical space of `datatype` (unknown datatypes: always)."""
    if datatype in INTEGER_RANGES:
        if not _INTEGER.match(lexical):
            return False
        lo, hi = INTEGER_RANGES[datatype]
        number = int(lexical)
        return (lo is None or number >= lo) and (hi is None or number <= hi)
    pattern = _COMPILED.get(datatype)
    if pattern is None:
        return True
    match = pattern.match(lexical)
    return match is not None and _day_exists(match)


def datatype_ok(term: str, datatype: str, *, stored: bool = False) -> bool:
    """sh:datatype: `term` is a literal of `datatype`, well-formed.

    `stored`: the term was read out of Oxigraph, which keeps valid literals of integer
    subtypes as xsd:integer and of xsd:dateTimeStamp as xsd:dateTime (oxigraph issue #1413),
    so those stand for the subtype when their value fits it.
    """
    if term[0] != '"':
        return False
    if datatype == RDFS_LITERAL:  # pySHACL accepts every literal for rdfs:Literal
        return True
    lexical, lang, actual = parts(term)
    if actual != datatype:
        return stored and actual == _STORED_AS.get(datatype) and well_formed(lexical, datatype)
    if lang is not None or datatype in (XSD_STRING, RDF_LANG_STRING):
        return True
    return well_formed(lexical, datatype)


def datatype_check(datatype: str, *, stored: bool = False) -> Callable[[str], bool]:
    """`datatype_ok` for one datatype, with the common cases decided without parsing."""
    if datatype == RDFS_LITERAL:
        return lambda term: term[0] == '"'
    if datatype == XSD_STRING:
        return lambda term: term[0] == '"' and term[-1] == '"'
    if datatype == RDF_LANG_STRING:
        return lambda term: term[0] == '"' and term[-1] != '"' and term[-1] != ">"
    suffix = f'"^^<{datatype}>'
    cut = -len(suffix)

    def check(term: str) -> bool:
        if term[0] == '"' and term.endswith(suffix):
            lexical = term[1:cut]
            return well_formed(unescape(lexical) if "\\" in lexical else lexical, datatype)
        return stored and datatype_ok(term, datatype, stored=True)

    return check


# The last number read (a value is checked against two bounds in a row); a tuple, replaced
# whole, so that threads validating at once never see half of it.
_last: tuple[str, Decimal | float | None] = ("", None)


def _number(term: str) -> Decimal | float | None:
    """The value of a well-formed numeric literal (None for anything else)."""
    global _last
    last = _last
    if term is last[0]:
        return last[1]
    value: Decimal | float | None = None
    if term[0] == '"' and term[-1] == ">":
        end = term.rfind('"')
        datatype = term[end + 4 : -1]
        lexical = term[1:end]
        if datatype in _EXACT and well_formed(lexical, datatype):
            try:
                value = Decimal(lexical)
            except InvalidOperation:  # pragma: no cover - the lexical check rules this out
                value = None
        elif datatype in _INEXACT and well_formed(lexical, datatype):
            value = float(lexical)
    _last = (term, value)
    return value


class Comparer:
    """SPARQL's `a < b` and `a <= b`: True, False, or None when SPARQL raises an error."""

    def __init__(self) -> None:
        self._store = ox.Store()
        self._asked: dict[tuple[str, str, str], bool | None] = {}
        self.queries = 0

    def bound(self, bound: str, *, lower: bool, inclusive: bool) -> Callable[[str], bool]:
        """A test that a value respects a bound: `bound <= value` (lower, inclusive) & co.

        Well-formed numbers compare in Python; anything else as pySHACL compares it (see
        `_pyshacl_within`), once per distinct value.
        """
        limit = _number(bound)
        asked: dict[str, bool] = {}

        def slow(v: str) -> bool:
            if v not in asked:
                asked[v] = _pyshacl_within(bound, v, lower=lower, inclusive=inclusive)
            return asked[v]

        if limit is None:
            return slow
        inexact = isinstance(limit, float)

        def within(v: str) -> bool:
            x = _number(v)
            if x is None:
                return slow(v)
            a, b = (limit, x) if lower else (x, limit)
            if inexact or isinstance(x, float):
                a, b = float(a), float(b)
            return a <= b if inclusive else a < b  # type: ignore[operator]

        return within

    def less(self, a: str, b: str, *, or_equal: bool) -> bool | None:
        """`a < b` (or `a <= b`) as SPARQL evaluates it."""
        if a[0] != '"' or b[0] != '"':
            return None  # IRIs and blank nodes have no order in SPARQL
        x, y = _number(a), _number(b)
        if x is not None and y is not None:
            if isinstance(x, float) or isinstance(y, float):
                x, y = float(x), float(y)
            return x <= y if or_equal else x < y  # type: ignore[operator]
        op = "<=" if or_equal else "<"
        key = (a, op, b)
        if key not in self._asked:
            self._asked[key] = self._ask(a, op, b)
        return self._asked[key]

    def _ask(self, a: str, op: str, b: str) -> bool | None:
        self.queries += 1
        try:
            rows = list(self._store.query(f"SELECT (({a}) {op} ({b}) AS ?r) {{}}"))
        except (SyntaxError, ValueError, OSError):
            return None
        value = rows[0]["r"] if rows else None
        return None if value is None else value.value == "true"


def _rdflib(term: str) -> rdflib.Literal:
    lexical, lang, datatype = parts(term)
    if lang:
        return rdflib.Literal(lexical, lang=lang)
    return rdflib.Literal(lexical, datatype=None if datatype == XSD_STRING else datatype)


def _pyshacl_within(bound: str, value: str, *, lower: bool, inclusive: bool) -> bool:
    """sh:min/maxInclusive/Exclusive for what is not two well-formed numbers, as pySHACL 0.40
    decides it (pyshacl/constraints/core/value_range_constraints.py): IRIs and blank nodes
    fail; a string against a non-string fails; else rdflib's ordering of the two literals,
    which for an ill-typed value ("12,5"^^xsd:decimal) compares datatype IRIs or text."""
    from pyshacl.rdfutil.compare import compare_literal  # imported when first needed (slow)

    if value[0] != '"':
        return False
    previous = _RDFLIB_LOG.level
    _RDFLIB_LOG.setLevel(logging.ERROR)  # rdflib logs every ill-typed literal it meets
    try:
        v, m = _rdflib(value), _rdflib(bound)
    finally:
        _RDFLIB_LOG.setLevel(previous)
    if isinstance(v.value, str) != isinstance(m.value, str):
        return False
    try:
        order = compare_literal(v, m)
    except (TypeError, NotImplementedError):
        return False
    if lower:
        return order >= 0 if inclusive else order > 0
    return order <= 0 if inclusive else order < 0
