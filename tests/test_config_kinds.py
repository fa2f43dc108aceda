"""Each source's kind, options and project are checked when the config loads, against the registry.

A bad one is refused at start with the file, the key and what is allowed; a secret
written `{ env = "NAME" }` is accepted for a string option without being resolved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harvesters.kinds import KINDS, REGISTRY, get_harvester, option_problems
from hub.config import HubConfig, load_config, programme_projects, source_options
from hub.errors import ConfigError, HarvestError

ROOT = Path(__file__).resolve().parents[1]

SOURCE = """
[sources.itinera-trails]
project = "itinera"
kind = "files"
mapping = "m.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:s@example.org"
[sources.itinera-trails.options]
path = "t.csv"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "m.yml").write_text("mappings:\n  m:\n    s: id:$(id)\n")
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message  # the file comes first
    return message


def test_the_good_source_loads(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, SOURCE)).source("itinera-trails").kind == "files"


def test_a_misspelt_option_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    message = refused(tmp_path, SOURCE.replace('path = "t.csv"', 'path = "t.csv"\ndelimter = ";"'))
    assert "1 problem(s):" in message
    assert (
        "  sources.itinera-trails.options.delimter: is not an option of kind `files`; "
        "did you mean `delimiter`? known options: auth, backoff, decimal_comma, delimiter, "
        "encoding, format, header_rows, headers, path, rate_limit, records, retries, sheet, "
        "skip_rows, timeout, url"
    ) in message


def test_an_option_of_the_wrong_type_is_refused_with_the_expected_type(tmp_path: Path) -> None:
    text = SOURCE.replace('path = "t.csv"', 'url = "https://x.example/t.csv"\ntimeout = "30"')
    message = refused(tmp_path, text)
    assert (
        "sources.itinera-trails.options.timeout: must be a positive number of seconds, not '30'"
        in message
    )


def test_a_value_out_of_range_and_a_nested_option_are_refused(tmp_path: Path) -> None:
    text = """
[sources.vivimed-events]
project = "vivimed"
kind = "rest"
mapping = "m.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:s@example.org"
[sources.vivimed-events.options]
url = "https://api.example/events"
retries = -1
paging = { type = "cursor", page_param = "p" }
auth = { type = "oauth" }
"""
    message = refused(tmp_path, text)
    assert "3 problem(s):" in message
    assert (
        "sources.vivimed-events.options.retries: must be a whole number >= 0 "
        "(retries after the first attempt), not -1"
    ) in message
    assert (
        "sources.vivimed-events.options.paging.page_param: is not an option of paging type "
        "`cursor`; known options: cursor_param, cursor_path, limit_param, max_pages, size, type"
    ) in message
    assert (
        "sources.vivimed-events.options.auth.type: must be one of `bearer`, `api_key`, `basic`, "
        "not 'oauth'"
    ) in message


def test_a_missing_option_is_refused_with_what_to_give(tmp_path: Path) -> None:
    text = SOURCE.replace('kind = "files"', 'kind = "sql"').replace(
        'path = "t.csv"', 'url = "sqlite:///t.sqlite"'
    )
    message = refused(tmp_path, text)
    assert (
        "sources.itinera-trails.options.query: is required: give a non-empty string "
        "(a SELECT (or WITH) query)"
    ) in message


def test_an_unknown_kind_is_refused_with_the_known_kinds(tmp_path: Path) -> None:
    message = refused(tmp_path, SOURCE.replace('kind = "files"', 'kind = "file"'))
    assert (
        "sources.itinera-trails.kind: unknown harvester kind `file`; did you mean `files`? "
        f"known kinds: {', '.join(KINDS)}"
    ) in message


def test_an_unknown_project_is_refused_with_the_known_projects(tmp_path: Path) -> None:
    message = refused(tmp_path, SOURCE.replace('project = "itinera"', 'project = "itinerra"'))
    assert (
        "sources.itinera-trails.project: unknown project `itinerra`; did you mean `itinera`?"
        in (message)
    )
    assert "known projects: art-lab-net, cambusa," in message
    assert "[projects.itinerra]" in message  # how to declare a new one


def test_a_project_declared_in_the_config_is_known(tmp_path: Path) -> None:
    text = SOURCE.replace('project = "itinera"', 'project = "porti-aperti"')
    text += '\n[projects.porti-aperti]\nname = "Porti aperti"\n'
    config = load_config(write(tmp_path, text))
    assert config.source("itinera-trails").project == "porti-aperti"
    assert {"porti-aperti", "itinera", "smartic"} <= config.known_projects()


