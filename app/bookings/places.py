"""Places at an event: the guarded counter, the only code that changes `places_taken`.

`UPDATE event SET places_taken = places_taken + 1 WHERE id = ? AND places_taken < capacity`, inside
the caller's write transaction. On PostgreSQL the UPDATE takes the event row's lock, so concurrent
bookings for one event queue behind each other; on SQLite the transaction is BEGIN IMMEDIATE.
Count-then-insert and INSERT … SELECT … WHERE count < capacity were measured to overbook on
PostgreSQL (see DESIGN.md). Waiting-list offers take and give back places through the same two functions.
"""

from __future__ import annotations

import datetime as dt

from app.sql import for_piccolo
from app.tables.bookings import PLACE_HOLDING_STATUSES, Booking
from app.tables.programme import Event

#: A place left at a scheduled event: the guarded counter's condition ({event}, {now} markers:
#: `app.sql`). `take_place` and the booking's statements (`app.bookings.one_call`) both run it.
PLACE_LEFT = "id = {event} AND places_taken < capacity AND status = 'scheduled'"
#: Open for booking now (a walk-in needs only a scheduled event: they arrive once it has started).
OPEN_NOW = (" AND starts_at > {now} AND (booking_opens_at IS NULL OR booking_opens_at <= {now})"
            " AND (booking_closes_at IS NULL OR booking_closes_at > {now})")


def take_place_sql(*, walk_in: bool = False) -> str:
    """The guarded counter's UPDATE: for a booking, the event open now; for a walk-in, scheduled."""
    return ("UPDATE event SET places_taken = places_taken + 1, updated_at = {now}"
            " WHERE " + PLACE_LEFT + ("" if walk_in else OPEN_NOW) + " RETURNING id")


#: The counter's condition, read without taking a place.
HAS_PLACE = "SELECT id FROM event WHERE " + PLACE_LEFT + OPEN_NOW


async def has_place(event_id: int, now: dt.datetime) -> bool:
    """Whether `take_place` would give a place now (read only: to say why a booking was refused,
    capacity first)."""
    sql, args = for_piccolo(HAS_PLACE, event=event_id, now=now)
    return bool(await Event.raw(sql, *args))


async def take_place(event_id: int, now: dt.datetime, *, walk_in: bool = False) -> bool:
    """The guarded counter: one place, only if one is left and the event is still open (for a
    walk-in, only if it is not cancelled: they arrive once it has started)."""
    sql, args = for_piccolo(take_place_sql(walk_in=walk_in), event=event_id, now=now)
    return bool(await Event.raw(sql, *args))


async def release_place(event_id: int, now: dt.datetime) -> None:
    await Event.update(
        {Event.places_taken: Event.places_taken - 1, Event.updated_at: now}
    ).where(Event.id == event_id)


async def reset_places(event_id: int, now: dt.datetime) -> None:
    """An event cancelled: it holds no places any more."""
    await Event.update({Event.places_taken: 0, Event.updated_at: now}).where(Event.id == event_id)


async def recount_places(event_id: int, now: dt.datetime) -> int:
    """Set the counter from the rows (after a bulk load): bookings holding a place, walk-ins
    admitted over capacity left out."""
    taken = await Booking.count().where(
        (Booking.event == event_id) & Booking.status.is_in([s.value for s in PLACE_HOLDING_STATUSES])
        & (Booking.over_capacity == False))  # noqa: E712 (Piccolo expression)
    await Event.update({Event.places_taken: taken, Event.updated_at: now}).where(Event.id == event_id)
    return taken
