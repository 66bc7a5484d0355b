"""Booking a place and cancelling it: one active booking per person, walk-ins and overrides.

Capacity itself is `app.bookings.places`; this module decides, inside one write transaction, who
takes a place: the person (found or added), the guarded counter, the booking row, its email and
its audit record.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from app.audit.services import record
from app.bookings.notices import queue_notices
from app.bookings.one_call import Refused, book_in_one_call, book_in_transaction
from app.bookings.places import release_place
from app.bookings.records import (
    AlreadyBooked,
    BookingClosed,
    BookingError,
    BookingFacts,
    BookingNotFound,
    BookingView,
    EventAlreadyStarted,
    EventFull,
    TooManyBookings,
    active_bookings_of,
    get_booking,
    has_started,
    is_duplicate_active_booking,
    new_manage_token,
    new_reference,
)
from app.bookings.validation import BookingRequest, SettingIn
from app.formats import long_date
from app.bookings.waiting_list import accept_offer, offer_places, waitlisted_email
from app.config import Config
from app.db import write_transaction
from app.mail.outbox import new_message_id
from app.metrics import booking_made, booking_refused
from app.programme.availability import Unbookable
from app.programme.recovery import FORUM, offer_links, offers
from app.programme.services import EventView, get_event
from app.settings_register.services import name_key
from app.tables.bookings import (
    ACTIVE_STATUSES,
    PLACE_HOLDING_STATUSES,
    Booking,
    BookingSource,
    BookingStatus,
    LeadAnswer,
    Role,
)
from app.tables.programme import EventStatus

__all__ = ["AlreadyBooked", "BookingClosed", "BookingError", "BookingMade", "BookingNotFound", "BookingView",
           "EventAlreadyStarted", "EventFull", "TooManyBookings", "book_place", "cancel_booking", "get_booking"]


@asynccontextmanager
async def _already_booked_as_refusal() -> AsyncIterator[None]:
    """The partial unique index refusing a second active booking for the same person and event
    (which the transaction then rolls back), as the rule's own refusal."""
    try:
        yield
    except Exception as exc:
        if is_duplicate_active_booking(exc):
            raise AlreadyBooked() from exc
        raise


@dataclass(frozen=True)
class BookingMade(BookingFacts):
    """A booking as the transaction that made it returned it: what the 201 answer, the
    confirmation page and a walk-in need, without reading it back."""

    event_id: int
    lead: LeadAnswer = LeadAnswer.neither


async def book_place(event_id: int, request: BookingRequest, *, source: BookingSource,
                     actor: str, now: dt.datetime, config: Config, over_capacity: bool = False,
                     then: Callable[[int], Awaitable[object]] | None = None,
                     moves_from: Moving | None = None) -> BookingMade:
    """`_book_place`, counted for the metrics: made, waitlisted, or refused with the reason's code."""
    try:
        made = await _book_place(event_id, request, source=source, actor=actor, now=now, config=config,
                                 over_capacity=over_capacity, then=then, moves_from=moves_from)
    except BookingError as exc:
        booking_refused(exc.code)
        raise
    booking_made(waitlisted=made.status is BookingStatus.waitlisted)
    return made


