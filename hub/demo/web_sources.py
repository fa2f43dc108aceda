"""Three more demo web sources on one loopback port (SAMPLE DATA, see data/README.md).

    GET /robots.txt
    GET /stratus/...                             Stratus's WordPress site (static pages with
                                                 schema.org microdata, data/stratus-site)
    GET /ecostrim/odata/SupportNetworks          Ecostrim's OData feed:
        ?$top=N&$skip=M                          paging (at most 50 a page; server-driven
                                                 paging adds @odata.nextLink)
        ?$count=true                             adds @odata.count
        ?$expand=Services                        nests each network's services
        ?$orderby=NetworkCode                    accepted: the feed is in that order
    GET /artlabnet/wp-json/wp/v2/laboratori      Art Lab Net's WordPress REST API: a JSON list,
        ?per_page=N&page=P                       X-WP-Total / X-WP-TotalPages and a
                                                 `Link: <...>; rel="next"` header

    >>> server, base_url = start(0)   # doctest: +SKIP
    >>> stop(server)                  # doctest: +SKIP

Run it alone with `python -m hub.demo.web_sources --port 8714`.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from hub.demo._serve import serve_in_background, stop_server

__all__ = ["DATA_DIR", "WebSources", "start", "stop"]

DATA_DIR = Path(__file__).parent / "data"
_ODATA = "/ecostrim/odata/SupportNetworks"
_WP = "/artlabnet/wp-json/wp/v2/laboratori"
_ODATA_MAX = 50
_ROBOTS = b"User-agent: *\nDisallow: /stratus/wp-admin/\n"


class WebSources(ThreadingHTTPServer):
    """The server, holding the data it serves (read once at start)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        ecostrim = json.loads((DATA_DIR / "ecostrim-support.json").read_text(encoding="utf-8"))
        self.networks: list[dict[str, Any]] = ecostrim["SupportNetworks"]
        labs = json.loads((DATA_DIR / "art-lab-net-labs.json").read_text(encoding="utf-8"))
        self.posts: list[dict[str, Any]] = labs["posts"]
        self.site = (DATA_DIR / "stratus-site").resolve()
        self.thread: threading.Thread | None = None
        self.requests: list[str] = []  # paths asked for, in order (tests count them)


class _Handler(BaseHTTPRequestHandler):
    server: WebSources

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo's log is the harvest's, not each request

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", headers)

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/robots.txt":
            self._send(200, _ROBOTS, "text/plain")
        elif parts.path == _ODATA:
            self._odata(query)
        elif parts.path == _WP:
            self._wordpress(query)
        elif parts.path.startswith("/stratus/"):
            self._static(parts.path.removeprefix("/stratus/"))
        else:
            self._send(404, b"not found\n", "text/plain")

    def _odata(self, query: dict[str, str]) -> None:
        try:
            skip = int(query.get("$skip", "0"))
            top = min(int(query.get("$top", str(_ODATA_MAX))), _ODATA_MAX)
        except ValueError:
            error = {"code": "BadRequest", "message": "$skip and $top must be whole numbers"}
            self._json(400, {"error": error})
            return
        expand = "Services" in query.get("$expand", "")
        rows = []
        for network in self.server.networks[skip : skip + top]:
            row = {k: v for k, v in network.items() if k != "Services" or expand}
            rows.append(row)
        base = f"http://{self.headers.get('Host')}{_ODATA}"
        document: dict[str, Any] = {"@odata.context": f"{base}/$metadata#SupportNetworks"}
        if query.get("$count") == "true":
            document["@odata.count"] = len(self.server.networks)
        document["value"] = rows
        if skip + top < len(self.server.networks):
            document["@odata.nextLink"] = f"{base}?{urlencode({**query, '$skip': skip + top})}"
        self._json(200, document, {"OData-Version": "4.0"})

    def _wordpress(self, query: dict[str, str]) -> None:
        try:
            per_page = max(1, min(int(query.get("per_page", "10")), 100))
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            self._json(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s)"})
            return
        posts = self.server.posts
        pages = max(1, -(-len(posts) // per_page))
        if page > pages:
            self._json(400, {"code": "rest_post_invalid_page_number", "message": "page too big"})
            return
        headers = {"X-WP-Total": str(len(posts)), "X-WP-TotalPages": str(pages)}
        if page < pages:
            url = f"http://{self.headers.get('Host')}{_WP}?{urlencode({**query, 'page': page + 1})}"
            headers["Link"] = f'<{url}>; rel="next"'
        self._json(200, posts[(page - 1) * per_page : page * per_page], headers)

    def _static(self, path: str) -> None:
        target = (self.server.site / path).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.server.site) or not target.is_file():
            self._send(404, b"<h1>Page introuvable</h1>\n", "text/html; charset=utf-8")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        charset = "; charset=utf-8" if kind.startswith("text/") else ""
        self._send(200, target.read_bytes(), kind + charset)


def start(port: int = 0, host: str = "127.0.0.1") -> tuple[WebSources, str]:
    """Serve in a daemon thread; returns the server and its base URL (ending in /)."""
    server = WebSources((host, port))
    serve_in_background(server)
    return server, f"http://{host}:{server.server_address[1]}/"


stop = stop_server


def main() -> None:
    """Serve until Ctrl-C: `python -m hub.demo.web_sources --port 8714`."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=8714)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server, url = start(args.port, args.host)
    print(f"Stratus, Ecostrim and Art Lab Net demo sources (synthetic sample data) at {url}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)


if __name__ == "__main__":
    main()
