"""The XLSX reader of the `files` kind: one record per row of one sheet, streamed.

openpyxl's read-only mode reads the sheet's XML row by row, so memory stays flat
whatever the number of rows. The header is the first row with any value; every later
non-empty row is a record. A sheet from an office often has a title above its table and a
header over two rows, the upper one merged across the columns it groups: `skip_rows`
skips the rows above the header, `header_rows` reads that many rows as the header, a
cell merged across columns names each of them, and a column's name is its header cells
joined by " / " ("Periodo / Inizio"). Values keep their spreadsheet type: text, int, float, bool,
`datetime.datetime` (a date-and-time cell), `datetime.date` (a cell formatted as a
date only), `datetime.time`; a duration cell becomes an ISO 8601 duration text
("PT1H30M"). Empty cells are None. A formula cell gives the value Excel last saved
with the file; a file written by a program that never computed it gives None.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from harvesters.context import record_location
from hub.errors import HarvestError

Sheet = str | int


def _is_datetime(number_format: str) -> str | None:
    from openpyxl.styles.numbers import is_datetime

    return is_datetime(number_format)


def _column_letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position)


def _range_boundaries(ref: str) -> tuple[int, int, int, int]:
    from openpyxl.utils import range_boundaries

    return range_boundaries(ref)


def _duration(value: dt.timedelta) -> str:
    """An ISO 8601 duration for a spreadsheet duration cell, e.g. PT1H30M or P2DT3H."""
    seconds = round(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    text = (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return f"{sign}P{text or 'T0S'}"


def _value(source_id: str, name: str, where: str, cell: Any) -> Any:
    value = cell.value
    if value is None or value == "":
        return None
    if cell.data_type == "e":
        raise HarvestError(
            source_id,
            f"{name}: cell {where} holds the spreadsheet error {value}; fix the formula "
            "or the value in the file",
        )
    if isinstance(value, dt.timedelta):
        return _duration(value)
    if isinstance(value, dt.datetime) and _is_datetime(cell.number_format) == "date":
        return value.date()  # the cell shows a date only: midnight is not part of the data
    return value


def _open(source_id: str, name: str, stream: IO[bytes]) -> Any:
    # openpyxl is imported when a workbook is read, not when the config loads (~0.2 s)
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise HarvestError(
            source_id,
            f"{name} is not a readable XLSX workbook ({exc}); save it as .xlsx (Excel 2007 "
            "or later; old .xls files are not read), or set options.format if it is not XLSX",
        ) from None


def _sheet(source_id: str, name: str, workbook: Any, sheet: Sheet | None) -> Any:
    names = workbook.sheetnames
    listed = ", ".join(f"'{n}'" for n in names)
    if sheet is None:
        return workbook[names[0]]
    if isinstance(sheet, int):
        if sheet >= len(names):
            raise HarvestError(
                source_id,
                f"{name}: options.sheet is {sheet} but the workbook has {len(names)} sheet(s) "
                f"({listed}); 0 is the first",
            )
        return workbook[names[sheet]]
    if sheet not in names:
        raise HarvestError(
            source_id,
            f"{name}: no sheet named '{sheet}'; the workbook's sheets are {listed}; fix options.sheet",
        )
    return workbook[sheet]


def _merged_ranges(worksheet: Any) -> list[tuple[int, int, int, int]]:
    """The sheet's merged cell ranges as (min_col, min_row, max_col, max_row).

    A read-only worksheet does not parse them, so the sheet's XML is scanned for its
    <mergeCell> elements (after the rows), freeing each row as it passes.
    """
    ranges = []
    with worksheet._get_source() as source:  # openpyxl's read-only sheet: the XML part
        for _, element in ET.iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell" and element.get("ref"):
                ranges.append(_range_boundaries(element.get("ref")))
            elif tag == "row":
                element.clear()
    return ranges


def _label(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return " ".join(value.split()) if isinstance(value, str) else str(value)


def _where_in_header(position: int, rows: list[tuple[int, tuple[Any, ...]]]) -> str:
    letter = _column_letter(position)
    return f"{letter}{rows[0][0]}" if len(rows) == 1 else f"column {letter}"


def _header(
    source_id: str,
    name: str,
    rows: list[tuple[int, tuple[Any, ...]]],
    merged: list[tuple[int, int, int, int]],
) -> list[str | None]:
    """Column names from the header row(s); cells merged across columns name each column."""
    width = max(len(cells) for _, cells in rows)
    parts: list[list[str]] = [[] for _ in range(width)]
    for number, cells in rows:
        labels = [_label(c.value) for c in cells] + [None] * (width - len(cells))
        for min_col, min_row, max_col, _ in merged:
            if min_row == number and min_col <= width and labels[min_col - 1] is not None:
                for col in range(min_col + 1, min(max_col, width) + 1):
                    labels[col - 1] = labels[col - 1] or labels[min_col - 1]
        for position, label in enumerate(labels):
            if label is not None and label not in parts[position]:
                parts[position].append(label)
    header: list[str | None] = []
    seen: set[str] = set()
    first = rows[0][0]
    where = f"row {first}" if len(rows) == 1 else f"rows {first}-{rows[-1][0]}"
    for position, words in enumerate(parts, start=1):
        column = " / ".join(words) or None
        if column is not None and column in seen:
            raise HarvestError(
                source_id,
                f"{name}: the header ({where}) names column `{column}` twice "
                f"(again in {_where_in_header(position, rows)}); rename one of them in the file",
            )
        if column is not None:
            seen.add(column)
        header.append(column)
    while header and header[-1] is None:
        header.pop()
    return header


def read_xlsx(
    source_id: str,
    name: str,
    stream: IO[bytes],
    sheet: Sheet | None,
    *,
    skip_rows: int = 0,
    header_rows: int = 1,
) -> Iterator[dict]:
    """Yield one dict per non-empty row of the sheet, the header row(s)' cells as keys.

    The header starts at the first non-empty row after the first `skip_rows` rows and
    spans `header_rows` rows.
    """
    workbook = _open(source_id, name, stream)
    try:
        worksheet = _sheet(source_id, name, workbook, sheet)
        where = f"sheet '{worksheet.title}'"
        merged = _merged_ranges(worksheet) if header_rows > 1 else []
        # Files written by some programs carry a wrong size; reading without it is safe.
        worksheet.reset_dimensions()
        header: list[str | None] | None = None
        header_cells: list[tuple[int, tuple[Any, ...]]] = []
        for number, cells in enumerate(worksheet.iter_rows(), start=1):
            if number <= skip_rows:
                continue
            if header is None:
                if not header_cells and all(c.value is None or c.value == "" for c in cells):
                    continue
                header_cells.append((number, cells))
                if len(header_cells) == header_rows:
                    header = _header(source_id, f"{name} {where}", header_cells, merged)
                continue
            if all(c.value is None or c.value == "" for c in cells):
                continue
            record: dict[str, Any] = dict.fromkeys(c for c in header if c is not None)
            for position, cell in enumerate(cells):
                coordinate = f"{_column_letter(position + 1)}{number}"
                value = _value(source_id, f"{name} {where}", coordinate, cell)
                column = header[position] if position < len(header) else None
                if column is not None:
                    record[column] = value
                elif value is not None:
                    raise HarvestError(
                        source_id,
                        f"{name} {where}: cell {coordinate} has a value but its column has no "
                        "header; give the column a name in the header row, or clear the cell",
                    )
            record_location.set(f"{name} {where} row {number}")
            yield record
    finally:
        workbook.close()
