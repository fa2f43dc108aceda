"""The IRIs the hub mints: entities, graphs, runs (see README.md, IRIs)."""

from __future__ import annotations

MH = "https://w3id.org/marittimo-hub/ns#"
SCHEMA = "https://schema.org/"
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
