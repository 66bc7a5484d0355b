"""Delivering the outbox with the booking renderer, and the service's one scheduler of timed jobs:
offers not accepted in time lapse (their places pass to the next person waiting), reminders go a
few days before each event, the abuse limits' old counters are deleted hourly, and the retention
purge runs daily.

`run_timed_jobs` is one pass. `timed_jobs` is the hook the sender loop calls on every pass (in the
app process by default, or in `python -m app send-mail`; web processes started with `--no-sender`
run none), at most once a minute. A job that is due only once a period is claimed first
(`claim`), so of any number of processes sharing the database one runs it; offers and reminders
run on every pass, their own guards (an offer's expiry, a reminder's dedupe key) making each
happen once. `job_runs` says when each last ran and what it did.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import Counter

from app.certificates.services import COPY_KIND as CERTIFICATE_COPY
from app.certificates.services import KIND as CERTIFICATE
from app.certificates.services import certificate_renderer
from app.bookings.notices import booking_renderer
from app.bookings.reminders import queue_due_reminders
from app.bookings.waiting_list import expire_offers
from app.clocks.reminders import send_reminders
from app.config import Config
from app.mail import sender as mail_sender
from app.mail.outbox import outbox_state
from app.mail.sender import DeliveryReport, Renderer, Transport, by_kind
from app.organisers.services import end_extra_checks
from app.organisers.throttle import end_throttles
from app.programme.low_numbers import tell_organisers
from app.questionnaire.reach import queue_reminders as queue_questionnaire_reminders
from app.retention.services import PurgeReport, purge
from app.tables.jobs import ScheduledJob
from app.tables.limits import RateLimitHit
from app.webhooks.delivery import deliver_webhooks

log = logging.getLogger("app.jobs")
Clock = Callable[[], dt.datetime]
#: This process's runs of each job (the database's `ScheduledJob.runs` counts every process's).
JOB_RUNS = Counter("scheduled_job_runs_here", "Runs of each scheduled job by this process", ["job"])
EVERY = dt.timedelta(minutes=1)
WEBHOOKS_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class JobsReport:
    offers_lapsed: int = 0
    reminders_queued: int = 0
    questionnaire_reminders: int = 0
    counters_forgotten: int = 0
    sign_in_throttles_ended: int = 0
    below_minimum_told: int = 0
    clock_reminders: int = 0
    purged: PurgeReport | None = None


#: How often each timed job is due. Offers and reminders run on every pass (their own guards, an
#: offer's expiry and a reminder's dedupe key, make each happen once); the rest once per period
#: across every process sharing the database.
DUE_EVERY = {
    # Every minute, claimed like the rest: of many processes one runs them (their own guards would
    # make a second run harmless, but it would be work done twice).
    "offers": dt.timedelta(seconds=55),
    "reminders": dt.timedelta(seconds=55),
    "questionnaire_reminders": dt.timedelta(hours=1),
    "rate_limit_counters": dt.timedelta(hours=1),
    # Sign-in refusals and extra checks that have run out: their ends audited within a minute.
    "sign_in_throttles": dt.timedelta(seconds=55),
    "retention_purge": dt.timedelta(days=1),
    # Events below their minimum: the organiser mailbox told once each (the email's dedupe key).
    "below_minimum": dt.timedelta(hours=1),
    # Leads' dates coming up: each reminded once per threshold (the reminder's unique key).
    "clock_reminders": dt.timedelta(hours=1),
}


async def claim(name: str, now: dt.datetime, every: dt.timedelta) -> bool:
    """True if this process may run the job now: one UPDATE moves its start time forward only if
    it is due, so of many processes asking at once exactly one is told yes (PostgreSQL re-checks
    the condition on the row another transaction just changed; SQLite has one writer)."""
    await ScheduledJob.insert(ScheduledJob(name=name)).on_conflict(target=ScheduledJob.name, action="DO NOTHING")
    due = ScheduledJob.last_started_at.is_null() | (ScheduledJob.last_started_at <= now - every)
    claimed = await ScheduledJob.update({ScheduledJob.last_started_at: now, ScheduledJob.runs: ScheduledJob.runs + 1}).where(
        (ScheduledJob.name == name) & due).returning(ScheduledJob.id)
    if claimed:
        JOB_RUNS.labels(name).inc()
    return bool(claimed)


async def _finished(name: str, result: str) -> None:
    await ScheduledJob.update({ScheduledJob.last_finished_at: dt.datetime.now(dt.timezone.utc),
                               ScheduledJob.last_result: result[:2000]}).where(ScheduledJob.name == name)


async def warn_if_outbox_waits(config: Config, now: dt.datetime) -> float:
    """An SMTP outage shows here (and in the metrics), not in readiness: a warning while the
    oldest waiting message is older than OUTBOX_WARN_MINUTES. Returns its age in seconds."""
    state = await outbox_state(now)
    age = state["oldest_age"]
    if age > config.outbox_warn_minutes * 60:
        waiting = state["by_status"].get("pending", 0) + state["by_status"].get("failed", 0)
        log.warning("outbox: the oldest waiting message is %d minutes old, %d waiting (is the mail server down?)",
                    age // 60, waiting, extra={"age_seconds": int(age), "depth": waiting})
    return age


async def run_timed_jobs(*, config: Config, now: dt.datetime) -> JobsReport:
    """One pass of the service's one scheduler: each job that is due and that this process claims."""
    results: dict[str, object] = {}
    await warn_if_outbox_waits(config, now)
    if await claim("offers", now, DUE_EVERY["offers"]):
        results["offers_lapsed"] = await expire_offers(config=config, now=now)
        await _finished("offers", f"offers lapsed: {results['offers_lapsed']}")
    if await claim("reminders", now, DUE_EVERY["reminders"]):
        results["reminders_queued"] = await queue_due_reminders(config=config, now=now)
        await _finished("reminders", f"reminders queued: {results['reminders_queued']}")
    if await claim("questionnaire_reminders", now, DUE_EVERY["questionnaire_reminders"]):
        results["questionnaire_reminders"] = await queue_questionnaire_reminders(config=config, now=now)
        await _finished("questionnaire_reminders",
                        f"questionnaire reminders queued: {results['questionnaire_reminders']}")
    if await claim("rate_limit_counters", now, DUE_EVERY["rate_limit_counters"]):
        results["counters_forgotten"] = await forget_expired_counters(now)
        await _finished("rate_limit_counters", f"expired counters deleted: {results['counters_forgotten']}")
    if await claim("sign_in_throttles", now, DUE_EVERY["sign_in_throttles"]):
        ended = await end_throttles(now) + await end_extra_checks(now)
        results["sign_in_throttles_ended"] = ended
        await _finished("sign_in_throttles", f"sign-in refusals and extra checks ended: {ended}")
    if await claim("below_minimum", now, DUE_EVERY["below_minimum"]):
        results["below_minimum_told"] = await tell_organisers(config=config, now=now)
        await _finished("below_minimum", f"events below their minimum told: {results['below_minimum_told']}")
    if await claim("clock_reminders", now, DUE_EVERY["clock_reminders"]):
        results["clock_reminders"] = await send_reminders(config=config, now=now)
        await _finished("clock_reminders", f"reminders of leads' dates queued: {results['clock_reminders']}")
    if await claim("retention_purge", now, DUE_EVERY["retention_purge"]):
        report = await purge(now=now, mail_dir=config.mail_dir)
        results["purged"] = report
        await _finished("retention_purge", "; ".join(report.lines()))
    return JobsReport(**results)  # type: ignore[arg-type]


