"""Registers and attendance: who is booked, who came, who did not; walk-ins; chasing no-shows.

A no-show is a fact, not a judgement: a confirmed booking, the event over, not marked attended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.query import Select

from app.certificates.services import apply_attended, apply_not_attended
from app.audit.services import record, record_many
from app.bookings.services import BookingMade, book_place
from app.bookings.validation import BookingRequest
from app.clocks.dates import refresh_clocks
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError
from app.formats import clock_time, long_date
from app.organisers.services import OrganiserView
from app.programme.services import EventView, get_event
from app.tables.attendance import Attendance, MarkSource, Outcome
from app.tables.bookings import Booking, BookingSource, BookingStatus, Role
from app.tables.programme import EventStatus


class TooEarlyToRecord(DomainError):
    """Attendance recorded before it can have happened (nothing is recorded)."""

    code = "too_early"
    status = 409


def refuse_before_check_in_opens(starts_at: dt.datetime, now: dt.datetime, config: Config) -> None:
    """Taps, QR and walk-ins: from `CHECKIN_OPENS_BEFORE` minutes before the start."""
    opens = starts_at - dt.timedelta(minutes=config.checkin_opens_before_minutes)
    if now < opens:
        raise TooEarlyToRecord(f"Attendance can be recorded from {clock_time(opens)} on {long_date(opens)}, "
                               f"{config.checkin_opens_before_minutes} minutes before the event starts")


def refuse_before_the_end(ends_at: dt.datetime, now: dt.datetime, what: str) -> None:
    """Imports and "mark everyone left as absent": once the event has ended."""
    if now < ends_at:
        raise TooEarlyToRecord(f"{what} once the event has ended, at {clock_time(ends_at)} on {long_date(ends_at)}")


class NotAttendable(DomainError):
    """That booking cannot be marked (cancelled, waiting, or for another event)."""

    code = "not_attendable"
    message = "Only confirmed bookings for this event can be marked"


def is_no_show(*, status: str, outcome: str | None, ended: bool) -> bool:
    """The no-show rule, its one home (with `no_show_condition`, the same rule in SQL): a
    confirmed booking for an event that is over, marked absent (one by one, by "mark everyone
    left as absent", or by a Teams report it is missing from). A booking nobody marked is "not
    recorded" (`not_recorded_condition`): counted apart, never chased."""
    return ended and status == BookingStatus.confirmed.value and outcome == Outcome.absent.value


def no_show_condition(now: dt.datetime) -> Combinable:
    """`is_no_show` as a WHERE clause on Booking, for counting in SQL."""
    return ((Booking.status == BookingStatus.confirmed.value) & (Booking.event.ends_at <= now)
            & WhereRaw("EXISTS (SELECT 1 FROM attendance a WHERE a.booking = booking.id AND a.outcome = {})",
                       Outcome.absent.value))


def not_recorded_condition(now: dt.datetime) -> Combinable:
    """Confirmed bookings for ended events with no attendance mark at all, as a WHERE clause."""
    return ((Booking.status == BookingStatus.confirmed.value) & (Booking.event.ends_at <= now)
            & WhereRaw("NOT EXISTS (SELECT 1 FROM attendance a WHERE a.booking = booking.id)"))


def marked_condition(now: dt.datetime) -> Combinable:
    """Confirmed bookings for ended events with an attendance mark: what a no-show rate divides by."""
    return ((Booking.status == BookingStatus.confirmed.value) & (Booking.event.ends_at <= now)
            & WhereRaw("EXISTS (SELECT 1 FROM attendance a WHERE a.booking = booking.id)"))


@dataclass(frozen=True)
class RegisterRow:
    booking_id: int
    person_id: int
    setting_id: int
    reference: str
    name: str
    email: str
    setting: str
    role: Role
    status: BookingStatus
    source: BookingSource
    booked_at: dt.datetime
    over_capacity: bool
    outcome: Outcome | None
    marked_by: str | None
    marked_at: dt.datetime | None
    mark_source: MarkSource | None
    minutes_present: int | None
    chased_at: dt.datetime | None
    cancel_reason: str
    apology_at: dt.datetime | None = None
    apology_late: bool = False

    @property
    def state(self) -> str:
        """The booking's state as the register and its spreadsheet say it: apologies told apart
        from other cancellations (and from a no-show, which is a confirmed booking marked absent)."""
        if self.apology_at is not None:
            return "Sent apologies (late cancellation)" if self.apology_late else "Sent apologies"
        return self.status.value.capitalize()


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
    apologies: int = 0
    late_apologies: int = 0


def _register_query() -> Select:
    return Booking.select(
        Booking.id, Booking.reference, Booking.status, Booking.role, Booking.source, Booking.created_at,
        Booking.over_capacity, Booking.chased_at, Booking.cancel_reason, Booking.event, Booking.apology_at,
        Booking.apology_late, Booking.person.id.as_alias("person_id"), Booking.person.name.as_alias("name"),
        Booking.person.email.as_alias("email"), Booking.setting.id.as_alias("setting_id"),
        Booking.setting.name.as_alias("setting"),
    ).order_by(Booking.person.name).order_by(Booking.id)


async def marks_where(condition: Combinable) -> dict[int, dict]:
    """The attendance mark (and who made it) of each booking that has one, for bookings chosen by
    `condition` on `Attendance.booking` (an event's, a setting's: never a list of ids)."""
    rows = await Attendance.select(
        Attendance.booking, Attendance.outcome, Attendance.source, Attendance.minutes_present,
        Attendance.recorded_at, Attendance.recorded_by.name.as_alias("recorded_by_name"),
    ).where(condition)
    return {r["booking"]: r for r in rows}


def _rows(bookings: list[dict], marks: dict[int, dict]) -> list[RegisterRow]:
    out = []
    for b in bookings:
        mark = marks.get(b["id"], {})
        out.append(RegisterRow(
            booking_id=b["id"], person_id=b["person_id"], setting_id=b["setting_id"], reference=b["reference"],
            name=b["name"], email=b["email"], setting=b["setting"], role=Role(b["role"]),
            status=BookingStatus(b["status"]), source=BookingSource(b["source"]), booked_at=b["created_at"],
            over_capacity=bool(b["over_capacity"]), outcome=Outcome(mark["outcome"]) if mark else None,
            marked_by=mark.get("recorded_by_name"), marked_at=mark.get("recorded_at"),
            mark_source=MarkSource(mark["source"]) if mark else None, minutes_present=mark.get("minutes_present"),
            chased_at=b["chased_at"], cancel_reason=b["cancel_reason"], apology_at=b["apology_at"],
            apology_late=bool(b["apology_late"]),
        ))
    return out


async def register(event_id: int, now: dt.datetime) -> tuple[EventView, list[RegisterRow], RegisterCounts]:
    event = await get_event(event_id, now)
    bookings = await _register_query().where(Booking.event == event_id)
    rows = _rows(bookings, await marks_where(Attendance.booking.event == event_id))
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
        no_shows=sum(is_no_show(status=r.status, outcome=r.outcome, ended=ended) for r in rows) if ended else None,
        over_capacity=sum(r.over_capacity for r in confirmed),
        apologies=sum(r.apology_at is not None for r in rows),
        late_apologies=sum(r.apology_at is not None and r.apology_late for r in rows),
    )
    return event, rows, counts


