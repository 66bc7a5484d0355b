"""Booking a place and cancelling it: the capacity and one-booking-per-person rules.

A place is taken with a guarded counter inside one write transaction:
`UPDATE event SET places_taken = places_taken + 1 WHERE id = ? AND places_taken < capacity`.
On PostgreSQL the UPDATE takes the event row's lock, so concurrent bookings for one event queue
behind each other; on SQLite the transaction is BEGIN IMMEDIATE. Count-then-insert and
INSERT … SELECT … WHERE count < capacity were measured to overbook on PostgreSQL (see DESIGN.md).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from piccolo.columns.combination import WhereRaw

from app.audit.services import record
from app.bookings.tables import (
    ACTIVE_STATUSES,
    PLACE_HOLDING_STATUSES,
    Booking,
    BookingSource,
    BookingStatus,
    Role,
)
from app.bookings.notices import confirmation_email, queue_cancellation
from app.bookings.validation import BookingRequest
from app.bookings.waiting_list import offer_places, waiting_position, waitlisted_email
from app.config import Settings
from app.db import write_transaction
from app.programme.availability import Unbookable
from app.mail.outbox import prepare, queue_email
from app.programme.services import EventView, get_event, get_join_url
from app.programme.tables import Event
from app.settings_register.services import find_or_add_setting, upsert_person


class BookingError(Exception):
    """A rule stopped the booking. `code` is the API's machine-readable error code."""

    code = "booking_error"


class EventFull(BookingError):
    code = "event_full"


class AlreadyBooked(BookingError):
    code = "already_booked"


class BookingClosed(BookingError):
    code = "booking_closed"

    def __init__(self, reason: Unbookable):
        super().__init__(reason.value)
        self.reason = reason


class BookingNotFound(LookupError):
    """No booking has that manage token."""


class EventAlreadyStarted(BookingError):
    code = "event_started"


#: Letters and digits that cannot be misheard or misread on the phone (no 0/O, 1/I/L, U).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def new_manage_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class BookingView:
    id: int
    reference: str
    manage_token: str
    status: BookingStatus
    role: Role
    person_name: str
    email: str
    setting_name: str
    setting_urn: str | None
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    calendar_uid: str
    calendar_sequence: int
    event: EventView
    offer_expires_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def _is_duplicate_active_booking(exc: BaseException) -> bool:
    """The partial unique index's error, as PostgreSQL and SQLite word it."""
    text = str(exc)
    return "booking_one_active_per_person" in text or "booking.event, booking.person" in text


async def _has_active_booking(event_id: int, person_id: int) -> bool:
    return await Booking.exists().where(
        (Booking.event == event_id) & (Booking.person == person_id)
        & Booking.status.is_in([s.value for s in ACTIVE_STATUSES])
    )


async def _take_place(event_id: int, now: dt.datetime, *, walk_in: bool = False) -> bool:
    """The guarded counter: one place, only if one is left and the event is still open (for a
    walk-in, only if it is not cancelled: they arrive once it has started)."""
    open_now = (Event.status == "scheduled")
    if not walk_in:
        open_now = open_now & (Event.starts_at > now) & (
            Event.booking_opens_at.is_null() | (Event.booking_opens_at <= now)) & (
            Event.booking_closes_at.is_null() | (Event.booking_closes_at > now))
    rows = await Event.update(
        {Event.places_taken: Event.places_taken + 1, Event.updated_at: now}
    ).where((Event.id == event_id) & WhereRaw("places_taken < capacity") & open_now).returning(Event.id)
    return bool(rows)


async def _release_place(event_id: int, now: dt.datetime) -> None:
    await Event.update(
        {Event.places_taken: Event.places_taken - 1, Event.updated_at: now}
    ).where(Event.id == event_id)


async def book_place(event_id: int, request: BookingRequest, *, source: BookingSource,
                     actor: str, now: dt.datetime, settings: Settings, over_capacity: bool = False) -> BookingView:
    """Take one place at the event for the person, or raise EventNotFound, BookingClosed,
    AlreadyBooked or EventFull. Nothing is written unless the booking is made; the confirmation
    email is queued in the same transaction.

    The confirmation is rendered before the transaction (reference, token and UID are random,
    so they can be made first): the lock is held only for the few statements that need it."""
    walk_in = source is BookingSource.walk_in
    event = await get_event(event_id, now)
    if walk_in:
        if event.status == "cancelled":
            raise BookingClosed(Unbookable.cancelled)
    else:
        _refuse_if_closed(event)
    draft = BookingView(
        id=0, reference=new_reference(), manage_token=new_manage_token(), status=BookingStatus.confirmed,
        role=request.role, person_name=request.name, email=str(request.email).lower(),
        setting_name=request.setting.name, setting_urn=request.setting.urn, created_at=now, cancelled_at=None,
        calendar_uid=f"{uuid.uuid4()}@safeguarding-bookings", calendar_sequence=0, event=event,
    )
    checkin_token = secrets.token_urlsafe(24)
    confirmation = prepare(confirmation_email(draft, settings=settings, now=now, join_url=await get_join_url(event_id),
                                              checkin_token=checkin_token), settings=settings, now=now)
    try:
        async with write_transaction():
            person_id = await upsert_person(name=request.name, email=draft.email, now=now)
            if await _has_active_booking(event_id, person_id):
                raise AlreadyBooked()
            # A walk-in admitted over capacity with an organiser's override holds no place.
            status = BookingStatus.confirmed
            if not (walk_in and over_capacity) and not await _take_place(event_id, now, walk_in=walk_in):
                if not walk_in:
                    _refuse_if_closed(await get_event(event_id, now))
                if not (request.waitlist and not walk_in):
                    raise EventFull()
                status = BookingStatus.waitlisted
            setting_id = await find_or_add_setting(name=request.setting.name, urn=request.setting.urn)
            # A reference collision (30^8 codes) would fail the unique index and roll back.
            inserted = await Booking.insert(Booking(
                event=event_id, person=person_id, setting=setting_id, role=request.role.value,
                status=status.value, reference=draft.reference,
                manage_token=draft.manage_token, calendar_uid=draft.calendar_uid,
                checkin_token=checkin_token, source=source.value, created_at=now, updated_at=now,
                over_capacity=walk_in and over_capacity,
            )).returning(Booking.id)
            booking_id = inserted[0]["id"]
            if status is BookingStatus.waitlisted:
                await waitlisted_email(booking_id, await waiting_position(event_id, booking_id), settings=settings, now=now)
            elif not walk_in:  # someone standing in the room needs no invite
                await queue_email(confirmation, kind="confirmation", settings=settings, now=now,
                                  booking_id=booking_id, event_id=event_id)
            action = "booking.walk_in" if walk_in else f"booking.{status.value}"
            await record(action, actor, event_id=event_id,
                         booking_id=booking_id, person_id=person_id, reference=draft.reference,
                         role=request.role.value, over_capacity=walk_in and over_capacity)
    except BookingError:
        raise
    except Exception as exc:
        # The partial unique index caught a same-person race the check above could not see.
        if _is_duplicate_active_booking(exc):
            raise AlreadyBooked() from exc
        raise
    return await get_booking(draft.manage_token, now)


