"""GET /catalog: the hub's DCAT-AP 3 catalogue, built from the config and the store at request time.

The hub is a dcat:Catalog; each configured source that has been published is a
dcat:Dataset (title, description, publisher from its `owner`, a vCard contact point,
update frequency from the EU frequency vocabulary, the regions it covers, the period
its dates span, themes and keywords) with three distributions: its N-Quads dump, its
named graph at the SPARQL endpoint, and its entities in the REST API; the licence is
on each distribution, as DCAT-AP wants. The whole hub is one more dataset with one
dump. The SPARQL endpoint and the REST API are dcat:DataServices.

IRIs of catalogue things start with the hub's base IRI; the URLs a client follows
(downloadURL, accessURL, endpointURL) are this server's own, from the request. The
figures the catalogue reads from the store are cached until the store changes (as for
/void). Checked against the DCAT-AP 3.0.1 SHACL shapes in tests/api/test_dcat.py.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import pyoxigraph as ox
from apscheduler.triggers.cron import CronTrigger
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hub.api import dumps as dumps_module
from hub.api.deps import ConfigDep, StoreDep
from hub.api.errors import ApiError
from hub.api.negotiation import GRAPH_FORMATS, rdf_response
from hub.api.void import (
    DESCRIPTION_ERRORS,
    DOC_PREFIXES,
    GRAPH_FORMAT_FORM,
    VOID,
    HubStats,
    choose_graph_format,
    current_stats,
    hub_dataset_iri,
    state_key,
)
from hub.config import HubConfig, SourceConfig
from hub.errors import HubError
from hub.iris import DCAT, DCT, MH, RDF, RDFS, SCHEMA, SKOS, XSD, Iris
from hub.store import Store

router = APIRouter(tags=["catalogue"])
router.include_router(dumps_module.router)  # the dumps the catalogue offers; app.py includes this

FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
NUTS = "http://data.europa.eu/nuts/code/"
THEME_SCHEME = "https://w3id.org/marittimo-hub/theme"
THEME_NS = THEME_SCHEME + "/"

PREFIXES = {
    **DOC_PREFIXES,
    "vcard": VCARD,
    "foaf": FOAF,
    "dcatap": "http://data.europa.eu/r5r/",
    "freq": EU + "frequency/",
    "lang": EU + "language/",
    "filetype": EU + "file-type/",
    "datatheme": EU + "data-theme/",
}

CATALOG_LICENCE = EU + "licence/CC0"
"""The licence of the catalogue's own metadata (not of the data: each source says its own)."""

LANGUAGES = {"ENG": "English", "ITA": "Italian", "FRA": "French"}
"""The languages the catalogue and the hub's vocabulary are written in (EU language table)."""

COUNTRIES = {"ITA": "Italy", "FRA": "France"}

REGION_NUTS = {
    "toscana": "ITI1",
    "liguria": "ITC3",
    "sardegna": "ITG2",
    "corse": "FRM0",
    "paca": "FRL0",
}
"""The regions of the cooperation area (ontology/programme.ttl) and their NUTS 2 codes."""

DATA_THEMES = {"REGI": "Regions and cities", "ECON": "Economy and finance"}
"""EU data themes of every source: tourism offer of regions (ECON holds tourism in the EU table)."""

EU_LICENCES = {
    "https://creativecommons.org/licenses/by/4.0/": "CC_BY_4_0",
    "https://creativecommons.org/licenses/by-sa/4.0/": "CC_BYSA_4_0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0",
    "https://opendatacommons.org/licenses/odbl/1-0/": "ODC_BL",
    "https://www.dati.gov.it/iodl/2.0/": "IODL_2_0",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence/": "OP_DATPRO",
}
"""Licence IRIs written in hub.toml, and the EU licence table's entry they are (skos:exactMatch)."""