async def mark(booking_id: int, outcome: Outcome, *, organiser: OrganiserView, now: dt.datetime, config: Config,
               source: MarkSource = MarkSource.register, minutes_present: int | None = None,
               event_id: int | None = None) -> str | None:
    """Record (or correct) attended/absent for a confirmed booking. Returns the previous outcome."""
    async with write_transaction():
        return await record_mark(booking_id, outcome, organiser=organiser, now=now, config=config, source=source,
                                 minutes_present=minutes_present, event_id=event_id)


async def record_mark(booking_id: int, outcome: Outcome, *, organiser: OrganiserView, now: dt.datetime,
                      config: Config, source: MarkSource = MarkSource.register, minutes_present: int | None = None,
                      event_id: int | None = None) -> str | None:
    """`mark` inside the caller's write transaction. Attended issues the booking's certificate
    (once); a correction to absent withdraws it; either works the person's clock out again."""
    booking = await Booking.select(Booking.id, Booking.event, Booking.status, Booking.person,
                                   Booking.person.email.as_alias("email"),
                                   Booking.event.starts_at.as_alias("starts_at"),
                                   Booking.event.ends_at.as_alias("ends_at")).where(Booking.id == booking_id).first()
    if booking is None or booking["status"] != BookingStatus.confirmed.value or (
            event_id is not None and booking["event"] != event_id):
        raise NotAttendable()
    previous = await Attendance.select(Attendance.outcome).where(Attendance.booking == booking_id).first()
    if source is MarkSource.teams:
        refuse_before_the_end(booking["ends_at"], now, "A Teams report can be imported")
    elif previous is None:  # a first mark; a correction may be made any time after one
        refuse_before_check_in_opens(booking["starts_at"], now, config)
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
    if outcome is Outcome.attended:
        await apply_attended(booking_id, actor=organiser.email, now=now, config=config)
    elif was == Outcome.attended.value:
        await apply_not_attended(booking_id, actor=organiser.email, now=now,
                                 reason="attendance corrected to absent")
    if Outcome.attended.value in (was, outcome.value) and was != outcome.value:
        await refresh_clocks([booking["email"]], now=now, config=config)  # their knowledge / Prevent dates
    return was