def test_the_programme_file_gives_the_projects() -> None:
    # the 17 tourism projects of ontology/programme.ttl, under any base IRI
    assert len(programme_projects("https://hub.example.org/")) == 17
    assert programme_projects("https://data.example.it/") == programme_projects(
        "https://hub.example.org/"
    )


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = SOURCE.replace('project = "itinera"', 'project = "nope"').replace(
        'path = "t.csv"', 'path = "t.csv"\nencodign = "latin-1"\nsheet = 1.5'
    )
    message = refused(tmp_path, text)
    assert "3 problem(s):" in message
    assert "options.encodign: is not an option of kind `files`; did you mean `encoding`?" in message
    assert "options.sheet: must be a sheet name or a position (0 is the first sheet), not 1.5" in (
        message
    )
    assert "sources.itinera-trails.project: unknown project `nope`" in message


def test_a_bad_schedule_names_the_file_the_key_and_what_is_allowed(tmp_path: Path) -> None:
    message = refused(tmp_path, SOURCE + '\n[sources.itinera-trails.schedule]\nevery = "weekly"\n')
    assert (
        "sources.itinera-trails.schedule.every: `weekly` is not an interval; write a number "
        "and a unit, e.g. '30m', '6h', '1d'"
    ) in message


def test_a_secret_is_accepted_at_load_for_a_string_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_TEST_DB_URL", raising=False)
    text = SOURCE.replace('kind = "files"', 'kind = "sql"').replace(
        'path = "t.csv"',
        'url = { env = "HUB_TEST_DB_URL" }\nquery = "SELECT 1 AS id"\n'
        'params = { region = { env = "HUB_TEST_REGION" } }',
    )
    config = load_config(write(tmp_path, text))  # neither variable is needed to load
    source = config.source("itinera-trails")
    assert source.options["url"] == {"env": "HUB_TEST_DB_URL"}  # resolved only when it runs
    monkeypatch.setenv("HUB_TEST_DB_URL", "sqlite://")
    monkeypatch.setenv("HUB_TEST_REGION", "IT")
    options = source_options(config, source)
    assert list(get_harvester("sql")("itinera-trails", options, root=tmp_path)) == [{"id": 1}]


def test_a_secret_is_refused_for_an_option_that_is_not_a_string(tmp_path: Path) -> None:
    text = SOURCE.replace(
        'path = "t.csv"', 'url = "https://x.example/t.csv"\nretries = { env = "HUB_TEST_RETRIES" }'
    )
    message = refused(tmp_path, text)
    assert (
        "sources.itinera-trails.options.retries: must be a whole number >= 0 (retries after the "
        "first attempt), not {'env': 'HUB_TEST_RETRIES'}"
    ) in message


@pytest.mark.parametrize("kind", KINDS)
def test_every_string_option_of_every_kind_accepts_a_secret_at_load(kind: str) -> None:
    checked = 0
    for name in REGISTRY[kind].options.model_fields:
        if any(key == f"options.{name}" for key, _ in option_problems(kind, {name: "a-string"})):
            continue  # not a string option
        checked += 1
        problems = option_problems(kind, {name: {"env": "HUB_TEST_SECRET"}})
        assert not [p for p in problems if p[0] == f"options.{name}"], (kind, name, problems)
    assert checked >= 2, kind


def test_the_harvester_checks_with_the_same_declaration() -> None:
    """What the config refuses at load, the harvester refuses in the same words when run."""
    options = {"path": "t.csv", "delimter": ";"}
    ((key, problem),) = option_problems("files", options)
    with pytest.raises(HarvestError) as caught:
        get_harvester("files")("itinera-trails", options, root=ROOT)
    assert str(caught.value) == f"source `itinera-trails`: {key} {problem}"


def test_the_demo_config_passes() -> None:
    config = load_config(ROOT / "hub.toml")
    assert isinstance(config, HubConfig) and config.sources


def _hub_command() -> list[str]:
    script = Path(sys.executable).with_name("hub")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())"]


def test_hub_sources_with_a_bad_config_exits_2_with_the_message(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE.replace('path = "t.csv"', 'path = "t.csv"\ndelimter = ";"'))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HUB_CONFIG", None)
    done = subprocess.run(
        [*_hub_command(), "--config", str(path), "sources"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {path}: 1 problem(s):\n")
    assert (
        "sources.itinera-trails.options.delimter: is not an option of kind `files`; "
        "did you mean `delimiter`?"
    ) in done.stderr
    assert done.stdout == ""


def test_loading_the_config_does_not_import_the_heavy_libraries_of_the_kinds() -> None:
    """sqlalchemy, openpyxl, SPARQLWrapper and scrapy are imported when a source of their
    kind runs, not when `hub` starts: they were most of the start-up time of every command."""
    heavy = ("sqlalchemy", "openpyxl", "SPARQLWrapper", "scrapy")
    code = (
        "import sys; from hub.config import load_config; "
        f"load_config({str(ROOT / 'hub.toml')!r}); "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout.strip() == ""
    # and they are there once a source of their kind runs
    code = (
        "import sys; from harvesters import get_harvester; from pathlib import Path; "
        "get_harvester('sql')('s', {'url': 'sqlite://', 'query': 'select 1 as a'}, root=Path('.')); "
        "print('sqlalchemy' in sys.modules)"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert ran.stdout.strip() == "True"
