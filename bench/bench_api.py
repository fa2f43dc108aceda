"""Benchmark: /api/v1 (read model) against the same questions asked of the store in SPARQL.

Generates N entities (default 1,000,000) across 10 sources and the 5 regions (names and
descriptions in it/fr/en, coordinates around real towns, types, categories, themes),
writes them as CSV files with one YARRRML mapping and a temporary hub.toml, runs every
source THROUGH THE PIPELINE (`run_source`: harvest, map, stage, SHACL, publish), brings
the read model up to date (`hub.readmodel.sync`), then serves the hub with a real uvicorn
server on loopback (one process, the store in its default child `oxigraph serve`) and
measures, at 1 and 16 concurrent clients (threads with keep-alive connections, in this
process), p50/p95/p99 latency and throughput of:

    list      type + region, sorted by name, page 1-5 of 20 (with the total count)
    search    q = one or two words (names and descriptions, every language)
    bbox      a 10-30 km box around a town
    radius    near a town, 2-10 km, nearest first
    stats     facet counts for a region
    entity    one entity by id (read model + merged statements from the store)
    mix       all of the above, at random

and the same logical queries sent straight to the store's SPARQL endpoint (the child
`oxigraph serve`, which stops a query after [store] timeout_s). Parameters are drawn at
random per request, so caches see realistic repeats, not one URL.

    python bench/bench_api.py                          # 1,000,000 entities
    python bench/bench_api.py --entities 100000        # quicker
    python bench/bench_api.py --workdir W --reuse      # measure again without reloading
    python bench/bench_api.py --workdir W --reuse --api-processes 0,3 --sparql-clients ""
                                                       # in the server's threads, then with
                                                       # [serve] api_processes = 3
    python bench/bench_api.py --workdir W --reuse --workers 2 --sparql-clients ""
                                                       # 2 uvicorn processes, no SPARQL side
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import goals

SOURCES = 10
PROJECTS = (
    "smart-destination",
    "itinera",
    "smartic",
    "vivimed",
    "cambusa",
    "itaca",
    "sistina",
    "tesori-nascosti",
    "mare-di-agrumi",
    "intense",
)
THEMES = (
    "digital-ecosystems",
    "co-marketing",
    "destination-governance",
    "itineraries-packages-maps",
    "business-networks",
    "brands-certifications",
    "sme-involvement",
    "knowledge-sharing",
)
TOWNS = {
    "toscana": [
        ("Livorno", 43.548, 10.311),
        ("Pisa", 43.716, 10.402),
        ("Lucca", 43.843, 10.505),
        ("Viareggio", 43.872, 10.250),
        ("Grosseto", 42.760, 11.113),
        ("Portoferraio", 42.813, 10.314),
        ("Piombino", 42.926, 10.526),
        ("Massa", 44.036, 10.141),
        ("Carrara", 44.079, 10.098),
        ("Orbetello", 42.441, 11.212),
        ("Castiglione della Pescaia", 42.764, 10.882),
        ("Cecina", 43.312, 10.517),
        ("Follonica", 42.919, 10.761),
        ("Capoliveri", 42.745, 10.380),
        ("Porto Santo Stefano", 42.436, 11.117),
        ("Forte dei Marmi", 43.963, 10.174),
    ],
    "liguria": [
        ("Genova", 44.407, 8.934),
        ("La Spezia", 44.102, 9.824),
        ("Sanremo", 43.817, 7.776),
        ("Savona", 44.309, 8.477),
        ("Imperia", 43.889, 8.039),
        ("Camogli", 44.349, 9.155),
        ("Portofino", 44.303, 9.209),
        ("Rapallo", 44.350, 9.231),
        ("Lerici", 44.076, 9.911),
        ("Alassio", 44.005, 8.173),
        ("Finale Ligure", 44.169, 8.343),
        ("Sestri Levante", 44.272, 9.394),
        ("Chiavari", 44.317, 9.322),
        ("Monterosso al Mare", 44.146, 9.654),
        ("Ventimiglia", 43.790, 7.608),
        ("Varazze", 44.360, 8.577),
    ],
    "sardegna": [
        ("Cagliari", 39.223, 9.121),
        ("Alghero", 40.558, 8.319),
        ("Olbia", 40.923, 9.498),
        ("Sassari", 40.727, 8.560),
        ("Nuoro", 40.321, 9.330),
        ("Oristano", 39.903, 8.592),
        ("Villasimius", 39.141, 9.521),
        ("Arzachena", 41.078, 9.388),
        ("La Maddalena", 41.214, 9.408),
        ("Bosa", 40.298, 8.498),
        ("Castelsardo", 40.914, 8.713),
        ("Dorgali", 40.291, 9.587),
        ("Pula", 38.972, 8.999),
        ("Carloforte", 39.146, 8.306),
        ("Stintino", 40.938, 8.223),
        ("Orosei", 40.378, 9.694),
    ],
    "corse": [
        ("Ajaccio", 41.919, 8.738),
        ("Bastia", 42.697, 9.451),
        ("Bonifacio", 41.387, 9.159),
        ("Calvi", 42.568, 8.757),
        ("Porto-Vecchio", 41.591, 9.279),
        ("Corte", 42.306, 9.150),
        ("Propriano", 41.676, 8.904),
        ("L'Île-Rousse", 42.634, 8.937),
        ("Sartène", 41.621, 8.975),
        ("Saint-Florent", 42.681, 9.303),
        ("Cargèse", 42.134, 8.596),
        ("Piana", 42.238, 8.648),
        ("Zonza", 41.749, 9.171),
        ("Erbalunga", 42.772, 9.474),
        ("Ghisonaccia", 42.016, 9.405),
        ("Aléria", 42.104, 9.513),
    ],
    "paca": [
        ("Nice", 43.710, 7.262),
        ("Antibes", 43.580, 7.125),
        ("Cannes", 43.552, 7.017),
        ("Menton", 43.775, 7.497),
        ("Toulon", 43.124, 5.928),
        ("Hyères", 43.120, 6.129),
        ("Fréjus", 43.433, 6.737),
        ("Saint-Raphaël", 43.425, 6.768),
        ("Grasse", 43.659, 6.923),
        ("Saint-Tropez", 43.272, 6.640),
        ("Villefranche-sur-Mer", 43.704, 7.311),
        ("Sainte-Maxime", 43.309, 6.636),
        ("Bandol", 43.136, 5.753),
        ("Vence", 43.722, 7.112),
        ("Le Lavandou", 43.137, 6.368),
        ("Cagnes-sur-Mer", 43.664, 7.149),
    ],
}
# (it, fr, en) words per schema.org type, and the offer categories of that type
KINDS = {
    "TouristAttraction": (
        [
            ("Castello", "Château", "Castle"),
            ("Torre", "Tour", "Tower"),
            ("Museo", "Musée", "Museum"),
            ("Spiaggia", "Plage", "Beach"),
            ("Cala", "Crique", "Cove"),
            ("Forte", "Fort", "Fort"),
            ("Giardino", "Jardin", "Garden"),
            ("Faro", "Phare", "Lighthouse"),
            ("Abbazia", "Abbaye", "Abbey"),
            ("Belvedere", "Belvédère", "Viewpoint"),
            ("Chiesa", "Église", "Church"),
            ("Grotta", "Grotte", "Cave"),
        ],
        ["culture-heritage", "museums", "archaeology", "nature", "sea-coast"],
    ),
    "LodgingBusiness": (
        [
            ("Albergo", "Hôtel", "Hotel"),
            ("Agriturismo", "Ferme-auberge", "Farm stay"),
            ("Locanda", "Auberge", "Inn"),
            ("Campeggio", "Camping", "Campsite"),
            ("Residenza", "Résidence", "Residence"),
            ("Ostello", "Auberge de jeunesse", "Hostel"),
        ],
        ["accommodation"],
    ),
    "FoodEstablishment": (
        [
            ("Ristorante", "Restaurant", "Restaurant"),
            ("Trattoria", "Bistrot", "Tavern"),
            ("Osteria", "Taverne", "Eatery"),
            ("Pasticceria", "Pâtisserie", "Pastry shop"),
            ("Enoteca", "Cave à vin", "Wine bar"),
            ("Gelateria", "Glacier", "Ice cream parlour"),
        ],
        ["food-wine"],
    ),
    "Event": (
        [
            ("Festa", "Fête", "Festival"),
            ("Sagra", "Foire", "Food fair"),
            ("Concerto", "Concert", "Concert"),
            ("Mercato", "Marché", "Market"),
            ("Regata", "Régate", "Regatta"),
            ("Mostra", "Exposition", "Exhibition"),
        ],
        ["events"],
    ),
    "TouristTrip": (
        [
            ("Sentiero", "Sentier", "Trail"),
            ("Itinerario", "Itinéraire", "Route"),
            ("Percorso", "Parcours", "Path"),
            ("Ciclovia", "Véloroute", "Cycle route"),
        ],
        ["hiking", "cycling", "outdoor"],
    ),
    "Store": (
        [
            ("Bottega", "Boutique", "Shop"),
            ("Laboratorio", "Atelier", "Workshop"),
            ("Frantoio", "Moulin à huile", "Oil mill"),
            ("Cantina", "Cave", "Winery"),
        ],
        ["crafts", "food-wine"],
    ),
}
SOURCE_KINDS = (
    ("TouristAttraction",),
    ("LodgingBusiness",),
    ("FoodEstablishment",),
    ("Event",),
    ("TouristTrip",),
    ("Store",),
    ("TouristAttraction", "LodgingBusiness", "FoodEstablishment"),
    ("Event", "TouristAttraction"),
    ("LodgingBusiness", "FoodEstablishment"),
    ("TouristAttraction", "Store"),
)
PROPER = (
    "Bellavista",
    "Marina",
    "Belvedere",
    "Aurora",
    "Miramare",
    "Paradiso",
    "Corallo",
    "Gabbiano",
    "Scogliera",
    "Tramonto",
    "Levante",
    "Ponente",
    "Maestrale",
    "Libeccio",
    "Scirocco",
    "Tramontana",
    "Oleandro",
    "Mirto",
    "Ginepro",
    "Lentisco",
    "Rosmarino",
    "Lavanda",
    "Agrumi",
    "Limoni",
    "Ulivi",
    "Vigneto",
    "Fontana",
    "Sorgente",
    "Pineta",
    "Macchia",
    "Rocca",
    "Borgo",
    "Castagno",
    "Quercia",
    "Sughero",
    "Fenicottero",
    "Delfino",
    "Tonnara",
    "Salina",
    "Approdo",
)
FAMILIES = (
    "Rossi",
    "Bianchi",
    "Ferrari",
    "Esposito",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "Costa",
    "Giordano",
    "Mancini",
    "Lombardi",
    "Moretti",
    "Barbieri",
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "Santoni",
    "Casanova",
    "Peretti",
    "Pinna",
    "Piras",
    "Serra",
    "Sanna",
    "Mura",
    "Melis",
    "Deiana",
    "Fadda",
    "Orrù",
    "Porcu",
)
ADJECTIVES = (
    ("panoramico", "panoramique", "panoramic"),
    ("storico", "historique", "historic"),
    ("tranquillo", "tranquille", "quiet"),
    ("familiare", "familial", "family-run"),
    ("autentico", "authentique", "authentic"),
    ("rinnovato", "rénové", "renovated"),
    ("accogliente", "accueillant", "welcoming"),
    ("antico", "ancien", "ancient"),
)
FEATURES = (
    ("vista mare", "vue sur la mer", "sea view"),
    ("centro storico", "centre historique", "old town"),
    ("prodotti locali", "produits locaux", "local produce"),
    ("parcheggio", "parking", "parking"),
    ("sentieri", "sentiers", "trails"),
    ("porto", "port", "harbour"),
    ("colline", "collines", "hills"),
    ("pineta", "pinède", "pine wood"),
    ("spiaggia", "plage", "beach"),
    ("vigneti", "vignobles", "vineyards"),
    ("giardino", "jardin", "garden"),
    ("terrazza", "terrasse", "terrace"),
    ("piscina", "piscine", "pool"),
    ("uliveti", "oliveraies", "olive groves"),
    ("scogliera", "falaise", "cliffs"),
    ("faro", "phare", "lighthouse"),
    ("mercato", "marché", "market"),
    ("piazza", "place", "square"),
    ("castello", "château", "castle"),
    ("bosco", "forêt", "woods"),
    ("fiume", "rivière", "river"),
    ("lago", "lac", "lake"),
    ("stazione", "gare", "station"),
    ("aeroporto", "aéroport", "airport"),
    ("museo", "musée", "museum"),
    ("cattedrale", "cathédrale", "cathedral"),
    ("mura", "remparts", "walls"),
    ("isola", "île", "island"),
    ("grotte", "grottes", "caves"),
    ("cantine", "caves à vin", "wine cellars"),
)
"""Description words: a few dozen, so one of them is in a few per cent of descriptions."""

MAPPING = """\
# Bench: one generic tourist-offer mapping for every generated source (like smartdest-offer).
prefixes:
  category: https://w3id.org/marittimo-hub/category/
  theme: https://w3id.org/marittimo-hub/theme/
