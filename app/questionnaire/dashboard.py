"""The organisers' dashboard figures: per quadrant and term, the share of settings on the
register whose DSL / Lead Practitioner attended a forum, and the no-show rate of bookings.
A handful of queries however many settings and bookings there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.areas import QUADRANT_LABELS, Quadrant, Term
from app.attendance.tables import Attendance, Outcome
from app.bookings.tables import Booking, BookingStatus
from app.questionnaire.evidence import TERM_ORDER, attended, rules
from app.settings_register.tables import Setting


@dataclass(frozen=True)
class Cell:
    quadrant: Quadrant
    term: Term
    settings: int
    settings_with_dsl: int
    confirmed: int
    no_shows: int

    @property
    def dsl_share(self) -> float:
        return self.settings_with_dsl / self.settings if self.settings else 0.0

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.confirmed if self.confirmed else None


async def dashboard(academic_year: str, now: dt.datetime) -> list[Cell]:
    settings = await Setting.select(Setting.id, Setting.quadrant).where(
        (Setting.on_register == True) & Setting.merged_into.is_null())  # noqa: E712
    quadrant_of = {s["id"]: s["quadrant"] for s in settings}
    per_quadrant = {q: sum(1 for v in quadrant_of.values() if v == q.value) for q in Quadrant}
    rule = rules()[13]
    with_dsl: dict[tuple[Quadrant, Term], set[int]] = {}
    for a in await attended(academic_year, rule["attended_kinds"]):
        quadrant = quadrant_of.get(a.setting_id)
        if quadrant and a.role in rule["roles"]:
            with_dsl.setdefault((Quadrant(quadrant), a.term), set()).add(a.setting_id)
    # No-shows: confirmed bookings at events of the year that have ended, not marked attended.
    bookings = await Booking.select(Booking.id, Booking.setting.quadrant.as_alias("quadrant"),
                                    Booking.event.term.as_alias("term")).where(
        (Booking.status == BookingStatus.confirmed.value) & (Booking.event.academic_year == academic_year)
        & (Booking.event.ends_at <= now) & Booking.setting.quadrant.is_not_null())
    came = {r["booking"] for r in await Attendance.select(Attendance.booking).where(
        (Attendance.outcome == Outcome.attended.value) & (Attendance.booking.event.academic_year == academic_year))}
    confirmed: dict[tuple[str, str], int] = {}
    no_shows: dict[tuple[str, str], int] = {}
    for b in bookings:
        key = (b["quadrant"], b["term"])
        confirmed[key] = confirmed.get(key, 0) + 1
        no_shows[key] = no_shows.get(key, 0) + (b["id"] not in came)
    return [Cell(q, t, per_quadrant[q], len(with_dsl.get((q, t), set())), confirmed.get((q.value, t.value), 0),
                 no_shows.get((q.value, t.value), 0)) for q in Quadrant for t in TERM_ORDER]


def chart_rows(cells: list[Cell]) -> list[dict]:
    """Bars for the SVG: one group per quadrant, one bar per term."""
    rows = []
    for q in Quadrant:
        rows.append({"label": QUADRANT_LABELS[q], "bars": [c for c in cells if c.quadrant is q]})
    return rows
