"""Changing or cancelling an event: every confirmed booker's calendar is updated in place.

An update keeps each booking's invite UID and raises its SEQUENCE, so Outlook and Google change the
meeting they already have rather than adding another. These are the services the organiser
workspace calls; until then `python -m app event change|cancel` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.areas import academic_year_of, local, term_of
from app.audit.services import record
from app.bookings.notices import queue_notices
from app.bookings.places import reset_places
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError
from app.formats import long_date, time_range
from app.programme.services import EventNotFound, get_event, get_join_url
from app.tables.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from app.tables.programme import Event, EventStatus, Venue


class EventChangeRefused(DomainError):
    """The change makes no sense (ends before it starts, unknown venue, cancelled event…)."""

    code = "change_refused"
    field = "title"


@dataclass(frozen=True)
class EventChange:
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    venue_id: int | None = None
    join_url: str | None = None


async def _bookers(event_id: int, statuses: tuple[BookingStatus, ...]) -> list[tuple[int, int, str]]:
    """(booking, event, email) of each booking in `statuses`: whom a change must tell."""
    rows = await Booking.select(Booking.id, Booking.person.email).where(
        (Booking.event == event_id) & Booking.status.is_in([s.value for s in statuses])
    ).order_by(Booking.id)
    return [(r["id"], event_id, r["person.email"]) for r in rows]


async def change_event(event_id: int, change: EventChange, *, actor: str, now: dt.datetime,
                       config: Config, venue_corrected: str | None = None) -> list[str]:
    """Apply the change; tell each confirmed booker what changed with an updated invite.
    Returns the changes in words (empty if nothing actually changed)."""
    async with write_transaction():
        return await apply_change(event_id, change, actor=actor, now=now, config=config,
                                  venue_corrected=venue_corrected)


async def apply_change(event_id: int, change: EventChange, *, actor: str, now: dt.datetime,
                       config: Config, venue_corrected: str | None = None) -> list[str]:
    """`change_event` inside the caller's write transaction."""
    event = await get_event(event_id, now)
    if event.status == EventStatus.cancelled.value:
        raise EventChangeRefused("This event is cancelled")
    # Stored in UTC: SQLite compares timestamps as text, so one offset for every row.
    starts = (change.starts_at or event.starts_at).astimezone(dt.timezone.utc)
    ends = (change.ends_at or event.ends_at).astimezone(dt.timezone.utc)
    if ends <= starts:
        raise EventChangeRefused("The event must end after it starts", field="end_time")
    updates: dict = {}
    changes: list[str] = []
    if starts != event.starts_at or ends != event.ends_at:
        updates.update({Event.starts_at: starts, Event.ends_at: ends,
                        Event.academic_year: academic_year_of(local(starts).date()),
                        Event.term: term_of(local(starts).date()).value})
        changes.append(f"The date and time are now {long_date(starts)}, {time_range(starts, ends)} "
                       f"(was {long_date(event.starts_at)}, {time_range(event.starts_at, event.ends_at)}).")
    if change.venue_id is not None and (event.venue is None or change.venue_id != event.venue.id):
        if event.online:
            raise EventChangeRefused("An online event has no venue", field="venue")
        venue = await Venue.select().where(Venue.id == change.venue_id).first()
        if venue is None:
            raise EventChangeRefused(f"No venue with id {change.venue_id}", field="venue")
        updates[Event.venue] = change.venue_id
        changes.append(f"The venue is now {venue['name']}, {venue['address']}, {venue['postcode']}"
                       + (f" (was {event.venue.name})." if event.venue else "."))
    if change.join_url is not None and change.join_url != await get_join_url(event_id):
        if not event.online:
            raise EventChangeRefused("Only online events have a Teams join link", field="join_url")
        updates[Event.join_url] = change.join_url
        changes.append("The Microsoft Teams joining link has changed: use the link in this email.")
    if venue_corrected:
        changes.append(f"The venue's details are now: {venue_corrected}.")
    if not updates and not changes:
        return []
    await Event.update({**updates, Event.sequence: Event.sequence + 1, Event.updated_at: now}).where(
        Event.id == event_id)
    bookers = await _bookers(event_id, (BookingStatus.confirmed,))
    await Booking.update({Booking.calendar_sequence: Booking.calendar_sequence + 1, Booking.updated_at: now}).where(
        (Booking.event == event_id) & (Booking.status == BookingStatus.confirmed.value))
    await queue_notices("update", bookers, config=config, now=now, changes=changes)
    await record("event.changed", actor, event_id=event_id, changes=changes, bookers_told=len(bookers))
    return changes


async def cancel_event(event_id: int, *, reason: str, actor: str, now: dt.datetime, config: Config) -> int:
    """Cancel the event and every active booking for it; each confirmed booker gets a CANCEL.
    Returns how many bookers were told."""
    async with write_transaction():
        event = await get_event(event_id, now)
        if event.status == EventStatus.cancelled.value:
            return 0
        bookers = await _bookers(event_id, (BookingStatus.confirmed,))
        await Event.update({Event.status: EventStatus.cancelled.value, Event.sequence: Event.sequence + 1,
                            Event.updated_at: now}).where(Event.id == event_id)
        await reset_places(event_id, now)
        await Booking.update({
            Booking.status: BookingStatus.cancelled.value, Booking.cancelled_at: now,
            Booking.cancel_reason: f"Event cancelled: {reason}".strip(": "), Booking.updated_at: now,
            Booking.calendar_sequence: Booking.calendar_sequence + 1,
        }).where((Booking.event == event_id) & Booking.status.is_in([s.value for s in ACTIVE_STATUSES]))
        await queue_notices("cancellation", bookers, config=config, now=now, event_cancelled=True, reason=reason)
        await record("event.cancelled", actor, event_id=event_id, reason=reason, bookers_told=len(bookers))
    return len(bookers)


__all__ = ["EventChange", "EventChangeRefused", "EventNotFound", "cancel_event", "change_event"]
