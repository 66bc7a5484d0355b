"""Register exports for spreadsheets: CSV and Excel, safe against formula injection.

A cell starting with =, +, -, @, a tab or a carriage return is run as a formula by Excel and
LibreOffice; such values are prefixed with an apostrophe (OWASP's advice) so they show as typed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from app.attendance.services import RegisterRow
from app.formats import long_date
from app.tables.bookings import ROLE_LABELS, Role

HEADERS = ["Reference", "Name", "Email", "Setting", "Role", "Status", "Booked at", "Attendance",
           "Minutes present", "Marked by"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


R = TypeVar("R")
_BUILDER: ProcessPoolExecutor | None = None


async def built_apart(build: Callable[..., R], *args: object) -> R:
    """Run a workbook builder in a separate process (one per app process, started when first
    needed). A worker thread is not enough: openpyxl holds the interpreter lock for long stretches,
    and a small API call made while a county-wide workbook was built waited up to 0.8 s."""
    global _BUILDER
    if _BUILDER is None:
        _BUILDER = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return await asyncio.get_running_loop().run_in_executor(_BUILDER, build, *args)


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _records(rows: Iterable[RegisterRow]) -> list[list[str]]:
    return [[safe_cell(v) for v in (
        r.reference, r.name, r.email, r.setting, ROLE_LABELS[Role(r.role)], r.status,
        f"{long_date(r.booked_at)} {r.booked_at:%H:%M} UTC", r.outcome or "", r.minutes_present, r.marked_by,
    )] for r in rows]


def table_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """Every cell made safe (`safe_cell`, which leaves a safe cell as it is) here, off the loop."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8 names correctly


def table_xlsx(header: list[str], rows: Iterable[list[str]], *, title: str | None = None,
               sheet_name: str = "Sheet1") -> bytes:
    """A streamed (write-only) workbook: time grows with the cells, not their square. CPU work:
    call it through `built_apart`, never on the event loop."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)

    def text_cells(values: Iterable[object]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
            cell.data_type = "s"  # text, never a formula, whatever it looks like
            cells.append(cell)
        return cells

    if title:
        sheet.append(text_cells([safe_cell(title)]))
    sheet.append(text_cells(header))
    for row in rows:
        sheet.append(text_cells(safe_cell(v) for v in row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def register_csv(rows: list[RegisterRow]) -> bytes:
    return table_csv(HEADERS, _records(rows))


def register_xlsx(rows: list[RegisterRow], title: str) -> bytes:
    return table_xlsx(HEADERS, _records(rows), title=title, sheet_name="Register")
