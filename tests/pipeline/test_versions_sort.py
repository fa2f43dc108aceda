"""Sorting a version: the block-wise canonicalization and GNU sort give the line-by-line bytes.

`sort_version` reads blocks of lines; a plain block (a mapping's output) is canonicalized
in one scan and sorted by GNU sort when the machine has it. Whatever the path, the
version must be the bytes the reference gives: every line through `_line` (strip,
skolem IRIs, canonical XSD literals), then sorted and unique.
"""

from __future__ import annotations

import random
import stat
from pathlib import Path

import pyoxigraph as ox
import pytest

from hub.pipeline import versions
from hub.pipeline.versions import (
    ChangeCounts,
    canonical_line,
    diff_versions,
    gnu_sort,
    sort_version,
)

GENID = "https://hub.example.org/.well-known/genid/s/"
XSD = "http://www.w3.org/2001/XMLSchema#"

needs_gnu_sort = pytest.mark.skipif(
    gnu_sort() is None, reason="GNU coreutils sort is not on this machine (PATH)"
)


def _literal(rng: random.Random) -> str:
    """An object: typed literals (canonical or not, escaped, odd kinds), strings, IRIs;
    none of what makes a block not plain."""
    kind = rng.choice(["decimal", "integer", "double", "boolean", "date", "string", "gYear"])
    lexical = rng.choice(
        [
            f"{rng.uniform(-50, 50):.5f}",
            f"{rng.randint(-999, 999)}",
            f"+{rng.randint(0, 99)}",
            f"00{rng.randint(0, 9)}",
            "1.0E3",
            "1",
            "true",
            "2026-12-05",
            "x\\ty",
            "not a number",
            "12.",
        ]
    )
    return rng.choice(
        [
            f'"{lexical}"^^<{XSD}{kind}>',
            f'"{lexical}"@it',
            f'"a \\"{lexical}\\"^^<{XSD}integer> ."',
            f"<https://e.org/{lexical.replace(' ', '-').replace(chr(92), '')}>",
        ]
    )


def _messy_lines(rng: random.Random, count: int, plain_share: float) -> list[str]:
    """N-Triples lines, most plain, some with what only the line-by-line path handles."""
    lines = []
    for _ in range(count):
        subject = f"<https://hub.example.org/id/s/e{rng.randint(0, count // 3)}>"
        line = f"{subject} <http://schema.org/p{rng.randint(0, 4)}> {_literal(rng)} ."
        if rng.random() > plain_share:
            line = rng.choice(
                [
                    f"  {line}",
                    f"{line} \t",
                    f"{line}\r",
                    "",
                    "# a comment .",
                    f'_:n{rng.randint(0, 5)} <http://schema.org/name> "n" .',
                    f"{subject} <http://schema.org/about> _:n{rng.randint(0, 5)} .",
                ]
            )
        lines.append(line)
    return lines


def _reference(path: Path) -> bytes:
    """Every line through `_line`, then sorted and unique: what a version must be."""
    genid = GENID.encode()
    lines = {
        line
        for raw in path.read_bytes().split(b"\n")
        if (line := versions._line(raw, genid)) is not None
    }
    return b"".join(sorted(lines))


@pytest.fixture(params=["gnu sort", "in process"])
def sorter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "gnu sort":
        if gnu_sort() is None:
            pytest.skip("GNU coreutils sort is not on this machine (PATH)")
    else:
        monkeypatch.setattr(versions, "gnu_sort", lambda: None)
    return request.param


@pytest.mark.parametrize("plain_share", [1.0, 0.97])
@pytest.mark.parametrize("seed", range(3))
def test_sorted_version_is_the_line_by_line_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sorter: str, seed: int, plain_share: float
) -> None:
    monkeypatch.setattr(versions, "_BLOCK_BYTES", 4096)  # many blocks, cut anywhere
    monkeypatch.setattr(versions, "RUN_LINES", 500)  # several runs to merge in process
    monkeypatch.setattr(versions, "SORT_BUFFER", "64K")  # GNU sort merges from files too
    rng = random.Random(seed)
    source = tmp_path / "run.unsorted"
    lines = _messy_lines(rng, 3000, plain_share)
    lines += lines[:200]  # duplicates
    rng.shuffle(lines)
    text = "\n".join(lines) + rng.choice(["\n", ""])  # with or without a last newline
    source.write_text(text, encoding="utf-8")
    assert versions._plain(text.rstrip("\n").encode() + b"\n") == (plain_share == 1.0)
    target = tmp_path / "run.nt"
    count = sort_version(source, target, genid=GENID)
    expected = _reference(source)
    assert target.read_bytes() == expected
    assert count == expected.count(b"\n")


