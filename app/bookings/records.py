"""A booking as the rest of the service reads it, the errors booking rules raise, and references.

The lowest floor of the bookings package: notices, the waiting list and booking itself all read
bookings through `get_booking`, so none of them needs another.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from app.errors import DomainError, NotFound
from app.programme.availability import UNBOOKABLE_LABELS, Unbookable
from app.programme.services import EventView, get_event
from app.sql import for_piccolo
from app.tables.bookings import (
    ACTIVE_STATUSES,
    PLACE_HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Role,
)


class BookingError(DomainError):
    """A rule stopped the booking. `code` is the API's machine-readable error code."""

    code = "booking_error"
    field = "name"


class EventFull(BookingError):
    code = "event_full"
    message = "This event is now fully booked"


class AlreadyBooked(BookingError):
    code = "already_booked"
    field = "email"
    message = "You already have a place at this event: check your email for your booking link"


def is_duplicate_active_booking(exc: BaseException) -> bool:
    """The partial unique index's error (a second active booking for one person and event), as
    PostgreSQL and SQLite word it."""
    text = str(exc)
    return "booking_one_active_per_person" in text or "booking.event, booking.person" in text


class TooManyBookings(BookingError):
    """The cap on active bookings one email address may make for itself (organisers can book past it)."""

    code = "too_many_bookings"
    field = "email"

    def __init__(self, cap: int):
        super().__init__(f"This email address already has {cap} bookings or waiting list places for events still "
                         "to come. Cancel one you no longer need, or ask the safeguarding team to book for you")


class BookingClosed(BookingError):
    code = "booking_closed"
    heading = "You cannot book a place at this event"
    advice = ()

    def __init__(self, reason: Unbookable, *, event: str | None = None):
        """`event`: the event's title and date, for the page that says so (the form's own
        refusal names the event in its heading's stead)."""
        label = UNBOOKABLE_LABELS[reason].lower()
        super().__init__(f"{event}: {label}" if event else f"You cannot book this event: {label}")
        self.reason = reason


class BookingNotFound(NotFound):
    """No booking has that manage token."""

    message = "No such booking"


class EventAlreadyStarted(BookingError):
    code = "event_started"
    message = "The event has started: the booking can no longer be cancelled"
    heading = "This event has already started"
    advice = ()


#: Letters and digits that cannot be misheard or misread on the phone (no 0/O, 1/I/L, U).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def new_manage_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class BookingFacts:
    """What every view of a booking holds: who booked, for which setting, its links and state."""

    id: int
    reference: str
    manage_token: str
    calendar_uid: str
    status: BookingStatus
    role: Role
    person_name: str
    email: str
    setting_name: str
    setting_urn: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class BookingView(BookingFacts):
    """A booking read back with its event (pages, the API, the manage link)."""

    cancelled_at: dt.datetime | None
    calendar_sequence: int
    event: EventView
    offer_expires_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def has_started(self, now: dt.datetime) -> bool:
        """The event has begun: the booking is attendance history from then on."""
        return has_started(self.event.starts_at, now)

    def can_cancel(self, now: dt.datetime) -> bool:
        """The one rule for cancelling (pages, the API and `cancel_booking`): an active booking
        for an event that has not started."""
        return self.active and not self.has_started(now)

    def can_pass_on(self, now: dt.datetime) -> bool:
        """The one rule for sending a colleague instead: a confirmed place, the event not begun."""
        return self.status is BookingStatus.confirmed and not self.has_started(now)


def has_started(starts_at: dt.datetime, now: dt.datetime) -> bool:
    return now >= starts_at


_BOOKING_COLUMNS = (
    Booking.all_columns(),
    Booking.person.name.as_alias("person_name"), Booking.name_given,
    Booking.person.email.as_alias("person_email"),
    Booking.setting.name.as_alias("setting_name"),
    Booking.setting.urn.as_alias("setting_urn"),
)


async def get_booking(manage_token: str, now: dt.datetime) -> BookingView:
    row = await Booking.select(*_BOOKING_COLUMNS).where(Booking.manage_token == manage_token).first()
    if row is None:
        raise BookingNotFound()
    return _view(row, await get_event(row["event"], now))


async def bookings_by_id(ids: list[int], now: dt.datetime) -> dict[int, tuple[BookingView, str | None]]:
    """A batch of bookings (the sender's, at most a batch long) with their check-in tokens: one
    query for the bookings and one per event among them."""
    rows = await Booking.select(*_BOOKING_COLUMNS).where(Booking.id.is_in(ids)) if ids else []
    events = {event_id: await get_event(event_id, now) for event_id in {r["event"] for r in rows}}
    return {r["id"]: (_view(r, events[r["event"]]), r["checkin_token"]) for r in rows}


def _view(row: dict, event: EventView) -> BookingView:
    return BookingView(
        id=row["id"], reference=row["reference"], manage_token=row["manage_token"],
        status=BookingStatus(row["status"]), role=Role(row["role"]),
        person_name=row["name_given"] or row["person_name"], email=row["person_email"],
        setting_name=row["setting_name"], setting_urn=row["setting_urn"],
        created_at=row["created_at"], cancelled_at=row["cancelled_at"],
        calendar_uid=row["calendar_uid"], calendar_sequence=row["calendar_sequence"], event=event,
        offer_expires_at=row["offer_expires_at"],
    )


#: What the cap counts, in SQL ({person} and {now} markers): the person's active bookings
#: (places, offers, waiting) for events not yet ended. The booking in one go counts with it too.
ACTIVE_HELD = ("SELECT count(*) FROM booking b JOIN event e ON e.id = b.event WHERE b.person = {person}"
               " AND b.status IN (" + ", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES) + ") AND e.ends_at > {now}")


#: The booker's answer ({lead}) to "are you its Lead Practitioner / DSL?" as stored, the setting
#: `s` found in the same statement: a childminder is their own Lead Practitioner, whatever was ticked.
LEAD_OF_SETTING = "CASE WHEN s.setting_type = 'childminder' THEN 'dsl' ELSE {lead} END"


async def active_bookings_of(email: str, now: dt.datetime) -> int:
    """What the cap counts (`ACTIVE_HELD`) for an email address."""
    sql, args = for_piccolo("SELECT (" + ACTIVE_HELD.replace("{person}", "(SELECT id FROM person WHERE email = {email})")
                     + ") AS n", email=email, now=now)
    [row] = await Booking.raw(sql, *args)
    return row["n"] or 0


async def count_active_bookings(event_id: int) -> int:
    """Bookings holding a place, counted from rows (used to check the counter in tests and
    benchmarks)."""
    return await Booking.count().where(
        (Booking.event == event_id) & Booking.status.is_in([s.value for s in PLACE_HOLDING_STATUSES])
        & (Booking.over_capacity == False)  # noqa: E712 (Piccolo expression)
    )