mappings:
  offer:
    s: id:$(id)
    po:
      - [a, schema:$(schema_type)~iri]
      - [schema:identifier, $(id)]
      - [schema:name, $(name_it), it~lang]
      - [schema:name, $(name_fr), fr~lang]
      - [schema:name, $(name_en), en~lang]
      - [schema:description, $(description_it), it~lang]
      - [schema:description, $(description_fr), fr~lang]
      - [schema:description, $(description_en), en~lang]
      - [schema:url, $(website)~iri]
      - [schema:latitude, $(lat), xsd:decimal]
      - [schema:longitude, $(lon), xsd:decimal]
      - [schema:dateModified, $(updated_at), xsd:dateTime]
      - [schema:startDate, $(start_date), xsd:date]
      - [mh:region, programme:region/$(region)~iri]
      - [mh:municipality, $(municipality)]
      - [mh:category, category:$(category)~iri]
      - [mh:theme, theme:$(theme)~iri]
      - [schema:address, id:$(id)/address~iri]
      - [geo:hasGeometry, id:$(id)/geometry~iri]
  address:
    s: id:$(id)/address
    po:
      - [a, schema:PostalAddress]
      - [schema:addressLocality, $(municipality)]
      - [schema:addressCountry, $(country)]
  geometry:
    s: id:$(id)/geometry
    po:
      - [a, geo:Geometry]
      - [geo:asWKT, "POINT ($(lon) $(lat))", geo:wktLiteral]
