"""The `sparql` harvester against a real SPARQL server (`oxigraph serve`) on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from harvesters import get_harvester
from hub.errors import HarvestError
from tests.serving import free_port

harvest_sparql = get_harvester("sparql")

DATA = """@prefix sis: <https://sistina.example/ontologia#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://sistina.example/beni/1> a sis:Bene ; sis:nome "Luni"@it , "Luni"@fr ;
    sis:lat "44.064"^^xsd:decimal ; sis:indirizzo [ sis:comune "Luni" ] .
<https://sistina.example/beni/2> a sis:Bene ; sis:nome "Forte Stella"@it ;
    sis:nota "una \\"nota\\"\\nsu due righe" .
<https://sistina.example/beni/3> a sis:Bene ; sis:nome "Filitosa"@fr .
"""
NAMED = """<https://sistina.example/beni/9> <https://sistina.example/ontologia#nome> "Nora"@it ."""
ALL = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def _oxigraph() -> str:
    found = Path(sys.executable).with_name("oxigraph")
    return str(found) if found.exists() else (shutil.which("oxigraph") or "oxigraph")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`oxigraph serve` on a free loopback port, with DATA (default graph) and a named graph."""
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen(
        [_oxigraph(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"oxigraph serve did not start: {error}")
                time.sleep(0.05)
        turtle = {"Content-Type": "text/turtle"}
        requests.post(
            base + "/store?default", data=DATA.encode(), headers=turtle, timeout=10
        ).raise_for_status()
        requests.post(
            base + "/store?graph=https://sistina.example/grafo",
            data=NAMED.encode(),
            headers=turtle,
            timeout=10,
        ).raise_for_status()
        yield base + "/query"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def harvest(options: dict[str, Any]) -> list[bytes]:
    """All chunks of a `sparql` source called `test`."""
    return list(harvest_sparql("test", options, root=Path(".")))


def as_graph(chunks: list[bytes]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=b"".join(chunks).decode("utf-8"), format="nt")


def expected() -> rdflib.Graph:
    return rdflib.Graph().parse(data=DATA, format="turtle")


# --- queries ------------------------------------------------------------------------


def test_construct_gives_every_triple_as_ntriples(endpoint: str) -> None:
    chunks = harvest({"endpoint": endpoint, "query": ALL})
    assert all(c.endswith(b" .\n") for c in chunks)
    assert isomorphic(as_graph(chunks), expected())


def test_select_of_s_p_o_gives_the_same_triples(endpoint: str) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    assert isomorphic(as_graph(harvest({"endpoint": endpoint, "query": query})), expected())


@pytest.mark.parametrize("page_size", [1, 2, 5, 100])
def test_select_pages_with_order_by(endpoint: str, page_size: int) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    chunks = harvest({"endpoint": endpoint, "query": query, "page_size": page_size})
    assert isomorphic(as_graph(chunks), expected())


def test_construct_pages_until_an_empty_page(endpoint: str) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    chunks = harvest({"endpoint": endpoint, "query": query, "page_size": 3})
    assert isomorphic(as_graph(chunks), expected())


def test_construct_can_rewrite_and_read_named_graphs(endpoint: str) -> None:
    query = """PREFIX sis: <https://sistina.example/ontologia#>
    PREFIX schema: <http://schema.org/>
    # a comment with LIMIT 1 is no paging clause
    CONSTRUCT { ?b schema:name ?n } WHERE { GRAPH <https://sistina.example/grafo> { ?b sis:nome ?n } }"""
    chunks = harvest({"endpoint": endpoint, "query": query, "page_size": 10})
    assert chunks == [b'<https://sistina.example/beni/9> <http://schema.org/name> "Nora"@it .\n']


def test_select_skips_solutions_without_a_triple(endpoint: str) -> None:
    query = """SELECT ?s ?p ?o WHERE {
      ?s a <https://sistina.example/ontologia#Bene> .
      BIND(<http://schema.org/description> AS ?p)
      OPTIONAL { ?s <https://sistina.example/ontologia#nota> ?o } }"""
    chunks = harvest({"endpoint": endpoint, "query": query})
    assert b"".join(chunks).count(b"\n") == 1


# --- errors -------------------------------------------------------------------------


def test_malformed_query_gives_the_servers_parser_message(endpoint: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest({"endpoint": endpoint, "query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p "})
    message = str(caught.value)
    assert message.startswith(
        f"source `test`: HTTP 400 from {endpoint}: the endpoint says: error at 1:"
    )
    assert "fix options.query" in message


def test_unreachable_endpoint(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/query"
    with pytest.raises(
        HarvestError, match=rf"cannot reach the SPARQL endpoint {url}: .*Connection refused"
    ):
        harvest({"endpoint": url, "query": ALL})


def test_wrong_path_on_the_server(endpoint: str) -> None:
    url = endpoint.replace("/query", "/sparql-no")
    with pytest.raises(HarvestError, match=r"HTTP 404 from .*/sparql-no.*check options.endpoint"):
        harvest({"endpoint": url, "query": ALL})


def test_update_endpoint_refuses_a_query(endpoint: str) -> None:
    url = endpoint.replace("/query", "/update")
    with pytest.raises(HarvestError, match=r"HTTP 4\d\d from .*/update"):
        harvest({"endpoint": url, "query": ALL})


def test_select_must_bind_s_p_o(endpoint: str) -> None:
    with pytest.raises(HarvestError, match=r"the SELECT binds \?x; a SELECT must bind \?s \?p \?o"):
        harvest({"endpoint": endpoint, "query": "SELECT ?x WHERE { ?x ?p ?o }"})


def test_ask_is_refused(endpoint: str) -> None:
    with pytest.raises(HarvestError, match=r"options.query is an ASK query"):
        harvest({"endpoint": endpoint, "query": "ASK { ?s ?p ?o }"})


def test_missing_secret_names_the_variable(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SISTINA_SPARQL_TOKEN", raising=False)
    auth = {"type": "bearer", "token_env": "SISTINA_SPARQL_TOKEN"}
    with pytest.raises(HarvestError, match=r"environment variable SISTINA_SPARQL_TOKEN"):
        harvest({"endpoint": endpoint, "query": ALL, "auth": auth})


def test_token_never_appears_in_messages(closed_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SISTINA_SPARQL_TOKEN", "S3cr3tT0ken")
    url = f"http://127.0.0.1:{closed_port}/query?token=S3cr3tT0ken"
    auth = {"type": "bearer", "token_env": "SISTINA_SPARQL_TOKEN"}
    with pytest.raises(HarvestError) as caught:
        harvest({"endpoint": url, "query": ALL, "auth": auth})
    assert "S3cr3tT0ken" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"query": ALL}, "options.endpoint is required: give a non-empty string (the http(s) URL"),
        ({"endpoint": "ftp://x/q", "query": ALL}, "options.endpoint must be the http(s) URL"),
        ({"endpoint": "http://x/q"}, "options.query is required"),
        (
            {"endpoint": "http://x/q", "query": ALL + " LIMIT 10", "page_size": 5},
            "ends with its own LIMIT or OFFSET",
        ),
        (
            {"endpoint": "http://x/q", "query": ALL, "page_size": 0},
            "options.page_size must be a positive",
        ),
        (
            {"endpoint": "http://x/q", "query": ALL, "timeout": -1},
            "options.timeout must be a positive",
        ),
        (
            {"endpoint": "http://x/q", "query": ALL, "auth": {"type": "oauth"}},
            "options.auth.type must be one of `bearer`, `api_key`, `basic`, not 'oauth'",
        ),
        (
            {"endpoint": "http://x/q", "query": ALL, "retries": 2},
            "options.retries is not an option of kind `sparql`",
        ),
    ],
)
def test_bad_options_are_refused_when_called(options: dict[str, Any], message: str) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest_sparql("test", options, root=Path("."))
    assert message in str(caught.value)
