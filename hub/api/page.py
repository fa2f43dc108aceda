"""The minimal HTML query page served at GET /sparql to browsers (no external assets)."""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files

from hub.iris import PREFIXES

PAGE_PREFIXES = ("mh", "schema", "geo", "skos", "dct", "prov", "dcat", "rdfs", "xsd")
"""Prefixes pre-filled in the query box."""

EXAMPLE_QUERY = "SELECT ?s ?p ?o WHERE {\n  ?s ?p ?o\n}\nLIMIT 20\n"


def default_query() -> str:
    """The query the page starts with: the common prefixes and a small example."""
    lines = [f"PREFIX {name}: <{PREFIXES[name]}>" for name in PAGE_PREFIXES]
    return "\n".join(lines) + "\n\n" + EXAMPLE_QUERY


@cache
def _template() -> str:
    return files("hub.api").joinpath("static/sparql.html").read_text(encoding="utf-8")


def sparql_page(docs_url: str = "/docs") -> str:
    """The query page, with the default query filled in."""
    return (
        _template()
        .replace("__QUERY__", html.escape(default_query()))
        .replace("__DOCS__", html.escape(docs_url, quote=True))
    )
