"""The IRIs the hub mints: entities, graphs, runs (see README.md, IRIs)."""

from __future__ import annotations

from hub.util.sparql_text import mentions_namespace

MH = "https://w3id.org/marittimo-hub/ns#"
SCHEMA = "http://schema.org/"
"""schema.org's namespace as its own JSON-LD context expands it (docs/decisions.md #28)."""
SCHEMA_OTHER_SPELLING = "https://schema.org/"
"""The spelling the hub's data never uses: queries naming it get a warning."""
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
GEO = "http://www.opengis.net/ont/geosparql#"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES = {
    "mh": MH,
    "schema": SCHEMA,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "prov": PROV,
    "dcat": DCAT,
    "dct": DCT,
    "skos": SKOS,
    "geo": GEO,
    "owl": "http://www.w3.org/2002/07/owl#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}


def schema_namespace_warning(query: str) -> str | None:
    """What to tell the author of a query that names the other spelling of schema.org."""
    if not mentions_namespace(query, SCHEMA_OTHER_SPELLING):
        return None
    return (
        f"the query uses {SCHEMA_OTHER_SPELLING}, but the hub's data uses {SCHEMA} (the "
        f"namespace schema.org's own JSON-LD context expands to); write PREFIX schema: <{SCHEMA}>. "
        "The query was run as written, so its schema.org terms match nothing"
    )


class Iris:
    """Mints the hub's IRIs under one base (`https://hub.example.org/` by default)."""

    def __init__(self, base: str) -> None:
        self.base = base if base.endswith("/") else base + "/"

    def entity_prefix(self, source: str) -> str:
        return f"{self.base}id/{source}/"

    def source_graph(self, source: str) -> str:
        return f"{self.base}graph/{source}"

    @property
    def meta_graph(self) -> str:
        return f"{self.base}graph/meta"

    @property
    def programme_graph(self) -> str:
        return f"{self.base}graph/programme"

    @property
    def links_graph(self) -> str:
        return f"{self.base}graph/links"

    @property
    def programme_base(self) -> str:
        return f"{self.base}id/programme/"

    def project(self, project_id: str) -> str:
        return f"{self.programme_base}project/{project_id}"

    def dataset(self, source: str) -> str:
        return f"{self.base}id/source/{source}"

    def run(self, source: str, run_id: str) -> str:
        return f"{self.base}id/run/{source}/{run_id}"
