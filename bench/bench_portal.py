"""Benchmark: the `portal` harvester crawling generated local pages vs requests + extruct.

Writes N place pages (half schema.org JSON-LD, half plain HTML read with CSS/XPath
`fields`) plus index pages linking them, serves them from a separate `http.server`
process on loopback, and crawls them with the portal harvester (download_delay 0, high
concurrency: a benchmark of the harvester, never settings for a real portal). The
baseline fetches the same place URLs one after another with `requests` and extracts
them in-process with extruct and the same selectors (parsel).

    /work/venv/bin/python bench/bench_portal.py [--pages 2000] [--concurrency 16]
                                                [--latency-ms 0]

With --latency-ms the server waits before each answer, as a remote portal would: the
sequential baseline then pays the latency once per page, the crawler once per batch.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hub  # noqa: E402, F401  (imports the hub before its harvesters)
from harvesters.portal import harvest_portal  # noqa: E402

FIELDS = {
    "identifier": "css:article.place::attr(data-id)",
    "name_it": "css:article.place section[lang=it] .name::text",
    "name_en": "css:article.place section[lang=en] .name::text",
    "description_it": "css:article.place section[lang=it] .description",
    "municipality": "css:article.place .municipality::text",
    "lat": "xpath://article[@class='place']//span[@class='lat']/text()",
    "lon": "xpath://article[@class='place']//span[@class='lon']/text()",
}
PER_INDEX = 100
TEXT = "Synthetic sample text for the benchmark. " * 12


def _jsonld_page(n: int) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "TouristAttraction",
        "identifier": f"b-{n}",
        "name": f"Luogo {n}",
        "description": TEXT,
        "geo": {"@type": "GeoCoordinates", "latitude": 43 + n / 1e5, "longitude": 10 + n / 1e5},
        "address": {"@type": "PostalAddress", "addressLocality": "Livorno"},
    }
    return (
        f'<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Luogo {n}</title>'
        f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><main><h1>Luogo {n}</h1><p>{TEXT}</p></main>"
        '<nav><a href="../index-1.html">Indice</a></nav></body></html>'
    )


def _fields_page(n: int) -> str:
    return (
        f'<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Luogo {n}</title>'
        f'</head><body><article class="place" data-id="b-{n}">'
        f'<section lang="it"><h1 class="name">Luogo {n}</h1>'
        f'<div class="description"><p>{TEXT}</p></div></section>'
        f'<section lang="en"><h2 class="name">Place {n}</h2></section>'
        f'<p><span class="municipality">Livorno</span> <span class="lat">{43 + n / 1e5}</span> '
        f'<span class="lon">{10 + n / 1e5}</span></p></article>'
        '<nav><a href="../index-1.html">Indice</a></nav></body></html>'
    )


def write_site(folder: Path, pages: int) -> list[str]:
    """Write the place and index pages; returns the place pages' paths."""
    (folder / "p").mkdir()
    paths = []
    for n in range(pages):
        page = _jsonld_page(n) if n % 2 == 0 else _fields_page(n)
        (folder / "p" / f"{n}.html").write_text(page, encoding="utf-8")
        paths.append(f"p/{n}.html")
    chunks = [paths[i : i + PER_INDEX] for i in range(0, len(paths), PER_INDEX)]
    for i, chunk in enumerate(chunks, start=1):
        links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in chunk)
        nxt = f'<a href="index-{i + 1}.html">next</a>' if i < len(chunks) else ""
        (folder / f"index-{i}.html").write_text(
            f"<!doctype html><html><body><ul>{links}</ul>{nxt}</body></html>", encoding="utf-8"
        )
    (folder / "robots.txt").write_text("User-agent: *\nDisallow: /admin/\n", encoding="utf-8")
    return paths


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A threading http.server that waits `latency` seconds before each answer, as a remote
# portal would; run as its own process so it competes with neither crawler for the GIL.
_SERVER = """
import http.server, sys, time
latency = float(sys.argv[2])
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if latency:
            time.sleep(latency)
        super().do_GET()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def serve(folder: Path, latency: float) -> tuple[subprocess.Popen, str]:
    """The server process on loopback, once it answers."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port), str(latency)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}/"


def _mib(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def bench_portal(base: str, concurrency: int) -> tuple[int, float]:
    """Crawl with the portal harvester; returns (records, seconds); records are only counted."""
    options = {
        "start_urls": [base + "index-1.html"],
        "item_urls": [r"/p/\d+\.html$"],
        "download_delay": 0,
        "concurrency": concurrency,
        "max_pages": 100_000,
        "fields": FIELDS,
    }
    started = time.perf_counter()
    records = sum(1 for _ in harvest_portal("bench", options, root=Path(".")))
    return records, time.perf_counter() - started


def bench_baseline(base: str, paths: list[str]) -> tuple[int, float]:
    """requests, one URL after another, + extruct and parsel in this process."""
    import extruct
    import requests
    from parsel import Selector

    started = time.perf_counter()
    records = 0
    with requests.Session() as session:
        for path in paths:
            url = base + path
            html = session.get(url, timeout=30).text
            data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "microdata"])
            items = data["json-ld"] + data["microdata"]
            if items:
                records += len(items)
                continue
            selector = Selector(text=html)
            values = {
                name: (
                    selector.css(expr[4:]) if expr.startswith("css:") else selector.xpath(expr[6:])
                ).getall()
                for name, expr in FIELDS.items()
            }
            records += any(values.values())
    return records, time.perf_counter() - started


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Run both and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="server wait before each answer"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        folder = Path(tmp)
        paths = write_site(folder, args.pages)
        fetched = args.pages + -(-args.pages // PER_INDEX)
        server, base = serve(folder, args.latency_ms / 1000)
        try:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            cpu_before = _cpu(resource.RUSAGE_SELF)
            records, seconds = bench_portal(base, args.concurrency)
            parent_cpu = _cpu(resource.RUSAGE_SELF) - cpu_before
            parent_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            # the crawler is the only child waited for so far (the server still runs)
            child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            child_cpu = _cpu(resource.RUSAGE_CHILDREN)
            cpu_before = _cpu(resource.RUSAGE_SELF)
            b_records, b_seconds = bench_baseline(base, paths)
            b_cpu = _cpu(resource.RUSAGE_SELF) - cpu_before
            b_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        finally:
            server.terminate()
            server.wait()
    print(
        f"portal harvester ({fetched} pages incl. index pages, concurrency "
        f"{args.concurrency}, download_delay 0, server latency {args.latency_ms:g} ms):"
    )
    print(
        f"  {records} records in {seconds:.2f} s: {fetched / seconds:.0f} pages/s, "
        f"{records / seconds:.0f} records/s"
    )
    print(
        f"  peak RSS: parent {_mib(parent_peak):.0f} MiB (before the crawl "
        f"{_mib(rss_before):.0f} MiB), crawler child {_mib(child_peak):.0f} MiB"
    )
    print(f"  CPU: parent {parent_cpu:.2f} s, crawler child {child_cpu:.2f} s")
    print(f"baseline (requests one by one + extruct + parsel in-process, {len(paths)} pages):")
    print(
        f"  {b_records} records in {b_seconds:.2f} s: {len(paths) / b_seconds:.0f} pages/s, "
        f"{b_records / b_seconds:.0f} records/s; CPU {b_cpu:.2f} s"
    )
    print(f"  peak RSS of this process after the baseline: {_mib(b_peak):.0f} MiB")
    ratio = (records / seconds) / (b_records / b_seconds)
    print(f"portal / baseline, records/s: {ratio:.2f}x")


if __name__ == "__main__":
    main()
