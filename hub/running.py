"""Where a running `hub serve` answers, so other `hub` commands can ask it instead of the store.

Only one process may write the store. While `hub serve` (or `hub demo`) runs, it
owns the store; `hub approve`, `reject` and `rollback` then go through its admin
review API as an account (`HUB_TOKEN`, or the admin token `HUB_ADMIN_TOKEN`), and `hub sources`/`query` read through it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import requests

from hub.config import HubConfig
from hub.errors import HubError
from hub.layout import DataLayout
from hub.store.server import running_server

TOKEN_ENV = "HUB_ADMIN_TOKEN"
USER_TOKEN_ENV = "HUB_TOKEN"


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


def _token(info: dict[str, Any], action: str) -> str:
    token = os.environ.get(USER_TOKEN_ENV) or os.environ.get(TOKEN_ENV, "")
    if not token:
        raise HubError(
            f"a hub is serving this store (pid {info['pid']}, {info['url']}); `hub {action}` "
            f"goes through its API as an account: export {USER_TOKEN_ENV} (a steward's or "
            f"admin's token, from `hub user add`) or {TOKEN_ENV} (the hub's admin token)"
        )
    return token


def _call(method: str, url: str, token: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = requests.request(
            method,
            url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=(10, None),  # a publish takes as long as it takes
            **kwargs,
        )
    except requests.RequestException as exc:
        raise HubError(f"the running hub cannot be reached at {url}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        message = (body.get("error") or {}).get("message") or response.text[:300]
        raise HubError(f"the running hub refused `{what}`: {message}")
    return body


def call_running_hub(
    config: HubConfig,
    action: str,
    source: str,
    run_id: str | None,
    *,
    reason: str = "",
) -> dict[str, Any]:
    """Ask the running hub's review API to approve, reject or roll back; its JSON answer."""
    info = running_hub(config)
    if info is None:
        raise HubError("no running hub to ask; run the command again")
    token = _token(info, action)
    base = f"{info['url']}/api/v1/sources/{quote(source, safe='')}"
    what = f"{action} {source}"
    if action == "rollback":
        return _call("POST", f"{base}/rollback", token, what, json={"to": run_id, "reason": reason})
    if run_id is None:
        held = _call("GET", f"{base}/runs?size=1", token, what).get("held") or []
        if not held:
            raise HubError(
                f"source `{source}` has no held run; `hub runs {source}` shows its state"
            )
        run_id = held[0]
    url = f"{base}/runs/{quote(run_id, safe='')}/{action}"
    return _call("POST", url, token, what, json={"reason": reason})
