"""Fixtures for browser tests: the hub serving the demo data on loopback, and headless Chromium.

The browser is Debian's Chromium (`apt-get install chromium`), driven by Python
Playwright (`pip install playwright`; no `playwright install`: no browser download).
Either missing skips these tests, saying which and how to install it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.api import create_app
from tests.api.demo_hub import harvest_demo, serve

CHROMIUM = Path(os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium under Playwright, or a skip that says what to install."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not installed at {CHROMIUM}: run `apt-get install chromium` "
            "(or set HUB_CHROMIUM to a Chromium binary)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright not installed: run `pip install playwright` "
        "(not `playwright install`: the tests use the system Chromium)",
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving the harvested demo data; yields its base URL."""
    config, store = harvest_demo(tmp_path_factory.mktemp("browser") / "demo")
    with serve(create_app(config, store)) as url:
        yield url
    store.close()


@pytest.fixture
def page(browser: Any, hub_url: str) -> Iterator[Any]:
    """A fresh browser page; fails the test on any script error or request leaving the hub."""
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    elsewhere: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    local = (hub_url, "blob:", "data:")
    tab.on("request", lambda req: None if req.url.startswith(local) else elsewhere.append(req.url))
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"
    assert not elsewhere, f"the page loaded something from outside the hub: {elsewhere}"
