"""A query's keywords, read without a parser: what the endpoint must know before the store runs it.

Strings, IRIs, comments, variables, language tags and prefixed names can hold words that
look like keywords (`"FROM here"`, `<http://x/SERVICE>`, `ex:from`); they are blanked
out first, so only real keywords and punctuation are left to look at.
"""

from __future__ import annotations

import re

__all__ = [
    "declares_dataset",
    "keywords_only",
    "mentions_namespace",
    "with_base",
]

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# Tokens that may contain keyword-like words without being keywords, in SPARQL's
# lexical terms: strings, IRIs, comments, variables, language tags, prefixed names.
_NOT_KEYWORDS = re.compile(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""
    |\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
    |"(?:[^"\\\n\r]|\\.)*"
    |'(?:[^'\\\n\r]|\\.)*'
    |<[^<>"{}|^`\\\x00-\x20]*>
    |\#[^\n\r]*
    |[?$]\w+
    |@[A-Za-z]+(?:-[A-Za-z0-9]+)*
    |[\w.\-]*:[\w.\-:%\\]*
    ''',
    re.VERBOSE,
)
# FROM appears in the query grammar only in a dataset clause (FROM <g>, FROM NAMED <g>).
_FROM = re.compile(r"\bFROM\b", re.IGNORECASE)


def keywords_only(query: str) -> str:
    """The query with everything but keywords and punctuation blanked out."""
    # The SPARQL grammar decodes \u escapes before parsing (Oxigraph 0.5 does not,
    # but another store may), so `\u0053ERVICE` counts as SERVICE.
    decoded = _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), query)
    return _NOT_KEYWORDS.sub(" ", decoded)


def declares_dataset(query: str) -> bool:
    """Whether the query names its own dataset (FROM or FROM NAMED).

    >>> declares_dataset("SELECT * FROM <http://ex/g> { ?s ?p ?o }")
    True
    >>> declares_dataset('SELECT * { ?s ?p "FROM" }')
    False
    """
    return bool(_FROM.search(keywords_only(query)))


def mentions_namespace(query: str, namespace: str) -> bool:
    """Whether an IRI or a string of the query starts with `namespace` (comments do not count).

    >>> mentions_namespace("PREFIX s: <https://schema.org/> SELECT * { ?x a s:Place }", "https://schema.org/")
    True
    >>> mentions_namespace("# not <https://schema.org/>\nSELECT * { ?s ?p ?o }", "https://schema.org/")
    False
    """
    decoded = _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), query)
    needle = namespace.lower()
    for token in _NOT_KEYWORDS.finditer(decoded):
        text = token.group(0)
        if text[:1] in "<\"'" and needle in text.lower():
            return True
    return False


def with_base(query: str, base_iri: str) -> str:
    """The query with `BASE <base_iri>` before it, on a line of its own.

    A BASE the query declares itself still wins (resolved against this one, as the
    grammar says for a second BASE), so this only sets what relative IRIs mean when
    the query leaves it open.
    """
    if any(c in base_iri for c in '<>"{}|^`\\ \n\r\t'):
        raise ValueError(f"`{base_iri}` is not an IRI")
    return f"BASE <{base_iri}>\n{query.removeprefix(chr(0xFEFF))}"
