"""/docs and /redoc render in a real browser with nothing loaded from outside the hub."""

from __future__ import annotations

from typing import Any


def test_swagger_ui_renders_offline(page: Any, hub_url: str) -> None:
    page.goto(f"{hub_url}/docs")
    page.wait_for_selector(".opblock-summary-path")  # the operations, read from /openapi.json
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(p.startswith("/api/v1/entities") for p in paths)
    assert any(p.startswith("/sparql") for p in paths)


def test_redoc_renders_offline(browser: Any, hub_url: str) -> None:
    """Offline for real: every request leaving the hub is refused. Redoc still asks
    cdn.redoc.ly for the small logo in its footer (nothing else), which is then missing."""
    context = browser.new_context()
    outside: list[str] = []

    def only_the_hub(route: Any) -> None:
        if route.request.url.startswith(hub_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_hub)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{hub_url}/redoc")
    tab.wait_for_selector("h1")
    assert "Marittimo Hub" in tab.inner_text("h1")
    assert "/api/v1/entities" in tab.content()
    context.close()
    assert not errors
    assert all(url.startswith("https://cdn.redoc.ly/redoc/logo") for url in outside), outside
