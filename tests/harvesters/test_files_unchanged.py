"""A `files` source that holds what the last published run's did is not read again: the
same bytes, or for CSV the same rows in other bytes, locally and over HTTP (a server
without validators, or one that makes its export again every night).

Each harvest here runs as the pipeline runs it: with the state the last run left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harvesters import HarvestContext, get_harvester

harvest_files = get_harvester("files")
ROWS = "id,name\r\n1,Forte Stella\r\n2,Torre del Porto\r\n"


def run(options: dict[str, Any], previous: dict[str, Any], root: Path) -> tuple:
    """The records and the context of one harvest with the last run's state."""
    context = HarvestContext(previous=previous)
    return list(harvest_files("forts", options, root=root, context=context)), context


def test_a_download_with_the_published_rows_is_not_read(file_server: Any) -> None:
    bodies = {"now": ROWS.encode()}
    requests: list[str] = []

    def body(handler: Any) -> None:  # no ETag, no Last-Modified: every GET is a 200
        requests.append(handler.path)
        handler.wfile.write(bodies["now"])

    url = file_server.route("forts.csv", body, {"Content-Type": "text/csv"})
    options = {"url": url}
    first, context = run(options, {}, Path("."))
    assert [r["id"] for r in first] == ["1", "2"] and not context.unchanged
    state = dict(context.state)
    assert {"sha256", "rows_sha256"} <= set(state)

    again, context = run(options, state, Path("."))
    assert again == [] and context.unchanged
    assert context.unchanged_because.endswith("forts.csv is byte for byte the published run's file")

    bodies["now"] = ROWS.replace("\r\n", "\n").replace("Forte Stella", '"Forte Stella"').encode()
    rewritten, context = run(options, state, Path("."))
    assert rewritten == [] and context.unchanged
    assert "written again with the published run's rows" in context.unchanged_because
    assert context.state["sha256"] != state["sha256"]
    assert context.state["rows_sha256"] == state["rows_sha256"]

    bodies["now"] = ROWS.replace("Torre del Porto", "Torre di Porto").encode()
    changed, context = run(options, state, Path("."))
    assert [r["name"] for r in changed] == ["Forte Stella", "Torre di Porto"]
    assert not context.unchanged and len(requests) == 4  # one GET a run


def test_a_json_download_with_the_published_bytes_is_not_read(file_server: Any) -> None:
    body = b'[{"id": "1", "name": "Forte Stella"}]'
    url = file_server.route("forts.json", body, {"Content-Type": "application/json"})
    first, context = run({"url": url}, {}, Path("."))
    assert len(first) == 1 and "rows_sha256" not in context.state  # rows: CSV only
    again, context = run({"url": url}, dict(context.state), Path("."))
    assert again == [] and context.unchanged


def test_a_local_tsv_rewritten_with_the_same_rows_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "forts.tsv").write_text("id\tname\n1\tForte Stella\n", encoding="utf-8")
    first, context = run({"path": "forts.tsv"}, {}, tmp_path)
    assert first == [{"id": "1", "name": "Forte Stella"}]
    (tmp_path / "forts.tsv").write_text('id\tname\r\n1\t"Forte Stella"\r\n', encoding="utf-8")
    again, context = run({"path": "forts.tsv"}, dict(context.state), tmp_path)
    assert again == [] and context.unchanged
