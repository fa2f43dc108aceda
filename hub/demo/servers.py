"""The demo's HTTP sources on loopback: Vivimed's events API, Tesori nascosti's portal, a CKAN,
and Stratus's site, Ecostrim's OData feed and Art Lab Net's WordPress API (`web_sources`).

`hub demo` starts them on fixed ports (hub.toml's demo sources point there) and
stops them on exit; tests start them on free ports and rewrite the URLs.
"""

from __future__ import annotations

import errno
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hub.errors import HubError

# module in hub.demo -> the port hub.toml's demo sources use
DEMO_SERVERS: dict[str, int] = {
    "vivimed_api": 8711,
    "tesori_portal": 8712,
    "ckan_portal": 8713,
    "web_sources": 8714,
}


class RunningDemo(dict):
    """{configured port: actual base URL}, plus `.servers` {module name: server object}."""

    servers: dict[str, Any]


@contextmanager
def demo_servers(*, fixed_ports: bool = True) -> Iterator[RunningDemo]:
    """Run every demo server; yields {configured port: actual base URL} (see RunningDemo)."""
    started: list[tuple[Any, Any]] = []
    urls = RunningDemo()
    urls.servers = {}
    try:
        for name, port in DEMO_SERVERS.items():
            module = importlib.import_module(f"hub.demo.{name}")
            try:
                server, url = module.start(port if fixed_ports else 0)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise HubError(
                        f"demo server {name}: port {port} is already in use (another `hub demo`?); "
                        "stop that process first"
                    ) from None
                raise
            started.append((module, server))
            urls.servers[name] = server
            urls[port] = url.rstrip("/")
        yield urls
    finally:
        for module, server in reversed(started):
            module.stop(server)


def point_config_at(config_file: Path, urls: dict[int, str]) -> None:
    """Rewrite a copy of hub.toml so its demo sources use servers started on other ports."""
    text = config_file.read_text(encoding="utf-8")
    for port, url in urls.items():
        text = text.replace(f"http://127.0.0.1:{port}", url)
    config_file.write_text(text, encoding="utf-8")
