"""A harvest that gives the published version again is `unchanged` without re-checking it,
unless what checks it (shapes, quality settings, vocabularies) changed since; a local
file that is byte for byte the published run's is not even read again, unless what
maps or checks it changed."""

from __future__ import annotations

import csv
import hashlib
import sqlite3

from hub.config import load_config
from hub.pipeline.check import check_source
from hub.pipeline.run import run_source
from hub.pipeline.state import load_state
from tests.pipeline.conftest import SHAPES, MiniHub, Row

STRICTER = SHAPES.replace(
    "sh:property [ sh:path schema:name ; sh:minCount 1 ] ;",
    "sh:property [ sh:path schema:name ; sh:minCount 1 ] ;\n"
    "  sh:property [ sh:path schema:longitude ; sh:maxInclusive 5 ] ;",
)


def _rewrite(minihub: MiniHub, rows: list[Row], extra_column: bool = False) -> None:
    """The same rows in a file whose bytes differ: CRLF line ends, every field quoted, a
    blank line at the end; `extra_column` adds a column the mapping does not read."""
    with minihub.csv.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
        out.writerow(["id", "name", "lat", "lon"] + (["note"] if extra_column else []))
        for row in rows:
            out.writerow(list(row) + (["unmapped"] if extra_column else []))
        fh.write("\r\n")


def test_the_published_version_again_is_not_checked_again(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    first = run_source(minihub.config, minihub.store, "places")
    assert first.status == "published" and "validate" in first.phases
    _rewrite(minihub, minihub.places(30), extra_column=True)  # other records, same triples
    again = run_source(minihub.config, minihub.store, "places")
    assert again.records == 30  # read and mapped again
    assert again.status == "unchanged", again.message
    assert "validate" not in again.phases and "gates" not in again.phases
    assert "sort" not in again.phases  # the mapping wrote what it wrote for the published one


def test_new_shapes_check_the_same_version_again(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    (minihub.root / "shapes.ttl").write_text(STRICTER, encoding="utf-8")
    again = run_source(minihub.config, minihub.store, "places")
    assert "validate" in again.phases
    assert again.violations > 0  # longitudes of 10° break the new shape
    assert again.status != "published"


def test_a_check_always_validates(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    result = check_source(minihub.config, "places")
    assert result.shacl  # a steward's dry run shows SHACL even when unchanged


def test_the_same_file_is_not_read_again(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    again = run_source(minihub.config, minihub.store, "places")
    assert again.status == "unchanged", again.message
    assert again.records == 0 and "no change" in again.message  # not read: same SHA-256
    assert again.message.endswith("places.csv is byte for byte the published run's file")
    minihub.write(minihub.places(31))
    assert run_source(minihub.config, minihub.store, "places").status == "published"


def test_a_new_mapping_reads_the_same_file_again(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    mapping = minihub.root / "mappings" / "places.yml"
    mapping.write_text(
        mapping.read_text(encoding="utf-8") + "      - [schema:alternateName, $(name)]\n",
        encoding="utf-8",
    )
    again = run_source(minihub.config, minihub.store, "places")
    assert again.records == 30 and again.status == "published", again.message
    assert again.triples == 30 * 6


def test_the_same_rows_in_a_rewritten_csv_are_not_read_again(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    published = load_state(minihub.config.data_path, "places").harvest
    assert set(published) == {"sha256", "rows_sha256"}
    before = minihub.csv.read_bytes()
    _rewrite(minihub, minihub.places(30))
    assert minihub.csv.read_bytes() != before
    again = run_source(minihub.config, minihub.store, "places")
    assert again.status == "unchanged", again.message
    assert again.records == 0 and "harvest+map+stage" in again.phases  # not read, not mapped
    assert again.message.endswith("places.csv was written again with the published run's rows")
    # the new file's digest is kept: the next run finds the same bytes
    state = load_state(minihub.config.data_path, "places").harvest
    assert state["sha256"] == hashlib.sha256(minihub.csv.read_bytes()).hexdigest()
    assert state["rows_sha256"] == published["rows_sha256"]
    assert run_source(minihub.config, minihub.store, "places").status == "unchanged"
    assert load_state(minihub.config.data_path, "places").harvest == state  # the same bytes
    rows = minihub.places(30)
    rows[7] = (rows[7][0], "Luogo sette", rows[7][2], rows[7][3])
    _rewrite(minihub, rows)  # one row differs
    changed = run_source(minihub.config, minihub.store, "places")
    assert changed.status == "published" and changed.records == 30, changed.message
    names = {
        str(row["n"].value)
        for row in minihub.store.select(
            f"SELECT ?n WHERE {{ GRAPH <{minihub.live}> {{ ?s <http://schema.org/name> ?n }} }}"
        )
    }
    assert "Luogo sette" in names and "Luogo 7" not in names


def test_a_check_reads_a_rewritten_csv(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    _rewrite(minihub, minihub.places(30))
    state = load_state(minihub.config.data_path, "places").harvest
    result = check_source(minihub.config, "places")
    assert result.records == 30  # a steward's dry run reads the file whatever it holds
    assert load_state(minihub.config.data_path, "places").harvest == state  # and keeps nothing


def test_a_sql_source_whose_changed_query_answers_alike_is_not_read(minihub: MiniHub) -> None:
    with sqlite3.connect(minihub.root / "places.sqlite") as db:
        db.execute("CREATE TABLE places (id TEXT, name TEXT, lat TEXT, lon TEXT, edited TEXT)")
        db.executemany("INSERT INTO places VALUES (?, ?, ?, ?, '2026-01-01')", minihub.places(30))
    db.close()
    config = minihub.config.path.read_text(encoding="utf-8")
    config = config.replace('kind = "files"', 'kind = "sql"').replace(
        'path = "places.csv"',
        'url = "sqlite:///places.sqlite"\n'
        'query = "SELECT id, name, lat, lon FROM places ORDER BY id"\n'
        'changed_query = "SELECT count(*), max(edited) FROM places"',
    )
    minihub.config.path.write_text(config, encoding="utf-8")
    minihub.config = load_config(minihub.config.path)
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    again = run_source(minihub.config, minihub.store, "places")
    assert again.status == "unchanged" and again.records == 0, again.message
    assert "options.changed_query gave the published run's answer (30, '2026-01-01')" in (
        again.message
    )
    with sqlite3.connect(minihub.root / "places.sqlite") as db:
        db.execute("UPDATE places SET name = 'Luogo sette', edited = '2026-02-01' WHERE id = 'p7'")
    db.close()
    changed = run_source(minihub.config, minihub.store, "places")
    assert changed.status == "published" and changed.records == 30, changed.message
