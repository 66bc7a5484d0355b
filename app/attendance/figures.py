"""Attendance figures for the dashboard: no-show rates per kind of session, and the latest year
with attendance recorded. Counted in SQL, whatever the number of bookings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.tables.attendance import Outcome
from app.tables.bookings import Booking, BookingStatus
from app.tables.programme import Event


@dataclass(frozen=True)
class NoShowRate:
    """No-shows of one kind of session in a year: absent out of those whose attendance was
    recorded; bookings nobody marked are counted apart."""

    label: str
    recorded: int
    absent: int
    not_recorded: int

    @property
    def rate(self) -> float | None:
        return self.absent / self.recorded if self.recorded else None


async def no_show_rates(academic_year: str, now: dt.datetime) -> list[NoShowRate]:
    """Per kind of session (forums in person and online apart, each training course): one grouped
    count of confirmed bookings for ended sessions by their mark, whatever the number of bookings."""
    rows = await Booking.raw(
        "SELECT k.code AS kind, k.name AS name, e.online AS online, a.outcome AS outcome, COUNT(*) AS n "
        "FROM booking b JOIN event e ON e.id = b.event JOIN event_kind k ON k.id = e.kind "
        "LEFT JOIN attendance a ON a.booking = b.id "
        "WHERE e.academic_year = {} AND b.status = {} AND e.ends_at <= {} "
        "GROUP BY k.code, k.name, e.online, a.outcome",
        academic_year, BookingStatus.confirmed.value, now)
    counts: dict[tuple[str, str, bool], dict[str | None, int]] = {}
    for r in rows:
        counts.setdefault((r["kind"], r["name"], bool(r["online"])), {})[r["outcome"]] = r["n"]
    out = []
    for (kind, name, online), by_outcome in sorted(counts.items(), key=lambda kv: (kv[0][0] != "forum", kv[0][0], kv[0][2])):
        where = ("online" if online else "in person") if kind == "forum" else ""
        recorded = sum(n for outcome, n in by_outcome.items() if outcome is not None)
        out.append(NoShowRate(f"{name} ({where})" if where else name, recorded,
                              by_outcome.get(Outcome.absent.value, 0), by_outcome.get(None, 0)))
    return out


async def latest_year_with_attendance() -> str | None:
    """The latest academic year in which anyone's attendance was recorded (an EXISTS per event:
    a few dozen events, not a scan of every mark)."""
    rows = await Event.raw(
        "SELECT MAX(e.academic_year) AS year FROM event e WHERE EXISTS (SELECT 1 FROM booking b "
        "JOIN attendance a ON a.booking = b.id WHERE b.event = e.id AND a.outcome = {})", Outcome.attended.value)
    return rows[0]["year"] if rows else None
