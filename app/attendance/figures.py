"""Attendance figures for the dashboard: no-shows at each quadrant's in-person forums, no-show
rates per kind of session, and the latest year with attendance recorded. Counted in SQL,
whatever the number of bookings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Count

from app.attendance.services import marked_condition, no_show_condition
from app.tables.attendance import Outcome
from app.tables.bookings import Booking, BookingStatus
from app.tables.programme import Event

#: (quadrant, term) -> a count.
ByQuadrantTerm = dict[tuple[str, str], int]


async def in_person_no_shows(academic_year: str, kinds: list[str],
                             now: dt.datetime) -> tuple[ByQuadrantTerm, ByQuadrantTerm]:
    """Bookings whose attendance was recorded, and of them the no-shows, at each quadrant's
    in-person events of these kinds, by the event's quadrant (a West nursery's no-show at the
    South forum is South's) and term: the one rule (app.attendance.services) in SQL. An unmarked
    register is "not recorded", never a row of no-shows."""
    of_year = ((Booking.event.academic_year == academic_year) & Booking.event.quadrant.is_not_null()
               & Booking.event.kind.code.is_in(kinds) & (Booking.event.online == False))  # noqa: E712
    key = (Booking.event.quadrant.as_alias("quadrant"), Booking.event.term.as_alias("term"), Count(alias="n"))
    recorded = {(r["quadrant"], r["term"]): r["n"] for r in await Booking.select(*key).where(
        of_year & marked_condition(now)).group_by(Booking.event.quadrant, Booking.event.term)}
    missed = {(r["quadrant"], r["term"]): r["n"] for r in await Booking.select(*key).where(
        of_year & no_show_condition(now)).group_by(Booking.event.quadrant, Booking.event.term)}
    return recorded, missed


@dataclass(frozen=True)
class NoShowRate:
    """No-shows of one kind of session in a year: absent out of those whose attendance was
    recorded; bookings nobody marked are counted apart, and so are apologies (places given up
    before the session: never a no-show), the late ones among them too."""

    label: str
    recorded: int
    absent: int
    not_recorded: int
    apologies: int = 0
    late_apologies: int = 0

    @property
    def rate(self) -> float | None:
        return self.absent / self.recorded if self.recorded else None


#: Each booking counted once: an apology as such, else a confirmed booking for an ended session by
#: its mark (none: not recorded).
_BY_OUTCOME = (
    "SELECT k.code AS kind, k.name AS name, e.online AS online, a.outcome AS outcome, COUNT(*) AS n "
    "FROM booking b JOIN event e ON e.id = b.event JOIN event_kind k ON k.id = e.kind "
    "LEFT JOIN attendance a ON a.booking = b.id "
    "WHERE e.academic_year = {} AND b.status = {} AND e.ends_at <= {} "
    "GROUP BY k.code, k.name, e.online, a.outcome "
    # Apologies apart, in their own branch: one OR across both made the planner read every booking.
    "UNION ALL "
    "SELECT k.code, k.name, e.online, CASE WHEN b.apology_late THEN 'late_apology' ELSE 'apology' END, COUNT(*) "
    "FROM booking b JOIN event e ON e.id = b.event JOIN event_kind k ON k.id = e.kind "
    "WHERE e.academic_year = {} AND b.status = {} AND b.apology_at IS NOT NULL "
    "GROUP BY k.code, k.name, e.online, b.apology_late")


async def no_show_rates(academic_year: str, now: dt.datetime) -> list[NoShowRate]:
    """Per kind of session (forums in person and online apart, each training course): one grouped
    count of confirmed bookings for ended sessions by their mark, and of apologies, whatever the
    number of bookings."""
    rows = await Booking.raw(_BY_OUTCOME, academic_year, BookingStatus.confirmed.value, now, academic_year,
                             BookingStatus.cancelled.value)
    counts: dict[tuple[str, str, bool], dict[str | None, int]] = {}
    for r in rows:
        by_outcome = counts.setdefault((r["kind"], r["name"], bool(r["online"])), {})
        by_outcome[r["outcome"]] = by_outcome.get(r["outcome"], 0) + r["n"]
    out = []
    for (kind, name, online), by_outcome in sorted(counts.items(), key=lambda kv: (kv[0][0] != "forum", kv[0][0], kv[0][2])):
        where = ("online" if online else "in person") if kind == "forum" else ""
        late = by_outcome.get("late_apology", 0)
        recorded = sum(n for outcome, n in by_outcome.items() if outcome in (Outcome.attended.value, Outcome.absent.value))
        out.append(NoShowRate(f"{name} ({where})" if where else name, recorded,
                              by_outcome.get(Outcome.absent.value, 0), by_outcome.get(None, 0),
                              by_outcome.get("apology", 0) + late, late))
    return out


async def latest_year_with_attendance() -> str | None:
    """The latest academic year in which anyone's attendance was recorded (an EXISTS per event:
    a few dozen events, not a scan of every mark)."""
    rows = await Event.raw(
        "SELECT MAX(e.academic_year) AS year FROM event e WHERE EXISTS (SELECT 1 FROM booking b "
        "JOIN attendance a ON a.booking = b.id WHERE b.event = e.id AND a.outcome = {})", Outcome.attended.value)
    return rows[0]["year"] if rows else None
