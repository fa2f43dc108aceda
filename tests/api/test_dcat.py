"""GET /catalog is DCAT-AP 3 (0 violations of the official shapes), and every URL in it downloads.

The shapes are vendored in tests/data/dcat-ap/ (CC BY 4.0, European Union; CI has no
internet): the 3.0.0 release's single file, and the 3.0.1 release's shapes and ranges.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
import requests
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SH, SKOS

from hub.api import create_app
from hub.api.dcat import frequency
from hub.config import HubConfig, SourceConfig
from hub.layout import DataLayout
from hub.store import OxigraphStore
from tests.api.demo_hub import serve

SHAPES = Path(__file__).resolve().parents[1] / "data" / "dcat-ap"
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
EU = "http://publications.europa.eu/resource/authority/"


def catalog(client: TestClient, **params: str) -> rdflib.Graph:
    res = client.get("/catalog", params=params, headers={"Accept": "text/turtle"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/turtle")
    return rdflib.Graph().parse(data=res.content, format="turtle")


def shapes(*names: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in names:
        graph.parse(SHAPES / name, format="turtle")
    return graph


def violations(data: rdflib.Graph, shapes_graph: rdflib.Graph) -> list[str]:
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph, inference="none")
    return [
        f"{report.value(r, SH.focusNode)} {report.value(r, SH.resultPath)}: "
        f"{report.value(r, SH.resultMessage)}"
        for r in report.subjects(RDF.type, SH.ValidationResult)
    ]


@pytest.mark.parametrize(
    "files",
    [("dcat-ap-3.0.0-SHACL.ttl",), ("dcat-ap-3.0.1-shapes.ttl", "dcat-ap-3.0.1-range.ttl")],
    ids=["3.0.0", "3.0.1"],
)
def test_the_catalogue_has_no_violation_of_the_dcat_ap_3_shapes(
    demo_client: TestClient, files: tuple[str, ...]
) -> None:
    data = catalog(demo_client)
    assert len(data) > 300
    assert violations(data, shapes(*files)) == []


@pytest.fixture(scope="module")
def live(demo_hub: tuple[HubConfig, OxigraphStore]) -> Iterator[str]:
    """The demo app on a real uvicorn server on loopback."""
    with serve(create_app(*demo_hub)) as url:
        yield url


def test_every_distribution_url_downloads_from_a_running_hub(live: str) -> None:
    res = requests.get(f"{live}/catalog", headers={"Accept": "text/turtle"}, timeout=30)
    g = rdflib.Graph().parse(data=res.content, format="turtle")
    urls = {
        str(url)
        for dist in g.subjects(RDF.type, DCAT.Distribution)
        for prop in (DCAT.accessURL, DCAT.downloadURL)
        for url in g.objects(dist, prop)
    }
    urls |= {str(u) for u in g.objects(None, DCAT.endpointURL)}
    assert len(urls) > 20 and all(u.startswith(live) for u in urls)
    for url in sorted(urls):
        got = requests.get(url, timeout=30)
        assert got.status_code == 200, (url, got.status_code, got.text[:200])
    for dist in g.subjects(DCAT.downloadURL, None):
        got = requests.get(str(g.value(dist, DCAT.downloadURL)), timeout=30)
        assert int(g.value(dist, DCAT.byteSize)) == len(got.content)
        assert gzip.decompress(got.content)  # every dump is gzip


def test_each_source_is_a_dataset_with_publisher_contact_frequency_and_licenced_distributions(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, _ = demo_hub
    g = catalog(demo_client)
    cat = rdflib.URIRef(f"{config.base_iri}id/catalog")
    offer = rdflib.URIRef(f"{config.base_iri}id/source/smartdest-offer")
    source = config.sources["smartdest-offer"]
    assert (cat, DCAT.dataset, offer) in g
    assert str(g.value(offer, DCTERMS.title)) == source.title
    publisher = g.value(offer, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in g
    assert str(g.value(publisher, FOAF.name)) == source.owner
    contact = g.value(offer, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in g
    assert g.value(contact, VCARD.hasEmail) == rdflib.URIRef(source.contact)
    assert g.value(offer, DCTERMS.accrualPeriodicity) == rdflib.URIRef(EU + "frequency/WEEKLY")
    spatial = set(g.objects(offer, DCTERMS.spatial))
    assert rdflib.URIRef(f"{config.base_iri}id/programme/region/liguria") in spatial
    distributions = set(g.objects(offer, DCAT.distribution))
    assert len(distributions) == 3
    for dist in distributions:
        assert g.value(dist, DCTERMS.license) == rdflib.URIRef(source.licence)
    dump = next(d for d in distributions if g.value(d, DCAT.downloadURL) is not None)
    assert str(g.value(dump, DCAT.downloadURL)) == "http://testserver/dumps/smartdest-offer.nq.gz"
    events = rdflib.URIRef(f"{config.base_iri}id/source/vivimed-events")
    period = g.value(events, DCTERMS.temporal)
    assert g.value(period, DCAT.startDate) is not None
    assert g.value(period, DCAT.startDate) <= g.value(period, DCAT.endDate)
    theme = rdflib.URIRef("https://w3id.org/marittimo-hub/theme/itineraries-packages-maps")
    trails = rdflib.URIRef(f"{config.base_iri}id/source/itinera-trails")
    assert (trails, DCAT.theme, theme) in g and g.value(theme, SKOS.prefLabel) is not None


def test_the_hub_dataset_and_the_two_services(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, _ = demo_hub
    g = catalog(demo_client)
    hub = rdflib.URIRef(f"{config.base_iri}id/dataset/hub")
    dump = g.value(hub, DCAT.distribution)
    assert str(g.value(dump, DCAT.downloadURL)) == "http://testserver/dumps/hub.nq.gz"
    sources = {rdflib.URIRef(f"{config.base_iri}id/source/{s}") for s in config.sources}
    assert set(g.objects(hub, DCTERMS.hasPart)) == sources
    services = set(g.subjects(RDF.type, DCAT.DataService))
    assert {str(g.value(s, DCAT.endpointURL)) for s in services} == {
        "http://testserver/sparql",
        "http://testserver/api/v1/entities",
    }
    for service in services:
        assert set(g.objects(service, DCAT.servesDataset)) == sources | {hub}


def test_formats_by_accept_and_format(demo_client: TestClient) -> None:
    turtle = catalog(demo_client)
    for accept, fmt in (
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
    ):
        res = demo_client.get("/catalog", headers={"Accept": accept})
        assert res.headers["content-type"].startswith(accept)
        assert isomorphic(rdflib.Graph().parse(data=res.content, format=fmt), turtle)
    res = demo_client.get("/catalog", params={"format": "jsonld"})
    assert res.headers["content-type"].startswith("application/ld+json")
    assert demo_client.get("/catalog", headers={"Accept": "image/png"}).status_code == 406


def test_dumps_answer_304_to_a_client_that_has_them(demo_client: TestClient) -> None:
    first = demo_client.get("/dumps/itinera-trails.nq.gz")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/gzip"
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = demo_client.get("/dumps/itinera-trails.nq.gz", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    since = demo_client.get("/dumps/itinera-trails.nq.gz", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    old = formatdate(0, usegmt=True)
    assert (
        demo_client.get(
            "/dumps/itinera-trails.nq.gz", headers={"If-Modified-Since": old}
        ).status_code
        == 200
    )
    assert (
        demo_client.get(
            "/dumps/itinera-trails.nq.gz", headers={"If-None-Match": '"other"'}
        ).status_code
        == 200
    )
    head = demo_client.head("/dumps/hub.nq.gz")
    assert head.status_code == 200 and int(head.headers["content-length"]) > 0
    missing = demo_client.get("/dumps/nope.nq.gz")
    assert missing.status_code == 404
    assert "itinera-trails" in missing.json()["error"]["message"]


def test_the_hub_dump_holds_every_source_and_the_programme(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, store = demo_hub
    body = gzip.decompress(demo_client.get("/dumps/hub.nq.gz").content)
    graphs = {q.graph_name.value for q in ox.parse(body, format=ox.RdfFormat.N_QUADS)}
    expected = {f"{config.base_iri}graph/{s}" for s in config.sources}
    assert graphs == expected | {f"{config.base_iri}graph/programme"}
    assert (DataLayout(config.data_path).dumps() / "hub.nq.gz").exists()


def test_void_lists_the_dumps(
    demo_client: TestClient, demo_hub: tuple[HubConfig, OxigraphStore]
) -> None:
    config, _ = demo_hub
    res = demo_client.get("/void", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=res.content, format="turtle")
    hub = rdflib.URIRef(f"{config.base_iri}id/dataset/hub")
    assert str(g.value(hub, VOID.dataDump)) == "http://testserver/dumps/hub.nq.gz"
    for source in config.sources:
        ds = rdflib.URIRef(f"{config.base_iri}id/source/{source}")
        assert str(g.value(ds, VOID.dataDump)) == f"http://testserver/dumps/{source}.nq.gz"
        assert int(g.value(ds, VOID.triples)) > 0


@pytest.mark.parametrize(
    ("agreement", "code"),
    [
        ({"update_every": "7d"}, "WEEKLY"),
        ({"update_every": "1d"}, "DAILY"),
        ({"update_every": "30d"}, "MONTHLY"),
        ({"update_every": "400d"}, "IRREG"),
        ({"schedule": {"every": "6h"}}, "DAILY"),
        ({"schedule": {"cron": "0 3 * * *"}}, "DAILY"),
        ({"schedule": {"cron": "0 3 * * 1"}}, "WEEKLY"),
        ({"schedule": {"cron": "0 3 1 * *"}}, "MONTHLY"),
        ({}, "UNKNOWN"),
    ],
)
def test_frequency_from_the_agreement_or_the_schedule(agreement: dict, code: str) -> None:
    source = SourceConfig(
        project="itinera",
        kind="files",
        mapping="m.yml",
        licence="https://creativecommons.org/licenses/by/4.0/",
        steward="mailto:s@example.org",
        **agreement,
    )
    assert frequency(source)[0] == f"{EU}frequency/{code}"
