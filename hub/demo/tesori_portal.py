"""Serve the Tesori nascosti demo portal (hub/demo/portal, synthetic sample data) on loopback.

>>> server, base_url = start(0)   # doctest: +SKIP
>>> stop(server)                  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hub.demo._serve import serve_in_background, stop_server

__all__ = ["PORTAL_DIR", "PortalServer", "start", "stop"]

PORTAL_DIR = Path(__file__).with_name("portal")
"""The portal's static pages."""


class _Handler(SimpleHTTPRequestHandler):
    """Serves PORTAL_DIR quietly (the demo's log is the harvest's, not each request)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(PORTAL_DIR), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class PortalServer(ThreadingHTTPServer):
    """The portal's HTTP server and the thread that runs it."""

    daemon_threads = True
    thread: threading.Thread | None = None


def start(port: int = 0, host: str = "127.0.0.1") -> tuple[PortalServer, str]:
    """Serve the portal in a daemon thread; returns the server and its base URL (ending in /).

    Port 0 picks a free port.
    """
    server = PortalServer((host, port), _Handler)
    serve_in_background(server)
    return server, f"http://{host}:{server.server_address[1]}/"


stop = stop_server


def main() -> None:
    """Serve the portal until Ctrl-C: `python -m hub.demo.tesori_portal --port 8712`."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=8712)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server, url = start(args.port, args.host)
    print(f"Tesori nascosti demo portal (synthetic sample data) at {url}; Ctrl-C stops it")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)


if __name__ == "__main__":
    main()
