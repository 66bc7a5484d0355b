"""Who is offered a freed place first (issue 24, point 3): the order of an event's waiting list.

- The event's rule (`Event.waitlist_rule`): first come, first served; or a setting's first place
  before another setting's second (those whose setting holds no place at the event come first).
- On an event organisers mark as in demand, someone who was a no-show at the last two in-person
  forums they booked waits behind everyone else. Only no-shows recorded from `COUNTED_FROM` count
  (when the rule began: nobody is held to marks made before it was announced), never a Teams
  "joined for less than the minutes that count" (a mark with minutes present), and none recorded
  before an organiser lifted it for the person; attending once lifts it by itself, since the last
  two are then not both no-shows.
- Then first come (created_at, then id), as ever.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from app.audit.services import record
from app.db import write_transaction
from app.tables.attendance import Attendance, Outcome
from app.tables.bookings import PLACE_HOLDING_STATUSES, Booking, BookingStatus
from app.tables.programme import WaitlistRule
from app.tables.register import Person

#: When the rule for repeat no-shows began: marks recorded before it never count.
COUNTED_FROM = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)
#: How many no-shows in a row, at the latest in-person forums booked, put someone behind others.
IN_A_ROW = 2


@dataclass(frozen=True)
class Waiting:
    booking_id: int
    person_id: int
    email: str
    setting_id: int
    created_at: dt.datetime
    second_place: bool  #: their setting already holds a place at the event (setting-first rule)
    behind: bool  #: a repeat no-show, on an event in demand


async def repeat_no_shows_among(person_ids_of: object, now: dt.datetime) -> set[int]:
    """The people (chosen by `person_ids_of`, a sub-select of person ids: never a list) whose last
    two in-person forums booked, ended by `now`, were both no-shows that count."""
    rows = await Booking.select(
        Booking.id, Booking.person, Booking.person.no_shows_lifted_at.as_alias("lifted"),
    ).where(
        Booking.person.is_in(person_ids_of) & (Booking.status == BookingStatus.confirmed.value)
        & (Booking.event.kind.code == "forum") & (Booking.event.online == False)  # noqa: E712
        & (Booking.event.ends_at <= now)
    ).order_by(Booking.event.starts_at, ascending=False)
    marks = {r["booking"]: r for r in await Attendance.select(
        Attendance.booking, Attendance.outcome, Attendance.recorded_at, Attendance.minutes_present).where(
        Attendance.booking.person.is_in(person_ids_of))}
    return _repeat(rows, marks)


def _repeat(rows: list[dict], marks: dict[int, dict]) -> set[int]:
    latest: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if len(latest[r["person"]]) < IN_A_ROW:
            latest[r["person"]].append(r)
    return {person for person, last in latest.items() if len(last) == IN_A_ROW and all(_counts(r, marks) for r in last)}


def _counts(row: dict, marks: dict[int, dict]) -> bool:
    mark = marks.get(row["id"])
    if mark is None or mark["outcome"] != Outcome.absent.value or mark["minutes_present"] is not None:
        return False
    lifted = row["lifted"]
    return mark["recorded_at"] >= COUNTED_FROM and (lifted is None or mark["recorded_at"] > lifted)


async def waiting_in_order(event_id: int, *, rule: str, in_demand: bool, now: dt.datetime) -> list[Waiting]:
    """The event's waiting list in the order places are offered."""
    rows = await Booking.select(Booking.id, Booking.person, Booking.person.email.as_alias("email"), Booking.setting,
                                Booking.created_at).where(
        (Booking.event == event_id) & (Booking.status == BookingStatus.waitlisted.value))
    if not rows:
        return []
    holding = set()
    if rule == WaitlistRule.setting_first.value:
        holding = {r["setting"] for r in await Booking.select(Booking.setting).where(
            (Booking.event == event_id) & Booking.status.is_in([s.value for s in PLACE_HOLDING_STATUSES]))}
    behind = set()
    if in_demand:
        behind = await repeat_no_shows_among(Booking.select(Booking.person).where(
            (Booking.event == event_id) & (Booking.status == BookingStatus.waitlisted.value)), now)
    waiting = [Waiting(r["id"], r["person"], r["email"], r["setting"], r["created_at"], r["setting"] in holding,
                       r["person"] in behind) for r in rows]
    return sorted(waiting, key=lambda w: (w.behind, w.second_place, w.created_at, w.booking_id))


async def is_repeat_no_show(person_id: int, now: dt.datetime) -> bool:
    return person_id in await repeat_no_shows_among(Person.select(Person.id).where(Person.id == person_id), now)


async def lift_repeat_no_show(person_id: int, *, actor: str, now: dt.datetime) -> None:
    """An organiser lifts the rule for the person: the no-shows recorded so far no longer count."""
    async with write_transaction():
        changed = await Person.update({Person.no_shows_lifted_at: now, Person.updated_at: now}).where(
            Person.id == person_id).returning(Person.id)
        if changed:
            await record("person.no_show_rule_lifted", actor, person_id=person_id)
