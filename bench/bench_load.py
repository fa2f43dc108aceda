"""Benchmark: many clients on the REST API and /sparql while a source re-publishes in a loop.

Builds its own copy of the demo in a temporary folder (the bundled data, every source
harvested with `hub harvest`), adds an admin account (`hub user add loadbench --role
admin`), starts `hub serve` as a child process on a free loopback port, and runs a
headless locust load (its Python API, in this process) against it:

    list      /api/v1/entities with a type and/or region, sorted, page 1-3
    search    /api/v1/entities?q= one word of the demo's names
    bbox      /api/v1/entities?bbox= a box of 10-40 km around an entity's point
    near      /api/v1/entities?near=&radius= 2-25 km around an entity's point
    stats     /api/v1/stats for a region or a type (facet counts)
    entity    /api/v1/entities/{source}/{key} (read model + merged statements)
    sources   /api/v1/sources (the catalogue, read from the store)
    sparql    /sparql: four SELECT queries (counts per graph, names, a FILTER, a join)

Meanwhile a re-publisher edits one source's data file in the bench's copy (a name that
carries a counter) and asks the running hub to harvest it (`POST
/api/v1/sources/{id}/harvest` with the admin token), waits for that run to end, then
does it again every --every seconds; so readers are served while the source's graph,
read model, change feed and dump are replaced. It prints, per request type, the count,
errors, p50/p95/p99 latency (ms) and requests/s, and how many publishes happened during
the load. The reference in the same run is the load without publishing: the first
--quiet seconds (default: a quarter of the run) no publish is asked for, and the table
shows both phases. Exit status 1 when any request failed.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/bench_load.py                          # 50 users, 120 s
    .venv/bin/python bench/bench_load.py --users 20 --seconds 30  # quicker
"""

from __future__ import annotations  # noqa: I001  (locust first, see below)

# locust patches the standard library with gevent when it is imported: import it first.
import locust
from locust import FastHttpUser, between, events, task
from locust.env import Environment

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gevent
import requests

ROOT = Path(__file__).resolve().parents[1]
HUB = [sys.executable, "-m", "hub.cli"]
SOURCE = "itinera-trails"  # a local GeoJSON file: the bench edits its copy between runs
DATA_FILE = Path("hub/demo/data/itinera-trails.geojson")
ACCOUNT = "loadbench"
PREFIXES = "PREFIX schema: <http://schema.org/>\nPREFIX mh: <https://w3id.org/marittimo-hub/ns#>\n"
SPARQL = {
    "sparql graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "sparql names": PREFIXES
    + "SELECT ?x ?name WHERE { ?x a schema:TouristTrip ; schema:name ?name } LIMIT 50",
    "sparql filter": PREFIXES
    + 'SELECT ?x ?name WHERE { ?x schema:name ?name FILTER(CONTAINS(LCASE(STR(?name)), "mare")) } LIMIT 20',
    "sparql join": PREFIXES
    + "SELECT ?region (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x mh:region ?region ; a ?class } "
    "GROUP BY ?region ORDER BY DESC(?n)",
}
QUIET, LOADED = "no publishing", "publishing"