FREQUENCIES: tuple[tuple[int, str, str], ...] = (
    (3600, "HOURLY", "hourly"),
    (86400, "DAILY", "daily"),
    (7 * 86400, "WEEKLY", "weekly"),
    (14 * 86400, "BIWEEKLY", "biweekly"),
    (31 * 86400, "MONTHLY", "monthly"),
    (92 * 86400, "QUARTERLY", "quarterly"),
    (183 * 86400, "ANNUAL_2", "semiannual"),
    (366 * 86400, "ANNUAL", "annual"),
)
"""Up to this many seconds between updates: this entry of the EU frequency table."""

PARTS = {SCHEMA + n for n in ("PostalAddress", "GeoCoordinates", "GeoShape", "PropertyValue")}
"""Classes of the parts of entities (addresses, points): no keyword for them."""

PERIOD_PROPERTIES = (SCHEMA + "startDate", SCHEMA + "endDate")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def update_seconds(source: SourceConfig) -> int | None:
    """Seconds between updates: `update_every`, else the schedule's interval or cron spacing."""
    seconds = source.expected_seconds()
    if seconds is not None or source.schedule is None or not source.schedule.cron:
        return seconds
    trigger = CronTrigger.from_crontab(source.schedule.cron, timezone="UTC")
    first = trigger.get_next_fire_time(None, datetime(2025, 1, 1, tzinfo=UTC))
    if first is None:
        return None
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    return int((second - first).total_seconds()) if second else None


def frequency(source: SourceConfig) -> tuple[str, str]:
    """The EU frequency (IRI, English label) of a source: the nearest table entry at or above
    its update interval; IRREG when it is longer than a year, UNKNOWN without either."""
    seconds = update_seconds(source)
    if seconds is None:
        return EU + "frequency/UNKNOWN", "unknown"
    for limit, code, label in FREQUENCIES:
        if seconds <= limit:
            return EU + f"frequency/{code}", label
    return EU + "frequency/IRREG", "irregular"


