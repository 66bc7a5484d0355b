"""The organisers' view of the clocks (issue 25, points 1 to 3): for every lead now on record, their
dates passed and coming, per quadrant; and each setting's cover (no DSL on record, no deputy, or
the DSL's knowledge refreshed date passed or never recorded). Counted in SQL on the indexed dates,
a page of 100 at a time, whatever the size of the county."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.areas import council
from app.clocks.dates import LABELS, SOON_DAYS, WHICH
from app.formats import day_month_year
from app.spreadsheets import Table
from app.sql import for_piccolo
from app.tables.register import LeadRole, Setting, SettingType

PAGE = 100
STATES = {"passed": "Passed", "soon": f"Due within {SOON_DAYS} days", "none": "Nothing recorded"}
ROLE_WORDS = {LeadRole.dsl.value: "DSL / Lead Practitioner", LeadRole.deputy_dsl.value: "Deputy DSL"}
NO_QUADRANT = "none"

#: Each lead now in the role, once per setting, role and address (an organiser's entry and the
#: setting's questionnaire may both name them).
_LEADS = ("WITH leads AS (SELECT l.setting AS setting, l.email AS email, l.role AS role, MAX(l.name) AS name "
          "FROM setting_lead l WHERE l.until IS NULL GROUP BY l.setting, l.email, l.role) ")
_FROM = ("FROM leads JOIN setting s ON s.id = leads.setting LEFT JOIN lead_clock c ON c.email = leads.email "
         "WHERE s.merged_into IS NULL ")


def quadrant_words(value: str | None) -> str:
    return council().label(value, f"No {council().word} recorded")


def _quadrant_condition(quadrant: str | None, column: str = "s.quadrant") -> tuple[str, dict[str, object]]:
    if not quadrant:
        return "", {}
    if quadrant == NO_QUADRANT:
        return f"AND {column} IS NULL ", {}
    if not council().is_area(quadrant):
        raise ValueError(f"not an area: {quadrant!r}")
    return f"AND {column} = {{quadrant}} ", {"quadrant": quadrant}


def _state_condition(which: str, state: str) -> str:
    due = f"c.{which}_due"  # `which` is one of WHICH: never a value from a request
    return {"passed": f"AND {due} < {{today}} ", "soon": f"AND {due} >= {{today}} AND {due} <= {{soon}} ",
            "none": f"AND {due} IS NULL "}.get(state, "")


def _per_quadrant(rows: list[dict]) -> list[tuple[str | None, dict | None]]:
    """Grouped rows in the quadrants' order, each quadrant whether it has a row or not, then the
    settings with no quadrant on record when there are any."""
    found = {r["quadrant"]: r for r in rows}
    return [(q, found.get(q)) for q in council().codes] + ([(None, found[None])] if None in found else [])


@dataclass(frozen=True)
class QuadrantCounts:
    quadrant: str | None
    leads: int
    #: Per date: (passed, due within 60 days, nothing recorded).
    dates: dict[str, tuple[int, int, int]]

    @property
    def label(self) -> str:
        return quadrant_words(self.quadrant)


async def clock_counts(today: dt.date) -> list[QuadrantCounts]:
    """Per quadrant: leads now on record, and for each date how many have passed, fall due within
    60 days, or have nothing recorded. One query."""
    sums = ", ".join(
        f"SUM(CASE WHEN c.{w}_due < {{today}} THEN 1 ELSE 0 END) AS {w}_passed, "
        f"SUM(CASE WHEN c.{w}_due >= {{today}} AND c.{w}_due <= {{soon}} THEN 1 ELSE 0 END) AS {w}_soon, "
        f"SUM(CASE WHEN c.{w}_due IS NULL THEN 1 ELSE 0 END) AS {w}_none" for w in WHICH)
    sql, values = for_piccolo(_LEADS + f"SELECT s.quadrant AS quadrant, COUNT(*) AS leads, {sums} " + _FROM
                              + "GROUP BY s.quadrant", today=today, soon=today + dt.timedelta(days=SOON_DAYS))
    return [QuadrantCounts(quadrant, int(r["leads"]) if r else 0, {
        w: (int(r[f"{w}_passed"] or 0), int(r[f"{w}_soon"] or 0), int(r[f"{w}_none"] or 0)) if r else (0, 0, 0)
        for w in WHICH}) for quadrant, r in _per_quadrant(await Setting.raw(sql, *values))]


@dataclass(frozen=True)
class LeadDate:
    setting_id: int
    setting_name: str
    quadrant: str | None
    name: str
    email: str
    role: str
    on: dt.date | None
    source: str
    due: dt.date | None

    @property
    def role_words(self) -> str:
        return ROLE_WORDS.get(self.role, self.role)


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    return dt.date.fromisoformat(str(value)[:10])


async def _lead_dates(which: str, today: dt.date, *, quadrant: str | None, state: str,
                      limit: int | None, offset: int = 0) -> tuple[list[LeadDate], int]:
    if which not in WHICH:
        raise ValueError(which)
    where, values = _quadrant_condition(quadrant)
    where += _state_condition(which, state)
    values.update(today=today, soon=today + dt.timedelta(days=SOON_DAYS))
    sql, args = for_piccolo(_LEADS + "SELECT COUNT(*) AS n " + _FROM + where, **values)
    total = int((await Setting.raw(sql, *args))[0]["n"])
    page = f"LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    sql, args = for_piccolo(
        _LEADS + f"SELECT s.id AS setting_id, s.name AS setting_name, s.quadrant AS quadrant, leads.name AS name, "
        f"leads.email AS email, leads.role AS role, c.{which}_on AS date_on, c.{which}_from AS source, "
        f"c.{which}_due AS due " + _FROM + where
        + f"ORDER BY CASE WHEN c.{which}_due IS NULL THEN 1 ELSE 0 END, c.{which}_due, s.name, leads.name, "
          f"leads.email {page}", **values)
    rows = [LeadDate(r["setting_id"], r["setting_name"], r["quadrant"], r["name"], r["email"], r["role"],
                     _as_date(r["date_on"]), r["source"] or "", _as_date(r["due"])) for r in await Setting.raw(sql, *args)]
    return rows, total


async def lead_dates(which: str, today: dt.date, *, quadrant: str | None = None, state: str = "",
                     page: int = 1) -> tuple[list[LeadDate], int]:
    """A page of leads now on record with one of their dates (soonest first, nothing recorded
    last), and how many in all, for the quadrant and state chosen."""
    return await _lead_dates(which, today, quadrant=quadrant, state=state, limit=PAGE,
                             offset=(max(page, 1) - 1) * PAGE)


def clock_header() -> list[str]:
    return [council().word.capitalize(), "Setting", "Name", "Work email", "Role"] + [
        f"{LABELS[w]}: {part}" for w in WHICH for part in ("last recorded", "from", "due")]


async def clock_table(today: dt.date, *, quadrant: str | None = None) -> Table:
    """Every lead now on record with their three dates, as a spreadsheet (the writer makes each
    cell safe): one query per date, however many leads."""
    per_date = {w: (await _lead_dates(w, today, quadrant=quadrant, state="", limit=None))[0] for w in WHICH}
    by_lead = {w: {(d.setting_id, d.email, d.role): d for d in per_date[w]} for w in WHICH}
    rows = []
    for d in sorted(per_date[WHICH[0]], key=lambda d: (quadrant_words(d.quadrant), d.setting_name, d.name)):
        row = [quadrant_words(d.quadrant), d.setting_name, d.name, d.email, d.role_words]
        for w in WHICH:
            x = by_lead[w][(d.setting_id, d.email, d.role)]
            row += [x.on.isoformat() if x.on else "", x.source, x.due.isoformat() if x.due else ""]
        rows.append(row)
    return Table(clock_header(), rows)


# Each setting's cover (point 3).

_COVER = (
    "WITH leads AS (SELECT l.setting AS setting, "
    "SUM(CASE WHEN l.role = {dsl} THEN 1 ELSE 0 END) AS dsls, "
    "SUM(CASE WHEN l.role = {deputy} THEN 1 ELSE 0 END) AS deputies, "
    "MAX(CASE WHEN l.role = {dsl} THEN c.knowledge_due END) AS knowledge_due, "
    "MAX(CASE WHEN l.role = {dsl} THEN l.name END) AS dsl_name "
    "FROM setting_lead l LEFT JOIN lead_clock c ON c.email = l.email WHERE l.until IS NULL GROUP BY l.setting), "
    "cover AS (SELECT s.id AS id, s.name AS name, s.quadrant AS quadrant, "
    "CASE WHEN COALESCE(leads.dsls, 0) = 0 THEN 1 ELSE 0 END AS no_dsl, "
    # A childminder who works alone has no deputy to name: not a gap in cover.
    "CASE WHEN COALESCE(leads.deputies, 0) = 0 AND s.setting_type <> {childminder} THEN 1 ELSE 0 END AS no_deputy, "
    "CASE WHEN COALESCE(leads.dsls, 0) > 0 AND (leads.knowledge_due IS NULL OR leads.knowledge_due < {today}) "
    "THEN 1 ELSE 0 END AS not_refreshed, "
    "leads.knowledge_due AS knowledge_due, leads.dsl_name AS dsl_name "
    "FROM setting s LEFT JOIN leads ON leads.setting = s.id "
    "WHERE s.on_register = {yes} AND s.merged_into IS NULL) ")
_COVER_VALUES = {"dsl": LeadRole.dsl.value, "deputy": LeadRole.deputy_dsl.value,
                 "childminder": SettingType.childminder.value, "yes": True}
_GAP = "(no_dsl = 1 OR no_deputy = 1 OR not_refreshed = 1)"


@dataclass(frozen=True)
class CoverCounts:
    quadrant: str | None
    settings: int
    no_dsl: int
    no_deputy: int
    not_refreshed: int

    @property
    def label(self) -> str:
        return quadrant_words(self.quadrant)


async def cover_counts(today: dt.date) -> list[CoverCounts]:
    """Per quadrant: settings on the register with a gap in their cover, and of each kind. One query."""
    sql, values = for_piccolo(_COVER + "SELECT quadrant, COUNT(*) AS settings, SUM(no_dsl) AS no_dsl, "
                              "SUM(no_deputy) AS no_deputy, SUM(not_refreshed) AS not_refreshed FROM cover "
                              f"WHERE {_GAP} GROUP BY quadrant", today=today, **_COVER_VALUES)
    return [CoverCounts(quadrant, *(int(r[k] or 0) if r else 0 for k in ("settings", "no_dsl", "no_deputy",
                                                                        "not_refreshed")))
            for quadrant, r in _per_quadrant(await Setting.raw(sql, *values))]


@dataclass(frozen=True)
class CoverGap:
    setting_id: int
    name: str
    quadrant: str | None
    no_dsl: bool
    no_deputy: bool
    not_refreshed: bool
    knowledge_due: dt.date | None
    dsl_name: str

    @property
    def gaps(self) -> list[str]:
        out = []
        if self.no_dsl:
            out.append("No DSL / Lead Practitioner on record")
        if self.no_deputy:
            out.append("No deputy on record")
        if self.not_refreshed:
            out.append(f"{self.dsl_name}'s knowledge refreshed: " + (
                f"a year on was {day_month_year(self.knowledge_due)}" if self.knowledge_due
                else "nothing recorded in this service"))
        return out


async def cover_gaps(today: dt.date, *, quadrant: str | None = None, page: int | None = 1) -> tuple[list[CoverGap], int]:
    """A page of settings with a gap in their cover (by quadrant, then name), and how many in all."""
    where, values = _quadrant_condition(quadrant, "quadrant")
    values.update(today=today, **_COVER_VALUES)
    sql, args = for_piccolo(_COVER + f"SELECT COUNT(*) AS n FROM cover WHERE {_GAP} {where}", **values)
    total = int((await Setting.raw(sql, *args))[0]["n"])
    limit = f"LIMIT {PAGE} OFFSET {(max(page, 1) - 1) * PAGE}" if page is not None else ""
    sql, args = for_piccolo(_COVER + f"SELECT * FROM cover WHERE {_GAP} {where}ORDER BY name, id {limit}", **values)
    rows = [CoverGap(r["id"], r["name"], r["quadrant"], bool(r["no_dsl"]), bool(r["no_deputy"]),
                     bool(r["not_refreshed"]), _as_date(r["knowledge_due"]), r["dsl_name"] or "")
            for r in await Setting.raw(sql, *args)]
    return rows, total


async def cover_table(today: dt.date, *, quadrant: str | None = None) -> Table:
    rows, _ = await cover_gaps(today, quadrant=quadrant, page=None)
    return Table([council().word.capitalize(), "Setting", "Gaps in cover"],
                 [[quadrant_words(r.quadrant), r.name, "; ".join(r.gaps)] for r in rows])