async def _book_place(event_id: int, request: BookingRequest, *, source: BookingSource,
                      actor: str, now: dt.datetime, config: Config, over_capacity: bool = False,
                      then: Callable[[int], Awaitable[object]] | None = None,
                      moves_from: Moving | None = None) -> BookingMade:
    """Take one place at the event for the person, or raise EventNotFound, BookingClosed,
    AlreadyBooked or EventFull (or put them on the waiting list if they asked). Nothing is written
    unless the booking is made.

    One write transaction of a few statements: the person (found or added), the guarded counter
    (capacity is checked before anything else, so a full event answers the same to everyone),
    the booking row (the partial unique index refuses a second active booking), the confirmation
    recorded for the sender to render, the audit record, and `then(booking_id)` (a walk-in's
    attendance mark). Why a place could not be had is read only when it could not.

    `moves_from`: the booker is moving their place here from another booking, which is released
    in the same transaction once this one has its place (if this event is full and they asked to
    wait, they keep the old place until an offer here is accepted)."""
    walk_in = source is BookingSource.walk_in
    capped = source in (BookingSource.web, BookingSource.api)
    if walk_in and (await get_event(event_id, now)).status == EventStatus.cancelled.value:
        raise BookingClosed(Unbookable.cancelled)
    made = BookingMade(
        id=0, event_id=event_id, reference=new_reference(), manage_token=new_manage_token(),
        calendar_uid=f"{uuid.uuid4()}@safeguarding-bookings", status=BookingStatus.confirmed, role=request.role,
        lead=request.lead_answer, person_name=request.name, email=str(request.email).lower(), setting_name=request.setting.name,
        setting_urn=request.setting.urn, created_at=now)
    holds_place = not (walk_in and over_capacity)  # a walk-in admitted over capacity holds no place
    values = _statement_values(made, source=source, actor=actor, config=config, now=now,
                               action="booking.walk_in" if walk_in else "booking.confirmed",
                               over_capacity=not holds_place)
    if not walk_in and then is None and moves_from is None:
        try:
            async with _already_booked_as_refusal():
                booking_id = await book_in_one_call(
                    {**values, **({"cap": config.max_active_bookings} if capped else {})})
        except Refused as refused:
            if refused.reason == "no_place":
                return await _no_place(made, request, walk_in=walk_in, source=source, actor=actor, now=now,
                                       config=config)
            if refused.reason == "cap":
                raise TooManyBookings(config.max_active_bookings) from None
            booking_id = None  # a setting not on file yet: the longer way below adds it
        if booking_id is not None:
            return replace(made, id=booking_id)
    place = None if not holds_place else "walk_in_place" if walk_in else "place"
    try:
        async with _already_booked_as_refusal(), write_transaction():
            # someone standing in the room needs no invite
            booking_id = await book_in_transaction(values, place=place, outbox=not walk_in)
            if moves_from is not None:  # the new place is had: the old one goes now
                await _replaces(booking_id, moves_from, release=True, now=now, config=config)
            if capped:
                await _refuse_past_the_cap(made.email, now=now, cap=config.max_active_bookings)
            if then is not None:
                await then(booking_id)
    except Refused:
        return await _no_place(made, request, walk_in=walk_in, source=source, actor=actor, now=now, config=config,
                               moves_from=moves_from)
    return replace(made, id=booking_id)


@dataclass(frozen=True)
class Moving:
    """The booking a place moves from: its id and its manage link's token; who moves it, and why."""

    booking_id: int
    manage_token: str
    actor: str = "public"
    reason: str = "Moved to another session"


async def _replaces(booking_id: int, moving: Moving, *, release: bool, now: dt.datetime, config: Config) -> None:
    """Record that `booking_id` replaces the booking moved from, and (`release`) release that one:
    its email takes the old meeting out of the calendar and links to moving back."""
    await Booking.update({Booking.moves_from: moving.booking_id}).where(Booking.id == booking_id)
    if release:
        new = await Booking.select(Booking.manage_token, Booking.event.title.as_alias("title"),
                                   Booking.event.starts_at.as_alias("starts_at")).where(Booking.id == booking_id).first()
        await cancel_booking(moving.manage_token, actor=moving.actor, reason=moving.reason, now=now, config=config,
                             apology=False, moved_to=f"{new['title']}, {long_date(new['starts_at'])}",
                             move_back_url=f"{config.base_url}/bookings/{new['manage_token']}/move-back")