"""
COLUMNS = (
    "id",
    "schema_type",
    "name_it",
    "name_fr",
    "name_en",
    "description_it",
    "description_fr",
    "description_en",
    "website",
    "lat",
    "lon",
    "updated_at",
    "start_date",
    "region",
    "municipality",
    "country",
    "category",
    "theme",
)


def source_id(n: int) -> str:
    return f"bench-{n:02d}"


def generate(folder: Path, entities: int, seed: int = 7) -> None:
    """Write one CSV per source, the mapping and hub.toml."""
    rng = random.Random(seed)
    per_source = entities // SOURCES
    now = datetime(2025, 6, 1, tzinfo=UTC)
    toml = [
        '[hub]\nstore = "store"\ndata_dir = "var"\nkeep_versions = 1\nraw_keep = 0\n',
        '[store]\nbackend = "server"\ntimeout_s = 30\n',
        "[quality]\nmax_error_rate = 0.01\n",
    ]
    for n in range(SOURCES):
        sid = source_id(n)
        kinds = SOURCE_KINDS[n]
        themes = (THEMES[n % len(THEMES)], THEMES[(n * 3 + 1) % len(THEMES)])
        with (folder / f"{sid}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for i in range(per_source):
                writer.writerow(_row(rng, n, i, kinds, themes, now))
        toml.append(
            f'[sources.{sid}]\nproject = "{PROJECTS[n]}"\nkind = "files"\nmapping = "mapping.yml"\n'
            f'title = "Bench source {n}"\nlicence = "https://creativecommons.org/licenses/by/4.0/"\n'
            f'steward = "mailto:bench@example.org"\nkey = "id"\n'
            f'[sources.{sid}.options]\npath = "{sid}.csv"\nformat = "csv"\n'
        )
    (folder / "mapping.yml").write_text(MAPPING, encoding="utf-8")
    (folder / "hub.toml").write_text("\n".join(toml), encoding="utf-8")


def _row(
    rng: random.Random,
    n: int,
    i: int,
    kinds: tuple[str, ...],
    themes: tuple[str, str],
    now: datetime,
) -> list[str]:
    kind = rng.choice(kinds)
    nouns, categories = KINDS[kind]
    region = rng.choice(list(TOWNS))
    town, tlat, tlon = rng.choice(TOWNS[region])
    lat = tlat + rng.gauss(0, 0.04)
    lon = tlon + rng.gauss(0, 0.05)
    noun = rng.choice(nouns)
    proper = rng.choice(PROPER) if rng.random() < 0.7 else rng.choice(FAMILIES)
    adjective = rng.choice(ADJECTIVES)
    one, two = rng.sample(FEATURES, 2)
    names = [f"{noun[k]} {proper}" + (f" {town}" if rng.random() < 0.4 else "") for k in range(3)]
    descriptions = [
        f"{noun[0]} {adjective[0]} a {town}: {one[0]} e {two[0]}.",
        f"{noun[1]} {adjective[1]} à {town} : {one[1]} et {two[1]}.",
        f"{adjective[2].capitalize()} {noun[2].lower()} in {town}: {one[2]} and {two[2]}.",
    ]
    updated = now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
    start = (
        (now + timedelta(days=rng.randint(-30, 300))).date().isoformat() if kind == "Event" else ""
    )
    key = f"{n:02d}-{i:07d}"
    return [
        key,
        kind,
        *names,
        *descriptions,
        f"https://{source_id(n)}.example/{key}" if rng.random() < 0.5 else "",
        f"{lat:.5f}",
        f"{lon:.5f}",
        updated.strftime("%Y-%m-%dT%H:%M:%S"),
        start,
        region,
        town,
        "FR" if region in ("corse", "paca") else "IT",
        rng.choice(categories),
        themes[0] if rng.random() < 0.8 else themes[1],
    ]


# -- loading -------------------------------------------------------------------
def load(folder: Path) -> dict:
    """Run every source through the pipeline, then bring the read model up to date."""
    from hub.config import load_config
    from hub.pipeline.programme import load_programme
    from hub.pipeline.run import run_source
    from hub.readmodel import readmodel_path, rebuild_source, sync
    from hub.store import open_store

    config = load_config(folder / "hub.toml")
    store = open_store(config.store_path)
    load_programme(store, config)
    runs = {}
    started = time.perf_counter()
    for sid in config.sources:
        t0 = time.perf_counter()
        report = run_source(config, store, sid)
        runs[sid] = {
            "seconds": time.perf_counter() - t0,
            "status": report.status,
            "records": report.records,
            "triples": report.triples,
            "message": report.message,
        }
        print(f"  {report.summary()}", flush=True)
        if not report.ok:
            raise SystemExit(f"{sid} was not published: {report.message}")
    pipeline = time.perf_counter() - started
    store.close()
    t0 = time.perf_counter()
    synced = sync(config)
    sync_s = time.perf_counter() - t0
    first = next(iter(config.sources))
    from hub.pipeline.state import load_state

    state = load_state(config.data_path, first)
    t0 = time.perf_counter()
    count = rebuild_source(
        config, first, config.data_path / state.version_file, run_id=state.run_id
    )
    one_rebuild = time.perf_counter() - t0
    return {
        "pipeline_s": pipeline,
        "runs": runs,
        "sync_s": sync_s,
        "sync": synced,
        "rebuild_one_s": one_rebuild,
        "rebuild_one_entities": count,
        "readmodel_mb": readmodel_path(config).stat().st_size / 1e6,
    }


# -- serving -------------------------------------------------------------------
def serve(folder: Path, port: int, workers: int = 1, api_processes: int = 0) -> None:
    """Child process: the hub's app on uvicorn, the store in its default child server.

    With `workers` > 1, uvicorn's worker processes each serve the app, reading the store
    through the server this process started. `api_processes` sets `[serve] api_processes`
    (the /api/v1 work in that many processes of the one server).
    """
    import os
    import signal

    import uvicorn

    from hub.api import create_app
    from hub.api.v1.processes import close_pool
    from hub.cli import exit_on_sigterm
    from hub.config import load_config
    from hub.store import connect_store

    # as `hub serve`: the benchmark's SIGTERM ends this process through `finally`, which
    # stops the worker pool and the store's server (else: "leaked semaphore objects")
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    config = load_config(folder / "hub.toml")
    config.serve.api_processes = api_processes
    store = connect_store(config, owner="bench")
    try:
        if workers > 1:
            os.environ["HUB_BENCH_FOLDER"] = str(folder)
            uvicorn.run(
                "bench_api:worker_app",
                factory=True,
                workers=workers,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                access_log=False,
            )
            return
        app = create_app(config, store)
        try:
            uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        finally:
            close_pool(app.state)
    finally:
        store.close()


def worker_app() -> object:
    """The app of one uvicorn worker process (`serve` with workers)."""
    import os

    from hub.api import create_app
    from hub.config import load_config
    from hub.store import connect_store

    config = load_config(Path(os.environ["HUB_BENCH_FOLDER"]) / "hub.toml")
    return create_app(config, connect_store(config, write=False))


def paced(port: int) -> str:
    """How many of the hub's store queries found its query window full (its /metrics): the
    entity figures measure the store's pace alone only when none did."""
    from prometheus_client.parser import text_string_to_metric_families

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/metrics")
    found: dict[str, int] = {}
    for family in text_string_to_metric_families(conn.getresponse().read().decode()):
        for sample in family.samples:
            if sample.name == "hub_store_queries_paced_total":
                found[sample.labels["outcome"]] = int(sample.value)
    return f"waited {found.get('waited', 0)}, refused {found.get('refused', 0)}"


