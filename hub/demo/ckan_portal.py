"""A tiny CKAN-like open-data portal for the demo: `package_search` and file downloads.

It serves the catalogue `catalog.json` of a data folder (SAMPLE DATA, by default
`hub/demo/data/mare-di-agrumi`) the way a CKAN portal does, enough for the `ckan`
harvester: the Action API's `package_search` (q, fq on organization / tags / name /
res_format, rows, start, sort) with CKAN's `{"success": ..., "result"|"error": ...}`
envelope, and each resource's file with ETag and Last-Modified, answering conditional
requests with 304.

    >>> server, base_url = start(8713)          # doctest: +SKIP
    >>> stop(server)                            # doctest: +SKIP
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import mimetypes
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from hub.demo._serve import serve_in_background, stop_server

__all__ = ["DEFAULT_DATA", "start", "stop"]

DEFAULT_DATA = Path(__file__).parent / "data" / "mare-di-agrumi"
"""The demo portal's catalogue and files."""

_API = "/api/3/action/"
_DOWNLOAD = re.compile(r"^/dataset/(?P<dataset>[^/]+)/resource/(?P<id>[^/]+)/download/[^/]+$")
_FQ_TERM = re.compile(r'(?P<field>[a-z_]+):(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s"]+))')
_TYPES = {".csv": "text/csv", ".geojson": "application/geo+json", ".json": "application/json"}


class _Portal(ThreadingHTTPServer):
    """The HTTP server, holding the catalogue it serves."""

    daemon_threads = True
    data: Path
    catalogue: list[dict[str, Any]]
    base_url: str


def _envelope(success: bool, action: str, payload: Any) -> dict[str, Any]:
    key = "result" if success else "error"
    return {"help": f"{_API}help_show?name={action}", "success": success, key: payload}


def _matches_text(package: dict[str, Any], q: str) -> bool:
    if q.strip() in ("", "*:*"):
        return True
    words = " ".join(
        [package["name"], package.get("title", ""), package.get("notes", "")] + package["tags"]
    ).lower()
    return all(word in words for word in q.lower().split())


def _matches_filter(package: dict[str, Any], fq: str) -> bool:
    """Every `field:value` term of a Solr filter query, joined by AND or spaces."""
    for term in _FQ_TERM.finditer(fq):
        field = term["field"]
        value = term["quoted"] if term["quoted"] is not None else term["bare"]
        value = re.sub(r"\\(.)", r"\1", value)
        if field == "organization":
            found = [package["organization"]]
        elif field == "tags":
            found = package["tags"]
        elif field == "name":
            found = [package["name"]]
        elif field == "res_format":
            found = [r.get("format", "") for r in package["resources"]]
        else:
            return False  # Solr matches nothing on a field it does not know
        if value not in found:
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    server: _Portal
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the demo runner prints what matters

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, document: Any) -> None:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        self._send(status, body, {"Content-Type": "application/json;charset=utf-8"})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith(_API):
            self._action(url.path[len(_API) :], parse_qs(url.query))
        elif match := _DOWNLOAD.match(url.path):
            self._download(match["dataset"], match["id"])
        elif url.path in ("/", ""):
            text = "Demo CKAN portal (SAMPLE DATA): try /api/3/action/package_search\n"
            self._send(200, text.encode(), {"Content-Type": "text/plain;charset=utf-8"})
        else:
            self._json(
                404, _envelope(False, "", {"__type": "Not Found Error", "message": "Not found"})
            )

    def _action(self, action: str, query: dict[str, list[str]]) -> None:
        if action != "package_search":
            message = f"Bad request - Action name not known: {action}"
            self._json(400, _envelope(False, action, {"__type": "Bad Request", "message": message}))
            return
        args = {k: v[-1] for k, v in query.items()}
        errors: dict[str, list[str]] = {}
        numbers = {}
        for name, default, top in (("rows", 10, 1000), ("start", 0, None)):
            try:
                numbers[name] = int(args.get(name, default))
                if numbers[name] < 0 or (top is not None and numbers[name] > top):
                    raise ValueError
            except ValueError:
                errors[name] = ["Invalid integer" if top is None else f"Must be 0..{top}"]
        if errors:
            self._json(409, _envelope(False, action, {"__type": "Validation Error", **errors}))
            return
        found = [
            p
            for p in self.server.catalogue
            if _matches_text(p, args.get("q", "")) and _matches_filter(p, args.get("fq", ""))
        ]
        descending = args.get("sort", "name asc").strip().endswith("desc")
        found.sort(key=lambda p: p["name"], reverse=descending)
        page = found[numbers["start"] : numbers["start"] + numbers["rows"]]
        result = {
            "count": len(found),
            "sort": args.get("sort", "name asc"),
            "results": [self._package(p) for p in page],
            "facets": {},
            "search_facets": {},
        }
        self._json(200, _envelope(True, action, result))

    def _package(self, package: dict[str, Any]) -> dict[str, Any]:
        """A dataset as package_search shows it, resource URLs on this server."""
        resources = []
        for resource in package["resources"]:
            shown = {k: v for k, v in resource.items() if k != "file"}
            if "file" in resource:
                shown["url"] = (
                    f"{self.server.base_url}/dataset/{package['name']}/resource/"
                    f"{resource['id']}/download/{quote(resource['file'])}"
                )
            shown["package_id"] = package["id"]
            resources.append(shown)
        organization = package["organization"]
        return {
            **{k: v for k, v in package.items() if k not in ("resources", "tags", "organization")},
            "organization": {"name": organization, "title": organization},
            "tags": [{"name": t, "display_name": t} for t in package["tags"]],
            "num_resources": len(resources),
            "resources": resources,
        }

    def _download(self, dataset: str, resource_id: str) -> None:
        path = None
        for package in self.server.catalogue:
            for resource in package["resources"]:
                if package["name"] == dataset and resource["id"] == resource_id:
                    path = self.server.data / resource["file"] if "file" in resource else None
        if path is None or not path.is_file():
            self._send(404, b"Not found\n", {"Content-Type": "text/plain"})
            return
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        modified = email.utils.formatdate(int(path.stat().st_mtime), usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified}
        since = self.headers.get("If-Modified-Since")
        if self.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in self.headers and since == modified
        ):
            self._send(304, b"", headers)
            return
        kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        headers["Content-Type"] = kind or "application/octet-stream"
        self._send(200, body, headers)


def _load(data: Path) -> list[dict[str, Any]]:
    document = json.loads((data / "catalog.json").read_text(encoding="utf-8"))
    return list(document["datasets"])


def start(port: int = 0, data: Path | None = None, host: str = "127.0.0.1") -> tuple[Any, str]:
    """Serve the demo portal in a thread; returns the server and its base URL (no '/')."""
    folder = Path(data) if data is not None else DEFAULT_DATA
    server = _Portal((host, port), _Handler)
    server.data = folder
    server.catalogue = _load(folder)
    server.base_url = f"http://{host}:{server.server_address[1]}"
    serve_in_background(server)
    return server, server.base_url


stop = stop_server
