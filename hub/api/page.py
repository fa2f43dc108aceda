"""The query page served at GET /sparql to browsers, and the example queries it offers.

The page, its style and its script are files in `static/`, inlined here into one
HTML document so that the browser loads nothing from anywhere else. The examples
live in `static/examples.rq`, the one place for them: docs/queries.md shows the
same text, and tests/test_docs_queries.py checks both.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files

from hub.api.negotiation import GRAPH_FORMATS, RESULT_FORMATS
from hub.iris import PREFIXES

PAGE_PREFIXES = ("mh", "schema", "geo", "skos", "dct", "dcat", "prov", "rdfs", "xsd", "owl")
"""Prefixes pre-filled in the query box."""

EXAMPLE_QUERY = "SELECT ?s ?p ?o WHERE {\n  ?s ?p ?o\n}\nLIMIT 20\n"

FILE_EXTENSIONS = {"turtle": "ttl", "rdfxml": "rdf"}
"""File extensions of downloads whose format name is not already one."""

_EXAMPLE_HEAD = re.compile(r"^#>\s*([a-z0-9-]+)\s*\|\s*(.+?)\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"__([A-Z_]+)__")


@dataclass(frozen=True)
class Example:
    """One example query: a stable id (used in `/sparql#example=<id>`), a title, the query."""

    id: str
    title: str
    query: str


def parse_examples(text: str) -> tuple[Example, ...]:
    """Split an examples file at its `#> id | title` lines."""
    heads = list(_EXAMPLE_HEAD.finditer(text))
    found: list[Example] = []
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        end = following.start() if following else len(text)
        query = text[head.end() : end].strip("\n") + "\n"
        found.append(Example(head.group(1), head.group(2), query))
    ids = [e.id for e in found]
    if len(set(ids)) != len(ids):
        raise ValueError(f"example ids must be unique: {ids}")
    return tuple(found)


@cache
def _static(name: str) -> str:
    return files("hub.api").joinpath(f"static/{name}").read_text(encoding="utf-8")


@cache
def examples() -> tuple[Example, ...]:
    """The page's example queries, in the order the page lists them."""
    return parse_examples(_static("examples.rq"))


def default_query() -> str:
    """The query the page starts with: the common prefixes and a small example."""
    lines = [f"PREFIX {name}: <{PREFIXES[name]}>" for name in PAGE_PREFIXES]
    return "\n".join(lines) + "\n\n" + EXAMPLE_QUERY


def _options(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(
        f'<option value="{html.escape(v, quote=True)}">{html.escape(label)}</option>'
        for v, label in pairs
    )


def _format_options() -> str:
    groups = (("SELECT / ASK", RESULT_FORMATS), ("CONSTRUCT / DESCRIBE", GRAPH_FORMATS))
    parts = []
    for label, formats in groups:
        options = "".join(
            f'<option value="{f.name}" data-ext="{FILE_EXTENSIONS.get(f.name, f.name)}">'
            f"{html.escape(f.media_type)}</option>"
            for f in formats
        )
        parts.append(f'<optgroup label="{label}">{options}</optgroup>')
    return "\n".join(parts)


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no `</script>` can end it early)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def sparql_page(
    docs_url: str = "/docs",
    *,
    base_iri: str = "",
    service_url: str = "sparql?format=turtle",
    void_url: str = "void",
) -> str:
    """The query page: editor with the default query, examples, results, downloads."""
    values = {
        "STYLE": _static("sparql.css"),
        "SCRIPT": _static("sparql.js"),
        "QUERY": html.escape(default_query()),
        "DOCS": html.escape(docs_url, quote=True),
        "SERVICE": html.escape(service_url, quote=True),
        "VOID": html.escape(void_url, quote=True),
        "EXAMPLE_OPTIONS": _options([(e.id, e.title) for e in examples()]),
        "FORMAT_OPTIONS": _format_options(),
        "CONFIG": _script_json(
            {"base": base_iri, "prefixes": PREFIXES, "examples": [asdict(e) for e in examples()]}
        ),
    }
    # One pass, so that text put in (a query, say) is never taken for a placeholder.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), _static("sparql.html"))