def wait_ready(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/types")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the hub did not start")


# -- the questions ---------------------------------------------------------------
SCHEMA = "http://schema.org/"
MH = "https://w3id.org/marittimo-hub/ns#"
REGION = "https://hub.example.org/id/programme/region/"


@dataclass
class Query:
    """One logical question, as an API path and as SPARQL."""

    api: str
    sparql: str


def _words(rng: random.Random) -> list[str]:
    pools = [
        [n[k] for nouns, _ in KINDS.values() for n in nouns for k in range(3) if " " not in n[k]],
        list(PROPER),
        list(FAMILIES),
        [t for towns in TOWNS.values() for t, _, _ in towns if " " not in t],
    ]
    words = [rng.choice(rng.choice(pools))]
    if rng.random() < 0.5:
        words.append(rng.choice(rng.choice(pools)))
    return words


def _town(rng: random.Random) -> tuple[str, float, float]:
    return rng.choice(TOWNS[rng.choice(list(TOWNS))])


def q_list(rng: random.Random, entities: int) -> Query:
    kind = rng.choice(list(KINDS))
    region = rng.choice(list(TOWNS))
    page = rng.randint(1, 5)
    return Query(
        f"/api/v1/entities?type={kind}&region={region}&page={page}&size=20",
        f"""SELECT ?e ?name WHERE {{ ?e a <{SCHEMA}{kind}> ; <{MH}region> <{REGION}{region}> ;
        <{SCHEMA}name> ?name . FILTER(LANG(?name) = "en") }} ORDER BY ?name LIMIT 20 OFFSET {(page - 1) * 20}""",
    )