async def admit_walk_in(event_id: int, request: BookingRequest, *, organiser: OrganiserView, override: bool,
                        now: dt.datetime, config: Config) -> BookingMade:
    """Someone who turned up without a place: booked and marked attended in one transaction. Over
    capacity only with an organiser's override (they then hold no place)."""

    async def attended(booking_id: int) -> None:
        await record_mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=config,
                          source=MarkSource.walk_in)

    return await book_place(event_id, request, source=BookingSource.walk_in, actor=organiser.email, now=now,
                            config=config, over_capacity=override, then=attended)


async def mark_rest_absent(event_id: int, *, organiser: OrganiserView, now: dt.datetime,
                           source: MarkSource = MarkSource.register) -> int:
    """Everyone confirmed and not yet marked becomes absent (once the event has ended): a few
    statements however long the register, one audit record per booking as for a mark made one by
    one. Returns how many."""
    event = await get_event(event_id, now)
    refuse_before_the_end(event.ends_at, now, "A Teams report can be imported" if source is MarkSource.teams
                          else "Everyone left can be marked absent")
    async with write_transaction():
        unmarked = await Booking.select(Booking.id, Booking.person).where(
            (Booking.event == event_id) & (Booking.status == BookingStatus.confirmed.value)
            & WhereRaw("NOT EXISTS (SELECT 1 FROM attendance a WHERE a.booking = booking.id)"))
        for start in range(0, len(unmarked), 500):
            chunk = unmarked[start:start + 500]
            await Attendance.insert(*[Attendance(
                booking=r["id"], outcome=Outcome.absent.value, source=source.value,
                minutes_present=0 if source is MarkSource.teams else None, recorded_by=organiser.id, recorded_at=now)
                for r in chunk])
            await record_many("attendance.absent", organiser.email, [
                {"event_id": event_id, "booking_id": r["id"], "person_id": r["person"],
                 "detail": {"outcome": Outcome.absent.value, "was": None, "source": source.value, "everyone_left": True}}
                for r in chunk])
    return len(unmarked)


async def booking_for_checkin(checkin_token: str) -> dict | None:
    return await _register_query().where(Booking.checkin_token == checkin_token).first()


async def list_no_shows(event_id: int, now: dt.datetime) -> tuple[EventView, list[RegisterRow]]:
    event, rows, _ = await register(event_id, now)
    ended = now >= event.ends_at
    return event, [r for r in rows if is_no_show(status=r.status, outcome=r.outcome, ended=ended)]


async def count_not_recorded(event_id: int, now: dt.datetime) -> int:
    """Confirmed bookings for the event, over, that nobody marked."""
    return await Booking.count().where((Booking.event == event_id) & not_recorded_condition(now))


async def attendance_counts(event_id: int) -> dict[str, int]:
    """Confirmed bookings for the event: how many attended, were absent, are not marked (one
    count in SQL, for the tally at the door after each tap)."""
    rows = await Booking.raw(
        "SELECT a.outcome AS outcome, COUNT(*) AS n FROM booking b LEFT JOIN attendance a ON a.booking = b.id "
        "WHERE b.event = {} AND b.status = {} GROUP BY a.outcome", event_id, BookingStatus.confirmed.value)
    counts = {r["outcome"]: r["n"] for r in rows}
    return {"attended": counts.get(Outcome.attended.value, 0), "absent": counts.get(Outcome.absent.value, 0),
            "unmarked": counts.get(None, 0)}


@dataclass(frozen=True)
class Unrecorded:
    event_id: int
    title: str
    starts_at: dt.datetime
    unmarked: int