def _refuse_if_closed(event: EventView) -> None:
    reason = event.availability.reason
    if reason is not None and reason is not Unbookable.full:
        raise BookingClosed(reason)


_BOOKING_COLUMNS = (
    Booking.all_columns(),
    Booking.person.name.as_alias("person_name"),
    Booking.person.email.as_alias("person_email"),
    Booking.setting.name.as_alias("setting_name"),
    Booking.setting.urn.as_alias("setting_urn"),
)


async def get_booking_by_id(booking_id: int, now: dt.datetime) -> BookingView:
    row = await Booking.select(Booking.manage_token).where(Booking.id == booking_id).first()
    if row is None:
        raise BookingNotFound()
    return await get_booking(row["manage_token"], now)


async def get_booking(manage_token: str, now: dt.datetime) -> BookingView:
    row = await Booking.select(*_BOOKING_COLUMNS).where(Booking.manage_token == manage_token).first()
    if row is None:
        raise BookingNotFound()
    event = await get_event(row["event"], now)
    return BookingView(
        id=row["id"], reference=row["reference"], manage_token=row["manage_token"],
        status=BookingStatus(row["status"]), role=Role(row["role"]),
        person_name=row["person_name"], email=row["person_email"],
        setting_name=row["setting_name"], setting_urn=row["setting_urn"],
        created_at=row["created_at"], cancelled_at=row["cancelled_at"],
        calendar_uid=row["calendar_uid"], calendar_sequence=row["calendar_sequence"], event=event,
        offer_expires_at=row["offer_expires_at"],
    )


async def cancel_booking(manage_token: str, *, actor: str, reason: str, now: dt.datetime,
                         settings: Settings) -> BookingView:
    """Cancel the booking and free its place at once. Cancelling twice is harmless; a booking
    for an event that has started cannot be cancelled (it is attendance history by then)."""
    async with write_transaction():
        row = await Booking.select(Booking.id, Booking.event, Booking.status, Booking.person,
                                   Booking.over_capacity).where(
            Booking.manage_token == manage_token
        ).first()
        if row is None:
            raise BookingNotFound()
        if row["status"] != BookingStatus.cancelled.value:
            event = await get_event(row["event"], now)
            if now >= event.starts_at:
                raise EventAlreadyStarted()
            # Guarded on the status read above: of two concurrent cancellations only one
            # changes the row (PostgreSQL re-checks the WHERE after the row lock), so only one
            # releases the place.
            changed = await Booking.update({
                Booking.status: BookingStatus.cancelled.value, Booking.cancelled_at: now,
                Booking.cancel_reason: reason, Booking.updated_at: now,
                Booking.calendar_sequence: Booking.calendar_sequence + 1,
            }).where(
                (Booking.id == row["id"]) & (Booking.status == row["status"])
            ).returning(Booking.id)
            if changed and row["status"] in {s.value for s in PLACE_HOLDING_STATUSES} and not row["over_capacity"]:
                await _release_place(row["event"], now)
                await offer_places(row["event"], actor=actor, now=now, settings=settings)
            if changed:
                await record("booking.cancelled", actor, event_id=row["event"], booking_id=row["id"],
                             person_id=row["person"], reason=reason)
                if row["status"] == BookingStatus.confirmed.value:
                    await queue_cancellation(await get_booking(manage_token, now), settings=settings, now=now)
    return await get_booking(manage_token, now)


async def count_active_bookings(event_id: int) -> int:
    """Bookings holding a place, counted from rows (used to check the counter in tests and
    benchmarks)."""
    return await Booking.count().where(
        (Booking.event == event_id) & Booking.status.is_in([s.value for s in PLACE_HOLDING_STATUSES])
        & (Booking.over_capacity == False)  # noqa: E712 (Piccolo expression)
    )

