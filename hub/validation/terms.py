"""RDF terms as the validator holds them: N-Triples text, one canonical spelling per term.

`<iri>`, `_:label`, `"lexical"`, `"lexical"@lang` (tag in lower case) and
`"lexical"^^<datatype>` (never `^^xsd:string`, which is the plain `"lexical"`); inside the
quotes only `\\`, `"`, newline and carriage return are escaped. Two terms are the same RDF
term exactly when their texts are equal, so terms are plain `str` keys in dicts and sets.
"""

from __future__ import annotations

import re

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_STRING_SUFFIX = f"^^<{XSD_STRING}>"
_ECHAR = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def escape(text: str) -> str:
    """A lexical form written between N-Triples quotes."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def _unescape_one(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    if code:
        return chr(int(code, 16))
    return _ECHARS.get(match.group(3), match.group(0))


def unescape(text: str) -> str:
    """The lexical form of the text between N-Triples quotes."""
    return _ECHAR.sub(_unescape_one, text) if "\\" in text else text


def literal(lexical: str, lang: str | None = None, datatype: str | None = None) -> str:
    """The canonical text of a literal."""
    quoted = f'"{escape(lexical)}"'
    if lang:
        return f"{quoted}@{lang.lower()}"
    if datatype and datatype != XSD_STRING:
        return f"{quoted}^^<{datatype}>"
    return quoted


def canonical_literal(text: str) -> str:
    """A literal's N-Triples (or SPARQL-like) text in the canonical spelling."""
    end = text.rfind('"')
    body, suffix = text[1:end], text[end + 1 :]
    if "\\" in body:
        body = escape(unescape(body))
    if suffix == _STRING_SUFFIX:
        suffix = ""
    elif suffix[:1] == "@" and not suffix.islower():
        suffix = suffix.lower()
    return f'"{body}"{suffix}'


def parts(term: str) -> tuple[str, str | None, str]:
    """(lexical form, language or None, datatype IRI) of a literal's canonical text."""
    end = term.rfind('"')
    lexical = unescape(term[1:end])
    suffix = term[end + 1 :]
    if not suffix:
        return lexical, None, XSD_STRING
    if suffix[0] == "@":
        return lexical, suffix[1:], RDF_LANG_STRING
    return lexical, None, suffix[3:-1]


def text(term: str) -> str:
    """SPARQL's STR(): the IRI, or the lexical form (blank nodes have none: their label)."""
    first = term[0]
    if first == "<":
        return term[1:-1]
    if first == '"':
        lexical = term[1:-1] if term[-1] == '"' else term[1 : term.rfind('"')]
        return unescape(lexical) if "\\" in lexical else lexical
    return term


def language(term: str) -> str | None:
    """The language tag of a literal (None for other terms and literals without one)."""
    if term[0] != '"' or term[-1] == '"' or term[-1] == ">":
        return None
    return term[term.rfind('"') + 2 :]


def plain(term: str) -> str:
    """The term as a `Violation` reports it: IRIs bare, blank nodes `_:id`, literals N-Triples."""
    return term[1:-1] if term[0] == "<" else term
