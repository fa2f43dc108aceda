"""A harvest that gives the published version again is `unchanged` without re-checking it,
unless what checks it (shapes, quality settings, vocabularies) changed since; a local
file that is byte for byte the published run's is not even read again, unless what
maps or checks it changed."""

from __future__ import annotations

from hub.pipeline.check import check_source
from hub.pipeline.run import run_source
from tests.pipeline.conftest import SHAPES, MiniHub

STRICTER = SHAPES.replace(
    "sh:property [ sh:path schema:name ; sh:minCount 1 ] ;",
    "sh:property [ sh:path schema:name ; sh:minCount 1 ] ;\n"
    "  sh:property [ sh:path schema:longitude ; sh:maxInclusive 5 ] ;",
)


def test_the_published_version_again_is_not_checked_again(minihub: MiniHub) -> None:
    minihub.write(minihub.places(30))
    first = run_source(minihub.config, minihub.store, "places")
    assert first.status == "published" and "validate" in first.phases
    with minihub.csv.open("a", encoding="utf-8") as csv:
        csv.write("\n")  # another file (a blank line at the end), the same records
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
