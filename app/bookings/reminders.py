"""Reminder emails a few days before each event, sent once per booking however often this runs."""

from __future__ import annotations

import datetime as dt

from app.bookings.notices import queue_notices
from app.config import Config
from app.db import write_transaction
from app.tables.bookings import Booking, BookingStatus
from app.tables.mail import OutboxMessage
from app.tables.programme import EventStatus

#: Reminders queued per statement: a county's week of bookings goes in a few bounded inserts.
BATCH = 500


async def queue_due_reminders(*, config: Config, now: dt.datetime) -> int:
    """Queue a reminder for every confirmed booking whose event starts within
    `config.reminder_days` and has not had one. Returns how many were queued now. The sender
    makes each from the booking as it is then (none for a place given up by then); the dedupe
    key makes a concurrent run (another process) a no-op."""
    horizon = now + dt.timedelta(days=config.reminder_days)
    queued, after = 0, 0
    while True:
        already = OutboxMessage.select(OutboxMessage.booking).where(
            (OutboxMessage.kind == "reminder") & OutboxMessage.booking.is_not_null())
        due = await Booking.select(Booking.id, Booking.event, Booking.person.email).where(
            (Booking.status == BookingStatus.confirmed.value)
            & (Booking.event.status == EventStatus.scheduled.value)
            & (Booking.event.starts_at > now) & (Booking.event.starts_at <= horizon)
            & (Booking.id > after) & Booking.id.not_in(already)
        ).order_by(Booking.id).limit(BATCH)
        if not due:
            return queued
        async with write_transaction():
            queued += await queue_notices("reminder", [(r["id"], r["event"], r["person.email"]) for r in due],
                                          config=config, now=now, dedupe=True)
        after = due[-1]["id"]