def slug(text: str) -> str:
    """An IRI-safe, readable name: ASCII letters and digits, words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "agent"


@dataclass(frozen=True)
class SourceFacts:
    """What the store says of a published source, beyond the config."""

    modified: ox.Literal | None = None
    triples: int = 0
    entities: int = 0
    classes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class CatalogFacts:
    """Everything the catalogue needs from the store: sources, and labels from the programme."""

    sources: dict[str, SourceFacts] = field(default_factory=dict)
    projects: dict[str, str] = field(default_factory=dict)  # project IRI -> name
    regions: dict[str, dict[str, str]] = field(default_factory=dict)  # IRI -> {lang: label}
    themes: dict[str, dict[str, str]] = field(default_factory=dict)  # IRI -> {lang: label}


@dataclass(frozen=True)
class Urls:
    """Where this server answers: the catalogue, the endpoints, and the dumps on disk."""

    home: str
    catalog: str
    sparql: str
    api: str
    entities: str
    openapi: str
    dumps: Mapping[str, tuple[str, int, float]]  # name -> (URL, bytes, mtime)


def _labels(rows: Iterable[dict[str, object]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        label = row["l"]
        out.setdefault(row["x"].value, {})[getattr(label, "language", None) or ""] = label.value  # type: ignore[attr-defined]
    return out


def _date(value: object) -> str | None:
    text = getattr(value, "value", None)
    return text[:10] if isinstance(text, str) and _DATE.match(text) else None


def read_facts(store: Store, config: HubConfig, stats: HubStats) -> CatalogFacts:
    """Read per-source regions, themes and periods, and the programme's labels, from the store."""
    iris = Iris(config.base_iri)
    programme = iris.programme_graph
    region_prefix = iris.programme_base + "region/"
    sources: dict[str, SourceFacts] = {}
    for source_id in config.sources:
        graph = iris.source_graph(source_id)
        meta = stats.sources.get(graph)
        figures = stats.graphs.get(graph)
        if meta is None or figures is None:
            continue  # never published: nothing to offer yet
        regions = store.select(
            f"SELECT DISTINCT ?r WHERE {{ GRAPH <{graph}> {{ ?s <{MH}region> ?r }} }}"
        )
        themes = store.select(
            f"SELECT DISTINCT ?t WHERE {{ GRAPH <{graph}> {{ ?s <{MH}theme> ?t }} }}"
        )
        dates = " UNION ".join(f"{{ ?s <{p}> ?d }}" for p in PERIOD_PROPERTIES)
        period = store.select(
            "SELECT (MIN(STR(?d)) AS ?start) (MAX(STR(?d)) AS ?end) "
            f"WHERE {{ GRAPH <{graph}> {{ {dates} }} }}"
        )
        row = period[0] if period else {}
        sources[source_id] = SourceFacts(
            modified=meta.modified,
            triples=figures.triples,
            entities=figures.entities,
            classes=tuple(c for c, _ in figures.classes),
            regions=tuple(
                sorted(r["r"].value for r in regions if r["r"].value.startswith(region_prefix))
            ),
            themes=tuple(sorted(t["t"].value for t in themes if t["t"].value.startswith(THEME_NS))),
            start=_date(row.get("start")),
            end=_date(row.get("end")),
        )
    projects = {
        r["x"].value: r["l"].value
        for r in store.select(
            f"SELECT ?x (SAMPLE(?n) AS ?l) WHERE {{ GRAPH <{programme}> {{ "
            f"?x a <{MH}Project> ; <{SCHEMA}name> ?n FILTER(LANGMATCHES(LANG(?n), 'en') "
            "|| LANG(?n) = '') } } GROUP BY ?x"
        )
    }
    regions = _labels(
        store.select(
            f"SELECT ?x ?l WHERE {{ GRAPH <{programme}> {{ ?x a <{MH}Region> ; <{RDFS}label> ?l }} }}"
        )
    )
    themes = _labels(
        store.select(
            f"SELECT ?x ?l WHERE {{ GRAPH <{programme}> {{ ?x <{SKOS}inScheme> <{THEME_SCHEME}> ; "
            f"<{SKOS}prefLabel> ?l }} }}"
        )
    )
    return CatalogFacts(sources=sources, projects=projects, regions=regions, themes=themes)


# -- the graph -------------------------------------------------------------------------------


class _Graph:
    """Collects triples, each (subject, predicate, object) once, in the order first added."""

    def __init__(self) -> None:
        self.triples: dict[ox.Triple, None] = {}

    def add(self, s: str, p: str, o: str | ox.Literal) -> None:
        obj = o if isinstance(o, ox.Literal) else ox.NamedNode(o)
        self.triples[ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj)] = None

    def text(self, s: str, p: str, value: str, lang: str | None = None) -> None:
        self.add(s, p, ox.Literal(value, language=lang) if lang else ox.Literal(value))

    def typed(self, s: str, p: str, value: str, datatype: str) -> None:
        self.add(s, p, ox.Literal(value, datatype=ox.NamedNode(datatype)))

    def url(self, s: str, p: str, url: str) -> None:
        """A link to a URL of this server. Typed rdfs:Resource, which every IRI is: the DCAT-AP
        3.0.0 shapes check that class, and a validator may run without RDFS inference."""
        self.add(s, p, url)
        self.add(url, RDF + "type", RDFS + "Resource")

    def concept(self, iri: str, scheme: str, labels: Mapping[str, str]) -> None:
        self.add(iri, RDF + "type", SKOS + "Concept")
        self.add(iri, SKOS + "inScheme", scheme)
        for lang, label in labels.items():
            self.text(iri, SKOS + "prefLabel", label, lang or None)


@dataclass
class _Context:
    config: HubConfig
    facts: CatalogFacts
    urls: Urls
    iris: Iris
    g: _Graph = field(default_factory=_Graph)

    def iri(self, path: str) -> str:
        return f"{self.iris.base}id/{path}"


