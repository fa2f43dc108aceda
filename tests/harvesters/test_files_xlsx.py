"""The `files` harvester on real XLSX workbooks, local and over loopback HTTP (conditional)."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from harvesters import HarvestContext, get_harvester
from hub.errors import HarvestError

harvest_files = get_harvester("files")


def harvest(options: dict[str, Any], root: Path, context: HarvestContext | None = None) -> list:
    """All records of a `files` source called `test`."""
    return list(harvest_files("test", options, root=root, context=context))


def workbook(path: Path, sheets: dict[str, list[list[Any]]], formats: dict | None = None) -> Path:
    """Write a real .xlsx with these sheets (rows of values); `formats` maps cells to formats."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for coordinate, number_format in (formats or {}).get(title, {}).items():
            sheet[coordinate].number_format = number_format
    book.save(path)
    return path


@pytest.fixture
def packages(tmp_path: Path) -> Path:
    """A workbook of tourist packages: a notes sheet first, then the data with gaps."""
    rows = [
        [],  # blank rows before the header are skipped
        [None, None],
        ["code", "name_it", "price", "nights", "start", "updated", "meeting", "guided", None],
        ["CB-01", "Giro dell'Elba", 480.5, 3, dt.date(2025, 5, 1), dt.datetime(2025, 2, 1, 9, 30)],
        [],  # a blank row between records
        ["CB-02", "", 1200, 7, dt.date(2025, 6, 15), None, dt.time(8, 45), True],
        ["CB-03", "  Corsica  ", None, None, None, None, None, False],
    ]
    return workbook(
        tmp_path / "pacchetti.xlsx",
        {"Note": [["Dati di esempio"]], "Pacchetti": rows},
        {"Pacchetti": {"E4": "yyyy-mm-dd", "E6": "dd/mm/yyyy", "F4": "yyyy-mm-dd hh:mm"}},
    )


# --- values -------------------------------------------------------------------------


def test_xlsx_values_keep_their_types(packages: Path) -> None:
    records = harvest({"path": packages.name, "sheet": "Pacchetti"}, packages.parent)
    assert records == [
        {
            "code": "CB-01",
            "name_it": "Giro dell'Elba",
            "price": 480.5,
            "nights": 3,
            "start": dt.date(2025, 5, 1),
            "updated": dt.datetime(2025, 2, 1, 9, 30),
            "meeting": None,
            "guided": None,
        },
        {
            "code": "CB-02",
            "name_it": None,  # an empty string is an empty cell
            "price": 1200,
            "nights": 7,
            "start": dt.date(2025, 6, 15),
            "updated": None,
            "meeting": dt.time(8, 45),
            "guided": True,
        },
        {
            "code": "CB-03",
            "name_it": "  Corsica  ",  # text is kept as written
            "price": None,
            "nights": None,
            "start": None,
            "updated": None,
            "meeting": None,
            "guided": False,
        },
    ]
    assert type(records[0]["start"]) is dt.date
    assert isinstance(records[1]["price"], int) and isinstance(records[1]["guided"], bool)


def test_xlsx_sheet_by_position_and_first_by_default(packages: Path) -> None:
    assert harvest({"path": packages.name}, packages.parent) == []  # "Note": a header only
    by_position = harvest({"path": packages.name, "sheet": 1}, packages.parent)
    assert [r["code"] for r in by_position] == ["CB-01", "CB-02", "CB-03"]


def test_xlsx_header_cells_that_are_numbers_become_text(tmp_path: Path) -> None:
    workbook(tmp_path / "n.xlsx", {"S": [["id", 2024, 2025], ["a", 1, 2]]})
    assert harvest({"path": "n.xlsx"}, tmp_path) == [{"id": "a", "2024": 1, "2025": 2}]


def test_xlsx_duration_cell_becomes_iso_8601(tmp_path: Path) -> None:
    rows = [["id", "walk"], ["a", dt.timedelta(hours=1, minutes=30)], ["b", dt.timedelta(days=2)]]
    workbook(tmp_path / "d.xlsx", {"S": rows}, {"S": {"B2": "[h]:mm:ss", "B3": "[h]:mm:ss"}})
    assert [r["walk"] for r in harvest({"path": "d.xlsx"}, tmp_path)] == ["PT1H30M", "P2D"]


def _peak(records: Any, limit: int | None) -> int:
    """The peak of traced memory while taking `limit` records (all if None)."""
    tracemalloc.start()
    try:
        for number, _ in enumerate(records, start=1):
            if number == limit:
                break
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        records.close()


def test_xlsx_is_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("dati")
    sheet.append(["id", "name", "town", "lat", "lon"])
    for i in range(8_000):
        sheet.append([i, f"Struttura ricettiva numero {i}", "Comune di prova", 43.1, 10.2])
    book.save(path)
    few = _peak(harvest_files("big", {"path": "big.xlsx"}, root=tmp_path), 10)
    everything = _peak(harvest_files("big", {"path": "big.xlsx"}, root=tmp_path), None)
    # the 8000 records as dicts take over 3 MB; read as a stream, the whole sheet costs
    # about what its first ten rows do (opening the workbook)
    assert everything < few + 1_000_000, f"peak {everything} bytes for all rows, {few} for 10"


