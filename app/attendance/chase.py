"""Chasing no-shows: one friendly email per booking marked absent, never twice, offering the next
session of what was missed (a forum open to the setting after a forum, the next HSB or Prevent
session after that training)."""

from __future__ import annotations

import datetime as dt

from app.areas import forum_open_to
from app.attendance.services import list_no_shows
from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.formats import long_date, time_range
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.organisers.services import OrganiserView
from app.programme.services import EventFilters, EventView, list_events
from app.tables.bookings import Booking
from app.tables.register import Setting

FORUM = "forum"


def open_to(event: EventView, quadrant: str | None) -> bool:
    """Whether a setting in `quadrant` may come to `event`: training is open to all, a forum as
    `forum_open_to` says."""
    return event.kind_code != FORUM or forum_open_to(
        forum_quadrant=event.quadrant.value if event.quadrant else None, online=event.online, setting_quadrant=quadrant)


async def next_session(kind_code: str, quadrant: str | None, now: dt.datetime) -> EventView | None:
    """The next session of this kind open for booking and open to a setting in `quadrant`."""
    return next((e for e in await list_events(EventFilters(kind=kind_code), now)
                 if e.availability.bookable and open_to(e, quadrant)), None)


async def next_forum(quadrant: str | None, now: dt.datetime) -> EventView | None:
    return await next_session(FORUM, quadrant, now)


async def chase_no_shows(event_id: int, *, organiser: OrganiserView, materials: str, now: dt.datetime,
                         config: Config) -> int:
    """Email every booking marked absent at the event and not yet chased. Returns how many were
    chased now. Bookings nobody marked are not chased: they are "not recorded"."""
    event, no_shows = await list_no_shows(event_id, now)
    waiting = [row for row in no_shows if row.chased_at is None]
    if not waiting:
        return 0
    # The settings' quadrants in one query, by the event's bookings (never a list of ids).
    quadrants = {r["id"]: r["quadrant"] for r in await Setting.select(Setting.id, Setting.quadrant).where(
        Setting.id.is_in(Booking.select(Booking.setting).where(Booking.event == event_id)))}
    offers: dict[str | None, EventView | None] = {}
    chased = 0
    for row in waiting:
        quadrant = quadrants.get(row.setting_id) or (event.quadrant.value if event.quadrant else None)
        if quadrant not in offers:
            offers[quadrant] = await next_session(event.kind_code, quadrant, now)
        upcoming = offers[quadrant]
        email = compose_email(
            "chase", recipient=row.email, subject=f"We missed you at the {event.title}", config=config,
            name=row.name, event=event, when=long_date(event.starts_at), materials=materials, next_event=upcoming,
            next_is_forum=event.kind_code == FORUM,
            next_when=f"{long_date(upcoming.starts_at)}, {time_range(upcoming.starts_at, upcoming.ends_at)}" if upcoming else "",
            next_url=f"{config.base_url}/events/{upcoming.id}" if upcoming else f"{config.base_url}/")
        async with write_transaction():
            marked = await Booking.update({Booking.chased_at: now}).where(
                (Booking.id == row.booking_id) & Booking.chased_at.is_null()).returning(Booking.id)
            if not marked:
                continue  # another organiser chased this booking a moment ago
            await queue_email(email, kind="chase",
                              config=config, now=now, booking_id=row.booking_id, event_id=event_id,
                              dedupe_key=f"chase:{row.booking_id}")
            await record("booking.chased", organiser.email, event_id=event_id, booking_id=row.booking_id,
                         person_id=row.person_id, materials=bool(materials.strip()))
        chased += 1
    return chased
