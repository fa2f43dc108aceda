"""The XLSX reader of the `files` kind: one record per row of one sheet, streamed.

openpyxl's read-only mode reads the sheet's XML row by row, so memory stays flat
whatever the number of rows. The header is the first row with any value; every later
non-empty row is a record. Values keep their spreadsheet type: text, int, float, bool,
`datetime.datetime` (a date-and-time cell), `datetime.date` (a cell formatted as a
date only), `datetime.time`; a duration cell becomes an ISO 8601 duration text
("PT1H30M"). Empty cells are None. A formula cell gives the value Excel last saved
with the file; a file written by a program that never computed it gives None.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from typing import IO, Any

import openpyxl
from openpyxl.styles.numbers import is_datetime
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from hub.errors import HarvestError

Sheet = str | int


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
    if isinstance(value, dt.datetime) and is_datetime(cell.number_format) == "date":
        return value.date()  # the cell shows a date only: midnight is not part of the data
    return value


def _open(source_id: str, name: str, stream: IO[bytes]) -> Any:
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


def _header(source_id: str, name: str, cells: tuple[Any, ...], row: int) -> list[str | None]:
    header: list[str | None] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        value = cell.value
        if value is None or (isinstance(value, str) and not value.strip()):
            header.append(None)
            continue
        column = value.strip() if isinstance(value, str) else str(value)
        if column in seen:
            raise HarvestError(
                source_id,
                f"{name}: the header (row {row}) names column `{column}` twice "
                f"(again in {get_column_letter(position)}{row}); rename one of them in the file",
            )
        seen.add(column)
        header.append(column)
    while header and header[-1] is None:
        header.pop()
    return header


def read_xlsx(source_id: str, name: str, stream: IO[bytes], sheet: Sheet | None) -> Iterator[dict]:
    """Yield one dict per non-empty row of the sheet, the first non-empty row's cells as keys."""
    workbook = _open(source_id, name, stream)
    try:
        worksheet = _sheet(source_id, name, workbook, sheet)
        where = f"sheet '{worksheet.title}'"
        # Files written by some programs carry a wrong size; reading without it is safe.
        worksheet.reset_dimensions()
        header: list[str | None] | None = None
        for number, cells in enumerate(worksheet.iter_rows(), start=1):
            if all(c.value is None or c.value == "" for c in cells):
                continue
            if header is None:
                header = _header(source_id, f"{name} {where}", cells, number)
                continue
            record: dict[str, Any] = dict.fromkeys(c for c in header if c is not None)
            for position, cell in enumerate(cells):
                coordinate = f"{get_column_letter(position + 1)}{number}"
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
            yield record
    finally:
        workbook.close()
