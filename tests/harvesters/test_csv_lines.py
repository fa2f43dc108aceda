"""The CSV reader's line numbers, cut-file detection and line splitting stay exact.

Files here are larger than one read chunk (64 KB), so rows, quoted line breaks and
`\\r\\n` pairs fall across the batches of lines the reader is fed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from harvesters import _text, get_harvester, record_location
from hub.errors import HarvestError

harvest_files = get_harvester("files")


def located(path: Path) -> list[tuple[dict, str]]:
    """Each record with the location the harvester set for it, read as the mapping does."""
    return [
        (record, record_location.get())
        for record in harvest_files("t", {"path": path.name}, root=path.parent)
    ]


def test_line_numbers_stay_exact_with_quoted_line_breaks_across_chunks(tmp_path: Path) -> None:
    rng = random.Random(14)
    lines_written = 1  # the header
    parts, expected = ["id,note,town\r\n"], []
    for n in range(6000):
        breaks = rng.choice([0, 0, 0, 1, 2])
        note = "\r\n".join(f"riga {k} " + "x" * rng.randint(0, 40) for k in range(breaks + 1))
        parts.append(f'{n},"{note}",{"" if n % 3 else "Bastia"}\r\n')
        lines_written += breaks + 1
        expected.append((n, note, lines_written))  # a row is located at its last line
    (tmp_path / "q.csv").write_text("".join(parts), encoding="utf-8", newline="")
    assert (tmp_path / "q.csv").stat().st_size > 3 * 64 * 1024
    got = located(tmp_path / "q.csv")
    assert [(int(r["id"]), r["note"], where) for r, where in got] == [
        (n, note, f"q.csv line {line}") for n, note, line in expected
    ]
    assert [r["town"] for r, _ in got[:4]] == ["Bastia", None, None, "Bastia"]


def big_csv(tmp_path: Path, tail: str) -> tuple[str, int]:
    """A file of many rows ending with `tail`; its name and the line `tail` starts on."""
    rows = [f"{n},name {n},{n % 7}\n" for n in range(5000)]
    (tmp_path / "c.csv").write_text("id,name,zone\n" + "".join(rows) + tail, encoding="utf-8")
    return "c.csv", len(rows) + 2


def test_a_file_cut_inside_its_last_row_is_said_to_be_cut(tmp_path: Path) -> None:
    name, line = big_csv(tmp_path, "5000,name")
    with pytest.raises(HarvestError) as caught:
        located(tmp_path / name)
    assert (
        f"c.csv line {line}: the last row has 2 fields but the header has 3, and the file "
        "ends without a line break: it looks cut short"
    ) in str(caught.value)


def test_a_file_cut_inside_a_quoted_field_names_its_last_line(tmp_path: Path) -> None:
    name, line = big_csv(tmp_path, '5000,"first line\nsecond')
    with pytest.raises(HarvestError) as caught:
        located(tmp_path / name)
    assert f"c.csv line {line + 1}: the last row has 2 fields" in str(caught.value)
    assert "looks cut short" in str(caught.value)


def test_a_short_row_before_the_end_is_a_field_count_problem_not_a_cut(tmp_path: Path) -> None:
    # the file ends without a line break, but the short row is not its last line
    name, line = big_csv(tmp_path, "5000,name\n5001,name,1")
    with pytest.raises(HarvestError) as caught:
        located(tmp_path / name)
    assert f"c.csv line {line}: the row has 2 fields but the header has 3" in str(caught.value)
    # and a short last row that does end with a line break is one too
    name, line = big_csv(tmp_path, "5000,name\n")
    with pytest.raises(HarvestError) as caught:
        located(tmp_path / name)
    assert f"c.csv line {line}: the row has 2 fields but the header has 3" in str(caught.value)


def test_empty_cells_are_none_and_other_values_are_kept(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text('a,b,c\n,0," "\n1,,\n2,3,4\n', encoding="utf-8")
    assert [r for r, _ in located(tmp_path / "e.csv")] == [
        {"a": None, "b": "0", "c": " "},
        {"a": "1", "b": None, "c": None},
        {"a": "2", "b": "3", "c": "4"},
    ]


@pytest.mark.parametrize("seed", range(40))
def test_lines_split_at_cr_lf_and_crlf_only_whatever_the_chunks(seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["a", "bé", "\n", "\r", "\r\n", "\x0b", "\x1c", "\x85", "\u2028", ",", '"']
    text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 300)))
    data = text.encode("utf-8")
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, 12))) if data else []
    chunks = [data[i:j] for i, j in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    expected = re.findall(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$", text)
    batches = list(_text.decode_line_batches("s", "x", iter(chunks), "utf-8"))
    assert all(batches)  # no empty batch
    assert [line for batch in batches for line in batch] == expected
    assert list(_text.decode_lines("s", "x", iter(chunks), "utf-8")) == expected