def _statement_values(made: BookingMade, *, source: BookingSource, actor: str, config: Config, now: dt.datetime,
                      action: str, over_capacity: bool = False) -> dict[str, Any]:
    """What the booking's statements (`app.bookings.one_call.STATEMENTS`) are given, by marker."""
    return {"name": made.person_name, "email": made.email, "now": now, "event": made.event_id,
            "status": made.status.value, "over_capacity": over_capacity, "role": made.role.value,
            "lead": made.lead.value, "reference": made.reference, "manage_token": made.manage_token,
            "calendar_uid": made.calendar_uid, "source": source.value, "checkin_token": secrets.token_urlsafe(24),
            "message_id": new_message_id(config), "copy_message_id": new_message_id(config), "actor": actor,
            "action": action,
            "setting_name": made.setting_name,
            "detail": json.dumps({"reference": made.reference, "role": made.role.value, "over_capacity": over_capacity}),
            **({"urn": made.setting_urn} if made.setting_urn else {"name_key": name_key(made.setting_name)})}


async def _refuse_past_the_cap(email: str, *, now: dt.datetime, cap: int) -> None:
    """One email address may hold `cap` active bookings (places, offers, waiting) for events not
    yet ended when it books for itself; organisers can book past it. Counted inside the booking's
    transaction once the new booking is written (so it counts itself), and so only once a place
    or a waiting-list entry was had: a full event answers `event_full` to everyone, whatever an
    address holds. Refusing rolls the whole booking back."""
    if await active_bookings_of(email, now) > cap:
        raise TooManyBookings(cap)


async def _no_place(made: BookingMade, request: BookingRequest, *, walk_in: bool, source: BookingSource,
                    actor: str, now: dt.datetime, config: Config, moves_from: Moving | None = None) -> BookingMade:
    """No place was taken: say why (read only now), or put them on the waiting list if they asked."""
    event = await get_event(made.event_id, now)  # EventNotFound if there is none
    if not walk_in:
        _refuse_if_closed(event)
    if request.waitlist and not walk_in:
        return await _join_waiting_list(made, source=source, actor=actor, now=now, config=config,
                                        capped=source in (BookingSource.web, BookingSource.api), moves_from=moves_from)
    raise EventFull()


async def _join_waiting_list(made: BookingMade, *, source: BookingSource, actor: str, now: dt.datetime,
                             config: Config, capped: bool, moves_from: Moving | None = None) -> BookingMade:
    """The event is full and they asked to wait: a waitlisted booking, holding no place yet. One
    moving here keeps the place it moves from meanwhile (never counted twice against the cap)."""
    made = replace(made, status=BookingStatus.waitlisted)
    values = _statement_values(made, source=source, actor=actor, config=config, now=now, action="booking.waitlisted")
    async with _already_booked_as_refusal(), write_transaction():
        booking_id = await book_in_transaction(values, place=None, outbox=False)
        if moves_from is not None:
            await _replaces(booking_id, moves_from, release=False, now=now, config=config)
        if capped:
            await _refuse_past_the_cap(made.email, now=now,
                                       cap=config.max_active_bookings + (1 if moves_from is not None else 0))
        await waitlisted_email(booking_id, event_id=made.event_id, email=made.email, config=config, now=now,
                               keeps_place=moves_from is not None)
    return replace(made, id=booking_id, status=BookingStatus.waitlisted)


def _refuse_if_closed(event: EventView) -> None:
    reason = event.availability.reason
    if reason is not None and reason is not Unbookable.full:
        raise BookingClosed(reason)


