"""The organisers' dashboard figures: per quadrant and term, the share of settings on the
register whose DSL / Lead Practitioner attended a forum, and the no-show rate of bookings.
A handful of queries however many settings and bookings there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Count

from app.areas import QUADRANT_LABELS, Quadrant, Term
from app.attendance.services import no_show_condition
from app.questionnaire.evidence import TERM_ORDER, rules
from app.tables.attendance import Attendance, Outcome
from app.tables.bookings import Booking, BookingStatus
from app.tables.register import Setting


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
    rule = rules()[13]
    register = (Setting.on_register == True) & Setting.merged_into.is_null()  # noqa: E712
    per_quadrant = {q: 0 for q in Quadrant}
    for row in await Setting.select(Setting.quadrant, Count(alias="n")).where(register).group_by(Setting.quadrant):
        if row["quadrant"]:
            per_quadrant[Quadrant(row["quadrant"])] = row["n"]
    # Settings whose DSL attended a forum, per quadrant and term: DISTINCT pairs, counted here.
    booking = Attendance.booking
    pairs = await Attendance.select(booking.setting.as_alias("setting"), booking.setting.quadrant.as_alias("quadrant"),
                                    booking.event.term.as_alias("term")).where(
        (Attendance.outcome == Outcome.attended.value) & (booking.event.academic_year == academic_year)
        & booking.event.kind.code.is_in(rule["attended_kinds"]) & booking.role.is_in(rule["roles"])
        & (booking.setting.on_register == True) & booking.setting.quadrant.is_not_null()  # noqa: E712
    ).distinct()
    with_dsl: dict[tuple[str, str], int] = {}
    for p in pairs:
        key = (p["quadrant"], p["term"])
        with_dsl[key] = with_dsl.get(key, 0) + 1
    # No-shows: the one rule (app.attendance.services), counted in SQL per quadrant and term.
    of_year = (Booking.event.academic_year == academic_year) & Booking.setting.quadrant.is_not_null()
    key = (Booking.setting.quadrant.as_alias("quadrant"), Booking.event.term.as_alias("term"), Count(alias="n"))
    confirmed = {(r["quadrant"], r["term"]): r["n"] for r in await Booking.select(*key).where(
        of_year & (Booking.status == BookingStatus.confirmed.value) & (Booking.event.ends_at <= now))
        .group_by(Booking.setting.quadrant, Booking.event.term)}
    missed = {(r["quadrant"], r["term"]): r["n"] for r in await Booking.select(*key).where(
        of_year & no_show_condition(now)).group_by(Booking.setting.quadrant, Booking.event.term)}
    return [Cell(q, t, per_quadrant[q], with_dsl.get((q.value, t.value), 0), confirmed.get((q.value, t.value), 0),
                 missed.get((q.value, t.value), 0))
            for q in Quadrant for t in TERM_ORDER]


def chart_rows(cells: list[Cell]) -> list[dict]:
    """Bars for the SVG: one group per quadrant, one bar per term."""
    rows = []
    for q in Quadrant:
        rows.append({"label": QUADRANT_LABELS[q], "bars": [c for c in cells if c.quadrant is q]})
    return rows
