"""Logs: text or JSON lines, the run's source and id on its records, levels, secrets masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from hub.logs import configure_logging, mask_secrets, run_context
from hub.pipeline.programme import load_programme
from hub.scheduler import run_locked
from hub.store import open_store


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Each test configures the root logger; put it back as pytest had it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_run_logs_json_lines_with_its_source_and_run(
    demo_root: Path, tmp_path: Path, capsys
) -> None:
    config = load_config(demo_root / "hub.toml")
    store = open_store(tmp_path / "store")
    load_programme(store, config)
    configure_logging("debug", "json")
    capsys.readouterr()
    report = run_locked(config, store, "itinera-trails")
    logging.getLogger("hub.test").info("after the run")
    entries = _json_lines(capsys.readouterr().err)  # every line parses
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    summary = next(e for e in entries if e["logger"] == "hub.scheduler")
    assert summary["level"] == "info" and summary["message"].startswith("manual run: ")
    assert summary["source"] == "itinera-trails" and summary["run"] == report.run_id
    in_run = [e for e in entries if e.get("run") == report.run_id]
    assert all(e["source"] == "itinera-trails" for e in in_run)
    after = entries[-1]
    assert after["message"] == "after the run" and "source" not in after and "run" not in after


def test_extra_fields_and_the_text_format(capsys) -> None:
    configure_logging("info", "text")
    log = logging.getLogger("hub.test")
    with run_context("vivimed-events", "20261204T030001000000Z-ab12"):
        log.info("fetched %d records", 12)
    log.info("given", extra={"source": "tesori-places"})
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(
        "INFO hub.test [vivimed-events 20261204T030001000000Z-ab12]: fetched 12 records"
    )
    assert err[1].endswith("INFO hub.test [tesori-places]: given")

    configure_logging("info", "json")  # replaces the handler: one line a record, not two
    log.info("again", extra={"source": "tesori-places", "run": "r1"})
    (entry,) = _json_lines(capsys.readouterr().err)
    assert entry["source"] == "tesori-places" and entry["run"] == "r1"


def test_the_level_is_respected(capsys) -> None:
    configure_logging("warning", "json")
    log = logging.getLogger("hub.test")
    log.info("not shown")
    log.debug("not shown either")
    log.warning("shown")
    assert [e["message"] for e in _json_lines(capsys.readouterr().err)] == ["shown"]
    configure_logging("warning", "json", verbose=True)  # -v: everything
    log.debug("now shown")
    assert [e["level"] for e in _json_lines(capsys.readouterr().err)] == ["debug"]


def test_secrets_are_masked(capsys) -> None:
    configure_logging("info", "json")
    log = logging.getLogger("hub.test")
    log.info("GET %s with Authorization: Bearer %s", "https://api.example/x", "s3cr3t-T0ken.value")
    log.warning("connecting to postgresql://hub:hunter2@db:5432/tour password=pa55word")
    try:
        raise RuntimeError("refused: {'Authorization': 'Bearer abc123xyz'}")
    except RuntimeError:
        log.exception("request failed")
    text = capsys.readouterr().err
    for secret in ("s3cr3t-T0ken.value", "hunter2", "pa55word", "abc123xyz"):
        assert secret not in text
    first, second, third = _json_lines(text)
    assert first["message"] == "GET https://api.example/x with Authorization: Bearer ***"
    assert "postgresql://hub:***@db:5432/tour password=***" in second["message"]
    assert "Bearer ***" in third["exception"]
    assert mask_secrets("api_key=k1&token=t2&page=3") == "api_key=***&token=***&page=3"
    assert mask_secrets("5 tokens, no password here") == "5 tokens, no password here"


def test_the_log_section_and_its_environment_overrides(demo_root: Path, monkeypatch) -> None:
    path = demo_root / "hub.toml"
    assert load_config(path).log.level == "info" and load_config(path).log.format == "text"
    path.write_text(path.read_text() + '\n[log]\nlevel = "warning"\nformat = "json"\n')
    config = load_config(path)
    assert (config.log.level, config.log.format) == ("warning", "json")
    monkeypatch.setenv("HUB_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("HUB_LOG_FORMAT", "text")
    config = load_config(path)
    assert (config.log.level, config.log.format) == ("debug", "text")
    monkeypatch.setenv("HUB_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="log.format"):
        load_config(path)
