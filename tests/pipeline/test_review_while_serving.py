"""The stewards' loop through the review API of a running `hub serve`, on the demo's S.MAR.T.I.C
register with `$(description_en)` misspelt: hold, list, approve, roll back, harvest, reject;
each decision refused without a token (401) and with a viewer's (403)."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
import requests

from hub.cli import main
from tests.serving import start_hub_serve

SOURCE = "smartic-operators"
ENGLISH = (
    "SELECT (COUNT(?d) AS ?n) WHERE { GRAPH <https://hub.example.org/graph/smartic-operators> "
    '{ ?s <http://schema.org/description> ?d FILTER(LANG(?d) = "en") } }'
)


def hub(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def new_token(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert hub(config, "user", "add", *args) == 0
    return re.search(r"token \(shown once.*\): (\S+)", capsys.readouterr().out).group(1)


def misspell(root: Path) -> None:
    mapping = root / "mappings" / "smartic-operators.yml"
    text = mapping.read_text(encoding="utf-8")
    assert "$(description_en)" in text
    mapping.write_text(text.replace("$(description_en)", "$(descripton_en)"), encoding="utf-8")


@pytest.fixture
def serving(demo_root: Path, capsys: pytest.CaptureFixture[str]):
    config = demo_root / "hub.toml"
    assert hub(config, "harvest", SOURCE) == 0
    misspell(demo_root)
    assert hub(config, "harvest", SOURCE) == 1  # held: not published
    assert "HELD" in capsys.readouterr().out
    steward = new_token(config, capsys, "anna", "--role", "steward", "--source", SOURCE)
    viewer = new_token(config, capsys, "victor", "--role", "viewer")
    other = new_token(config, capsys, "olga", "--role", "steward", "--project", "itinera")
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_ADMIN_TOKEN", "HUB_TOKEN")}
    server, base = start_hub_serve(config, env=env)
    yield base, {"steward": steward, "viewer": viewer, "other": other}
    server.send_signal(signal.SIGTERM)
    server.wait(30)


def english_descriptions(base: str) -> int:
    answer = requests.get(
        f"{base}/sparql",
        params={"query": ENGLISH},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def runs(base: str) -> dict:
    answer = requests.get(f"{base}/api/v1/sources/{SOURCE}/runs", timeout=30)
    assert answer.status_code == 200
    return answer.json()


def post(base: str, path: str, token: str | None, **body: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{base}/api/v1/sources/{SOURCE}/{path}", json=body, headers=headers, timeout=60
    )


def refused_without_rights(base: str, path: str, tokens: dict[str, str], **body: str) -> None:
    """401 without a token or with a wrong one; 403 for a viewer and another source's steward."""
    assert post(base, path, None, **body).status_code == 401
    assert post(base, path, "mh_not-a-token-of-anyone", **body).status_code == 401
    viewer = post(base, path, tokens["viewer"], **body)
    assert viewer.status_code == 403, viewer.text
    assert "victor" in viewer.json()["error"]["message"]
    assert post(base, path, tokens["other"], **body).status_code == 403


def test_hold_approve_rollback_reject_while_serving(serving) -> None:
    base, tokens = serving
    published_before = english_descriptions(base)
    assert published_before == 25  # the held run did not touch the published graph

    state = runs(base)
    assert len(state["held"]) == 1
    held = state["held"][0]
    first_version = state["published_run"]
    row = next(r for r in state["items"] if r["run"] == held)
    assert row["status"] == "held" and row["pending"]
    assert "descripton_en" in row["message"]

    # the report: public without values, the steward's whole
    public = requests.get(f"{base}/api/v1/sources/{SOURCE}/runs/{held}", timeout=30).json()
    assert public["pending"] and public["report"]["values_hidden"]
    assert public["report"]["changes"]["properties_changed"] == {
        "http://schema.org/description": 25
    }
    whole = requests.get(
        f"{base}/api/v1/sources/{SOURCE}/runs/{held}",
        headers={"Authorization": f"Bearer {tokens['steward']}"},
        timeout=30,
    ).json()
    assert "values_hidden" not in whole["report"]
    gate = whole["report"]["gates"][0]
    assert gate["gate"] == "unmatched_reference"
    assert gate["details"]["suggestion"] == "description_en"

    # approve
    refused_without_rights(base, f"runs/{held}/approve", tokens)
    assert english_descriptions(base) == 25
    approved = post(
        base, f"runs/{held}/approve", tokens["steward"], reason="the English texts moved"
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "published"
    assert "anna (steward)" in approved.json()["actor"]
    assert english_descriptions(base) == 0  # what the held run had: its damage, now published

    # roll back to the version before
    refused_without_rights(base, "rollback", tokens, to=first_version)
    rolled = post(base, "rollback", tokens["steward"], to=first_version, reason="approved too soon")
    assert rolled.status_code == 200, rolled.text
    assert english_descriptions(base) == 25
    assert runs(base)["published_run"] == first_version

    # harvest again (the mapping is still misspelt): held; reject it
    refused_without_rights(base, "harvest", tokens)
    assert post(base, "harvest", tokens["steward"]).status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not runs(base)["held"]:
        time.sleep(0.3)
    again = runs(base)["held"]
    assert len(again) == 1 and again[0] != held
    refused_without_rights(base, f"runs/{again[0]}/reject", tokens, reason="misspelt field")
    no_reason = post(base, f"runs/{again[0]}/reject", tokens["steward"])
    assert no_reason.status_code == 400
    rejected = post(base, f"runs/{again[0]}/reject", tokens["steward"], reason="misspelt field")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert runs(base)["held"] == []
    assert english_descriptions(base) == 25  # a rejection changes nothing readers see

    # the audit trail names who and why
    history = runs(base)["items"]
    decisions = [r["message"] for r in history if r["message"] and "(by " in r["message"]]
    assert any(
        "rejected held run" in m and "misspelt field" in m and "anna (steward)" in m
        for m in decisions
    )
    assert any("rolled back" in m and "approved too soon" in m for m in decisions)