def q_search(rng: random.Random, entities: int) -> Query:
    words = _words(rng)
    filters = " && ".join(f'CONTAINS(LCASE(STR(?t)), "{w.lower()}")' for w in words)
    return Query(
        "/api/v1/entities?" + urllib.parse.urlencode({"q": " ".join(words), "size": 20}),
        f"""SELECT DISTINCT ?e WHERE {{ ?e <{SCHEMA}name>|<{SCHEMA}description> ?t . FILTER({filters}) }} LIMIT 20""",
    )


def q_bbox(rng: random.Random, entities: int) -> Query:
    _, lat, lon = _town(rng)
    half = rng.uniform(0.05, 0.15)
    box = (lon - half, lat - half, lon + half, lat + half)
    return Query(
        "/api/v1/entities?bbox=" + ",".join(f"{v:.4f}" for v in box) + "&size=20",
        f"""SELECT ?e WHERE {{ ?e <{SCHEMA}latitude> ?lat ; <{SCHEMA}longitude> ?lon .
        FILTER(?lat >= {box[1]:.4f} && ?lat <= {box[3]:.4f} && ?lon >= {box[0]:.4f} && ?lon <= {box[2]:.4f}) }} LIMIT 20""",
    )


def q_radius(rng: random.Random, entities: int) -> Query:
    _, lat, lon = _town(rng)
    lat += rng.uniform(-0.02, 0.02)
    lon += rng.uniform(-0.02, 0.02)
    km = rng.uniform(2, 10)
    d = km / 111.0
    return Query(
        f"/api/v1/entities?near={lat:.4f},{lon:.4f}&radius={km:.1f}&size=20",
        f"""SELECT ?e ?d WHERE {{ ?e <{SCHEMA}latitude> ?lat ; <{SCHEMA}longitude> ?lon .
        FILTER(?lat >= {lat - d:.4f} && ?lat <= {lat + d:.4f} && ?lon >= {lon - 1.4 * d:.4f} && ?lon <= {lon + 1.4 * d:.4f})
        BIND((?lat - {lat:.4f}) * (?lat - {lat:.4f}) + 0.55 * (?lon - {lon:.4f}) * (?lon - {lon:.4f}) AS ?d)
        FILTER(?d <= {d * d:.6f}) }} ORDER BY ?d LIMIT 20""",
    )


