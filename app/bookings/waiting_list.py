"""The waiting list: when a place is released it is offered to the first person in line (the
event's order: `app.bookings.priority`), held for them for a while (48 hours by default), and
passed on if they do not accept in time; offers stop a set time before the event.

Offers are made inside the transaction that releases the place, with the same guarded counter as
bookings, so an offered place is a taken place and capacity holds under any concurrency.
"""

from __future__ import annotations

import datetime as dt

from app.audit.services import record
from app.bookings.notices import queue_confirmation, queue_notices
from app.bookings.places import release_place, take_place
from app.bookings.priority import Waiting, waiting_in_order
from app.bookings.records import BookingNotFound
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError
from app.tables.bookings import Booking, BookingStatus
from app.tables.programme import Event


class OfferNotOpen(DomainError):
    """There is no live offer on this booking (never made, accepted, or expired)."""

    code = "no_open_offer"
    message = "There is no place on offer for this booking (accepted or expired)"
    heading = "This offer has ended"
    advice = ("The place was held for a limited time and has been offered to the next person waiting.",)


async def waitlisted_email(booking_id: int, *, event_id: int, email: str, config: Config, now: dt.datetime,
                           keeps_place: bool = False) -> None:
    """Tell someone just put on the list where they stand (and, on an event in demand, if they
    wait behind others as a repeat no-show; moving here, that they keep the place they have)."""
    line = await _line(event_id, now)
    position = next((n for n, w in enumerate(line, 1) if w.booking_id == booking_id), 0)
    behind = any(w.booking_id == booking_id and w.behind for w in line)
    await queue_notices("waitlisted", [(booking_id, event_id, email)], config=config, now=now, position=position,
                        behind_others=behind, keeps_place=keeps_place)


async def _line(event_id: int, now: dt.datetime) -> list[Waiting]:
    event = await Event.select(Event.waitlist_rule, Event.in_demand).where(Event.id == event_id).first()
    if event is None:
        return []
    return await waiting_in_order(event_id, rule=event["waitlist_rule"], in_demand=bool(event["in_demand"]), now=now)


async def waiting_position(event_id: int, booking_id: int, now: dt.datetime) -> int:
    """Where a waiting booking stands (1 = offered the next place), in the order places are
    offered (`app.bookings.priority`). 0 if it is not waiting."""
    return next((n for n, w in enumerate(await _line(event_id, now), 1) if w.booking_id == booking_id), 0)


async def offer_places(event_id: int, *, actor: str, now: dt.datetime, config: Config) -> int:
    """Offer every free place to the people waiting, in the event's order (`app.bookings.priority`).
    Call inside the transaction that freed the place(s). Offers stop `offers_stop_hours` before
    the event: a place freed later is open to anyone. Returns how many offers were made."""
    event = await Event.select(Event.starts_at, Event.waitlist_rule, Event.in_demand).where(
        Event.id == event_id).first()
    if event is None or now >= event["starts_at"] - dt.timedelta(hours=config.offers_stop_hours):
        return 0
    made = 0
    while True:
        line = await waiting_in_order(event_id, rule=event["waitlist_rule"], in_demand=bool(event["in_demand"]),
                                      now=now)
        if not line or not await take_place(event_id, now):
            return made
        first = line[0]
        expires = now + dt.timedelta(hours=config.offer_hold_hours)
        await Booking.update({Booking.status: BookingStatus.offered.value, Booking.offer_expires_at: expires,
                              Booking.updated_at: now}).where(Booking.id == first.booking_id)
        await record("booking.offered", actor, event_id=event_id, booking_id=first.booking_id,
                     person_id=first.person_id, expires_at=expires.isoformat(), second_place=first.second_place,
                     behind_others=first.behind)
        await queue_notices("offer", [(first.booking_id, event_id, first.email)], config=config, now=now)
        made += 1


async def accept_offer(manage_token: str, *, now: dt.datetime, config: Config) -> None:
    """The person takes the place held for them; they get the usual confirmation and invite."""
    async with write_transaction():
        row = await Booking.select(Booking.id, Booking.event, Booking.person, Booking.person.email).where(
            Booking.manage_token == manage_token).first()
        if row is None:
            raise BookingNotFound()
        changed = await Booking.update({Booking.status: BookingStatus.confirmed.value, Booking.offer_expires_at: None,
                                        Booking.updated_at: now}).where(
            (Booking.id == row["id"]) & (Booking.status == BookingStatus.offered.value)
            & (Booking.offer_expires_at > now)).returning(Booking.id)
        if not changed:
            raise OfferNotOpen()
        # The same confirmation as a booking's, made by the sender when it goes.
        await queue_confirmation(row["id"], email=row["person.email"], event_id=row["event"], config=config, now=now)
        await record("booking.confirmed", "public", event_id=row["event"], booking_id=row["id"],
                     person_id=row["person"], from_waiting_list=True)


async def expire_offers(*, now: dt.datetime, config: Config) -> int:
    """Lapse offers not accepted in time and pass each place to the next person waiting."""
    due = await Booking.select(Booking.id, Booking.event, Booking.person, Booking.person.email).where(
        (Booking.status == BookingStatus.offered.value) & (Booking.offer_expires_at <= now))
    lapsed = 0
    for row in due:
        async with write_transaction():
            changed = await Booking.update({
                Booking.status: BookingStatus.cancelled.value, Booking.cancelled_at: now, Booking.updated_at: now,
                Booking.cancel_reason: "Offer of a place not accepted in time",
            }).where((Booking.id == row["id"]) & (Booking.status == BookingStatus.offered.value)
                     & (Booking.offer_expires_at <= now)).returning(Booking.id)
            if not changed:
                continue
            await release_place(row["event"], now)
            await record("booking.offer_expired", "scheduler", event_id=row["event"], booking_id=row["id"],
                         person_id=row["person"])
            await queue_notices("offer_expired", [(row["id"], row["event"], row["person.email"])], config=config,
                                now=now)
            await offer_places(row["event"], actor="scheduler", now=now, config=config)
            lapsed += 1
    return lapsed