def test_plain_blocks_are_canonical_as_the_store_keeps_them(tmp_path: Path) -> None:
    """The one-scan path writes each literal as Oxigraph stores it."""
    source = tmp_path / "run.unsorted"
    values = ["10.6110", "-0.50", "007", "+5", "1.0E3", "43.5", "0", "-12"]
    kinds = ["decimal", "decimal", "integer", "integer", "double", "decimal", "integer", "integer"]
    source.write_text(
        "".join(
            f'<https://e.org/s{i}> <http://schema.org/v> "{v}"^^<{XSD}{k}> .\n'
            for i, (v, k) in enumerate(zip(values, kinds, strict=True))
        )
    )
    assert versions._plain(source.read_bytes())
    target = tmp_path / "run.nt"
    sort_version(source, target, genid=GENID)
    store = ox.Store()
    store.load(path=str(source), format=ox.RdfFormat.N_TRIPLES)
    stored = sorted(f"{ox.Triple(q.subject, q.predicate, q.object)} .\n" for q in store)
    assert target.read_text() == "".join(stored)
    assert '"10.611"' in target.read_text() and '"7"' in target.read_text()


def test_a_block_with_a_blank_node_or_a_comment_is_not_plain() -> None:
    line = b'<https://e.org/s> <http://schema.org/v> "1.50"^^<' + XSD.encode() + b"decimal> .\n"
    assert versions._plain(line * 3)
    assert not versions._plain(line + b"# note .\n" + line)
    assert not versions._plain(line + b"<https://e.org/s> <http://schema.org/k> _:x .\n")
    assert not versions._plain(line + line.replace(b" .\n", b" . \n"))
    assert not versions._plain(b" " + line)
    assert versions._canonical_block(line) == canonical_line(line[:-1]) + b"\n"


@needs_gnu_sort
def test_a_failing_sort_names_itself_and_leaves_no_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(versions, "SORT_BUFFER", "not-a-size")
    source = tmp_path / "run.unsorted"
    source.write_text('<https://e.org/s> <http://schema.org/v> "x" .\n')
    target = tmp_path / "run.nt"
    with pytest.raises(OSError, match="sorting the version failed .*sort"):
        sort_version(source, target, genid=GENID)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_a_sort_that_is_not_gnu_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BusyBox's or BSD's sort lacks some of the options: the version is sorted here."""
    fake = tmp_path / "bin" / "sort"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'sort (BusyBox v1.36)'\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent))
    gnu_sort.cache_clear()
    try:
        assert gnu_sort() is None
        source = tmp_path / "run.unsorted"
        source.write_text(
            '<https://e.org/b> <http://schema.org/v> "2" .\n<https://e.org/a> <http://schema.org/v> "1" .\n'
        )
        target = tmp_path / "run.nt"
        assert sort_version(source, target, genid=GENID) == 2
        assert target.read_text().startswith("<https://e.org/a>")
    finally:
        gnu_sort.cache_clear()


@pytest.mark.parametrize(
    ("text", "lines"), [(b"", 0), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n", 2), (b"\n\n", 2)]
)
def test_count_lines_counts_a_last_line_without_newline(
    tmp_path: Path, text: bytes, lines: int
) -> None:
    path = tmp_path / "v.nt"
    path.write_bytes(text)
    assert versions.count_lines(path) == lines


def test_a_diff_of_one_file_under_two_names_is_empty(tmp_path: Path) -> None:
    old = tmp_path / "old.nt"
    old.write_bytes(b"<a> <p> <b> .\n<a> <p> <c> .\n")
    linked = tmp_path / "linked.nt"
    linked.hardlink_to(old)
    removed, added = tmp_path / "removed.nt", tmp_path / "added.nt"
    removed.write_bytes(b"stale\n")
    assert diff_versions(old, linked, removed, added) == ChangeCounts(0, 0)
    assert removed.read_bytes() == b"" and added.read_bytes() == b""
    other = tmp_path / "other.nt"
    other.write_bytes(b"<a> <p> <b> .\n<a> <p> <d> .\n")
    assert diff_versions(old, other, removed, added) == ChangeCounts(1, 1)
    assert removed.read_bytes() == b"<a> <p> <c> .\n"
    assert added.read_bytes() == b"<a> <p> <d> .\n"
