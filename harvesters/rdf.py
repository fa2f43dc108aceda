"""The `rdf` kind: an RDF file (Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML) as N-Triples.

An RDF harvester yields RDF, not records: `bytes` chunks of N-Triples (UTF-8, complete
lines, `hub.util.ntriples.CHUNK_TRIPLES` triples each), marked by `harvest_rdf.produces = "ntriples"`.
The file is parsed as a stream by pyoxigraph, local or over HTTP(S) (the shared HTTP
layer: retries, auth, conditional GET; a 304 gives nothing and marks the run unchanged).
Graph names of quads are dropped: a source is one graph in the hub. Blank nodes get
fresh labels, so that two sources' `_:b0` never meet in the store.

JSON-LD must carry its @context inline: remote contexts are not fetched.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox
from pydantic import Field

from harvesters._common import location_options, mask_url
from harvesters._http import HttpClient, HttpFields, HttpOptions, parse_http_options
from harvesters._options import Text, declared
from harvesters.context import HarvestContext
from harvesters.files import response_chunks
from hub.errors import HarvestError
from hub.util.chunks import ChunkReader
from hub.util.ntriples import ntriples_chunks

__all__ = ["FORMATS", "Options", "harvest_rdf", "parse_error"]

FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
_EXTENSIONS = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".nq": "nquads",
    ".trig": "trig",
    ".jsonld": "jsonld",
    ".json-ld": "jsonld",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
    ".xml": "rdfxml",
}
_ACCEPT = (
    "text/turtle, application/n-triples, application/n-quads, application/trig, "
    "application/ld+json;q=0.9, application/rdf+xml;q=0.8, */*;q=0.1"
)


class Options(HttpFields):
    """The options an `rdf` source may set, with their types (checked at config load)."""

    path: Text | None = Field(None, description="a local file, relative to the config file")
    url: Text | None = Field(None, description="an http(s) URL")
    format: Text | None = Field(None, description=f"one of {', '.join(FORMATS)}")
    base_iri: Text | None = Field(None, description="the IRI relative IRIs are relative to")


@dataclass(frozen=True)
class RdfOptions:
    """The checked options of an `rdf` source."""

    path: Path | None
    url: str | None
    shown: str
    format: str | None
    base_iri: str | None
    http: HttpOptions


def _format_of(name: str) -> str | None:
    return _EXTENSIONS.get(PurePosixPath(name).suffix.lower())


def _media_format(content_type: str | None) -> str | None:
    found = ox.RdfFormat.from_media_type(content_type or "")
    return next((name for name, fmt in FORMATS.items() if fmt == found), None)


def parse_options(source_id: str, options: Mapping[str, Any], root: Path) -> RdfOptions:
    """Check the options of an `rdf` source; errors say which option to fix and how."""
    given = declared(source_id, "rdf", Options, options)
    path, url = location_options(source_id, given.path, given.url)
    names = ", ".join(FORMATS)
    fmt = given.format
    if fmt is not None and fmt.lower() not in FORMATS:
        raise HarvestError(source_id, f"options.format `{fmt}` is not one of {names}")
    location = path if path is not None else urlsplit(url or "").path
    fmt = fmt.lower() if fmt else _format_of(location)
    if fmt is None and path is not None:
        raise HarvestError(
            source_id,
            f"cannot tell the RDF format of {path} from its extension; "
            f"set options.format to one of {names}",
        )
    base_iri = given.base_iri
    if base_iri is not None:
        try:
            ox.NamedNode(base_iri)
        except ValueError:
            raise HarvestError(
                source_id,
                f"options.base_iri `{base_iri}` is not an absolute IRI "
                "(e.g. https://data.example.org/)",
            ) from None
    elif url is not None:
        base_iri = url  # relative IRIs in a downloaded file are relative to where it was
    return RdfOptions(
        path=(root / Path(path).expanduser()) if path is not None else None,
        url=url,
        shown=path if path is not None else mask_url(url or ""),
        format=fmt,
        base_iri=base_iri,
        http=parse_http_options(source_id, given),
    )


def parse_error(
    source_id: str, shown: str, fmt: str, exc: Exception, base_iri: str | None = None
) -> HarvestError:
    """A HarvestError for a file pyoxigraph could not parse, with the line it reports."""
    reason = str(exc)
    if base_iri is None and ("relative IRI" in reason or "No scheme found" in reason):
        return HarvestError(
            source_id,
            f"{shown} is not valid {fmt}: {reason}; if the file uses relative IRIs, set "
            "options.base_iri to the IRI they are relative to",
        )
    if "LoadDocumentCallback" in reason:
        return HarvestError(
            source_id,
            f"{shown}: the JSON-LD uses a remote @context, which the hub does not fetch; "
            "put the context inline in the file",
        )
    return HarvestError(
        source_id,
        f"{shown} is not valid {fmt}: {reason}; fix the file, or set options.format "
        "if it is in another format",
    )


def _triples(source_id: str, shown: str, fmt: str, stream: Any, base: str | None) -> Iterator:
    try:
        parser = ox.parse(input=stream, format=FORMATS[fmt], base_iri=base, rename_blank_nodes=True)
        for quad in parser:
            yield quad.triple  # the graph name of a quad is dropped
    except SyntaxError as exc:
        raise parse_error(source_id, shown, fmt, exc, base) from None
    except OSError as exc:
        raise HarvestError(source_id, f"cannot read {shown}: {exc}") from None


def _read_local(source_id: str, opts: RdfOptions) -> Iterator[bytes]:
    assert opts.path is not None and opts.format is not None
    try:
        stream = opts.path.open("rb")
    except FileNotFoundError:
        raise HarvestError(
            source_id,
            f"file {opts.shown} not found (looked for {opts.path}); check options.path "
            "(a relative path is taken from the folder of the config file)",
        ) from None
    except OSError as exc:
        raise HarvestError(source_id, f"cannot open {opts.shown}: {exc.strerror}") from None
    with stream:
        triples = _triples(source_id, opts.shown, opts.format, stream, opts.base_iri)
        yield from ntriples_chunks(triples)


def _read_http(source_id: str, opts: RdfOptions, context: HarvestContext | None) -> Iterator[bytes]:
    assert opts.url is not None
    with HttpClient(source_id, opts.http, context) as client:
        headers = {"Accept": FORMATS[opts.format].media_type if opts.format else _ACCEPT}
        response = client.get(opts.url, headers=headers, conditional=True, stream=True)
        with response:
            if response.status_code == 304:
                return  # nothing changed since the last published run
            fmt = opts.format or _media_format(response.headers.get("Content-Type"))
            if fmt is None:
                raise HarvestError(
                    source_id,
                    f"cannot tell the RDF format of {opts.shown} from its extension or its "
                    f"Content-Type ({response.headers.get('Content-Type') or 'none'}); "
                    f"set options.format to one of {', '.join(FORMATS)}",
                )
            stream = io.BufferedReader(
                ChunkReader(response_chunks(source_id, opts.shown, response))
            )
            yield from ntriples_chunks(_triples(source_id, opts.shown, fmt, stream, opts.base_iri))


def harvest_rdf(
    source_id: str,
    options: Mapping[str, Any],
    *,
    root: Path,
    context: HarvestContext | None = None,
) -> Iterator[bytes]:
    """N-Triples chunks of an RDF file, local or over HTTP; options are checked now."""
    opts = parse_options(source_id, options, Path(root))
    if opts.path is not None:
        return _read_local(source_id, opts)
    return _read_http(source_id, opts, context)


harvest_rdf.produces = "ntriples"  # type: ignore[attr-defined]