TITLES = {
    "en": "Marittimo Hub catalogue",
    "it": "Catalogo di Marittimo Hub",
    "fr": "Catalogue de Marittimo Hub",
}
DESCRIPTIONS = {
    "en": "The tourism data of the projects of the Interreg Italy–France Maritime programme "
    "(Tuscany, Liguria, Sardinia, Corsica, Provence-Alpes-Côte d'Azur), harvested from each "
    "project's databases, apps and portals, mapped to one vocabulary and published as linked "
    "data: one dataset per source, with downloads, a SPARQL endpoint and a REST API.",
    "it": "I dati turistici dei progetti del programma Interreg Italia–Francia Marittimo "
    "(Toscana, Liguria, Sardegna, Corsica, Provenza-Alpi-Costa Azzurra), raccolti dalle banche "
    "dati, app e portali di ciascun progetto, mappati in un unico vocabolario e pubblicati come "
    "linked data: un dataset per fonte, con download, un endpoint SPARQL e un'API REST.",
    "fr": "Les données touristiques des projets du programme Interreg Italie–France Maritime "
    "(Toscane, Ligurie, Sardaigne, Corse, Provence-Alpes-Côte d'Azur), moissonnées dans les "
    "bases, applications et portails de chaque projet, alignées sur un vocabulaire commun et "
    "publiées en données liées : un jeu de données par source, avec téléchargements, un point "
    "d'accès SPARQL et une API REST.",
}


def _agent(ctx: _Context, iri: str, name: str) -> str:
    ctx.g.add(iri, RDF + "type", FOAF + "Agent")
    ctx.g.text(iri, FOAF + "name", name)
    return iri


def _hub_agent(ctx: _Context) -> str:
    agent = _agent(ctx, ctx.iri("agent/marittimo-hub"), "Marittimo Hub")
    ctx.g.add(agent, RDF + "type", FOAF + "Organization")
    return agent


def _publisher(ctx: _Context, source: SourceConfig) -> str:
    """The source's `owner` as a foaf:Agent (one IRI per owner), else its project."""
    if source.owner:
        agent = _agent(ctx, ctx.iri(f"agent/{slug(source.owner)}"), source.owner)
        ctx.g.add(agent, RDF + "type", FOAF + "Organization")
        return agent
    project = ctx.iris.project(source.project)
    return _agent(ctx, project, ctx.facts.projects.get(project, source.project))


def _contact(ctx: _Context, source: SourceConfig) -> str | None:
    """A vcard:Kind for the source: its `contact`, else its `steward` (mailto: or a web page)."""
    address = source.contact or source.steward
    if not address or " " in address.strip() or ":" not in address:
        return None
    node = ctx.iri(f"source/{source.id}/contact")
    ctx.g.add(node, RDF + "type", VCARD + "Kind")
    ctx.g.add(node, RDF + "type", VCARD + "Organization")
    ctx.g.text(node, VCARD + "fn", source.owner or f"Stewards of {source.title or source.id}")
    address = address.strip()
    if address.startswith("mailto:"):
        ctx.g.add(node, VCARD + "hasEmail", address)
    else:
        ctx.g.add(node, VCARD + "hasURL", address)
    return node


def _licence(ctx: _Context, licence: str) -> str:
    ctx.g.add(licence, RDF + "type", DCT + "LicenseDocument")
    eu = EU_LICENCES.get(licence)
    if eu:
        ctx.g.add(licence, SKOS + "exactMatch", EU + f"licence/{eu}")
    return licence


def _location(ctx: _Context, region: str) -> str:
    ctx.g.add(region, RDF + "type", DCT + "Location")
    for lang, label in ctx.facts.regions.get(region, {}).items():
        ctx.g.text(region, SKOS + "prefLabel", label, lang or None)
    nuts = REGION_NUTS.get(region.rsplit("/", 1)[-1])
    if nuts:
        ctx.g.add(region, SKOS + "exactMatch", NUTS + nuts)
    return region


