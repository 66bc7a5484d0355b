"""Where a booker may move their place: the other sessions of the same kind still to come, open to
their setting (a forum, by the setting's quadrant, as the chase and the apologies offer them)."""

from __future__ import annotations

import datetime as dt

from app.bookings.records import BookingView
from app.programme.recovery import open_to
from app.programme.services import EventFilters, EventView, get_event, list_events
from app.tables.bookings import Booking


async def sessions_to_move_to(booking: BookingView, now: dt.datetime) -> list[EventView]:
    """Upcoming sessions of the booking's kind other than its own, that take bookings now (a
    full one: its waiting list), open to the booking's setting."""
    row = await Booking.select(Booking.setting.quadrant.as_alias("quadrant")).where(Booking.id == booking.id).first()
    quadrant = row["quadrant"] if row else None
    upcoming = await list_events(EventFilters(kind=booking.event.kind_code, when="upcoming"), now)
    return [e for e in upcoming if e.id != booking.event.id and open_to(e, quadrant)
            and (e.availability.bookable or e.availability.reason is not None and e.availability.reason.value == "full")]


async def moved_from(booking_id: int, now: dt.datetime) -> EventView | None:
    """The session this booking's place was moved from, if it was moved (and that session is to come)."""
    row = await Booking.select(Booking.moves_from.as_alias("was")).where(Booking.id == booking_id).first()
    if not row or not row["was"]:
        return None
    old = await Booking.select(Booking.event).where(Booking.id == row["was"]).first()
    if old is None:
        return None
    event = await get_event(old["event"], now)
    return event if event.starts_at > now else None
