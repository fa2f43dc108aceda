"""A wrong config fails at start-up with the key and the fix; secrets come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config, resolve_secrets, source_options
from hub.errors import ConfigError

GOOD_SOURCE = """
[sources.trails]
project = "itinera"
kind = "files"
mapping = "m.yml"
licence = "https://creativecommons.org/licenses/by/4.0/"
steward = "mailto:s@example.org"
[sources.trails.options]
path = "t.csv"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "m.yml").write_text("mappings:\n  m:\n    s: id:$(id)\n")
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD_SOURCE))
    assert config.source("trails").project == "itinera"
    assert config.store_path == tmp_path / "var" / "store"
    assert config.resolve("m.yml") == tmp_path / "m.yml"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            GOOD_SOURCE.replace('licence = "https://creativecommons.org/licenses/by/4.0/"\n', ""),
            "sources.trails.licence: is required; add it",
        ),
        (
            GOOD_SOURCE.replace('kind = "files"', 'kind = "ftp"'),
            "sources.trails.kind: unknown harvester kind `ftp`; known kinds: files, sql",
        ),
        (
            GOOD_SOURCE.replace(
                'licence = "https://creativecommons.org/licenses/by/4.0/"', 'licence = "CC BY"'
            ),
            "give the licence's URL",
        ),
        (
            GOOD_SOURCE + '\n[hub]\nbase_iri = "https://hub.example.org"\n',
            "hub.base_iri: `https://hub.example.org` must be",
        ),
        (GOOD_SOURCE + "\n[hub]\nstroe = 'x'\n", "hub.stroe: is not a known setting"),
        (
            GOOD_SOURCE.replace('mapping = "m.yml"', 'mapping = "missing.yml"'),
            "sources.trails.mapping: file missing.yml not found",
        ),
        (
            GOOD_SOURCE.replace("[sources.trails]", "[sources.Trails_1]").replace(
                "[sources.trails.options]", "[sources.Trails_1.options]"
            ),
            "sources.Trails_1: a source id is lower-case",
        ),
        (
            GOOD_SOURCE + '\n[sources.trails.schedule]\nevery = "daily"\n',
            "sources.trails.schedule.every: `daily` is not an interval",
        ),
        (
            GOOD_SOURCE + '\n[sources.trails.schedule]\ncron = "0 3 * *"\n',
            "is not a cron expression",
        ),
        (
            GOOD_SOURCE + '\n[sources.trails.schedule]\ncron = "0 25 * * *"\n',
            "sources.trails.schedule.cron: `0 25 * * *` is not a valid cron",
        ),
        ("[hub\n", "not valid TOML"),
    ],
)
def test_config_errors_name_the_key_and_the_fix(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert needle in str(info.value)
    assert str(tmp_path / "hub.toml") in str(info.value)


def test_missing_config_file_says_how_to_choose_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--config FILE, or set HUB_CONFIG"):
        load_config(tmp_path / "nope.toml")


def test_unknown_source_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD_SOURCE))
    with pytest.raises(ConfigError, match="known sources: trails"):
        config.source("trial")


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_STORE", "/srv/hub/store")
    monkeypatch.setenv("HUB_BASE_IRI", "https://data.marittimo.example/")
    config = load_config(write(tmp_path, GOOD_SOURCE))
    assert config.store_path == Path("/srv/hub/store")
    assert config.base_iri == "https://data.marittimo.example/"


def test_secrets_are_resolved_from_the_environment_only_when_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = GOOD_SOURCE.replace('path = "t.csv"', 'url = { env = "TRAILS_URL" }')
    config = load_config(write(tmp_path, text))  # loading does not need the secret
    with pytest.raises(
        ConfigError, match="sources.trails.options.url: environment variable TRAILS_URL is not set"
    ):
        source_options(config, config.source("trails"))
    monkeypatch.setenv("TRAILS_URL", "https://user:s3cret@example.org/t.csv")
    assert source_options(config, config.source("trails"))["url"].endswith("/t.csv")
    assert resolve_secrets([{"env": "TRAILS_URL"}], where="x")[0].startswith("https://")