def _regions(ctx: _Context) -> list[str]:
    """Every region of the cooperation area: the programme's, else the known five."""
    found = sorted(ctx.facts.regions)
    return found or [ctx.iris.programme_base + f"region/{r}" for r in REGION_NUTS]


def _media_type(ctx: _Context, media: str) -> str:
    iri = IANA + media
    ctx.g.add(iri, RDF + "type", DCT + "MediaType")
    return iri


def _file_type(ctx: _Context, code: str) -> str:
    iri = EU + f"file-type/{code}"
    ctx.g.add(iri, RDF + "type", DCT + "MediaTypeOrExtent")
    return iri


def _stamp(seconds: float) -> ox.Literal:
    when = datetime.fromtimestamp(seconds, UTC).replace(microsecond=0)
    return ox.Literal(when.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))


def _dump_distribution(
    ctx: _Context, dataset: str, node: str, name: str, title: str, licence: str | None
) -> None:
    """A downloadable dump: gzipped N-Quads, at this server's /dumps/{name}.nq.gz."""
    url, size, mtime = ctx.urls.dumps[name]
    g = ctx.g
    g.add(dataset, DCAT + "distribution", node)
    g.add(node, RDF + "type", DCAT + "Distribution")
    g.text(node, DCT + "title", title, "en")
    g.text(
        node,
        DCT + "description",
        "Every triple of the published version as N-Quads (gzip), rewritten at each publish.",
        "en",
    )
    g.url(node, DCAT + "accessURL", url)
    g.url(node, DCAT + "downloadURL", url)
    g.add(node, DCAT + "mediaType", _media_type(ctx, "application/n-quads"))
    g.add(node, DCAT + "compressFormat", _media_type(ctx, "application/gzip"))
    g.add(node, DCT + "format", _file_type(ctx, "RDF_N_QUADS"))
    g.typed(node, DCAT + "byteSize", str(size), XSD + "nonNegativeInteger")
    g.add(node, DCT + "modified", _stamp(mtime))
    if licence:
        g.add(node, DCT + "license", _licence(ctx, licence))


def _service_distribution(
    ctx: _Context,
    dataset: str,
    node: str,
    *,
    title: str,
    url: str,
    service: str,
    licence: str,
    media: str | None = None,
) -> None:
    g = ctx.g
    g.add(dataset, DCAT + "distribution", node)
    g.add(node, RDF + "type", DCAT + "Distribution")
    g.text(node, DCT + "title", title, "en")
    g.url(node, DCAT + "accessURL", url)
    g.add(node, DCAT + "accessService", service)
    if media:
        g.add(node, DCAT + "mediaType", _media_type(ctx, media))
    g.add(node, DCT + "license", _licence(ctx, licence))


def _themes(ctx: _Context, dataset: str, used: Iterable[str]) -> None:
    for code, label in DATA_THEMES.items():
        iri = EU + f"data-theme/{code}"
        ctx.g.concept(iri, EU + "data-theme", {"en": label})
        ctx.g.add(dataset, DCAT + "theme", iri)
    for theme in used:
        ctx.g.concept(theme, THEME_SCHEME, ctx.facts.themes.get(theme, {"": theme}))
        ctx.g.add(dataset, DCAT + "theme", theme)


