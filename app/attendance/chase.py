"""Chasing no-shows: one friendly email per booking marked absent, never twice, saying what
happened (absent, or in the online meeting for less time than counts) and offering sessions to
make up for it (`app.programme.recovery.offers`, the same offers an apology is sent)."""

from __future__ import annotations

import datetime as dt

from app.attendance.services import list_no_shows
from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.formats import long_date
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.organisers.services import OrganiserView
from app.programme.recovery import offer_links, offers
from app.programme.services import EventView
from app.tables.bookings import Booking
from app.tables.register import Setting

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
    offered: dict[str | None, list[EventView]] = {}
    chased = 0
    for row in waiting:
        quadrant = quadrants.get(row.setting_id)
        if quadrant not in offered:
            offered[quadrant] = await offers(event, quadrant, now)
        # In the online meeting, but for less time than counts: said so, never "we missed you".
        joined = row.minutes_present if row.mark_source == "teams" and row.minutes_present else 0
        email = compose_email(
            "chase", recipient=row.email, config=config,
            subject=f"Your attendance at the {event.title}" if joined else f"We missed you at the {event.title}",
            name=row.name, event=event, when=long_date(event.starts_at), materials=materials,
            joined_minutes=joined, minimum_minutes=config.teams_min_minutes,
            offers=offer_links(offered[quadrant], config.base_url),
            programme_url=f"{config.base_url}/")
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
