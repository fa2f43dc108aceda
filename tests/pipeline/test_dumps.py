"""Each publish rewrites the source's N-Quads dump and the hub's, from the version file, atomically."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest

from hub.layout import DataLayout
from hub.pipeline import dumps as dumps_module
from hub.pipeline.publish import Publisher
from hub.pipeline.run import run_source
from tests.pipeline.conftest import MiniHub


def quads(path: Path) -> set[ox.Quad]:
    """The quads of a gzipped N-Quads file (every gzip member), as a store holds them
    (literals in canonical form, like the store's own quads)."""
    store = ox.Store()
    store.load(gzip.decompress(path.read_bytes()), format=ox.RdfFormat.N_QUADS)
    return set(store)


def store_quads(minihub: MiniHub, graph: str) -> set[ox.Quad]:
    return {
        ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph))
        for q in minihub.store.quads(graph)
    }


def test_publish_writes_the_source_dump_and_the_hub_dump(minihub: MiniHub) -> None:
    layout = DataLayout(minihub.config.data_path)
    minihub.write(minihub.places(10))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    source = quads(layout.dump("places"))
    assert source == store_quads(minihub, minihub.live)
    assert len(source) == 50
    hub = quads(layout.hub_dump())
    programme = store_quads(minihub, minihub.iris.programme_graph)
    assert programme and hub == source | programme  # no metadata graph: it changes every run
    assert not list(layout.dumps().glob("*.tmp"))

    # A new version replaces both; a rollback too.
    minihub.write(minihub.places(12, prefix="r"))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    assert quads(layout.dump("places")) == store_quads(minihub, minihub.live)
    assert len(quads(layout.dump("places"))) == 60
    assert Publisher(minihub.config, minihub.store).rollback("places").status == "published"
    assert quads(layout.dump("places")) == source
    assert quads(layout.hub_dump()) == source | programme


def test_an_unchanged_or_failed_run_keeps_the_dump(minihub: MiniHub) -> None:
    layout = DataLayout(minihub.config.data_path)
    minihub.write(minihub.places(10))
    run_source(minihub.config, minihub.store, "places")
    before = layout.dump("places").stat()
    assert run_source(minihub.config, minihub.store, "places").status == "unchanged"
    minihub.csv.write_text("id,name,lat,lon\n", encoding="utf-8")  # no records: the run fails
    assert run_source(minihub.config, minihub.store, "places").status != "published"
    after = layout.dump("places").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_failed_write_leaves_the_old_dump_whole(
    minihub: MiniHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = DataLayout(minihub.config.data_path)
    minihub.write(minihub.places(10))
    run_source(minihub.config, minihub.store, "places")
    old = layout.dump("places").read_bytes()

    def broken(lines: bytes, graph: bytes) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(dumps_module, "_nquads", broken)
    minihub.write(minihub.places(12, prefix="r"))
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published"  # derived data never undoes a publish
    assert any("write_dumps failed: disk full" in w for w in report.warnings)
    assert layout.dump("places").read_bytes() == old
    assert not list(layout.dumps().glob("*.tmp"))


def test_ntriples_lines_become_quads_of_the_graph(tmp_path: Path) -> None:
    source = tmp_path / "v.nt"
    source.write_bytes(
        b'<https://e.org/a> <https://e.org/p> "x . y"@it .\n'
        b"\n"
        b"<https://e.org/a> <https://e.org/q> <https://e.org/b> .\n"
    )
    target = tmp_path / "out" / "v.nq.gz"
    dumps_module.write_ntriples_as_nquads(source, "https://e.org/g", target)
    assert gzip.decompress(target.read_bytes()).decode().splitlines() == [
        '<https://e.org/a> <https://e.org/p> "x . y"@it <https://e.org/g> .',
        "<https://e.org/a> <https://e.org/q> <https://e.org/b> <https://e.org/g> .",
    ]


def test_a_missing_dump_is_written_at_the_next_start(minihub: MiniHub) -> None:
    layout = DataLayout(minihub.config.data_path)
    minihub.write(minihub.places(10))
    assert run_source(minihub.config, minihub.store, "places").status == "published"
    expected = quads(layout.dump("places"))
    layout.dump("places").unlink()  # a hub from before dumps, or a lost file
    layout.hub_dump().unlink()
    assert minihub.cli("sources") == 0  # any command that owns the store catches up
    assert quads(layout.dump("places")) == expected
    assert expected <= quads(layout.hub_dump())


def test_a_version_file_becomes_the_same_quads_whatever_the_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f'<https://e.org/s{i}> <https://e.org/p> "line {i} . with \\\\n and \\" . "@it .\n'.encode()
        for i in range(50)
    ] + [b"<https://e.org/a> <https://e.org/q> <https://e.org/b> .\n"]
    source = tmp_path / "v.nt"
    source.write_bytes(b"".join(sorted(lines)))
    expected = [line.decode()[: -len(" .\n")] + " <https://e.org/g> ." for line in sorted(lines)]
    for chunk in (7, 64, 1 << 20):  # lines cut anywhere between reads
        monkeypatch.setattr(dumps_module, "_CHUNK", chunk)
        target = tmp_path / f"v{chunk}.nq.gz"
        dumps_module.write_ntriples_as_nquads(source, "https://e.org/g", target)
        assert gzip.decompress(target.read_bytes()).decode().splitlines() == expected
