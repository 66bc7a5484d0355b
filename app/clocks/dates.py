"""Each person's safeguarding clock (issue 25, point 1): three dates worked out from what the
service knows, each with where it comes from.

- **Level 3** (formal DSL training): the latest Level 3 training declared for the person by their
  setting (or a session of a kind the evidence rules count for Q6, attended), and two years on
  (the rule's `valid_for_years`).
- **Knowledge refreshed**: the latest forum attended or forum pack acknowledged, and a year on.
- **Prevent awareness**: the latest Prevent session attended or declared, and `PREVENT_RENEW_YEARS` on.

The dates are London dates, kept in `lead_clock` (one row per work email) by `refresh_clocks`,
which every change to what they come from calls inside its own write transaction: a mark of
attendance or its correction, a declaration, a pack acknowledged, a person erased. The words are
facts ("Level 3: last recorded 14 March 2024 (declared by the setting); two years on: 14 March
2026"), never a verdict."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from app.areas import local
from app.config import Config
from app.db import write_transaction
from app.evidence_rules import rules
from app.formats import day_month_year
from app.tables.attendance import Attendance, Outcome
from app.tables.bookings import BookingStatus
from app.tables.questionnaire import DeclarationKind, TrainingDeclaration
from app.tables.register import Person, SettingLead
from app.tables.training import ClockReminder, LeadClock, PackCopy

#: A date within this many days is "due within 60 days"; reminders go at these thresholds.
SOON_DAYS = 60
THRESHOLDS = (60, 14)
CHUNK = 500

LEVEL3, KNOWLEDGE, PREVENT = "level3", "knowledge", "prevent"
WHICH = (LEVEL3, KNOWLEDGE, PREVENT)
LABELS = {LEVEL3: "Level 3", KNOWLEDGE: "Knowledge refreshed", PREVENT: "Prevent awareness"}
_NUMBERS = {1: "a year", 2: "two years", 3: "three years", 4: "four years", 5: "five years", 6: "six years",
            7: "seven years", 8: "eight years", 9: "nine years", 10: "ten years"}
DECLARED = "declared by the setting"


def plus_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` on (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def renew_years(config: Config) -> dict[str, int]:
    return {LEVEL3: rules()[6].get("valid_for_years") or 2, KNOWLEDGE: 1, PREVENT: config.prevent_renew_years}


@dataclass(frozen=True)
class ClockDate:
    which: str
    on: dt.date | None
    source: str
    due: dt.date | None
    years: int

    @property
    def label(self) -> str:
        return LABELS[self.which]

    def state(self, today: dt.date) -> str:
        """"none" (nothing recorded), "passed", "soon" (within 60 days) or "current"."""
        if self.due is None:
            return "none"
        if self.due < today:
            return "passed"
        return "soon" if self.due <= today + dt.timedelta(days=SOON_DAYS) else "current"

    def words(self, today: dt.date) -> str:
        if self.on is None:
            return f"{self.label}: nothing recorded in this service"
        assert self.due is not None
        text = (f"{self.label}: last recorded {day_month_year(self.on)} ({self.source}); "
                f"{_NUMBERS.get(self.years, f'{self.years} years')} on: {day_month_year(self.due)}")
        state = self.state(today)
        if state == "soon":
            text += f", due within {SOON_DAYS} days"
        elif state == "passed":
            text += ", a date now passed"
        return text


@dataclass(frozen=True)
class Clock:
    email: str
    dates: tuple[ClockDate, ClockDate, ClockDate]

    def date(self, which: str) -> ClockDate:
        return next(d for d in self.dates if d.which == which)

    def words(self, today: dt.date) -> list[str]:
        return [d.words(today) for d in self.dates]


def clock_from_row(email: str, row: dict | None, config: Config) -> Clock:
    years = renew_years(config)
    row = row or {}
    return Clock(email, tuple(ClockDate(w, row.get(f"{w}_on"), row.get(f"{w}_from") or "", row.get(f"{w}_due"),
                                        years[w]) for w in WHICH))  # type: ignore[arg-type]


async def clocks_for(emails: Iterable[str], config: Config) -> dict[str, Clock]:
    """The clocks of these people (every one, "nothing recorded" where the service knows nothing)."""
    emails = sorted({e.lower() for e in emails if e})
    rows: dict[str, dict] = {}
    for start in range(0, len(emails), CHUNK):
        for r in await LeadClock.select().where(LeadClock.email.is_in(emails[start:start + CHUNK])):
            rows[r["email"]] = r
    return {e: clock_from_row(e, rows.get(e), config) for e in emails}


PACK_READ = "read the forum pack of "


def _latest(found: list[tuple[dt.date, str]]) -> tuple[dt.date | None, str]:
    """The latest date and where it comes from; on the same day, attending (or a declaration)
    before a pack read."""
    if not found:
        return None, ""
    return max(found, key=lambda f: (f[0], not f[1].startswith(PACK_READ), f[1]))


async def _sources(emails: list[str]) -> dict[str, dict[str, list[tuple[dt.date, str]]]]:
    """What each person's dates come from, read for at most CHUNK people at once."""
    level3_kinds = set(rules()[6].get("attended_kinds", []))
    prevent_kinds = set(rules()[7].get("attended_kinds", []))
    found: dict[str, dict[str, list[tuple[dt.date, str]]]] = defaultdict(lambda: defaultdict(list))
    attended = await Attendance.select(
        Attendance.booking.person.email.as_alias("email"), Attendance.booking.event.starts_at.as_alias("starts_at"),
        Attendance.booking.event.title.as_alias("title"), Attendance.booking.event.kind.code.as_alias("kind"),
        Attendance.booking.event.kind.is_forum.as_alias("is_forum")).where(
        (Attendance.outcome == Outcome.attended.value) & (Attendance.booking.status == BookingStatus.confirmed.value)
        & Attendance.booking.person.email.is_in(emails))
    for r in attended:
        on, source = local(r["starts_at"]).date(), f"attended {r['title']}"
        if r["is_forum"]:
            found[r["email"]][KNOWLEDGE].append((on, source))
        if r["kind"] in prevent_kinds:
            found[r["email"]][PREVENT].append((on, source))
        if r["kind"] in level3_kinds:
            found[r["email"]][LEVEL3].append((on, source))
    for r in await PackCopy.select(PackCopy.booking.person.email.as_alias("email"), PackCopy.read_at,
                                   PackCopy.pack.event.title.as_alias("title")).where(
            PackCopy.read_at.is_not_null() & PackCopy.booking.person.email.is_in(emails)):
        found[r["email"]][KNOWLEDGE].append((local(r["read_at"]).date(), f"{PACK_READ}{r['title']}"))
    for r in await TrainingDeclaration.select(TrainingDeclaration.email, TrainingDeclaration.kind,
                                              TrainingDeclaration.completed_on).where(
            TrainingDeclaration.email.is_in(emails)):
        which = LEVEL3 if r["kind"] == DeclarationKind.level3.value else PREVENT
        found[r["email"]][which].append((r["completed_on"], DECLARED))
    return found


