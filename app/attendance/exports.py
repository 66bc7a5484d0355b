"""The register as a spreadsheet: one row per booking with its attendance (CSV and Excel, built
by `app.spreadsheets`)."""

from __future__ import annotations

from collections.abc import Iterable

from app.attendance.services import RegisterRow
from app.formats import long_date
from app.spreadsheets import safe_cell, table_csv, table_xlsx
from app.tables.bookings import ROLE_LABELS, Role

HEADERS = ["Reference", "Name", "Email", "Setting", "Role", "Status", "Booked at", "Attendance",
           "Minutes present", "Marked by"]


def _records(rows: Iterable[RegisterRow]) -> list[list[str]]:
    return [[safe_cell(v) for v in (
        r.reference, r.name, r.email, r.setting, ROLE_LABELS[Role(r.role)], r.state,
        f"{long_date(r.booked_at)} {r.booked_at:%H:%M} UTC", r.outcome or "", r.minutes_present, r.marked_by,
    )] for r in rows]


def register_csv(rows: list[RegisterRow]) -> bytes:
    return table_csv(HEADERS, _records(rows))


def register_xlsx(rows: list[RegisterRow], title: str) -> bytes:
    return table_xlsx(HEADERS, _records(rows), title=title, sheet_name="Register")
