"""Reminder emails a few days before each event, sent once per booking however often this runs."""

from __future__ import annotations

import datetime as dt

from app.bookings.notices import queue_reminder
from app.bookings.records import get_booking
from app.config import Config
from app.db import write_transaction
from app.tables.bookings import Booking, BookingStatus
from app.tables.mail import OutboxMessage
from app.tables.programme import EventStatus


async def queue_due_reminders(*, config: Config, now: dt.datetime) -> int:
    """Queue a reminder for every confirmed booking whose event starts within
    `config.reminder_days` and has not had one. Returns how many were queued now."""
    horizon = now + dt.timedelta(days=config.reminder_days)
    already = OutboxMessage.select(OutboxMessage.booking).where(
        (OutboxMessage.kind == "reminder") & OutboxMessage.booking.is_not_null())
    due = await Booking.select(Booking.manage_token).where(
        (Booking.status == BookingStatus.confirmed.value)
        & (Booking.event.status == EventStatus.scheduled.value)
        & (Booking.event.starts_at > now) & (Booking.event.starts_at <= horizon)
        & Booking.id.not_in(already)
    )
    queued = 0
    for row in due:
        # One small transaction each: a reminder is queued with the booking as it is now, and
        # the dedupe key makes a concurrent run (another process) a no-op.
        async with write_transaction():
            booking = await get_booking(row["manage_token"], now)
            if booking.status is BookingStatus.confirmed and await queue_reminder(booking, config=config, now=now):
                queued += 1
    return queued
