"""Schemathesis hooks for the hub's contract test (loaded by schemathesis.toml).

One hook: `filter_failure` drops an ST202 ("schema-valid request rejected") only when the
400 names a rule between parameters, or a grammar, that OpenAPI cannot state as a schema:
`radius` needs `near`, `page` excludes `cursor`, a cursor must come from a page of the same
query, a SPARQL query must parse. Every other rejection of a schema-valid request, and every
other check's failure, is kept: the schema has to say what the routes accept.
"""

from __future__ import annotations

import re

import schemathesis

INEXPRESSIBLE = re.compile(
    "|".join(
        re.escape(text)
        for text in (
            # /api/v1/entities and /stats: one parameter's meaning depends on another's
            "radius is given without near",
            "give either page (offset paging) or cursor (keyset paging), not both",
            "sort=distance needs near=lat,lon",
            "fields: distance_km needs near=lat,lon",
            "offset paging stops there",
            "the minimum is above the maximum",
            # q: words are Unicode letters and digits, which an ECMA-262 pattern cannot name
            "has no words to search for",
            "words; at most",
            "a prefix search needs 2 or more letters",
            # opaque cursors: only a page of the same query (or feed) makes a good one
            "is not a valid cursor",
            "the cursor was made for",
            "is not a cursor of this feed",
            "the cursor points past the end of this feed",
            "the cursor was made by another change feed",
            # /sparql: the query's grammar is SPARQL's, an IRI's RFC 3987's
            "malformed query:",
            "is not an absolute IRI",
            "no query given",  # format=json (a results format) without a query
            # /api/admin/reject: the reason is required for one value of the path's `action`
            "say why the run is rejected",
        )
    )
)


def _message(response: object) -> str:
    try:
        return str(response.json()["error"]["message"])  # type: ignore[attr-defined]
    except Exception:
        return str(getattr(response, "text", ""))


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:  # type: ignore[no-untyped-def]
    """Keep every failure but a 400 for a rule no schema can state (see INEXPRESSIBLE)."""
    if getattr(failure, "code", None) != "ST202" or response.status_code != 400:
        return True
    return not INEXPRESSIBLE.search(_message(response))
