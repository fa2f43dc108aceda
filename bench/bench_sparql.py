"""Benchmark: what the hub's /sparql endpoint adds to the store's own query time.

Loads a generated dataset (N places, 7 triples each, in 10 source graphs) into the
default store backend (a child `oxigraph serve`), starts the hub's app with uvicorn
on loopback, and runs the same queries (a) straight against the Oxigraph server's
SPARQL endpoint and (b) through the hub's /sparql, sequentially, repeated. Prints
p50/p95 latency per query and the overhead of the hub. Usage:

    python bench/bench_sparql.py                 # 200,000 places (1.4M triples)
    python bench/bench_sparql.py --places 50000 --repeat 20
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

QUERIES = {
    "count per graph": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "places in a town (100)": (
        'SELECT ?s ?name WHERE { ?s <http://schema.org/addressLocality> "Lucca" ; '
        "<http://schema.org/name> ?name } LIMIT 100"
    ),
    "one entity": "SELECT ?p ?o WHERE { <https://hub.example.org/id/src-3/b333> ?p ?o }",
    "text filter (20)": (
        'SELECT ?s WHERE { ?s <http://schema.org/name> ?n FILTER(CONTAINS(?n, "Luogo 4242")) } LIMIT 20'
    ),
    "10,000 rows": "SELECT ?s ?n WHERE { ?s <http://schema.org/name> ?n } LIMIT 10000",
}
TOWNS = ["Lucca", "Pisa", "Genova", "Cagliari", "Ajaccio", "Bastia", "Nice", "Toulon"]


def generate(path: Path, places: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        for i in range(places):
            g = f"https://hub.example.org/graph/src-{i % 10}"
            s = f"<https://hub.example.org/id/src-{i % 10}/b{i}>"
            town = rng.choice(TOWNS)
            for p, o in (
                ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "<http://schema.org/Place>"),
                ("http://schema.org/name", f'"Luogo {i}"@it'),
                ("http://schema.org/identifier", f'"b{i}"'),
                ("http://schema.org/addressLocality", f'"{town}"'),
                (
                    "http://schema.org/latitude",
                    f'"{rng.uniform(41, 44):.4f}"^^<http://www.w3.org/2001/XMLSchema#decimal>',
                ),
                (
                    "http://schema.org/longitude",
                    f'"{rng.uniform(7, 11):.4f}"^^<http://www.w3.org/2001/XMLSchema#decimal>',
                ),
                (
                    "https://w3id.org/marittimo-hub/ns#region",
                    "<https://hub.example.org/id/programme/region/toscana>",
                ),
            ):
                out.write(f"{s} <{p}> {o} <{g}> .\n")


def timed(url: str, query: str, params: dict) -> float:
    start = time.perf_counter()
    response = requests.post(
        url,
        params=params,
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=120,
    )
    response.raise_for_status()
    response.json()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--places", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import uvicorn

    from hub.api import create_app
    from hub.config import parse_config
    from hub.store import connect_store

    work = Path(tempfile.mkdtemp(prefix="hub-bench-sparql-"))
    config = parse_config({"hub": {"store": str(work / "store")}}, work / "hub.toml")
    data = work / "data.nq"
    generate(data, args.places)
    store = connect_store(config)
    start = time.perf_counter()
    with data.open("rb") as body:
        requests.post(
            store.graph_store_url + "?no_transaction",
            data=body,
            headers={"Content-Type": "application/n-quads"},
            timeout=3600,
        ).raise_for_status()
    print(f"loaded {args.places * 7:,} quads in {time.perf_counter() - start:.1f}s")

    app = create_app(config, store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    hub_url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/sparql"

    print()
    print("| query | store p50 ms | store p95 ms | hub p50 ms | hub p95 ms | hub overhead (p50) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, query in QUERIES.items():
        direct, through = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            direct.append(timed(store.query_url, query, {"union-default-graph": ""}))
            through.append(timed(hub_url, query, {}))
        d50, h50 = statistics.median(direct), statistics.median(through)
        d95 = statistics.quantiles(direct, n=20)[-1]
        h95 = statistics.quantiles(through, n=20)[-1]
        overhead = f"{(h50 - d50) / d50:+.0%} ({h50 - d50:+.1f} ms)"
        print(f"| {name} | {d50:.1f} | {d95:.1f} | {h50:.1f} | {h95:.1f} | {overhead} |")
    server.should_exit = True
    store.close()


if __name__ == "__main__":
    main()
