"""Organisers' changes to the programme: new events and venues, edits, capacity.

Changes of time, place or join link go through `events.apply_change`, so every confirmed
booker's calendar is updated; capacity can never drop below the places already taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.areas import academic_year_of, local, term_of
from app.audit.services import record
from app.bookings.waiting_list import offer_places
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError, NotFound
from app.event_changes.events import EventChange, EventChangeRefused, apply_change
from app.programme.services import get_event
from app.tables.programme import Event, EventKind, EventStatus, Venue


class CapacityBelowPlacesTaken(DomainError):
    code = "capacity_below_places_taken"
    field = "capacity"

    def __init__(self, places_taken: int):
        super().__init__(f"The number of places cannot be less than the {places_taken} already taken")
        self.places_taken = places_taken


@dataclass(frozen=True)
class EventDetails:
    title: str
    kind_id: int
    quadrant: str | None  # None: online
    venue_id: int | None
    join_url: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    booking_opens_at: dt.datetime | None
    booking_closes_at: dt.datetime | None
    #: What attendees of this event must know, e.g. "Please note change of venue." (this event only).
    note: str = ""
    agenda: str = ""
    trainer_name: str = ""
    trainer_role: str = ""
    #: Apologies later than this many hours before the start are shown as a late cancellation.
    late_cancel_hours: int = 24
    waitlist_rule: str = "first_come"
    in_demand: bool = False
    minimum: int | None = None

    @property
    def online(self) -> bool:
        return self.quadrant is None


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(dt.timezone.utc) if moment else None


async def create_event(details: EventDetails, *, actor: str, now: dt.datetime) -> int:
    """Add an event: the row and its audit record in one transaction."""
    starts = _utc(details.starts_at)
    assert starts is not None
    day = local(starts).date()
    async with write_transaction():
        return await _insert_event(details, starts, day, actor=actor, now=now)


async def _insert_event(details: EventDetails, starts: dt.datetime, day: dt.date, *, actor: str,
                        now: dt.datetime) -> int:
    rows = await Event.insert(Event(
        title=details.title, kind=details.kind_id, quadrant=details.quadrant, online=details.online,
        academic_year=academic_year_of(day), term=term_of(day).value, starts_at=starts,
        ends_at=_utc(details.ends_at), venue=None if details.online else details.venue_id,
        join_url=details.join_url if details.online else "", note=details.note, capacity=details.capacity,
        agenda=details.agenda, trainer_name=details.trainer_name, trainer_role=details.trainer_role,
        booking_opens_at=_utc(details.booking_opens_at), booking_closes_at=_utc(details.booking_closes_at),
        late_cancel_hours=details.late_cancel_hours, waitlist_rule=details.waitlist_rule,
        in_demand=details.in_demand, minimum=details.minimum, created_at=now, updated_at=now,
    )).returning(Event.id)
    event_id = rows[0]["id"]
    await record("event.created", actor, event_id=event_id, title=details.title)
    return event_id


async def set_capacity(event_id: int, capacity: int, *, actor: str, now: dt.datetime,
                       config: Config | None = None) -> bool:
    """True if the capacity changed. Refused (CapacityBelowPlacesTaken) below the places taken;
    places added are offered to the waiting list at once."""
    async with write_transaction():
        return await _apply_capacity(event_id, capacity, actor=actor, now=now, config=config)


async def _apply_capacity(event_id: int, capacity: int, *, actor: str, now: dt.datetime,
                          config: Config | None) -> bool:
    # An organiser saying the capacity, even the one assumed, makes it a fact.
    await Event.update({Event.capacity_assumed: False}).where(
        (Event.id == event_id) & (Event.capacity_assumed == True))  # noqa: E712
    row = await Event.select(Event.capacity, Event.places_taken).where(Event.id == event_id).first()
    if row is None or row["capacity"] == capacity:
        return False
    changed = await Event.update({Event.capacity: capacity, Event.updated_at: now}).where(
        (Event.id == event_id) & (Event.places_taken <= capacity)).returning(Event.id)
    if not changed:
        raise CapacityBelowPlacesTaken(row["places_taken"])
    await record("event.capacity_changed", actor, event_id=event_id, was=row["capacity"], now=capacity)
    if config is not None and capacity > row["capacity"]:
        await offer_places(event_id, actor=actor, now=now, config=config)
    return True


async def update_event(event_id: int, details: EventDetails, *, actor: str, now: dt.datetime,
                       config: Config) -> list[str]:
    """Apply an organiser's edit, all of it or none of it (one transaction): a refused part, such
    as an edit to a cancelled event, leaves every row as it was. Returns what bookers were told
    (empty if nothing they see changed)."""
    async with write_transaction():
        event = await get_event(event_id, now)
        if event.status == EventStatus.cancelled.value:
            raise EventChangeRefused("This event is cancelled")
        if details.online != event.online:
            raise EventChangeRefused("An event cannot move between online and in person: cancel it and add a new one",
                                     field="where")
        await _apply_capacity(event_id, details.capacity, actor=actor, now=now, config=config)
        await Event.update({
            Event.title: details.title, Event.kind: details.kind_id, Event.note: details.note,
            Event.agenda: details.agenda, Event.trainer_name: details.trainer_name,
            Event.trainer_role: details.trainer_role, Event.late_cancel_hours: details.late_cancel_hours,
            Event.waitlist_rule: details.waitlist_rule, Event.in_demand: details.in_demand,
            Event.minimum: details.minimum,
            Event.booking_opens_at: _utc(details.booking_opens_at),
            Event.booking_closes_at: _utc(details.booking_closes_at), Event.updated_at: now,
        }).where(Event.id == event_id)
        if details.title != event.title:
            await record("event.renamed", actor, event_id=event_id, was=event.title, now=details.title)
        return await apply_change(event_id, EventChange(
            starts_at=details.starts_at, ends_at=details.ends_at,
            venue_id=None if event.online else details.venue_id,
            join_url=details.join_url if event.online else None,
        ), actor=actor, now=now, config=config)


async def list_venues() -> list[dict]:
    return await Venue.select().order_by(Venue.name)


async def list_kind_options() -> list[dict]:
    return await EventKind.select(EventKind.id, EventKind.name).order_by(EventKind.id)


async def save_venue(venue_id: int | None, *, name: str, address: str, postcode: str, actor: str,
                     now: dt.datetime, config: Config) -> int:
    """Add a venue, or correct one: bookers of upcoming events there get an updated invite, in the
    same transaction as the correction."""
    async with write_transaction():
        if venue_id is None:
            rows = await Venue.insert(Venue(name=name, address=address, postcode=postcode, created_at=now)).returning(
                Venue.id)
            await record("venue.created", actor, name=name)
            return rows[0]["id"]
        changed = await Venue.update({Venue.name: name, Venue.address: address, Venue.postcode: postcode}).where(
            Venue.id == venue_id).returning(Venue.id)
        if not changed:
            raise NotFound("No such venue")
        await record("venue.changed", actor, venue=venue_id, name=name)
        upcoming = await Event.select(Event.id).where(
            (Event.venue == venue_id) & (Event.status == EventStatus.scheduled.value) & (Event.starts_at > now))
        for row in upcoming:
            await apply_change(row["id"], EventChange(), actor=actor, now=now, config=config,
                               venue_corrected=f"{name}, {address}, {postcode}")
    return venue_id