# --- errors -------------------------------------------------------------------------


def test_xlsx_unknown_sheet_lists_the_sheets(packages: Path) -> None:
    with pytest.raises(HarvestError, match=r"no sheet named 'Foglio1'; .*'Note', 'Pacchetti'"):
        harvest({"path": packages.name, "sheet": "Foglio1"}, packages.parent)
    with pytest.raises(HarvestError, match=r"options.sheet is 5 but the workbook has 2 sheet"):
        harvest({"path": packages.name, "sheet": 5}, packages.parent)


def test_xlsx_duplicate_header_names_the_cell(tmp_path: Path) -> None:
    workbook(tmp_path / "d.xlsx", {"S": [[], ["id", "nome", "nome"], ["1", "a", "b"]]})
    with pytest.raises(
        HarvestError,
        match=r"sheet 'S': the header \(row 2\) names column `nome` twice \(again in C2\)",
    ):
        harvest({"path": "d.xlsx"}, tmp_path)


def test_xlsx_value_under_no_header_names_the_cell(tmp_path: Path) -> None:
    workbook(tmp_path / "h.xlsx", {"S": [["id", None, "town"], ["1", None, "Bastia"], ["2", "x"]]})
    records, error = [], None
    with pytest.raises(HarvestError) as caught:
        for record in harvest_files("test", {"path": "h.xlsx"}, root=tmp_path):
            records.append(record)
    error = caught.value
    assert records == [{"id": "1", "town": "Bastia"}]  # yielded before the bad row
    assert "h.xlsx sheet 'S': cell B3 has a value but its column has no header" in str(error)


def test_xlsx_error_cell_names_the_cell(tmp_path: Path) -> None:
    workbook(tmp_path / "e.xlsx", {"S": [["id", "ratio"], ["1", 0.5], ["2", "#DIV/0!"]]})
    with pytest.raises(HarvestError, match=r"cell B3 holds the spreadsheet error #DIV/0!"):
        harvest({"path": "e.xlsx"}, tmp_path)


def test_not_a_workbook_says_so(tmp_path: Path) -> None:
    (tmp_path / "fake.xlsx").write_text("id,name\n1,a\n", encoding="utf-8")
    with pytest.raises(HarvestError, match=r"fake.xlsx is not a readable XLSX workbook .*\.xls"):
        harvest({"path": "fake.xlsx"}, tmp_path)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"path": "a.xlsx", "records": "data"}, "options.records is for JSON and GeoJSON"),
        ({"path": "a.csv", "sheet": "S"}, "options.sheet is for XLSX workbooks"),
        (
            {"path": "a.xlsx", "sheet": -1},
            "options.sheet must be a sheet name or a position (0 is the first sheet), not -1",
        ),
        ({"path": "a.xlsx", "sheet": 1.5}, "options.sheet must be a sheet name or a position"),
        ({"path": "a.xlsx", "retries": 2}, "options.retries is for files over HTTP"),
    ],
)
def test_bad_xlsx_options_are_refused_when_called(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest_files("test", options, root=tmp_path)
    assert message in str(caught.value)


# --- over HTTP, conditional ---------------------------------------------------------


def test_xlsx_over_http_by_extension_and_by_content_type(file_server: Any, packages: Path) -> None:
    (file_server.folder / "p.xlsx").write_bytes(packages.read_bytes())
    records = harvest({"url": file_server.url("p.xlsx"), "sheet": "Pacchetti"}, Path("."))
    assert [r["code"] for r in records] == ["CB-01", "CB-02", "CB-03"]
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    url = file_server.route("export?id=7", packages.read_bytes(), {"Content-Type": media})
    records = harvest({"url": url, "sheet": 1}, Path("."))
    assert records[0]["start"] == dt.date(2025, 5, 1)


def test_http_is_conditional_and_304_marks_the_run_unchanged(
    file_server: Any, packages: Path
) -> None:
    (file_server.folder / "p.xlsx").write_bytes(packages.read_bytes())
    options = {"url": file_server.url("p.xlsx"), "sheet": "Pacchetti"}
    first = HarvestContext()
    assert len(harvest(options, Path("."), first)) == 3
    assert not first.unchanged
    validators = first.state["http"]
    assert validators["last_modified"]  # http.server sends Last-Modified for files

    second = HarvestContext(previous=first.state)
    assert harvest(options, Path("."), second) == []
    assert second.unchanged
    assert second.state["http"] == validators  # kept for the run after
    assert second.requests == 1


def test_changed_file_is_read_again_with_new_validators(file_server: Any, packages: Path) -> None:
    target = file_server.folder / "p.xlsx"
    target.write_bytes(packages.read_bytes())
    options = {"url": file_server.url("p.xlsx"), "sheet": 1}
    first = HarvestContext()
    harvest(options, Path("."), first)
    stale = {"http": {"last_modified": "Mon, 01 Jan 2001 00:00:00 GMT"}}
    again = HarvestContext(previous=stale)
    assert len(harvest(options, Path("."), again)) == 3
    assert not again.unchanged
    assert again.state["http"] == first.state["http"]