async def cancel_booking(manage_token: str, *, actor: str, reason: str, now: dt.datetime,
                         config: Config, apology: bool = True, moved_to: str = "",
                         move_back_url: str = "") -> BookingView:
    """Cancel the booking and free its place at once. Cancelling twice is harmless; a booking
    for an event that has started cannot be cancelled (it is attendance history by then).

    `apology`: the booker is sending apologies (their manage link, the reminder's release link,
    an organiser recording a phoned apology), not the team cancelling. A confirmed place given up
    that way is recorded as apologies, late after the event's cut-off, never as a no-show; for a
    forum, the one cancellation email also offers what the chase after a no-show would."""
    async with write_transaction():
        row = await Booking.select(Booking.id, Booking.event, Booking.status, Booking.person, Booking.setting,
                                   Booking.over_capacity, Booking.name_given, Booking.person.name,
                                   Booking.person.email, Booking.setting.quadrant).where(
            Booking.manage_token == manage_token
        ).first()
        if row is None:
            raise BookingNotFound()
        if row["status"] != BookingStatus.cancelled.value:
            event = await get_event(row["event"], now)
            if has_started(event.starts_at, now):
                raise EventAlreadyStarted()
            sent_apologies = apology and row["status"] == BookingStatus.confirmed.value
            late = sent_apologies and event.is_late_cancellation(now)
            # Guarded on the status read above: of two concurrent cancellations only one
            # changes the row (PostgreSQL re-checks the WHERE after the row lock), so only one
            # releases the place.
            changed = await Booking.update({
                Booking.status: BookingStatus.cancelled.value, Booking.cancelled_at: now,
                Booking.cancel_reason: reason, Booking.updated_at: now,
                Booking.calendar_sequence: Booking.calendar_sequence + 1,
                Booking.apology_at: now if sent_apologies else None, Booking.apology_late: late,
            }).where(
                (Booking.id == row["id"]) & (Booking.status == row["status"])
            ).returning(Booking.id)
            if changed and row["status"] in {s.value for s in PLACE_HOLDING_STATUSES} and not row["over_capacity"]:
                await release_place(row["event"], now)
                await offer_places(row["event"], actor=actor, now=now, config=config)
            if changed:
                await record("booking.cancelled", actor, event_id=row["event"], booking_id=row["id"],
                             person_id=row["person"], reason=reason, apology=sent_apologies, late=late)
                if row["status"] == BookingStatus.confirmed.value:
                    # One email: the calendar's CANCEL, and for apologies their words (and, for a
                    # forum, the offers the chase after a no-show would make, in its order).
                    forum = sent_apologies and event.kind_code == FORUM
                    offered = await offers(event, row["setting.quadrant"], now) if forum else []
                    await queue_notices("cancellation", [(row["id"], row["event"], row["person.email"])],
                                        config=config, now=now, reason=reason, apology=sent_apologies, late=late,
                                        late_hours=event.late_cancel_hours, forum=forum,
                                        offers=offer_links(offered, config.base_url), moved_to=moved_to,
                                        move_back_url=move_back_url)
    return await get_booking(manage_token, now)


class NotMovable(BookingError):
    """A place can move only while confirmed and before its event, to another session of its kind."""

    code = "not_movable"
    field = "event"
    message = "Choose another session of the same kind that has not started"
    heading = "This booking cannot be moved"
    advice = ()


async def move_place(manage_token: str, to_event_id: int, *, now: dt.datetime, config: Config,
                     wait_if_full: bool = True) -> BookingMade:
    """The booker moves their confirmed place to another session of the same kind, through the one
    booking path: the new place is taken before the old one is released, in one transaction (the
    old invite is cancelled, the new one sent). If the session is full they join its waiting list
    and keep the old place; accepting its offer releases the old one (`take_offered_place`)."""
    old = await get_booking(manage_token, now)
    target = await get_event(to_event_id, now)
    if not old.can_pass_on(now) or target.id == old.event.id or target.kind_code != old.event.kind_code:
        raise NotMovable()
    lead = (await Booking.select(Booking.lead).where(Booking.id == old.id).first())["lead"]
    request = BookingRequest(name=old.person_name, email=old.email, role=old.role, lead=LeadAnswer(lead),
                             setting=SettingIn(name=old.setting_name, urn=old.setting_urn), waitlist=wait_if_full)
    return await book_place(to_event_id, request, source=BookingSource.web, actor="public", now=now, config=config,
                            moves_from=Moving(old.id, manage_token))


class NoPlaceToGoBack(BookingError):
    code = "no_place_to_go_back"
    heading = "You cannot move back"
    advice = ("Your place where you were moved to is kept.",)

    def __init__(self, event: str):
        super().__init__(f"The {event} has no place left now")