def q_stats(rng: random.Random, entities: int) -> Query:
    region = rng.choice(list(TOWNS))
    return Query(
        f"/api/v1/stats?region={region}",
        f"""SELECT ?t (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e <{MH}region> <{REGION}{region}> ; a ?t }} GROUP BY ?t""",
    )


def q_entity(rng: random.Random, entities: int) -> Query:
    n = rng.randrange(SOURCES)
    i = rng.randrange(max(entities // SOURCES, 1))
    key = f"{n:02d}-{i:07d}"
    iri = f"https://hub.example.org/id/{source_id(n)}/{key}"
    return Query(
        f"/api/v1/entities/{source_id(n)}/{key}",
        f"SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}",
    )


SCENARIOS: dict[str, Callable[[random.Random, int], Query]] = {
    "list": q_list,
    "search": q_search,
    "bbox": q_bbox,
    "radius": q_radius,
    "stats": q_stats,
    "entity": q_entity,
}


def q_mix(rng: random.Random, entities: int) -> Query:
    return rng.choice(list(SCENARIOS.values()))(rng, entities)


# -- load generation ---------------------------------------------------------------
@dataclass
class Result:
    """Latencies of one scenario at one concurrency."""

    target: str
    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    rows: list[int] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    setup: str = ""  # how the server ran, when not as `hub serve` does by default

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    def row(self) -> str:
        n = len(self.latencies)
        rate = n / self.seconds if self.seconds else 0.0
        mean = statistics.fmean(self.latencies) * 1000 if n else float("nan")
        return (
            f"| {self.target}{self.setup} | {self.name} | {self.clients} | {n} | {self.pct(50):.1f} | {self.pct(95):.1f} | "
            f"{self.pct(99):.1f} | {mean:.1f} | {rate:,.0f} | {self.errors} | "
            f"{statistics.fmean(self.rows) if self.rows else 0:.1f} | "
            f"{statistics.fmean(self.totals) if self.totals else float('nan'):,.0f} |"
        )


async def _fetch(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a kept-alive connection; (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length) if length else b""
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _request(target: str, query: Query, host: str) -> bytes:
    if target == "api":
        return f"GET {query.api} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    body = query.sparql.encode()
    return (
        f"POST /query?union-default-graph HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/sparql-query\r\nAccept: application/sparql-results+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _rows_and_total(target: str, body: bytes) -> tuple[int, int | None]:
    """How many rows an answer has (to check that answers are not empty) and its `total`.

    One parse per answer: the clients share the machine with the server.
    """
    try:
        data = json.loads(body)
    except ValueError:
        return 0, None
    if target == "sparql":
        return len(data.get("results", {}).get("bindings", [])), None
    total = data.get("total") if isinstance(data, dict) else None
    return (len(data["items"]) if "items" in data else 1), total


def run(
    target: str,
    name: str,
    make: Callable[[random.Random, int], Query],
    clients: int,
    host: tuple[str, int],
    seconds: float,
    max_requests: int,
    entities: int,
    timeout: float,
) -> Result:
    """Send requests over `clients` kept-alive connections for `seconds` (or `max_requests`)."""
    return asyncio.run(
        _run(target, name, make, clients, host, seconds, max_requests, entities, timeout)
    )


async def _run(
    target: str,
    name: str,
    make: Callable[[random.Random, int], Query],
    clients: int,
    host: tuple[str, int],
    seconds: float,
    max_requests: int,
    entities: int,
    timeout: float,
) -> Result:
    result = Result(target, name, clients)
    sent = [0]
    deadline = time.perf_counter() + seconds
    authority = f"{host[0]}:{host[1]}"

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection(*host)
        try:
            while time.perf_counter() < deadline and sent[0] < max_requests:
                sent[0] += 1
                request = _request(target, make(rng, entities), authority)
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(_fetch(reader, writer, request), timeout)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    status, body = 0, repr(exc).encode()
                    writer.close()
                    reader, writer = await asyncio.open_connection(*host)
                elapsed = time.perf_counter() - t0
                if status == 200 and b"cancelled" not in body[-200:]:
                    result.latencies.append(elapsed)
                    rows, total = _rows_and_total(target, body)
                    result.rows.append(rows)
                    if target == "api" and total is not None:
                        result.totals.append(total)
                else:
                    result.errors += 1
                    result.first_error = result.first_error or f"{status} {body[:200]!r}"
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(
        *(client(zlib.crc32(f"{name}{clients}{k}".encode())) for k in range(clients))
    )
    result.seconds = time.perf_counter() - start
    return result


def measure(folder: Path, entities: int, args: argparse.Namespace) -> list[Result]:
    """Serve the hub in a child process and run every scenario against it, once per
    `--api-processes` setting (a server each), then against SPARQL."""
    results: list[Result] = []
    for n, processes in enumerate(args.api_processes):
        results += _measure_server(folder, entities, args, processes, sparql=n == 0)
    return results


def _measure_server(
    folder: Path, entities: int, args: argparse.Namespace, processes: int, *, sparql: bool
) -> list[Result]:
    from hub.store.server import running_server

    port = args.port
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(folder),
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--api-processes",
            str(processes),
        ]
    )
    results: list[Result] = []
    setup = f" ({processes} processes)" if processes else ""
    try:
        wait_ready(port)
        info = running_server((folder / "store").resolve())
        if info is None:
            raise SystemExit("the store's oxigraph server was not found")
        store = urllib.parse.urlsplit(info["url"])
        api = ("127.0.0.1", port)
        for name, make in SCENARIOS.items():  # warm the page cache and the count cache a little
            run("api", name, make, 4, api, 1.0, 10**9, entities, 60)
        scenarios = {**SCENARIOS, "mix": q_mix}
        for clients in args.clients:
            for name, make in scenarios.items():
                r = run("api", name, make, clients, api, args.seconds, 10**9, entities, 60)
                r.setup = setup
                print(r.row(), flush=True)
                results.append(r)
        print(f"store queries paced{setup} (decisions #46): {paced(port)}", flush=True)
        for clients in args.sparql_clients if sparql else []:
            for name, make in SCENARIOS.items():
                r = run(
                    "sparql",
                    name,
                    make,
                    clients,
                    (store.hostname, store.port),
                    args.sparql_seconds,
                    args.sparql_requests,
                    entities,
                    120,
                )
                print(r.row(), flush=True)
                results.append(r)
    finally:
        server.terminate()
        server.wait(30)
    return results


def record_goals(results: list[Result], clients: int, entities: int) -> None:
    """p95 of every API call at the most clients, per way of serving, for bench_all."""
    by_setup: dict[str, dict[str, float]] = {}
    for r in results:
        if r.target == "api" and r.clients == clients:
            setup = r.setup.strip(" ()") or "in the server's threads"
            by_setup.setdefault(f"{clients} clients, {entities:,} entities, {setup}", {})[
                r.name
            ] = r.pct(95) if not r.errors else float("inf")
    goals.record("api", by_setup)


HEADER = (
    "| target | call | clients | requests | p50 ms | p95 ms | p99 ms | mean ms | req/s | errors "
    "| rows | matches |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="measure an already loaded --workdir")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="per API scenario and concurrency"
    )
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16])
    parser.add_argument(
        "--sparql-clients", type=lambda s: [int(x) for x in s.split(",") if x], default=[1, 16]
    )
    parser.add_argument("--sparql-seconds", type=float, default=20.0)
    parser.add_argument("--sparql-requests", type=int, default=200)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (default 1, as `hub serve`)",
    )
    parser.add_argument(
        "--api-processes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[0],
        help="[serve] api_processes, comma-separated: the API is measured once per value "
        "(default 0: /api/v1 work in the server's threads); e.g. 0,3",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workers, args.api_processes[0])
        return
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="hub-bench-api-"))
    folder.mkdir(parents=True, exist_ok=True)
    summary: dict = {"entities": args.entities}
    if not args.reuse:
        t0 = time.perf_counter()
        generate(folder, args.entities)
        summary["generate_s"] = time.perf_counter() - t0
        print(
            f"[{args.entities:,} entities] CSV generated in {summary['generate_s']:.1f}s",
            flush=True,
        )
        summary.update(load(folder))
        print(
            json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1, default=str),
            flush=True,
        )
    else:
        from hub.config import load_config
        from hub.readmodel import sync

        t0 = time.perf_counter()
        done = sync(load_config(folder / "hub.toml"))
        print(f"read model sync {time.perf_counter() - t0:.1f}s: {done}", flush=True)
    print(HEADER, flush=True)
    results = measure(folder, args.entities, args)
    print(
        f"\n{args.entities:,} entities, {SOURCES} sources; uvicorn, {args.workers} process(es), "
        f"api_processes {','.join(map(str, args.api_processes))}; {os.cpu_count()}-core machine"
    )
    if not args.reuse:
        print(
            f"pipeline (harvest+map+validate+publish) {summary['pipeline_s']:.0f}s; read model sync "
            f"{summary['sync_s']:.0f}s; one source's rebuild ({summary['rebuild_one_entities']:,} entities) "
            f"{summary['rebuild_one_s']:.1f}s; read model {summary['readmodel_mb']:.0f} MB"
        )
    print(HEADER)
    for r in results:
        print(r.row())
    for r in results:
        if r.errors:
            print(f"{r.target} {r.name} x{r.clients}: {r.errors} errors, first: {r.first_error}")
    record_goals(results, max(args.clients), args.entities)
    if not (args.keep or args.workdir):
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
