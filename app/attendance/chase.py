"""Chasing no-shows: one friendly email per booking, never twice, with the next forum to book."""

from __future__ import annotations

import datetime as dt

from app.areas import Quadrant
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


async def next_forum(quadrant: str | None, online: bool, now: dt.datetime) -> EventView | None:
    """The next forum open for booking in that quadrant (or online)."""
    filters = EventFilters(kind="forum", quadrant=Quadrant(quadrant) if quadrant else None, online=online)
    return next((e for e in await list_events(filters, now) if e.availability.bookable), None)


async def chase_no_shows(event_id: int, *, organiser: OrganiserView, materials: str, now: dt.datetime,
                         config: Config) -> int:
    """Email every no-show of the event not yet chased. Returns how many were chased now."""
    event, no_shows = await list_no_shows(event_id, now)
    chased = 0
    for row in no_shows:
        if row.chased_at is not None:
            continue
        setting = await Setting.select(Setting.quadrant).where(Setting.id == row.setting_id).first()
        quadrant = (setting or {}).get("quadrant") or (event.quadrant.value if event.quadrant else None)
        upcoming = await next_forum(quadrant, online=quadrant is None, now=now)
        subject = f"We missed you at the {event.title}"
        email = compose_email(
            "chase", recipient=row.email, subject=subject, config=config, name=row.name, event=event,
            when=long_date(event.starts_at), materials=materials, next_event=upcoming,
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
