"""The organisers' dashboard figures: per quadrant and term, the share of settings on the
register whose DSL / Lead Practitioner attended a forum, and the no-show rate of bookings.
A handful of queries however many settings and bookings there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Count

from app.areas import Term, council, local
from app.attendance.figures import in_person_no_shows
from app.questionnaire.evidence import TERM_ORDER, rules
from app.tables.attendance import Attendance, Outcome
from app.tables.programme import Event
from app.tables.register import Setting


@dataclass(frozen=True)
class Cell:
    quadrant: str
    term: Term
    settings: int
    settings_with_dsl: int
    confirmed: int
    no_shows: int
    #: No forum of this term and year has begun yet: its figures are not a 0 %, they are to come.
    to_come: bool = False

    @property
    def dsl_share(self) -> float:
        return self.settings_with_dsl / self.settings if self.settings else 0.0

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.confirmed if self.confirmed else None


async def dashboard(academic_year: str, now: dt.datetime) -> list[Cell]:
    rule = rules()[13]
    register = (Setting.on_register == True) & Setting.merged_into.is_null()  # noqa: E712
    per_quadrant = {q: 0 for q in council().codes}
    for row in await Setting.select(Setting.quadrant, Count(alias="n")).where(register).group_by(Setting.quadrant):
        if row["quadrant"] in per_quadrant:
            per_quadrant[row["quadrant"]] = row["n"]
    # Settings whose DSL attended a forum, per quadrant and term: counted in SQL (a dozen rows back,
    # not a row per setting and term).
    kinds, leads = list(rule["attended_kinds"]), list(rule["lead"])
    rows = await Attendance.raw(
        "SELECT s.quadrant AS quadrant, e.term AS term, COUNT(DISTINCT b.setting) AS n FROM attendance a "
        "JOIN booking b ON b.id = a.booking JOIN event e ON e.id = b.event JOIN event_kind k ON k.id = e.kind "
        "JOIN setting s ON s.id = b.setting "
        f"WHERE a.outcome = {{}} AND e.academic_year = {{}} AND k.code IN ({', '.join(['{}'] * len(kinds))}) "
        f"AND b.lead IN ({', '.join(['{}'] * len(leads))}) AND s.on_register AND s.quadrant IS NOT NULL "
        "GROUP BY s.quadrant, e.term", Outcome.attended.value, academic_year, *kinds, *leads)
    with_dsl: dict[tuple[str, str], int] = {(r["quadrant"], r["term"]): r["n"] for r in rows}
    confirmed, missed = await in_person_no_shows(academic_year, rule["attended_kinds"], now)
    begun = {r["term"] for r in await Event.select(Event.term).where(
        (Event.academic_year == academic_year) & Event.kind.code.is_in(rule["attended_kinds"])
        & (Event.starts_at <= now)).distinct()}
    start_year = int(academic_year[:4])
    term_ends = {Term.autumn: dt.date(start_year, 12, 31), Term.spring: dt.date(start_year + 1, 3, 31),
                 Term.summer: dt.date(start_year + 1, 8, 31)}  # as app.areas.term_of divides the year
    today = local(now).date()
    return [Cell(q, t, per_quadrant[q], with_dsl.get((q, t.value), 0), confirmed.get((q, t.value), 0),
                 missed.get((q, t.value), 0), to_come=t.value not in begun and term_ends[t] >= today)
            for q in council().codes for t in TERM_ORDER]


def chart_rows(cells: list[Cell]) -> list[dict]:
    """Bars for the SVG: one group per quadrant, one bar per term."""
    rows = []
    for q, label in council().labels.items():
        rows.append({"label": label, "bars": [c for c in cells if c.quadrant == q]})
    return rows
