"""Register exports for spreadsheets: CSV and Excel, safe against formula injection.

A cell starting with =, +, -, @, a tab or a carriage return is run as a formula by Excel and
LibreOffice; such values are prefixed with an apostrophe (OWASP's advice) so they show as typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from openpyxl import Workbook

from app.attendance.services import RegisterRow
from app.formats import long_date
from app.tables.bookings import ROLE_LABELS, Role

HEADERS = ["Reference", "Name", "Email", "Setting", "Role", "Status", "Booked at", "Attendance",
           "Minutes present", "Marked by"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _records(rows: Iterable[RegisterRow]) -> list[list[str]]:
    return [[safe_cell(v) for v in (
        r.reference, r.name, r.email, r.setting, ROLE_LABELS[Role(r.role)], r.status,
        f"{long_date(r.booked_at)} {r.booked_at:%H:%M} UTC", r.outcome or "", r.minutes_present, r.marked_by,
    )] for r in rows]


def table_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """Cells must already have passed through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8 names correctly


def table_xlsx(header: list[str], rows: list[list[str]], *, title: str | None = None, sheet_name: str = "Sheet1") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    if title:
        sheet.append([safe_cell(title)])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # text, never a formula, whatever it looks like
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def register_csv(rows: list[RegisterRow]) -> bytes:
    return table_csv(HEADERS, _records(rows))


def register_xlsx(rows: list[RegisterRow], title: str) -> bytes:
    return table_xlsx(HEADERS, _records(rows), title=title, sheet_name="Register")
