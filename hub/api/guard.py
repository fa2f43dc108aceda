"""What a public, read-only endpoint refuses before a query reaches the store.

SERVICE would make the hub send HTTP requests wherever a caller asks (including
hosts behind its firewall), so it is refused. Updates are refused by the parser
(the query grammar has none); `looks_like_update` only adds a hint to its message.
"""

from __future__ import annotations

import re

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
_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")
_UPDATE_VERBS = frozenset(
    ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
)


def _keywords_only(query: str) -> str:
    """The query with everything but keywords and punctuation blanked out."""
    # The SPARQL grammar decodes \u escapes before parsing (Oxigraph 0.5 does not,
    # but another store may), so `\u0053ERVICE` counts as SERVICE.
    decoded = _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), query)
    return _NOT_KEYWORDS.sub(" ", decoded)


def uses_service(query: str) -> bool:
    """Whether the query has a SERVICE clause (a federated query)."""
    return bool(_SERVICE.search(_keywords_only(query)))


def looks_like_update(query: str) -> bool:
    """Whether the query's first keyword after its prologue is an update verb."""
    for word in _WORD.findall(_keywords_only(query)):
        upper = word.upper()
        if upper in ("PREFIX", "BASE"):
            continue
        return upper in _UPDATE_VERBS
    return False