async def move_back(manage_token: str, *, now: dt.datetime, config: Config) -> BookingMade:
    """Back to the session a place was moved from (by the booker or by organisers), if it still
    has a place: the place moved to is released in the same transaction. Refused (NoPlaceToGoBack)
    when it is full; NotMovable when there is nothing to go back to."""
    row = await Booking.select(Booking.moves_from).where(Booking.manage_token == manage_token).first()
    if row is None:
        raise BookingNotFound()
    was = await Booking.select(Booking.event, Booking.event.title.as_alias("title"),
                               Booking.event.starts_at.as_alias("starts_at")).where(
        Booking.id == row["moves_from"]).first() if row["moves_from"] else None
    if was is None:
        raise NotMovable()
    try:
        return await move_place(manage_token, was["event"], now=now, config=config, wait_if_full=False)
    except EventFull:
        raise NoPlaceToGoBack(f"{was['title']}, {long_date(was['starts_at'])}") from None


@dataclass(frozen=True)
class BookersMoved:
    """What moving an event's bookers did: who moved, and who stayed booked where they were (why)."""

    moved: list[str]
    stayed: list[tuple[str, str]]


async def move_bookers(from_event_id: int, to_event_id: int, *, actor: str, now: dt.datetime,
                       config: Config) -> BookersMoved:
    """An organiser moves every confirmed booker of one event to another in one step (the old event
    is not cancelled): each through the one booking path, first booked first, while the new event
    has places; the old invite cancelled and a new one sent, with a link to move back. Those the
    new event cannot take stay booked where they were and are listed. Audited."""
    source, target = await get_event(from_event_id, now), await get_event(to_event_id, now)
    if source.id == target.id or has_started(source.starts_at, now):
        raise NotMovable("Choose another event, still to come")
    moved: list[str] = []
    stayed: list[tuple[str, str]] = []
    async with write_transaction():
        rows = await Booking.select(Booking.id, Booking.manage_token, Booking.person, Booking.role, Booking.lead,
                                    Booking.name_given, Booking.person.name.as_alias("person_name"),
                                    Booking.person.email.as_alias("email"), Booking.setting.name.as_alias("setting"),
                                    Booking.setting.urn.as_alias("urn")).where(
            (Booking.event == from_event_id) & (Booking.status == BookingStatus.confirmed.value)
            & (Booking.over_capacity == False)).order_by(Booking.created_at).order_by(Booking.id)  # noqa: E712
        there = {r["person"] for r in await Booking.select(Booking.person).where(
            (Booking.event == to_event_id) & Booking.status.is_in([s.value for s in ACTIVE_STATUSES]))}
        for r in rows:
            name = r["name_given"] or r["person_name"]
            if r["person"] in there:
                stayed.append((name, "already booked on the new event"))
                continue
            request = BookingRequest(name=name, email=r["email"], role=Role(r["role"]), lead=LeadAnswer(r["lead"]),
                                     setting=SettingIn(name=r["setting"], urn=r["urn"]))
            try:
                await book_place(to_event_id, request, source=BookingSource.organiser, actor=actor, now=now,
                                 config=config, moves_from=Moving(r["id"], r["manage_token"], actor=actor,
                                                                  reason=f"Moved by the safeguarding team to the "
                                                                         f"{target.title}"))
            except (EventFull, BookingClosed):
                stayed.append((name, "no place left on the new event"))
                continue
            moved.append(name)
        await record("event.bookers_moved", actor, event_id=from_event_id, to_event=to_event_id, moved=len(moved),
                     stayed=len(stayed))
    return BookersMoved(moved, stayed)



async def take_offered_place(manage_token: str, *, now: dt.datetime, config: Config) -> None:
    """Accept a place offered from the waiting list; for a booker moving here, the place they
    moved from is released in the same transaction."""
    async with write_transaction():
        await accept_offer(manage_token, now=now, config=config)
        row = await Booking.select(Booking.moves_from).where(Booking.manage_token == manage_token).first()
        if row and row["moves_from"]:
            old = await Booking.select(Booking.manage_token, Booking.status).where(
                Booking.id == row["moves_from"]).first()
            if old and old["status"] == BookingStatus.confirmed.value:
                await cancel_booking(old["manage_token"], actor="public", reason="Moved to another session", now=now,
                                     config=config, apology=False)