async def refresh_clocks(emails: Iterable[str], *, now: dt.datetime, config: Config) -> int:
    """Work out again the clocks of these people from what they come from, and keep them: call
    inside the write transaction of the change (one upsert per 500 people). Returns how many."""
    emails = sorted({e.lower() for e in emails if e})
    years = renew_years(config)
    for start in range(0, len(emails), CHUNK):
        chunk = emails[start:start + CHUNK]
        found = await _sources(chunk)
        rows = []
        for email in chunk:
            values: dict[str, object] = {"email": email, "reminders_token": secrets.token_urlsafe(24),
                                         "updated_at": now}
            for which in WHICH:
                on, source = _latest(found.get(email, {}).get(which, []))
                values.update({f"{which}_on": on, f"{which}_from": source[:300],
                               f"{which}_due": plus_years(on, years[which]) if on else None})
            rows.append(LeadClock(**values))
        kept = [getattr(LeadClock, f"{w}_{part}") for w in WHICH for part in ("on", "from", "due")]
        await LeadClock.insert(*rows).on_conflict(target=LeadClock.email, action="DO UPDATE",
                                                   values=[*kept, LeadClock.updated_at])
    return len(emails)


async def refresh_every_clock(*, now: dt.datetime, config: Config) -> int:
    """Every clock worked out again (after PREVENT_RENEW_YEARS changes, or for data from before
    the clocks): every person on file and every lead on record. Returns how many."""
    async with write_transaction():
        await name_declarations_by_email()
    emails = {r["email"] for r in await Person.select(Person.email)}
    emails |= {r["email"] for r in await SettingLead.select(SettingLead.email)}
    emails |= {r["email"] for r in await TrainingDeclaration.select(TrainingDeclaration.email)
               .where(TrainingDeclaration.email != "")}
    ordered = sorted(emails)
    for start in range(0, len(ordered), CHUNK):
        async with write_transaction():
            await refresh_clocks(ordered[start:start + CHUNK], now=now, config=config)
    return len(ordered)


async def name_declarations_by_email() -> None:
    """Declarations made before they named a work email: given the address of the setting's lead
    on record with the same name (case and spacing aside), where there is one."""
    match = ("FROM setting_lead l WHERE l.setting = training_declaration.setting "
             "AND LOWER(l.name) = LOWER(training_declaration.person_name)")
    await TrainingDeclaration.raw(f"UPDATE training_declaration SET email = (SELECT MIN(l.email) {match}) "
                                  f"WHERE email = '' AND EXISTS (SELECT 1 {match})")


async def forget_clocks(emails: Iterable[str]) -> None:
    """An erased person's clock goes with them (inside the erasure's transaction)."""
    emails = sorted({e.lower() for e in emails if e})
    for start in range(0, len(emails), CHUNK):
        chunk = emails[start:start + CHUNK]
        await LeadClock.delete().where(LeadClock.email.is_in(chunk))
        await ClockReminder.delete().where(ClockReminder.email.is_in(chunk))
