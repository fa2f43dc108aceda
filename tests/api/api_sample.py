"""The API tests' sample data: two small named graphs, and a helper to snapshot the store."""

from __future__ import annotations

from hub.store import OxigraphStore

BASE = "https://hub.example.org/"
GRAPH_A = f"{BASE}graph/alpha"
GRAPH_B = f"{BASE}graph/beta"

PREFIXES = """\
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
"""

ALPHA = (
    PREFIXES
    + """
<https://hub.example.org/id/alpha/torre> a schema:TouristAttraction ;
    schema:name "Torre di Calafuria"@it, "Tour de Calafuria"@fr ;
    geo:asWKT "POINT(10.33 43.47)"^^geo:wktLiteral .
<https://hub.example.org/id/alpha/faro> a schema:TouristAttraction ;
    schema:name "Faro di Livorno"@it .
"""
)

BETA = (
    PREFIXES
    + """
<https://hub.example.org/id/beta/mer> a schema:LodgingBusiness ;
    schema:name "Hôtel \\"La Mer\\", Calvi"@fr ;
    schema:numberOfRooms 12 ;
    schema:description "line one\\nline two\\twith a tab" .
"""
)


def all_quads(store: OxigraphStore) -> set[str]:
    """Every quad in the store, as N-Quads lines, to check the store did not change."""
    rows = store.select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {" ".join(str(row[k]) for k in ("s", "p", "o", "g")) for row in rows}
