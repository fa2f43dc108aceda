"""Where a running `hub serve` answers, so other `hub` commands can ask it instead of the store.

Only one process may write the store. While `hub serve` (or `hub demo`) runs, it
owns the store; `hub approve`, `reject` and `rollback` then go through its admin
API (bearer token `HUB_ADMIN_TOKEN`), and `hub sources`/`query` read through it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from hub.config import HubConfig
from hub.errors import HubError
from hub.layout import DataLayout
from hub.store.server import running_server

TOKEN_ENV = "HUB_ADMIN_TOKEN"


@contextmanager
def serving(config: HubConfig, url: str) -> Iterator[None]:
    """Say, while the block runs, that this process serves the hub at `url`."""
    path = DataLayout(config.data_path).serve_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    try:
        yield
    finally:
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


def running_hub(config: HubConfig) -> dict[str, Any] | None:
    """The record of a live `hub serve` on this data folder, or None (stale ones removed)."""
    path = DataLayout(config.data_path).serve_file()
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        return info
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError):
        path.unlink(missing_ok=True)
        return None


def served_elsewhere(config: HubConfig) -> bool:
    """True when another process owns the store (a `hub serve`, or its store server)."""
    if running_hub(config) is not None:
        return True
    return config.store.backend == "server" and running_server(config.store_path) is not None


def call_running_hub(
    config: HubConfig,
    action: str,
    source: str,
    run_id: str | None,
    *,
    reason: str = "",
    actor: str = "",
) -> dict[str, Any]:
    """POST /api/admin/<action>/<source> to the running hub; its JSON answer."""
    info = running_hub(config)
    if info is None:
        raise HubError("no running hub to ask; run the command again")
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise HubError(
            f"a hub is serving this store (pid {info['pid']}, {info['url']}); `hub {action}` "
            f"goes through its admin API: export {TOKEN_ENV} (the same token the hub has)"
        )
    try:
        response = requests.post(
            f"{info['url']}/api/admin/{action}/{source}",
            params={k: v for k, v in (("run", run_id), ("reason", reason), ("actor", actor)) if v},
            headers={"Authorization": f"Bearer {token}"},
            timeout=(10, None),  # a publish takes as long as it takes
        )
    except requests.RequestException as exc:
        raise HubError(f"the running hub at {info['url']} cannot be reached: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        message = (body.get("error") or {}).get("message") or response.text[:300]
        raise HubError(f"the running hub refused `{action} {source}`: {message}")
    return body