async def job_runs() -> list[dict]:
    """When each job last ran and what it did (for organisers and `python -m app jobs`)."""
    return await ScheduledJob.select().order_by(ScheduledJob.name)


async def forget_expired_counters(now: dt.datetime) -> int:
    """Delete the abuse limits' database counters whose window has ended."""
    deleted = await RateLimitHit.delete().where(RateLimitHit.expires_at < now).returning(RateLimitHit.id)
    return len(deleted)


async def deliver_due(transport: Transport, *, config: Config, now: Clock, sender: str | None = None,
                      batch: int = 50) -> DeliveryReport:
    """One pass of the sender: what is due, confirmations rendered from their bookings first."""
    return await mail_sender.deliver_due(transport, now=now, sender=sender, batch=batch,
                                         render=renderer(config))


def renderer(config: Config) -> Renderer:
    """What makes the emails queued to be rendered: certificates (with their PDF), and every
    other booker's email from its booking."""
    return by_kind({CERTIFICATE: certificate_renderer(config), CERTIFICATE_COPY: certificate_renderer(config, copy=True)},
                   default=booking_renderer(config))


async def run_sender(config: Config, *, now: Clock, stop: "asyncio.Event", poll_seconds: float = 2.0) -> None:
    """The sender loop (in each app process, or `python -m app send-mail`), with the timed jobs
    and the webhooks' deliveries on each pass."""
    jobs = timed_jobs(config, now)
    sender = mail_sender.sender_name()
    last: list[float] = []

    async def each_pass() -> None:
        await jobs()
        # At most once a second: a burst of bookings wakes the sender for every email, and each
        # look for webhooks due is a query (on SQLite, beside the one writer).
        if last and time.monotonic() - last[0] < WEBHOOKS_EVERY_SECONDS:
            return
        last[:] = [time.monotonic()]
        report = await deliver_webhooks(config, now=now(), sender=sender)
        if report.delivered or report.failed:
            log.info("Webhooks: %d delivered, %d failed", report.delivered, report.failed)

    await mail_sender.run_sender(config, now=now, stop=stop, poll_seconds=poll_seconds,
                                 render=renderer(config), also=each_pass)


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
