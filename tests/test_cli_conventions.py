"""CLI conventions: global options before or after the command, --version, `hub config check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    shutil.copy(REPO / "hub.toml", tmp_path / "hub.toml")
    shutil.copytree(REPO / "mappings", tmp_path / "mappings")
    return tmp_path / "hub.toml"


def test_config_check_says_what_the_config_holds(config_copy: Path, capsys) -> None:
    assert main(["config", "check", "--config", str(config_copy)]) == 0
    out = capsys.readouterr().out
    assert "ok — 17 source(s)" in out and "store backend `server`" in out


def test_config_check_refuses_a_bad_option_naming_the_key(config_copy: Path, capsys) -> None:
    text = config_copy.read_text().replace(
        "[sources.itinera-trails.options]", "[sources.itinera-trails.options]\ndelimter = ';'", 1
    )
    config_copy.write_text(text)
    assert main(["--config", str(config_copy), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert "sources.itinera-trails.options.delimter" in err


def test_options_after_the_command_and_version(config_copy: Path, capsys) -> None:
    assert main(["sources", "--config", str(config_copy)]) == 0
    assert "itinera-trails" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("hub ")


def test_schedule_lists_the_next_run_of_each_source(config_copy: Path, capsys) -> None:
    assert main(["schedule", "--config", str(config_copy)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SOURCE", "SCHEDULE", "NEXT", "RUN", "(UTC)"]
    smartdest = next(line for line in lines if line.startswith("smartdest-offer"))
    assert "0 3 * * *" in smartdest and smartdest.rstrip().endswith("03:00")
