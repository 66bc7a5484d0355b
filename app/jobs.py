"""Delivering the outbox with the booking renderer, and the service's timed jobs, in one place: offers not accepted in time lapse (their places pass to
the next person waiting) and reminders go a few days before each event.

`run_timed_jobs` is one pass. `timed_jobs` is the hook the sender loop calls on every pass (in the
app process by default, or in `python -m app send-mail`), running the jobs at most once a minute:
their own guards (an offer's expiry, a reminder's dedupe key), not this timer, make each happen
once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.bookings.notices import confirmation_renderer
from app.bookings.reminders import queue_due_reminders
from app.bookings.waiting_list import expire_offers
from app.config import Config
from app.mail import sender as mail_sender
from app.mail.sender import DeliveryReport, Transport
from app.tables.limits import RateLimitHit

Clock = Callable[[], dt.datetime]
EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class JobsReport:
    offers_lapsed: int
    reminders_queued: int
    counters_forgotten: int = 0


async def deliver_due(transport: Transport, *, config: Config, now: Clock, sender: str | None = None,
                      batch: int = 50) -> DeliveryReport:
    """One pass of the sender: what is due, confirmations rendered from their bookings first."""
    return await mail_sender.deliver_due(transport, now=now, sender=sender, batch=batch,
                                         render=confirmation_renderer(config))


async def run_sender(config: Config, *, now: Clock, stop: "asyncio.Event", poll_seconds: float = 2.0) -> None:
    """The sender loop (in each app process, or `python -m app send-mail`), with the timed jobs."""
    await mail_sender.run_sender(config, now=now, stop=stop, poll_seconds=poll_seconds,
                                 render=confirmation_renderer(config), also=timed_jobs(config, now))


async def run_timed_jobs(*, config: Config, now: dt.datetime) -> JobsReport:
    lapsed = await expire_offers(config=config, now=now)
    queued = await queue_due_reminders(config=config, now=now)
    forgotten = await forget_expired_counters(now)
    return JobsReport(offers_lapsed=lapsed, reminders_queued=queued, counters_forgotten=forgotten)


async def forget_expired_counters(now: dt.datetime) -> int:
    """Delete the abuse limits' database counters whose window has ended."""
    deleted = await RateLimitHit.delete().where(RateLimitHit.expires_at < now).returning(RateLimitHit.id)
    return len(deleted)


def timed_jobs(config: Config, clock: Clock, every: dt.timedelta = EVERY) -> Callable[[], Awaitable[None]]:
    """`run_timed_jobs`, at most once per `every`, for the sender loop's `also` hook."""
    last_run: list[dt.datetime] = []

    async def tick() -> None:
        now = clock()
        if last_run and now - last_run[0] < every:
            return
        last_run[:] = [now]
        await run_timed_jobs(config=config, now=now)

    return tick
