"""Registers and attendance: who is booked, who came, who did not; walk-ins; chasing no-shows.

A no-show is a fact, not a judgement: a confirmed booking, the event over, not marked attended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.query import Select

from app.attendance.tables import Attendance, MarkSource, Outcome
from app.audit.services import record
from app.bookings.tables import Booking, BookingStatus
from app.db import write_transaction
from app.organisers.services import OrganiserView
from app.programme.services import EventView, get_event


class NotAttendable(ValueError):
    """That booking cannot be marked (cancelled, waiting, or for another event)."""


@dataclass(frozen=True)
class RegisterRow:
    booking_id: int
    person_id: int
    setting_id: int
    reference: str
    name: str
    email: str
    setting: str
    role: str
    status: str
    source: str
    booked_at: dt.datetime
    over_capacity: bool
    outcome: str | None
    marked_by: str | None
    marked_at: dt.datetime | None
    mark_source: str | None
    minutes_present: int | None
    chased_at: dt.datetime | None
    cancel_reason: str


@dataclass(frozen=True)
class RegisterCounts:
    capacity: int
    booked: int
    places_left: int
    waiting: int
    offered: int
    attended: int
    absent: int
    unmarked: int
    no_shows: int | None  # None until the event is over
    over_capacity: int


def _register_query() -> Select:
    return Booking.select(
        Booking.id, Booking.reference, Booking.status, Booking.role, Booking.source, Booking.created_at,
        Booking.over_capacity, Booking.chased_at, Booking.cancel_reason, Booking.event,
        Booking.person.id.as_alias("person_id"), Booking.person.name.as_alias("name"),
        Booking.person.email.as_alias("email"), Booking.setting.id.as_alias("setting_id"),
        Booking.setting.name.as_alias("setting"),
    ).order_by(Booking.person.name).order_by(Booking.id)


async def marks_for(booking_ids: list[int]) -> dict[int, dict]:
    """The attendance mark (and who made it) of each booking that has one."""
    if not booking_ids:
        return {}
    rows = await Attendance.select(
        Attendance.booking, Attendance.outcome, Attendance.source, Attendance.minutes_present,
        Attendance.recorded_at, Attendance.recorded_by.name.as_alias("recorded_by_name"),
    ).where(Attendance.booking.is_in(booking_ids))
    return {r["booking"]: r for r in rows}


def _rows(bookings: list[dict], marks: dict[int, dict]) -> list[RegisterRow]:
    out = []
    for b in bookings:
        mark = marks.get(b["id"], {})
        out.append(RegisterRow(
            booking_id=b["id"], person_id=b["person_id"], setting_id=b["setting_id"], reference=b["reference"],
            name=b["name"], email=b["email"], setting=b["setting"], role=b["role"], status=b["status"],
            source=b["source"], booked_at=b["created_at"], over_capacity=bool(b["over_capacity"]),
            outcome=mark.get("outcome"), marked_by=mark.get("recorded_by_name"), marked_at=mark.get("recorded_at"),
            mark_source=mark.get("source"), minutes_present=mark.get("minutes_present"),
            chased_at=b["chased_at"], cancel_reason=b["cancel_reason"],
        ))
    return out


async def register(event_id: int, now: dt.datetime) -> tuple[EventView, list[RegisterRow], RegisterCounts]:
    event = await get_event(event_id, now)
    bookings = await _register_query().where(Booking.event == event_id)
    rows = _rows(bookings, await marks_for([b["id"] for b in bookings]))
    confirmed = [r for r in rows if r.status == BookingStatus.confirmed.value]
    ended = now >= event.ends_at
    counts = RegisterCounts(
        capacity=event.availability.capacity, booked=sum(not r.over_capacity for r in confirmed),
        places_left=event.availability.places_left,
        waiting=sum(r.status == BookingStatus.waitlisted.value for r in rows),
        offered=sum(r.status == BookingStatus.offered.value for r in rows),
        attended=sum(r.outcome == Outcome.attended.value for r in confirmed),
        absent=sum(r.outcome == Outcome.absent.value for r in confirmed),
        unmarked=sum(r.outcome is None for r in confirmed),
        no_shows=sum(r.outcome != Outcome.attended.value for r in confirmed) if ended else None,
        over_capacity=sum(r.over_capacity for r in confirmed),
    )
    return event, rows, counts


async def mark(booking_id: int, outcome: Outcome, *, organiser: OrganiserView, now: dt.datetime,
               source: MarkSource = MarkSource.register, minutes_present: int | None = None,
               event_id: int | None = None) -> str | None:
    """Record (or correct) attended/absent for a confirmed booking. Returns the previous outcome."""
    async with write_transaction():
        booking = await Booking.select(Booking.id, Booking.event, Booking.status, Booking.person).where(
            Booking.id == booking_id).first()
        if booking is None or booking["status"] != BookingStatus.confirmed.value or (
                event_id is not None and booking["event"] != event_id):
            raise NotAttendable(booking_id)
        previous = await Attendance.select(Attendance.outcome).where(Attendance.booking == booking_id).first()
        values = {"outcome": outcome.value, "source": source.value, "minutes_present": minutes_present,
                  "recorded_by": organiser.id, "recorded_at": now}
        if previous is None:
            await Attendance.insert(Attendance(booking=booking_id, **values))
        else:
            await Attendance.update({getattr(Attendance, k): v for k, v in values.items()}).where(
                Attendance.booking == booking_id)
        was = previous["outcome"] if previous else None
        if was != outcome.value:
            action = f"attendance.{outcome.value}" if was is None else "attendance.corrected"
            await record(action, organiser.email, event_id=booking["event"], booking_id=booking_id,
                         person_id=booking["person"], outcome=outcome.value, was=was, source=source.value,
                         minutes_present=minutes_present)
    return was


async def mark_rest_absent(event_id: int, *, organiser: OrganiserView, now: dt.datetime) -> int:
    """Everyone confirmed and not yet marked becomes absent."""
    _, rows, _ = await register(event_id, now)
    unmarked = [r for r in rows if r.status == BookingStatus.confirmed.value and r.outcome is None]
    for row in unmarked:
        await mark(row.booking_id, Outcome.absent, organiser=organiser, now=now, event_id=event_id)
    return len(unmarked)


async def booking_for_checkin(checkin_token: str) -> dict | None:
    return await _register_query().where(Booking.checkin_token == checkin_token).first()


async def list_no_shows(event_id: int, now: dt.datetime) -> tuple[EventView, list[RegisterRow]]:
    event, rows, _ = await register(event_id, now)
    if now < event.ends_at:
        return event, []
    return event, [r for r in rows if r.status == BookingStatus.confirmed.value and r.outcome != Outcome.attended.value]


@dataclass(frozen=True)
class RepeatNoShow:
    kind: str  # "person" or "setting"
    id: int
    name: str
    no_shows: int
    events: list[str]


async def repeat_no_shows(now: dt.datetime, minimum: int = 2) -> list[RepeatNoShow]:
    """People and settings with at least `minimum` no-shows at events that have ended."""
    bookings = await _register_query().where(
        (Booking.status == BookingStatus.confirmed.value) & (Booking.event.ends_at < now))
    marks = await marks_for([b["id"] for b in bookings])
    titles = {e["id"]: (e["title"], e["starts_at"]) for e in await _event_titles({b["event"] for b in bookings})}
    by: dict[tuple[str, int], tuple[str, list[str]]] = {}
    for b in bookings:
        if marks.get(b["id"], {}).get("outcome") == Outcome.attended.value:
            continue
        title, starts = titles[b["event"]]
        label = f"{title}, {starts:%d/%m/%Y}"
        for key, name in ((("person", b["person_id"]), f"{b['name']} ({b['email']})"),
                          (("setting", b["setting_id"]), b["setting"])):
            by.setdefault(key, (name, []))[1].append(label)
    found = [RepeatNoShow(kind, ident, name, len(events), events)
             for (kind, ident), (name, events) in by.items() if len(events) >= minimum]
    return sorted(found, key=lambda r: (r.kind, -r.no_shows, r.name))


async def _event_titles(ids: set[int]) -> list[dict]:
    from app.programme.tables import Event

    if not ids:
        return []
    return await Event.select(Event.id, Event.title, Event.starts_at).where(Event.id.is_in(list(ids)))
