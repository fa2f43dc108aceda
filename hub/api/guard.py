"""What a public, read-only endpoint refuses before a query reaches the store.

SERVICE would make the hub send HTTP requests wherever a caller asks (including
hosts behind its firewall), so it is refused. Updates are refused by the parser
(the query grammar has none); `looks_like_update` only adds a hint to its message.
"""

from __future__ import annotations

import re

from hub.util.sparql_text import keywords_only

_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")
_UPDATE_VERBS = frozenset(
    ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
)


def uses_service(query: str) -> bool:
    """Whether the query has a SERVICE clause (a federated query)."""
    return bool(_SERVICE.search(keywords_only(query)))


def looks_like_update(query: str) -> bool:
    """Whether the query's first keyword after its prologue is an update verb."""
    for word in _WORD.findall(keywords_only(query)):
        upper = word.upper()
        if upper in ("PREFIX", "BASE"):
            continue
        return upper in _UPDATE_VERBS
    return False
