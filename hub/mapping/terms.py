"""RDF terms written as N-Triples text: IRI-safe template values, literals, lexical checks."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from decimal import Decimal

from hub.iris import XSD

# `\Z`, not `$`: `$` also matches before a final line break, which would slip into the output.
UNRESERVED_ASCII = re.compile(r"^[A-Za-z0-9\-._~]*\Z")
ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x20]*\Z")
# BCP 47 (RFC 5646) well-formed language tags: langtag, private use, or grandfathered.
_LANGTAG = (
    # language (with extlang): 2-3 letters; BCP 47's 4-letter (reserved) and 5-8-letter
    # (registered) slots have no subtag in the IANA registry, so `english` is refused
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3})"
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|\d{3}))?"  # region
    r"(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*"  # variants
    r"(?:-[\da-wyz](?:-[a-z\d]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z\d]{1,8})+)?"  # private use
)
_GRANDFATHERED = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|"
    "i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish|no-bok|"
    "no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
LANGUAGE_TAG = re.compile(
    f"^(?:{_LANGTAG}|x(?:-[a-z\\d]{{1,8}})+|{_GRANDFATHERED})\\Z", re.IGNORECASE | re.ASCII
)

# RFC 3987 ucschar: non-ASCII characters that may stay unencoded in an IRI.
_UCSCHAR = (
    (0xA0, 0xD7FF),
    (0xF900, 0xFDCF),
    (0xFDF0, 0xFFEF),
    (0x10000, 0x1FFFD),
    (0x20000, 0x2FFFD),
    (0x30000, 0x3FFFD),
    (0x40000, 0x4FFFD),
    (0x50000, 0x5FFFD),
    (0x60000, 0x6FFFD),
    (0x70000, 0x7FFFD),
    (0x80000, 0x8FFFD),
    (0x90000, 0x9FFFD),
    (0xA0000, 0xAFFFD),
    (0xB0000, 0xBFFFD),
    (0xC0000, 0xCFFFD),
    (0xD0000, 0xDFFFD),
    (0xE1000, 0xEFFFD),
)


def _is_ucschar(code: int) -> bool:
    return any(low <= code <= high for low, high in _UCSCHAR)


def iri_safe(value: str) -> str:
    """Percent-encode a template value as RML does: keep iunreserved, encode the rest.

    >>> iri_safe("Porto Ferraio/Elba è")
    'Porto%20Ferraio%2FElba%20è'
    """
    if UNRESERVED_ASCII.match(value):
        return value
    out = []
    for char in value:
        code = ord(char)
        if (code < 128 and (char.isalnum() or char in "-._~")) or (
            code >= 128 and _is_ucschar(code)
        ):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def is_absolute_iri(value: str) -> bool:
    """True when `value` can be written as an IRI: a scheme and no forbidden characters."""
    return bool(ABSOLUTE_IRI.match(value))


def nt_iri(value: str) -> str:
    return f"<{value}>"


def escape_literal(value: str) -> str:
    """Escape a string for an N-Triples quoted literal."""
    if "\\" in value or '"' in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def nt_literal(lexical: str, datatype: str | None = None, language: str | None = None) -> str:
    """An N-Triples literal; a plain string when neither datatype nor language is given."""
    quoted = f'"{escape_literal(lexical)}"'
    if language:
        return f"{quoted}@{language}"
    if datatype and datatype != XSD + "string":
        return f"{quoted}^^<{datatype}>"
    return quoted


def _decimal_text(value: Decimal | float) -> str:
    text = format(Decimal(str(value)) if isinstance(value, float) else value, "f")
    return text


def lexical_form(value: object) -> tuple[str, str | None]:
    """The lexical form of a source value and its natural XSD datatype (None for strings)."""
    if isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return ("true" if value else "false"), XSD + "boolean"
    if isinstance(value, int):
        return str(value), XSD + "integer"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN", XSD + "double"
        if math.isinf(value):
            return ("INF" if value > 0 else "-INF"), XSD + "double"
        return repr(value), XSD + "double"
    if isinstance(value, Decimal):
        return _decimal_text(value), XSD + "decimal"
    if isinstance(value, dt.datetime):
        return value.isoformat(), XSD + "dateTime"
    if isinstance(value, dt.date):
        return value.isoformat(), XSD + "date"
    if isinstance(value, dt.time):
        return value.isoformat(), XSD + "time"
    return str(value), None


_INT = r"[+-]?\d+"
_TZ = r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?"
_DATE = r"-?([1-9]\d{3,}|0\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?|24:00:00(\.0+)?)"
_DURATION = r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
_LEXICAL = {
    "integer": _INT,
    "int": _INT,
    "long": _INT,
    "short": _INT,
    "byte": _INT,
    "nonNegativeInteger": r"\+?\d+|-0+",
    "positiveInteger": r"\+?0*[1-9]\d*",
    "nonPositiveInteger": r"-\d+|\+?0+",
    "negativeInteger": r"-0*[1-9]\d*",
    "unsignedLong": r"\+?\d+|-0+",
    "unsignedInt": r"\+?\d+|-0+",
    "unsignedShort": r"\+?\d+|-0+",
    "unsignedByte": r"\+?\d+|-0+",
    "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
    "double": r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|-INF|NaN",
    "float": r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|-INF|NaN",
    "boolean": r"true|false|1|0",
    "date": r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(Z|[+-]\d\d:\d\d)?",
    "dateTime": r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d\d:\d\d)?",
    "dateTimeStamp": _DATE + "T" + _TIME + r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))",
    "time": r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d\d:\d\d)?",
    "gYear": r"-?\d{4,}(Z|[+-]\d\d:\d\d)?",
    "gYearMonth": r"-?\d{4,}-(0[1-9]|1[0-2])(Z|[+-]\d\d:\d\d)?",
    "gMonth": r"--(0[1-9]|1[0-2])" + _TZ,
    "gDay": r"---(0[1-9]|[12]\d|3[01])" + _TZ,
    "gMonthDay": r"--(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])" + _TZ,
    "duration": _DURATION,
    "yearMonthDuration": r"-?P(?=\d)(\d+Y)?(\d+M)?",
    "dayTimeDuration": r"-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?",
    "hexBinary": r"([0-9a-fA-F]{2})*",
    "base64Binary": r"(([A-Za-z0-9+/] ?){4})*(([A-Za-z0-9+/] ?){3}[A-Za-z0-9+/]|"
    r"([A-Za-z0-9+/] ?){2}[AEIMQUYcgkosw048] ?=|[A-Za-z0-9+/] ?[AQgw] ?= ?=)?",
    "language": r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*",
    "NMTOKEN": r"[\w.:-]+",
    "Name": r"[^\W\d.-][\w.:-]*",
    "NCName": r"[^\W\d.-][\w.-]*",
    "token": r"(\S+( \S+)*)?",
    "normalizedString": r"[^\t\n\r]*",
}
LEXICAL_CHECKS = {
    XSD + name: re.compile(f"^(?:{pattern})\\Z") for name, pattern in _LEXICAL.items()
}

# The datatypes of RDF 1.1 (XSD built-ins usable in RDF, and rdf:'s own): any other IRI
# in these two namespaces is a typo, not a datatype.
XSD_DATATYPES = frozenset(
    XSD + name
    for name in (
        *_LEXICAL,
        "string",
        "anyURI",
    )
)
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_DATATYPES = frozenset(RDF_NS + name for name in ("HTML", "XMLLiteral", "JSON"))
_RANGES = {
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
RANGE_CHECKS = {XSD + name: bounds for name, bounds in _RANGES.items()}
DAY_CHECKED = frozenset(XSD + name for name in ("date", "dateTime", "dateTimeStamp"))


def datatype_problem(iri: str) -> str | None:
    """Why `iri` is not a datatype the hub can write (None when it is).

    XSD and RDF datatypes are checked against the lists of RDF 1.1; a datatype from
    another vocabulary (geo:wktLiteral, …) is taken as declared.
    """
    if iri.startswith(XSD):
        if iri in XSD_DATATYPES:
            return None
        local = iri[len(XSD) :]
        names = [d[len(XSD) :] for d in XSD_DATATYPES]
        hint = difflib.get_close_matches(local, names, n=1)
        suggestion = f" (did you mean `xsd:{hint[0]}`?)" if hint else ""
        return f"`xsd:{local}` is not an XSD datatype{suggestion}"
    if iri.startswith(RDF_NS):
        if iri in RDF_DATATYPES:
            return None
        local = iri[len(RDF_NS) :]
        if local in ("langString", "dirLangString"):
            return f"`rdf:{local}` is not written as a datatype: give a language instead (en~lang)"
        return f"`rdf:{local}` is not an RDF datatype (rdf:HTML, rdf:XMLLiteral, rdf:JSON are)"
    return None


_YEAR_MONTH_DAY = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d)")


def day_exists(text: str) -> bool:
    """False for a date whose day is not in its month (2023-02-29); True otherwise."""
    day = text[8:10]
    if (  # the common YYYY-MM-DD with a day from 01 to 28, without a regular expression
        text[4:5] == "-" == text[7:8]
        and "01" <= day <= "28"
        and day.isdigit()
        and text[:4].isdigit()
        and text[5:7].isdigit()
    ):
        return True
    return _day_in_month(text)


def _day_in_month(text: str) -> bool:
    match = _YEAR_MONTH_DAY.match(text)
    if match is None:
        return True
    year, month, day = (int(g) for g in match.groups())
    if day <= 28:
        return True
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]


def coerce_lexical(value: object, datatype: str) -> str:
    """The lexical form of `value` for `datatype`; ValueError says why it does not fit."""
    if isinstance(value, float) and datatype == XSD + "decimal":
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"`{value}` is not a valid xsd:decimal")
        text = _decimal_text(value)
    elif isinstance(value, dt.datetime) and datatype == XSD + "date":
        text = value.date().isoformat()
    else:
        text = lexical_form(value)[0]
    check = LEXICAL_CHECKS.get(datatype)
    if check is not None and not check.match(text):
        short = datatype.replace(XSD, "xsd:")
        hint = ""
        if "," in text and short in ("xsd:decimal", "xsd:double", "xsd:float"):
            hint = " (it uses a decimal comma; write it with a point, or fix it at the source)"
        raise ValueError(f"`{text}` is not a valid {short}{hint}")
    if datatype in DAY_CHECKED and not day_exists(text):
        raise ValueError(f"`{text}` is not a valid {datatype.replace(XSD, 'xsd:')} (no such day)")
    bounds = RANGE_CHECKS.get(datatype)
    if bounds is not None and not bounds[0] <= int(text) <= bounds[1]:
        short = datatype.replace(XSD, "xsd:")
        raise ValueError(f"`{text}` is out of the range of {short} ({bounds[0]} to {bounds[1]})")
    return text
