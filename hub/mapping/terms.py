"""RDF terms written as N-Triples text: IRI-safe template values, literals, lexical checks."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

from hub.iris import XSD

_UNRESERVED_ASCII = re.compile(r"^[A-Za-z0-9\-._~]*$")
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x20]*$")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")

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
    if _UNRESERVED_ASCII.match(value):
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
    return bool(_ABSOLUTE_IRI.match(value))


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


_LEXICAL = {
    "integer": r"[+-]?\d+",
    "int": r"[+-]?\d+",
    "long": r"[+-]?\d+",
    "short": r"[+-]?\d+",
    "nonNegativeInteger": r"\+?\d+|-0+",
    "positiveInteger": r"\+?0*[1-9]\d*",
    "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
    "double": r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|-INF|NaN",
    "float": r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|-INF|NaN",
    "boolean": r"true|false|1|0",
    "date": r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(Z|[+-]\d\d:\d\d)?",
    "dateTime": r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d\d:\d\d)?",
    "time": r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d\d:\d\d)?",
    "gYear": r"-?\d{4,}(Z|[+-]\d\d:\d\d)?",
    "gYearMonth": r"-?\d{4,}-(0[1-9]|1[0-2])(Z|[+-]\d\d:\d\d)?",
}
LEXICAL_CHECKS = {XSD + name: re.compile(f"^(?:{pattern})$") for name, pattern in _LEXICAL.items()}


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
    return text