def _source_dataset(ctx: _Context, source: SourceConfig, facts: SourceFacts) -> str:
    g, iris = ctx.g, ctx.iris
    dataset = iris.dataset(source.id)
    title = source.title or source.id
    g.add(dataset, RDF + "type", DCAT + "Dataset")
    g.text(dataset, DCT + "identifier", source.id)
    g.text(dataset, DCT + "title", title)
    g.text(
        dataset,
        DCT + "description",
        source.description or f"The published data of the source `{source.id}` of Marittimo Hub.",
    )
    g.add(dataset, DCT + "publisher", _publisher(ctx, source))
    contact = _contact(ctx, source)
    if contact:
        g.add(dataset, DCAT + "contactPoint", contact)
    freq, label = frequency(source)
    g.add(freq, RDF + "type", DCT + "Frequency")
    g.text(freq, SKOS + "prefLabel", label, "en")
    g.add(dataset, DCT + "accrualPeriodicity", freq)
    for region in facts.regions or _regions(ctx):
        g.add(dataset, DCT + "spatial", _location(ctx, region))
    if facts.start or facts.end:
        period = ctx.iri(f"source/{source.id}/period")
        g.add(period, RDF + "type", DCT + "PeriodOfTime")
        if facts.start:
            g.typed(period, DCAT + "startDate", facts.start, XSD + "date")
        if facts.end:
            g.typed(period, DCAT + "endDate", facts.end, XSD + "date")
        g.add(dataset, DCT + "temporal", period)
    if facts.modified is not None:
        g.add(dataset, DCT + "modified", facts.modified)
    _themes(ctx, dataset, facts.themes)
    project = ctx.iris.project(source.project)
    g.text(dataset, DCAT + "keyword", ctx.facts.projects.get(project, source.project))
    for cls in facts.classes:
        if (cls.startswith(SCHEMA) or cls.startswith(MH)) and cls not in PARTS:
            g.text(dataset, DCAT + "keyword", cls.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
    g.add(dataset, MH + "project", project)
    g.add(dataset, MH + "namedGraph", iris.source_graph(source.id))
    g.typed(dataset, VOID + "triples", str(facts.triples), XSD + "integer")
    g.typed(dataset, VOID + "entities", str(facts.entities), XSD + "integer")
    if source.id in ctx.urls.dumps:
        _dump_distribution(
            ctx,
            dataset,
            f"{dataset}/distribution/dump",
            source.id,
            f"{title}: N-Quads dump",
            source.licence,
        )
    _service_distribution(
        ctx,
        dataset,
        f"{dataset}/distribution/sparql",
        title=f"{title}: SPARQL (named graph <{iris.source_graph(source.id)}>)",
        url=ctx.urls.sparql,
        service=ctx.iri("service/sparql"),
        licence=source.licence,
    )
    _service_distribution(
        ctx,
        dataset,
        f"{dataset}/distribution/api",
        title=f"{title}: REST API (JSON, GeoJSON, CSV)",
        url=f"{ctx.urls.entities}?source={source.id}",
        service=ctx.iri("service/api"),
        licence=source.licence,
        media="application/json",
    )
    return dataset


def _hub_dataset(ctx: _Context, datasets: list[str], licences: set[str]) -> str:
    """The whole hub as one dataset: every source's graph plus the programme and the links."""
    g = ctx.g
    hub = hub_dataset_iri(ctx.iris)
    g.add(hub, RDF + "type", DCAT + "Dataset")
    g.text(hub, DCT + "identifier", "hub")
    for lang, title in (
        ("en", "Marittimo Hub: every source"),
        ("it", "Marittimo Hub: tutte le fonti"),
        ("fr", "Marittimo Hub : toutes les sources"),
    ):
        g.text(hub, DCT + "title", title, lang)
    g.text(
        hub,
        DCT + "description",
        "Every published source of the hub, each in its own named graph, with the programme "
        "(projects, working groups, regions, themes, vocabulary) and the reviewed cross-source "
        "links. Each source's own licence applies to its graph.",
        "en",
    )
    g.add(hub, DCT + "publisher", _hub_agent(ctx))
    for region in _regions(ctx):
        g.add(hub, DCT + "spatial", _location(ctx, region))
    _themes(ctx, hub, ())
    for dataset in datasets:
        g.add(hub, DCT + "hasPart", dataset)
    if "hub" in ctx.urls.dumps:
        # One licence for the dump when every source has the same, else a rights statement.
        licence = next(iter(licences)) if len(licences) == 1 else None
        _dump_distribution(
            ctx,
            hub,
            f"{hub}/distribution/dump",
            "hub",
            "Marittimo Hub: N-Quads dump of every source",
            licence,
        )
        if licence is None:
            rights = ctx.iri("dataset/hub/rights")
            g.add(rights, RDF + "type", DCT + "RightsStatement")
            g.text(rights, RDFS + "label", "Each source's licence applies to its graph.", "en")
            g.add(f"{hub}/distribution/dump", DCT + "rights", rights)
    return hub


def _services(ctx: _Context, catalog: str, datasets: list[str]) -> None:
    g = ctx.g
    publisher = _hub_agent(ctx)
    sparql, api = ctx.iri("service/sparql"), ctx.iri("service/api")
    for service, title, description, endpoint, described_by, standard in (
        (
            sparql,
            "Marittimo Hub SPARQL endpoint",
            "A read-only SPARQL 1.1 endpoint: one named graph per source; the default graph "
            "is their union. Queries are bounded in time and result size.",
            ctx.urls.sparql,
            ctx.urls.sparql,
            "https://www.w3.org/TR/sparql11-protocol/",
        ),
        (
            api,
            "Marittimo Hub REST API",
            "Entities of every source as JSON, GeoJSON, CSV or JSON-LD, with filters, facets "
            "and paging (OpenAPI).",
            ctx.urls.entities,  # the primary endpoint: /api/v1 itself has no page
            ctx.urls.openapi,
            "https://spec.openapis.org/oas/v3.1.0",
        ),
    ):
        g.add(catalog, DCAT + "service", service)
        g.add(service, RDF + "type", DCAT + "DataService")
        g.text(service, DCT + "title", title, "en")
        g.text(service, DCT + "description", description, "en")
        g.url(service, DCAT + "endpointURL", endpoint)
        g.url(service, DCAT + "endpointDescription", described_by)
        g.add(service, DCT + "conformsTo", standard)
        g.add(standard, RDF + "type", DCT + "Standard")
        g.add(service, DCT + "publisher", publisher)
        for dataset in datasets:
            g.add(service, DCAT + "servesDataset", dataset)


def catalog_triples(config: HubConfig, facts: CatalogFacts, urls: Urls) -> list[ox.Triple]:
    """The DCAT-AP 3 catalogue of the hub, from its config, the store's facts and its URLs."""
    iris = Iris(config.base_iri)
    ctx = _Context(config, facts, urls, iris)
    g = ctx.g
    catalog = ctx.iri("catalog")
    g.add(catalog, RDF + "type", DCAT + "Catalog")
    for lang, title in TITLES.items():
        g.text(catalog, DCT + "title", title, lang)
    for lang, description in DESCRIPTIONS.items():
        g.text(catalog, DCT + "description", description, lang)
    g.add(catalog, DCT + "publisher", _hub_agent(ctx))
    g.add(catalog, FOAF + "homepage", urls.home)
    g.add(urls.home, RDF + "type", FOAF + "Document")
    g.add(catalog, DCT + "license", _licence(ctx, CATALOG_LICENCE))
    for code, name in LANGUAGES.items():
        lang = EU + f"language/{code}"
        g.add(lang, RDF + "type", DCT + "LinguisticSystem")
        g.text(lang, SKOS + "prefLabel", name, "en")
        g.add(catalog, DCT + "language", lang)
    for code, name in COUNTRIES.items():
        country = EU + f"country/{code}"
        g.add(country, RDF + "type", DCT + "Location")
        g.text(country, SKOS + "prefLabel", name, "en")
        g.add(catalog, DCT + "spatial", country)
    for region in _regions(ctx):
        g.add(catalog, DCT + "spatial", _location(ctx, region))
    for scheme, title in (
        (THEME_SCHEME, "Themes of the Italy–France Maritime tourism projects"),
        (EU + "data-theme", "Data theme"),
    ):
        g.add(catalog, DCAT + "themeTaxonomy", scheme)
        g.add(scheme, RDF + "type", SKOS + "ConceptScheme")
        g.text(scheme, DCT + "title", title, "en")
    datasets: list[str] = []
    licences: set[str] = set()
    for source_id, source in config.sources.items():
        source_facts = facts.sources.get(source_id)
        if source_facts is None:
            continue
        datasets.append(_source_dataset(ctx, source, source_facts))
        licences.add(source.licence)
    hub = _hub_dataset(ctx, datasets, licences)
    for dataset in [*datasets, hub]:
        g.add(catalog, DCAT + "dataset", dataset)
    _services(ctx, catalog, [*datasets, hub])
    modified = [f.modified for f in facts.sources.values() if f.modified is not None]
    if modified:
        g.add(catalog, DCT + "modified", max(modified, key=lambda m: m.value))
    return list(g.triples)


# -- serving ---------------------------------------------------------------------------------


class FactsCache:
    """The latest `CatalogFacts` and the store state they were read for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._facts: CatalogFacts | None = None

    def get(self, store: Store, config: HubConfig, stats: HubStats) -> CatalogFacts:
        key = state_key(store, Iris(config.base_iri))
        with self._lock:
            if self._facts is None or key != self._key:
                self._facts = read_facts(store, config, stats)
                self._key = key
            return self._facts


def _facts_cache(request: Request) -> FactsCache:
    cache = getattr(request.app.state, "hub_catalog_cache", None)
    if cache is None:
        cache = request.app.state.hub_catalog_cache = FactsCache()
    return cache


def _blocking_facts(
    cache: FactsCache, store: Store, config: HubConfig, stats: HubStats
) -> CatalogFacts:
    try:
        return cache.get(store, config, stats)
    except (HubError, OSError, RuntimeError, ValueError) as exc:
        error = ApiError(503, f"the store cannot answer for the catalogue: {exc}")
    error.__traceback__ = error.__context__ = error.__cause__ = None
    raise error


def service_urls(request: Request, config: HubConfig) -> Urls:
    """This server's URLs for the catalogue's endpoints and the dumps on disk now."""
    dumps = {
        name: (str(request.url_for("dump", name=name)), stat.st_size, stat.st_mtime)
        for name, stat in dumps_module.available_dumps(config).items()
    }
    home = str(request.base_url)
    api = str(request.base_url) + "api/v1"
    return Urls(
        home=home,
        catalog=str(request.url_for("catalog")),
        sparql=str(request.url_for("sparql_get")),
        api=api,
        entities=api + "/entities",
        openapi=str(request.base_url) + "openapi.json",
        dumps=dumps,
    )


@router.get(
    "/catalog",
    name="catalog",
    summary="DCAT-AP 3 catalogue of the hub's datasets, distributions and services",
    response_class=Response,
    responses={
        200: {
            "description": "DCAT-AP 3 in the negotiated RDF format (Turtle by default).",
            "content": {f.media_type: {} for f in GRAPH_FORMATS},
        },
        **DESCRIPTION_ERRORS,
    },
)
async def catalog(
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    format: Annotated[
        list[str],
        Query(
            description="Overrides Accept: turtle, nt, jsonld, rdfxml.",
            json_schema_extra=GRAPH_FORMAT_FORM,
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
) -> Response:
    """The hub as a dcat:Catalog: a dataset per published source and one for the whole hub."""
    fmt = choose_graph_format(format, request.headers.get("accept"))
    iris = Iris(config.base_iri)
    stats = await current_stats(request, store, iris)
    facts = await run_in_threadpool(_blocking_facts, _facts_cache(request), store, config, stats)
    return rdf_response(
        catalog_triples(config, facts, service_urls(request, config)), fmt, PREFIXES
    )
