"""The OpenAPI document against the running hub: schemathesis, every check, on the harvested demo.

Bounded (fixed seed, few examples per operation, one worker) so it runs in CI; the full run
is `schemathesis run <url>/openapi.json --checks all` (docs/api.md, "Contract").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.engine import Status, events, from_schema  # noqa: E402

import tests.api.schemathesis_hooks  # noqa: E402, F401 - registers the hooks schemathesis.toml names
from hub.accounts import add_user  # noqa: E402
from hub.api import create_app  # noqa: E402
from tests.api.demo_hub import harvest_demo, serve  # noqa: E402

SEED = 20260512
MAX_EXAMPLES = 8


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The harvested demo served by uvicorn on loopback, and an admin's token."""
    config, store = harvest_demo(tmp_path_factory.mktemp("contract") / "demo")
    token, _ = add_user(config, "contract", "admin")
    with serve(create_app(config, store)) as url:
        yield url, token
    store.close()


def failures_of(url: str, token: str) -> list[str]:
    """Every failed check of a schemathesis run against `url`, one line each."""
    config = SchemathesisConfig.from_dict({"seed": SEED})
    project = config.projects.default
    project.update(workers=1, headers={"Authorization": f"Bearer {token}"}, request_timeout=30)
    project.generation.update(max_examples=MAX_EXAMPLES)
    project.checks.update(included_check_names=["all"])
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config)
    found = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status == Status.FAILURE:
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        found.append(f"{event.recorder.label}: {failure.title}: {failure.message}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"error: {event}")
    return sorted(set(found))


def test_the_api_keeps_its_openapi_contract(hub_url: tuple[str, str]) -> None:
    url, token = hub_url
    failures = failures_of(url, token)
    assert not failures, "\n\n".join(failures)


def test_the_hooks_file_is_the_one_schemathesis_toml_names() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert 'hooks = "tests/api/schemathesis_hooks.py"' in (repo / "schemathesis.toml").read_text()