def prepare(root: Path) -> None:
    """(child process) A copy of the demo in `root`, every source harvested, the demo's
    HTTP sources on free ports only for the harvest (the bench re-publishes a local file)."""
    sys.path.insert(0, str(ROOT))
    from hub.demo import build_demo_databases
    from hub.demo.servers import demo_servers, point_config_at
    from tests.api.demo_hub import copy_demo

    copy_demo(root)
    build_demo_databases(root)
    with demo_servers(fixed_ports=False) as urls:
        point_config_at(root / "hub.toml", urls)
        done = subprocess.run([*HUB, "--config", str(root / "hub.toml"), "harvest"], cwd=ROOT)
    if done.returncode != 0:
        sys.exit("the demo harvest failed (see above)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"`hub serve` exited with status {server.returncode} (see its log above)")
        try:
            if requests.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    sys.exit(f"`hub serve` did not become ready within {seconds:.0f} s")


class Samples:
    """What clients ask about, read from the served API once before the load."""

    def __init__(self, base: str) -> None:
        items = []
        for page in range(1, 6):
            got = requests.get(
                f"{base}/api/v1/entities",
                params={"size": 100, "page": page, "fields": "id,name,lat,lon,types,regions"},
                timeout=30,
            ).json()["items"]
            items += got
            if len(got) < 100:
                break
        self.ids = [i["id"] for i in items]
        self.points = [(i["lat"], i["lon"]) for i in items if i.get("lat") is not None]
        words = {w.lower() for i in items for w in re.findall(r"\w{4,}", i.get("name") or "")}
        self.words = sorted(words)
        self.types = sorted({t.rsplit("/", 1)[-1] for i in items for t in i.get("types") or []})
        self.regions = ["toscana", "liguria", "sardegna", "corse", "paca"]


SAMPLES: Samples | None = None


class Reader(FastHttpUser):
    """A dashboard or a SPARQL client: one request, then a pause of 0-0.2 s."""

    wait_time = between(0, 0.2)

    def _get(self, name: str, path: str, params: dict) -> None:
        with self.client.get(path, params=params, name=name, catch_response=True) as res:
            if res.status_code != 200:
                res.failure(f"{res.status_code}: {res.text[:200]}")

    @task(4)
    def entities_list(self) -> None:
        s = SAMPLES
        params = {"region": random.choice(s.regions), "page": random.randint(1, 3), "size": 20}
        if random.random() < 0.5:
            params["type"] = random.choice(s.types)
        params["sort"] = random.choice(["name", "-updated"])
        self._get("entities list", "/api/v1/entities", params)

    @task(3)
    def entities_text(self) -> None:
        self._get("entities q", "/api/v1/entities", {"q": random.choice(SAMPLES.words)})

    @task(2)
    def entities_bbox(self) -> None:
        lat, lon = random.choice(SAMPLES.points)
        d = random.uniform(0.05, 0.2)  # degrees: some 10-40 km across
        bbox = f"{lon - d:.4f},{lat - d:.4f},{lon + d:.4f},{lat + d:.4f}"
        self._get("entities bbox", "/api/v1/entities", {"bbox": bbox})

    @task(2)
    def entities_near(self) -> None:
        lat, lon = random.choice(SAMPLES.points)
        params = {"near": f"{lat:.4f},{lon:.4f}", "radius": random.choice([2, 5, 10, 25])}
        self._get("entities near", "/api/v1/entities", params)

    @task(2)
    def stats(self) -> None:
        params = random.choice(
            [{"region": random.choice(SAMPLES.regions)}, {"type": random.choice(SAMPLES.types)}]
        )
        self._get("stats", "/api/v1/stats", params)

    @task(3)
    def entity(self) -> None:
        self._get("entity", f"/api/v1/entities/{random.choice(SAMPLES.ids)}", {})

    @task(1)
    def sources(self) -> None:
        self._get("sources", "/api/v1/sources", {})

    @task(3)
    def sparql(self) -> None:
        name, query = random.choice(list(SPARQL.items()))
        headers = {"Accept": "application/sparql-results+json"}
        with self.client.post(
            "/sparql", data={"query": query}, headers=headers, name=name, catch_response=True
        ) as res:
            if res.status_code != 200:
                res.failure(f"{res.status_code}: {res.text[:200]}")


def republish(base: str, root: Path, token: str, every: float, log: list[dict]) -> None:
    """(greenlet) Edit the source's file, ask the hub to harvest it, wait for the run; repeat."""
    path = root / DATA_FILE
    original = json.loads(path.read_text(encoding="utf-8"))
    auth = {"Authorization": f"Bearer {token}"}
    runs_url = f"{base}/api/v1/runs"
    session = requests.Session()
    number = 0
    while True:
        started = time.monotonic()
        number += 1
        data = json.loads(json.dumps(original))
        data["features"][0]["properties"]["name_en"] += f" (revision {number})"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        before = session.get(runs_url, params={"source": SOURCE, "size": 1}, timeout=30).json()
        res = session.post(f"{base}/api/v1/sources/{SOURCE}/harvest", headers=auth, timeout=30)
        if res.status_code != 202:
            log.append({"status": f"refused {res.status_code}", "message": res.text[:200]})
        else:
            while True:  # the run is recorded as `running` first, then with its outcome
                gevent.sleep(0.2)
                now = session.get(runs_url, params={"source": SOURCE, "size": 1}, timeout=30).json()
                if now["total"] > before["total"] and now["items"][0]["status"] != "running":
                    run = now["items"][0]
                    run["seconds"] = time.monotonic() - started
                    log.append(run)
                    break
        gevent.sleep(max(0.0, every - (time.monotonic() - started)))


def percentile(entry: locust.stats.StatsEntry, share: float) -> float:
    return entry.get_response_time_percentile(share) if entry.num_requests else float("nan")


def table(phases: dict[str, dict[str, tuple[int, int, float, float, float, float]]]) -> None:
    print(
        f"\n{'request':<16} {'phase':<14} {'count':>7} {'errors':>6} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}"
    )
    names = sorted({n for rows in phases.values() for n in rows}, key=lambda n: (n == "all", n))
    for name in names:
        for phase, rows in phases.items():
            if name in rows:
                count, errors, p50, p95, p99, rps = rows[name]
                print(
                    f"{name:<16} {phase:<14} {count:>7} {errors:>6} {p50:>7.0f} {p95:>7.0f} "
                    f"{p99:>7.0f} {rps:>7.1f}"
                )


def measure(
    env: Environment, seconds: float
) -> dict[str, tuple[int, int, float, float, float, float]]:
    """Reset the stats, let the users run for `seconds`, and read the figures."""
    env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - started
    rows = {}
    for entry in [*env.stats.entries.values(), env.stats.total]:
        name = "all" if entry is env.stats.total else entry.name
        rows[name] = (
            entry.num_requests,
            entry.num_failures,
            percentile(entry, 0.50),
            percentile(entry, 0.95),
            percentile(entry, 0.99),
            entry.num_requests / elapsed,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120, help="length of the whole load")
    parser.add_argument(
        "--quiet",
        type=float,
        default=None,
        help="seconds without publishing first (default: a quarter)",
    )
    parser.add_argument("--every", type=float, default=5, help="seconds between re-publishes")
    parser.add_argument(
        "--workdir", type=Path, help="keep the demo copy here (default: a temporary folder)"
    )
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
        return
    quiet = args.seconds / 4 if args.quiet is None else args.quiet
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hub-load-"))
    root = workdir / "demo"
    config = root / "hub.toml"
    print(
        f"machine: {platform.node()}, {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, locust {locust.__version__}",
        flush=True,
    )
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "prepare.log").open("w") as out:
        prepared = subprocess.run(
            [sys.executable, __file__, "--prepare", str(root)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if prepared.returncode != 0:
        sys.exit(f"building the demo copy failed; see {workdir / 'prepare.log'}")
    added = subprocess.run(
        [*HUB, "--config", str(config), "user", "add", ACCOUNT, "--role", "admin"],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    token = re.search(r"token[^:]*: (\S+)", added).group(1)
    print(f"demo copy in {root}: harvested in {time.monotonic() - started:.0f} s", flush=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = (workdir / "serve.log").open("w")
    server = subprocess.Popen(
        [
            *HUB,
            "--config",
            str(config),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-scheduler",
        ],
        cwd=ROOT,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(base, server)
        global SAMPLES
        SAMPLES = Samples(base)
        print(
            f"hub serve (pid {server.pid}) on {base}; {len(SAMPLES.ids)} entities sampled; "
            f"{args.users} users for {args.seconds:.0f} s ({quiet:.0f} s without publishing), "
            f"re-publishing `{SOURCE}` every {args.every:g} s after that",
            flush=True,
        )
        env = Environment(user_classes=[Reader], events=events, host=base)
        runner = env.create_local_runner()
        runner.start(args.users, spawn_rate=args.users)
        gevent.sleep(1)  # every user started
        phases = {QUIET: measure(env, quiet)}
        runs: list[dict] = []
        publisher = gevent.spawn(republish, base, root, token, args.every, runs)
        phases[LOADED] = measure(env, args.seconds - quiet)
        publisher.kill()
        runner.quit()
        failures = list(env.stats.errors.values())
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()

    table(phases)
    outcomes: dict[str, int] = {}
    for run in runs:
        outcomes[run["status"]] = outcomes.get(run["status"], 0) + 1
    took = [r["seconds"] for r in runs if "seconds" in r]
    print(
        f"\nre-publishes of `{SOURCE}` during the load: {len(runs)} runs ("
        + ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items()))
        + ")"
        + (
            f"; {min(took):.2f}-{max(took):.2f} s from the file's edit to the run's end"
            if took
            else ""
        )
    )
    for run in runs:
        if run["status"] != "published":
            print(f"  {run['status']}: {run.get('message')}")
    errors = sum(rows["all"][1] for rows in phases.values())
    for failure in failures[:10]:
        print(f"  error x{failure.occurrences}: {failure.method} {failure.name}: {failure.error}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"the demo copy and the server's log are in {workdir}")
    if errors:
        sys.exit(f"{errors} request(s) failed")


if __name__ == "__main__":
    main()
