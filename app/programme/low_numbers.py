"""Sessions too small, seen in time (issue 24, point 4): an event with a minimum whose places taken
(the guarded counter: confirmed places and places on offer) are below it within
`MINIMUM_WARNING_DAYS` of its start. Organisers see them on their home page, and the organiser
mailbox gets one email per event (its dedupe key), from the scheduler."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.config import Config
from app.formats import long_date
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.tables.programme import Event, EventStatus


@dataclass(frozen=True)
class LowEvent:
    event_id: int
    title: str
    starts_at: dt.datetime
    places_taken: int
    minimum: int
    capacity: int


async def below_minimum(now: dt.datetime, config: Config) -> list[LowEvent]:
    """Scheduled events still to start within the warning days, below their minimum: one query
    on the counter, whatever the number of bookings."""
    rows = await Event.select(Event.id, Event.title, Event.starts_at, Event.places_taken, Event.minimum,
                              Event.capacity).where(
        (Event.status == EventStatus.scheduled.value) & Event.minimum.is_not_null()
        & (Event.starts_at > now) & (Event.starts_at <= now + dt.timedelta(days=config.minimum_warning_days))
        & (Event.places_taken < Event.minimum)).order_by(Event.starts_at)
    return [LowEvent(r["id"], r["title"], r["starts_at"], r["places_taken"], r["minimum"], r["capacity"])
            for r in rows]


async def tell_organisers(*, config: Config, now: dt.datetime) -> int:
    """One email to the organiser mailbox for each event below its minimum (never a second for the
    same event and start: a moved event may be told again). Returns how many were queued."""
    told = 0
    for low in await below_minimum(now, config):
        email = compose_email(
            "below_minimum", recipient=config.organiser_mailbox, config=config,
            subject=f"Below its minimum: {low.title}, {long_date(low.starts_at)}", event=low,
            when=long_date(low.starts_at), register_url=f"{config.base_url}/organisers/events/{low.event_id}")
        if await queue_email(email, kind="below_minimum", config=config, now=now, event_id=low.event_id,
                             dedupe_key=f"below_minimum:{low.event_id}:{low.starts_at.isoformat()}"):
            told += 1
    return told
