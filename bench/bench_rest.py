"""Benchmark the `rest` harvester: 200,000 records from a local JSON API in pages of 500.

The API runs in its own process and serves pre-encoded pages (cursor paging), so the
figures are the client's. Each client runs in a fresh process, so its peak memory
(max RSS) is its own. The floor is a plain `requests` loop that fetches the same pages
and decodes the JSON, with none of the harvester's checks.

    python bench/bench_rest.py [--records 200000] [--page 500]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]


def _record(i: int) -> dict:
    return {
        "id": f"EV-{i:07d}",
        "name": {"it": f"Evento {i}", "fr": f"Événement {i}", "en": f"Event {i}"},
        "start_date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "category": ("food-wine", "events", "hiking")[i % 3],
        "location": {"municipality": "Bastia", "region": "corse", "lat": 42.697, "lon": 9.451},
        "updated_at": f"2026-01-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
    }


def _serve(records: int, page: int, ready: mp.Queue) -> None:
    pages = []
    for n, start in enumerate(range(0, records, page)):
        chunk = [_record(i) for i in range(start, min(start + page, records))]
        following = f"p{n + 1}" if start + page < records else None
        pages.append(json.dumps({"data": chunk, "next_cursor": following}).encode())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            cursor = parse_qs(urlsplit(self.path).query).get("cursor", ["p0"])[0]
            body = pages[int(cursor[1:])]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.put(f"http://127.0.0.1:{server.server_address[1]}/events")
    server.serve_forever()


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _run_baseline(url: str, out: mp.Queue) -> None:
    import requests

    imported = _max_rss_mb()
    started = time.perf_counter()
    count = requests_made = 0
    cursor = None
    with requests.Session() as session:
        while True:
            params = {"cursor": cursor} if cursor else {}
            response = session.get(url, params=params, timeout=30)
            requests_made += 1
            response.raise_for_status()
            document = json.loads(response.content)
            for _record in document["data"]:
                count += 1
            cursor = document["next_cursor"]
            if not cursor:
                break
    out.put(
        (
            "plain requests loop (floor)",
            imported,
            count,
            requests_made,
            time.perf_counter() - started,
            _max_rss_mb(),
        )
    )


def _run_harvester(url: str, out: mp.Queue) -> None:
    sys.path.insert(0, str(ROOT))
    import hub  # noqa: F401  (imports the package in its usual order)
    from harvesters import HarvestContext, get_harvester

    imported = _max_rss_mb()
    options = {
        "url": url,
        "records": "data",
        "paging": {"type": "cursor", "cursor_path": "next_cursor"},
    }
    context = HarvestContext()
    started = time.perf_counter()
    count = 0
    for _record in get_harvester("rest")("bench", options, root=ROOT, context=context):
        count += 1
    out.put(
        (
            "rest harvester",
            imported,
            count,
            context.requests,
            time.perf_counter() - started,
            _max_rss_mb(),
        )
    )


def _measure(target: object, url: str) -> tuple:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    process = ctx.Process(target=target, args=(url, out))
    process.start()
    result = out.get(timeout=600)
    process.join()
    return result


def main() -> None:
    """Start the API, run the floor and the harvester, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--page", type=int, default=500)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    ready: mp.Queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(args.records, args.page, ready), daemon=True)
    server.start()
    url = ready.get(timeout=120)
    print(f"{args.records:,} records in pages of {args.page} from {url}")
    print(
        f"{'client':28} {'records':>9} {'requests':>9} {'seconds':>8} {'records/s':>10} "
        f"{'RSS MB after imports':>21} {'max RSS MB':>11}"
    )
    try:
        results = [_measure(_run_baseline, url), _measure(_run_harvester, url)]
    finally:
        server.terminate()
    for name, imported, count, made, seconds, rss in results:
        print(
            f"{name:28} {count:>9,} {made:>9} {seconds:>8.2f} {count / seconds:>10,.0f} "
            f"{imported:>21.1f} {rss:>11.1f}"
        )
    floor, ours = results[0][4], results[1][4]
    print(f"harvester / floor time: {ours / floor:.2f}x")


if __name__ == "__main__":
    main()
