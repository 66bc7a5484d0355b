"""Chasing no-shows: one friendly email per booking marked absent, never twice, saying what
happened (absent, or in the online meeting for less time than counts) and offering sessions to
make up for it (`offers`)."""

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


async def offers(event: EventView, quadrant: str | None, now: dt.datetime) -> list[EventView]:
    """What a chase offers after `event`, in order. Training: the next session of that training.
    A forum: forums still to come this term open to the setting, the same way of attending first
    (online after an online forum; after an in-person one, the setting's quadrant's next forum,
    then the online one); none this term, the next term's. A setting with no quadrant on record
    is offered online sessions only."""
    upcoming = [e for e in await list_events(EventFilters(kind=event.kind_code, when="upcoming"), now)
                if e.id != event.id and e.availability.bookable and open_to(e, quadrant)]
    if quadrant is None:
        upcoming = [e for e in upcoming if e.online]
    if event.kind_code != FORUM or not upcoming:
        return upcoming[:1]
    this_term = [e for e in upcoming if (e.academic_year, e.term) == (event.academic_year, event.term)]
    first = upcoming[0]
    pool = this_term or [e for e in upcoming if (e.academic_year, e.term) == (first.academic_year, first.term)]
    same = [e for e in pool if e.online == event.online][:1]
    other = [e for e in pool if e.online != event.online][:1]
    return same + other


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
            offers=[{"title": e.title, "when": f"{long_date(e.starts_at)}, {time_range(e.starts_at, e.ends_at)}",
                     "where": e.where if not e.online else "online, on Microsoft Teams",
                     "url": f"{config.base_url}/events/{e.id}"} for e in offered[quadrant]],
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
