"""The organisers' dashboard figures: per quadrant and term, the share of settings on the
register whose DSL / Lead Practitioner attended a forum, and the no-show rate of bookings.
A handful of queries however many settings and bookings there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from app.areas import QUADRANT_LABELS, Quadrant, Term
from app.attendance.services import (
    marked_condition,
    no_show_condition,
    not_recorded_condition,
)
from app.questionnaire.evidence import TERM_ORDER, rules
from app.tables.attendance import Attendance, Outcome
from app.tables.bookings import Booking
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
    # No-shows at the quadrant's in-person forums: the one rule (app.attendance.services),
    # counted in SQL per quadrant and term, out of the bookings whose attendance was recorded (an
    # unmarked register is "not recorded", never a row of no-shows).
    of_year = ((Booking.event.academic_year == academic_year) & Booking.setting.quadrant.is_not_null()
               & Booking.event.kind.code.is_in(rule["attended_kinds"]) & (Booking.event.online == False))  # noqa: E712
    key = (Booking.setting.quadrant.as_alias("quadrant"), Booking.event.term.as_alias("term"), Count(alias="n"))
    confirmed = {(r["quadrant"], r["term"]): r["n"] for r in await Booking.select(*key).where(
        of_year & marked_condition(now)).group_by(Booking.setting.quadrant, Booking.event.term)}
    missed = {(r["quadrant"], r["term"]): r["n"] for r in await Booking.select(*key).where(
        of_year & no_show_condition(now)).group_by(Booking.setting.quadrant, Booking.event.term)}
    return [Cell(q, t, per_quadrant[q], with_dsl.get((q.value, t.value), 0), confirmed.get((q.value, t.value), 0),
                 missed.get((q.value, t.value), 0))
            for q in Quadrant for t in TERM_ORDER]


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
    """Per kind of session (forums in person and online apart, each training course), and for
    in-person forums alone: three grouped counts, whatever the number of bookings."""
    of_year = Booking.event.academic_year == academic_year
    key = (Booking.event.kind.code.as_alias("kind"), Booking.event.kind.name.as_alias("name"),
           Booking.event.online.as_alias("online"), Count(alias="n"))
    group = (Booking.event.kind.code, Booking.event.kind.name, Booking.event.online)

    async def counts(condition: Any) -> dict[tuple[str, str, bool], int]:
        rows = await Booking.select(*key).where(of_year & condition).group_by(*group)
        return {(r["kind"], r["name"], bool(r["online"])): r["n"] for r in rows}

    recorded, absent, unmarked = (await counts(marked_condition(now)), await counts(no_show_condition(now)),
                                  await counts(not_recorded_condition(now)))
    out = []
    for kind, name, online in sorted(set(recorded) | set(unmarked), key=lambda k: (k[0] != "forum", k[0], k[2])):
        where = ("online" if online else "in person") if kind == "forum" else ""
        out.append(NoShowRate(f"{name} ({where})" if where else name, recorded.get((kind, name, online), 0),
                              absent.get((kind, name, online), 0), unmarked.get((kind, name, online), 0)))
    return out


async def latest_year_with_attendance() -> str | None:
    row = await Attendance.select(Attendance.booking.event.academic_year.as_alias("year")).where(
        Attendance.outcome == Outcome.attended.value).order_by(
        Attendance.booking.event.academic_year, ascending=False).first()
    return row["year"] if row else None


def chart_rows(cells: list[Cell]) -> list[dict]:
    """Bars for the SVG: one group per quadrant, one bar per term."""
    rows = []
    for q in Quadrant:
        rows.append({"label": QUADRANT_LABELS[q], "bars": [c for c in cells if c.quadrant is q]})
    return rows
