"""The browser query page at /sparql, the index at /, and the public API surface."""

from __future__ import annotations

import inspect
import re

from fastapi.testclient import TestClient

import hub.api
from hub.iris import PREFIXES

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_browser_without_query_gets_the_query_page(client: TestClient) -> None:
    res = client.get("/sparql", headers={"Accept": BROWSER})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    page = res.text
    assert "<textarea" in page and "fetch(" in page
    for name in ("mh", "schema", "geo", "skos", "dct", "prov", "dcat", "rdfs", "xsd"):
        assert f"PREFIX {name}: &lt;{PREFIXES[name]}&gt;" in page


def test_query_page_loads_no_external_assets(client: TestClient) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html"}).text
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)


def test_default_query_on_the_page_runs(client: TestClient) -> None:
    from hub.api.page import default_query

    res = client.post("/sparql", data={"query": default_query()})
    assert res.status_code == 200
    assert len(res.json()["results"]["bindings"]) == 10


def test_browser_with_a_query_gets_results_not_the_page(client: TestClient) -> None:
    res = client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": BROWSER})
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/sparql-results+xml"


def test_index_links_the_endpoints(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["links"]["sparql"].endswith("/sparql")
    assert body["links"]["health"].endswith("/health")
    assert body["links"]["docs"] == "/docs"
    assert client.get(body["links"]["docs"]).status_code == 200


def test_openapi_documents_the_union_default_graph(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    get = spec["paths"]["/sparql"]["get"]
    assert "union of all named graphs" in " ".join(get["description"].replace("*", "").split())
    names = {p["name"] for p in get["parameters"]}
    assert {"query", "default-graph-uri", "named-graph-uri", "format"} <= names
    body = spec["paths"]["/sparql"]["post"]["requestBody"]["content"]
    assert {"application/x-www-form-urlencoded", "application/sparql-query"} <= set(body)


def test_public_api_is_create_app() -> None:
    assert hub.api.__all__ == ["create_app"]
    params = inspect.signature(hub.api.create_app).parameters
    assert list(params) == ["config", "store", "scheduler"]
    assert params["scheduler"].kind is inspect.Parameter.KEYWORD_ONLY


def test_docs_and_redoc_work_offline(client) -> None:
    """Swagger UI and Redoc load their scripts from the hub, never from a CDN."""
    import re

    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert f"/static/docs/{asset}" in sources
        assert not [s for s in sources if s.startswith(("http://", "https://", "//"))], sources
        script = client.get(f"/static/docs/{asset}")
        assert script.status_code == 200 and len(script.content) > 100_000


def test_a_browser_gets_a_start_page(client) -> None:
    page = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in page.text and "/sparql" in page.text
    assert (
        client.get("/", headers={"Accept": "application/json"}).json()["links"]["docs"] == "/docs"
    )
