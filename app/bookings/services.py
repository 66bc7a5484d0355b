"""Booking a place and cancelling it: one active booking per person, walk-ins and overrides.

Capacity itself is `app.bookings.places`; this module decides, inside one write transaction, who
takes a place: the person (found or added), the guarded counter, the booking row, its email and
its audit record.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Awaitable, Callable

from app.audit.services import record
from app.bookings.notices import confirmation_email, queue_cancellation
from app.bookings.places import release_place, take_place
from app.bookings.records import (
    AlreadyBooked,
    BookingClosed,
    BookingError,
    BookingNotFound,
    BookingView,
    EventAlreadyStarted,
    EventFull,
    get_booking,
    new_manage_token,
    new_reference,
)
from app.bookings.validation import BookingRequest
from app.bookings.waiting_list import offer_places, waiting_position, waitlisted_email
from app.config import Config
from app.db import write_transaction
from app.mail.outbox import prepare, queue_email
from app.programme.availability import Unbookable
from app.programme.services import EventView, get_event, get_join_url
from app.register.services import find_or_add_setting, upsert_person
from app.tables.bookings import (
    ACTIVE_STATUSES,
    PLACE_HOLDING_STATUSES,
    Booking,
    BookingSource,
    BookingStatus,
)
from app.tables.programme import EventStatus

__all__ = ["AlreadyBooked", "BookingClosed", "BookingError", "BookingNotFound", "BookingView",
           "EventAlreadyStarted", "EventFull", "book_place", "cancel_booking", "get_booking"]


def _is_duplicate_active_booking(exc: BaseException) -> bool:
    """The partial unique index's error, as PostgreSQL and SQLite word it."""
    text = str(exc)
    return "booking_one_active_per_person" in text or "booking.event, booking.person" in text


async def _has_active_booking(event_id: int, person_id: int) -> bool:
    return await Booking.exists().where(
        (Booking.event == event_id) & (Booking.person == person_id)
        & Booking.status.is_in([s.value for s in ACTIVE_STATUSES])
    )


async def book_place(event_id: int, request: BookingRequest, *, source: BookingSource,
                     actor: str, now: dt.datetime, config: Config, over_capacity: bool = False,
                     then: Callable[[int], Awaitable[object]] | None = None) -> BookingView:
    """Take one place at the event for the person, or raise EventNotFound, BookingClosed,
    AlreadyBooked or EventFull. Nothing is written unless the booking is made; the confirmation
    email is queued in the same transaction, and so is `then(booking_id)` (a walk-in's attendance
    mark), so either all of it is saved or none.

    The confirmation is rendered before the transaction (reference, token and UID are random,
    so they can be made first): the lock is held only for the few statements that need it."""
    walk_in = source is BookingSource.walk_in
    event = await get_event(event_id, now)
    if walk_in:
        if event.status == EventStatus.cancelled.value:
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
    confirmation = prepare(confirmation_email(draft, config=config, now=now, join_url=await get_join_url(event_id),
                                              checkin_token=checkin_token), config=config, now=now)
    try:
        async with write_transaction():
            person_id = await upsert_person(name=request.name, email=draft.email, now=now)
            if await _has_active_booking(event_id, person_id):
                raise AlreadyBooked()
            # A walk-in admitted over capacity with an organiser's override holds no place.
            status = BookingStatus.confirmed
            if not (walk_in and over_capacity) and not await take_place(event_id, now, walk_in=walk_in):
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
                await waitlisted_email(booking_id, await waiting_position(event_id, booking_id), config=config, now=now)
            elif not walk_in:  # someone standing in the room needs no invite
                await queue_email(confirmation, kind="confirmation", config=config, now=now,
                                  booking_id=booking_id, event_id=event_id)
            action = "booking.walk_in" if walk_in else f"booking.{status.value}"
            await record(action, actor, event_id=event_id,
                         booking_id=booking_id, person_id=person_id, reference=draft.reference,
                         role=request.role.value, over_capacity=walk_in and over_capacity)
            if then is not None:
                await then(booking_id)
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


async def cancel_booking(manage_token: str, *, actor: str, reason: str, now: dt.datetime,
                         config: Config) -> BookingView:
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
                await release_place(row["event"], now)
                await offer_places(row["event"], actor=actor, now=now, config=config)
            if changed:
                await record("booking.cancelled", actor, event_id=row["event"], booking_id=row["id"],
                             person_id=row["person"], reason=reason)
                if row["status"] == BookingStatus.confirmed.value:
                    await queue_cancellation(await get_booking(manage_token, now), config=config, now=now)
    return await get_booking(manage_token, now)


