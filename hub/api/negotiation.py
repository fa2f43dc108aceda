"""Content negotiation for /sparql: the formats we serve and how a client picks one.

A client picks by `Accept` (with q-values) or by a `format=` (or `output=`) parameter,
which wins when given: a short name (`json`, `turtle`, `rdf+xml`...) or media types in
Accept syntax, as SPARQLWrapper sends them. SELECT/ASK results and CONSTRUCT/DESCRIBE
graphs have separate tables; the first entry of each is the default (what `*/*` gets).

A client that names only the results formats of one family for a graph (rdflib's
SPARQLStore asks CONSTRUCT with `application/sparql-results+json`) gets that family's
graph format: JSON-LD for the JSON types, RDF/XML for the XML ones (`siblings` below),
when nothing else it accepts fits.
HTTP lets a server answer something else than 406 when nothing listed fits; the SPARQL
1.1 Protocol leaves graph formats to negotiation. Anything else unlisted stays a 406.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from fastapi.responses import Response


@dataclass(frozen=True)
class Format:
    """One serialization: its media type, the names clients may use for it, its writer."""

    name: str
    media_type: str
    ox_format: ox.QueryResultsFormat | ox.RdfFormat
    aliases: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    siblings: tuple[str, ...] = ()
    """Media types that pick this format only when nothing in the table matches at all."""

    @property
    def media_types(self) -> tuple[str, ...]:
        """The canonical media type first, then accepted aliases."""
        return (self.media_type, *self.aliases)


RESULT_FORMATS: tuple[Format, ...] = (
    Format(
        "json",
        "application/sparql-results+json",
        ox.QueryResultsFormat.JSON,
        aliases=("application/json",),
    ),
    Format(
        "xml",
        "application/sparql-results+xml",
        ox.QueryResultsFormat.XML,
        aliases=("application/xml", "text/xml"),
    ),
    Format("csv", "text/csv", ox.QueryResultsFormat.CSV),
    Format("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
)
"""Formats of SELECT and ASK results; JSON is the default."""

GRAPH_FORMATS: tuple[Format, ...] = (
    Format(
        "turtle",
        "text/turtle",
        ox.RdfFormat.TURTLE,
        # Turtle is valid N3, so N3 clients can read it.
        aliases=("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3"),
        names=("ttl", "n3"),
    ),
    Format(
        "nt",
        "application/n-triples",
        ox.RdfFormat.N_TRIPLES,
        names=("ntriples", "n-triples"),
    ),
    Format(
        "jsonld",
        "application/ld+json",
        ox.RdfFormat.JSON_LD,
        aliases=("application/json", "application/x-json+ld"),
        names=("json-ld", "json"),
        siblings=("application/sparql-results+json",),
    ),
    Format(
        "rdfxml",
        "application/rdf+xml",
        ox.RdfFormat.RDF_XML,
        aliases=("application/xml", "text/xml"),
        names=("rdf+xml", "xml", "rdf"),
        siblings=("application/sparql-results+xml",),
    ),
)
"""Formats of CONSTRUCT and DESCRIBE graphs; Turtle is the default."""


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    q: float
    position: int

    def specificity(self, media_type: str) -> int:
        """How precisely this range matches `media_type`: 2 exact, 1 `type/*`, 0 `*/*`, -1 no."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != main:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else -1


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header leniently; a missing or empty one means `*/*`."""
    ranges: list[MediaRange] = []
    for position, item in enumerate((header or "").split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        main, slash, sub = media.lower().partition("/")
        if not slash or not main or not sub:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(main, sub, q, position))
    return ranges or [MediaRange("*", "*", 1.0, 0)]


def _score(
    ranges: Sequence[MediaRange], media_type: str, *, exact_only: bool = False
) -> tuple[float, int, int] | None:
    """(q, specificity, -position) of the range that best matches `media_type`, if any."""
    best: MediaRange | None = None
    best_spec = 1 if exact_only else -1
    for r in ranges:
        spec = r.specificity(media_type)
        if spec > best_spec:
            best, best_spec = r, spec
    if best is None or best.q <= 0:
        return None
    return (best.q, best_spec, -best.position)


def negotiate(accept: str | None, formats: Sequence[Format]) -> Format | None:
    """The format the client prefers, or None if it accepts none of them.

    Ties on q go to the more specific range, then to the one listed first,
    then to the table's order (so `*/*` gets the default). A q of 0 on the most
    specific matching range refuses that format.
    """
    ranges = parse_accept(accept)
    return _best(ranges, formats, siblings=False) or _best(ranges, formats, siblings=True)


def _best(
    ranges: Sequence[MediaRange], formats: Sequence[Format], *, siblings: bool
) -> Format | None:
    best: tuple[tuple[float, int, int, int], Format] | None = None
    for order, fmt in enumerate(formats):
        # Wildcards match the canonical type only: `text/*` means CSV, not text/xml results.
        types = fmt.siblings if siblings else fmt.media_types
        scores = [
            s
            for i, mt in enumerate(types)
            if (s := _score(ranges, mt, exact_only=siblings or i > 0)) is not None
        ]
        if not scores:
            continue
        key = (*max(scores), -order)
        if best is None or key > best[0]:
            best = (key, fmt)
    return best[1] if best else None


def known_format_value(value: str) -> bool:
    """Whether a `format=` value names some format we serve, for any kind of result.

    An empty value counts (it is ignored): SPARQLWrapper sends one beside `*/*`.
    """
    return not value.strip() or format_for_value(value, RESULT_FORMATS + GRAPH_FORMATS) is not None


def format_for_value(value: str, formats: Sequence[Format]) -> Format | None:
    """The format a `format=` / `output=` value picks from `formats`.

    A short name or one media type; a value with a `/` is read as an Accept header, so
    `application/ld+json,application/x-json+ld` (SPARQLWrapper's) works as Accept would.
    """
    if "/" in value:
        return negotiate(value, formats)
    return find_format(value, formats)


def find_format(value: str, formats: Iterable[Format]) -> Format | None:
    """The format a `format=` value names: a short name or a media type."""
    wanted = value.strip().lower()
    for fmt in formats:
        if wanted == fmt.name or wanted in fmt.names or wanted in fmt.media_types:
            return fmt
    return None


def format_names(formats: Iterable[Format]) -> str:
    """A readable list of formats, for error messages."""
    return ", ".join(f"{f.media_type} (format={f.name})" for f in formats)


def accepts_json(accept: str | None) -> bool:
    """Whether an error may be sent as JSON (else it is sent as text/plain)."""
    for r in parse_accept(accept):
        if r.q > 0 and (
            r.type == "*"
            or (
                r.type == "application"
                and (r.subtype == "*" or r.subtype == "json" or r.subtype.endswith("+json"))
            )
        ):
            return True
    return False


def wants_html(accept: str | None) -> bool:
    """Whether the client names text/html explicitly (a browser), not just via `*/*`."""
    return any(r.type == "text" and r.subtype == "html" and r.q > 0 for r in parse_accept(accept))


def rdf_response(triples: Iterable[ox.Triple], fmt: Format, prefixes: dict[str, str]) -> Response:
    """A small description (VoID, DCAT) in `fmt`, each subject's triples together."""
    by_subject: dict[object, list[ox.Triple]] = {}
    for triple in triples:
        by_subject.setdefault(triple.subject, []).append(triple)
    grouped = [t for group in by_subject.values() for t in group]
    body = ox.serialize(grouped, format=fmt.ox_format, prefixes=prefixes)  # type: ignore[arg-type]
    return Response(body, media_type=fmt.media_type, headers={"Vary": "Accept"})
