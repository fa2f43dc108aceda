"""The steward pages in headless Chromium, through the whole loop on the demo's S.MAR.T.I.C
register with `$(description_en)` misspelt: sign in, find the held run, read its report,
approve it, roll back, harvest again, reject; a viewer sees no buttons."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.accounts import add_user
from hub.api import create_app
from hub.config import HubConfig, load_config
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.store import open_store
from tests.api.demo_hub import copy_demo, serve

SOURCE = "smartic-operators"
GRAPH = "https://hub.example.org/graph/smartic-operators"
ENGLISH = (
    f"SELECT (COUNT(?d) AS ?n) WHERE {{ GRAPH <{GRAPH}> "
    '{ ?s <http://schema.org/description> ?d FILTER(LANG(?d) = "en") } }'
)


class StewardHub:
    """The demo copy with the S.MAR.T.I.C source published, then held, served on loopback."""

    def __init__(self, root: Path) -> None:
        copy_demo(root)
        self.config: HubConfig = load_config(root / "hub.toml")
        self.store = open_store(self.config.store_path)
        load_programme(self.store, self.config)
        assert run_source(self.config, self.store, SOURCE).status == "published"
        mapping = root / "mappings" / "smartic-operators.yml"
        text = mapping.read_text(encoding="utf-8")
        mapping.write_text(text.replace("$(description_en)", "$(descripton_en)"), encoding="utf-8")
        assert run_source(self.config, self.store, SOURCE).status == "held"
        self.steward, _ = add_user(self.config, "anna", "steward", sources=[SOURCE])
        self.viewer, _ = add_user(self.config, "victor", "viewer")

    def english(self) -> int:
        return int(self.store.select(ENGLISH)[0]["n"].value)


@pytest.fixture
def steward_hub(tmp_path: Path) -> Iterator[tuple[StewardHub, str]]:
    hub = StewardHub(tmp_path / "demo")
    with serve(create_app(hub.config, hub.store)) as url:
        yield hub, url
    hub.store.close()


def sign_in(tab: Any, url: str, token: str) -> None:
    tab.goto(f"{url}/steward")
    assert "/steward/login" in tab.url  # not signed in: sent to the form
    tab.fill("#token", "mh_wrong-token")
    tab.click("button[type=submit]")
    assert "belongs to no account" in tab.inner_text("#error")
    tab.fill("#token", token)
    tab.click("button[type=submit]")
    tab.wait_for_selector("#sources")


def test_hold_review_approve_then_reject_and_rollback(browser: Any, steward_hub) -> None:
    hub, url = steward_hub
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(tab, url, hub.steward)
    assert tab.inner_text("#who") == "anna"

    # the list shows the held run; its report names the misspelt field and the fix
    row = tab.locator(f"tr[data-source='{SOURCE}']")
    assert "1 held" in row.inner_text()
    row.get_by_role("link", name=SOURCE).click()
    tab.locator("#held-runs a").first.click()
    assert "waiting for a decision" in tab.inner_text("#pending")
    gates = tab.inner_text("#gates")
    assert "descripton_en" in gates and "did you mean `description_en`" in gates
    assert "25 changed" in tab.inner_text("#changes")
    assert "schema:description" in tab.inner_text("#properties-changed")
    assert hub.english() == 25

    # approve: published, with who and why
    tab.fill("#approve-reason", "checked the texts")
    tab.click("#approve")
    assert "PUBLISHED" in tab.inner_text("#done")
    assert tab.locator("#no-held").is_visible()
    assert hub.english() == 0

    # roll back to the version before
    first = tab.locator("#kept tr[data-version] form button.rollback")
    assert first.count() == 1
    first.click()
    assert "rolled back" in tab.inner_text("#done").lower() or "PUBLISHED" in tab.inner_text(
        "#done"
    )
    assert hub.english() == 25

    # harvest again (still misspelt): held; reject it, saying why
    tab.click("#harvest")
    assert "harvest started" in tab.inner_text("#done")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and tab.locator("#held-runs a").count() == 0:
        time.sleep(0.3)
        tab.reload()
    tab.locator("#held-runs a").first.click()
    tab.fill("#reject-reason", "misspelt field in the mapping")
    tab.click("#reject")
    assert "REJECTED" in tab.inner_text("#done")
    assert tab.locator("#no-held").is_visible()
    assert hub.english() == 25
    statuses = tab.locator("#runs tr[data-status]").evaluate_all(
        "rows => rows.map(r => r.dataset.status)"
    )
    assert statuses[:3] == ["rejected", "held", "published"]

    # the check view: a dry run says the run would be held, and why
    tab.click("#check")
    assert "would be held" in tab.inner_text("#outcome")
    assert "descripton_en" in tab.inner_text("#unmatched")
    context.close()
    assert not errors


def test_a_viewer_reads_but_cannot_decide(browser: Any, steward_hub) -> None:
    hub, url = steward_hub
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    sign_in(tab, url, hub.viewer)
    tab.goto(f"{url}/steward/sources/{SOURCE}")
    tab.locator("#held-runs a").first.click()
    assert tab.locator("#approve").count() == 0 and tab.locator("#reject").count() == 0
    tab.goto(f"{url}/steward/sources/{SOURCE}")
    assert tab.locator("#harvest").count() == 0
    # a form posted without the page (no CSRF token) or by a viewer is refused
    forged = context.request.post(
        f"{url}/steward/sources/{SOURCE}/harvest", form={"csrf": "x"}, max_redirects=0
    )
    assert forged.status == 403
    held = tab.locator("#held-runs a").first.inner_text()
    csrf = tab.locator("input[name=csrf]").count()  # the viewer's pages carry no forms
    assert csrf == 0
    session_csrf = hmac.new(hub.viewer.encode(), b"marittimo-hub csrf", hashlib.sha256)
    approve = context.request.post(
        f"{url}/steward/sources/{SOURCE}/runs/{held}/approve",
        form={"csrf": session_csrf.hexdigest()[:32]},
        max_redirects=0,
    )
    assert approve.status == 403
    assert "victor" in approve.text() and "may not decide" in approve.text()
    assert hub.english() == 25
    context.close()