async def events_with_attendance_unrecorded(now: dt.datetime, limit: int = 20) -> list[Unrecorded]:
    """Events over (not cancelled) with confirmed bookings nobody marked, latest first."""
    rows = await Booking.raw(
        "SELECT e.id AS event_id, e.title AS title, e.starts_at AS starts_at, COUNT(*) AS unmarked "
        "FROM booking b JOIN event e ON e.id = b.event LEFT JOIN attendance a ON a.booking = b.id "
        "WHERE b.status = {} AND e.ends_at <= {} AND e.status <> {} AND a.booking IS NULL "
        "GROUP BY e.id, e.title, e.starts_at ORDER BY e.starts_at DESC LIMIT {}",
        BookingStatus.confirmed.value, now, EventStatus.cancelled.value, limit)
    return [Unrecorded(r["event_id"], r["title"], r["starts_at"], r["unmarked"]) for r in rows]


@dataclass(frozen=True)
class RepeatNoShow:
    kind: str  # "person" or "setting"
    id: int
    name: str
    no_shows: int
    events: list[str]


#: The bookings marked absent, as a list to start from: implied by `no_show_condition`, but written
#: so, it lets SQLite begin with the few thousand absent marks (an index) rather than every booking
#: of the county (its joins are LEFT JOINs, taken in the order written: 740 ms against 60).
_MARKED_ABSENT = WhereRaw("booking.id IN (SELECT a.booking FROM attendance a WHERE a.outcome = {})", Outcome.absent.value)


async def repeat_no_shows(now: dt.datetime, minimum: int = 2) -> list[RepeatNoShow]:
    """People and settings with at least `minimum` no-shows at events that have ended: the rule
    applied in SQL, so the work grows with the no-shows, never with every booking."""
    rows = await Booking.select(
        Booking.person.id.as_alias("person_id"), Booking.person.name.as_alias("name"),
        Booking.person.email.as_alias("email"), Booking.setting.id.as_alias("setting_id"),
        Booking.setting.name.as_alias("setting"), Booking.event.title.as_alias("title"),
        Booking.event.starts_at.as_alias("starts_at"),
    ).where(no_show_condition(now) & _MARKED_ABSENT).order_by(Booking.event.starts_at).order_by(Booking.id)
    by: dict[tuple[str, int], tuple[str, list[str]]] = {}
    for b in rows:
        label = f"{b['title']}, {b['starts_at']:%d/%m/%Y}"
        for key, name in ((("person", b["person_id"]), f"{b['name']} ({b['email']})"),
                          (("setting", b["setting_id"]), b["setting"])):
            by.setdefault(key, (name, []))[1].append(label)
    found = [RepeatNoShow(kind, ident, name, len(events), events)
             for (kind, ident), (name, events) in by.items() if len(events) >= minimum]
    return sorted(found, key=lambda r: (r.kind, -r.no_shows, r.name))


@dataclass(frozen=True)
class SettingBooking:
    """One booking on a setting's record, with what happened."""

    id: int
    role: str
    status: str
    created_at: dt.datetime
    person_id: int
    person_name: str
    email: str
    event_id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    attendance: str | None
    no_show: bool


@dataclass
class PersonTally:
    name: str
    email: str
    roles: set[str]
    bookings: int = 0
    attended: int = 0
    no_shows: int = 0


async def setting_bookings(setting_id: int, now: dt.datetime, limit: int = 500) -> list[SettingBooking]:
    """A setting's latest bookings (newest event first) with attendance and the no-show rule applied."""
    bookings = await Booking.select(
        Booking.id, Booking.role, Booking.status, Booking.created_at, Booking.person.id.as_alias("person_id"),
        Booking.person.name.as_alias("person_name"), Booking.person.email.as_alias("email"),
        Booking.event.id.as_alias("event_id"), Booking.event.title.as_alias("title"),
        Booking.event.starts_at.as_alias("starts_at"), Booking.event.ends_at.as_alias("ends_at"),
    ).where(Booking.setting == setting_id).order_by(Booking.event.starts_at, ascending=False).limit(limit)
    marks = await marks_where(Attendance.booking.setting == setting_id)
    out = []
    for b in bookings:
        outcome = marks.get(b["id"], {}).get("outcome")
        out.append(SettingBooking(**b, attendance=outcome,
                                  no_show=is_no_show(status=b["status"], outcome=outcome, ended=b["ends_at"] <= now)))
    return out


def tally_people(bookings: list[SettingBooking], role_label: dict[str, str]) -> dict[int, PersonTally]:
    """Per person: bookings, attended and no-shows, and the roles they booked in."""
    people: dict[int, PersonTally] = {}
    for b in bookings:
        p = people.setdefault(b.person_id, PersonTally(b.person_name, b.email, set()))
        p.roles.add(role_label[b.role])
        p.bookings += 1
        p.attended += b.attendance == Outcome.attended.value
        p.no_shows += b.no_show
    return people


