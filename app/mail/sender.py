"""Delivering the outbox: over SMTP (aiosmtplib), or as .eml files when no SMTP server is set.

`deliver_due` is one pass; `run_sender` loops (in each app process by default, or as the
`python -m app send-mail` worker). Each pass also queues due reminders.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiosmtplib

from app.config import Config
from app.db import is_outage
from app.tables.mail import MessageStatus
from app.mail.compose import Email
from app.mail.outbox import (
    Claimed,
    Made,
    Outcome,
    claim_due,
    release_claims,
    rendered_message,
    settle,
    skip,
    store_rendered,
    woken_when_queued,
)

log = logging.getLogger("app.mail")


class _SmtpSession:
    def __init__(self, client: aiosmtplib.SMTP, sender: str):
        self.client, self.sender = client, sender

    async def send(self, message: Claimed) -> None:
        await self.client.sendmail(self.sender, [message.recipient], message.raw.encode("ascii"))


@dataclass
class SmtpTransport:
    config: Config

    @asynccontextmanager
    async def session(self) -> AsyncIterator[_SmtpSession]:
        s = self.config
        client = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, use_tls=s.smtp_tls,
                                 start_tls=s.smtp_starttls and not s.smtp_tls, timeout=30)
        await client.connect()
        try:
            if s.smtp_username:
                await client.login(s.smtp_username, s.smtp_password.get_secret_value())
            yield _SmtpSession(client, s.mail_from)
        finally:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()


class _FileSession:
    def __init__(self, folder: Path):
        self.folder = folder

    async def send(self, message: Claimed) -> None:
        # Named by the message's number only: an address is personal data, and may hold "/".
        path = self.folder / f"{message.id:08d}.eml"
        path.write_text(message.raw, encoding="ascii")
        log.info("Email written to %s (no SMTP_HOST set)", path)


@dataclass
class FileTransport:
    folder: Path

    @asynccontextmanager
    async def session(self) -> AsyncIterator[_FileSession]:
        self.folder.mkdir(parents=True, exist_ok=True)
        yield _FileSession(self.folder)


Transport = SmtpTransport | FileTransport


def transport_for(config: Config) -> Transport:
    return SmtpTransport(config) if config.smtp_host else FileTransport(config.mail_dir)


def sender_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


T = TypeVar("T")

#: Renders the claimed messages queued to be rendered (`Claimed.to_render`), keeps their bytes,
#: skips those that no longer apply, and answers the messages to send.
Renderer = Callable[[list[Claimed], str, dt.datetime], Awaitable[list[Claimed]]]


class Skip(str):
    """What `renderer_from`'s `make` answers for a message that no longer applies: the reason."""


def renderer_from(prepare: Callable[[list[int], dt.datetime], Awaitable[T]],
                  make: Callable[[Claimed, T, dt.datetime], Awaitable[Email | Skip]], *, config: Config) -> Renderer:
    """A renderer from what is particular to a kind of email: `prepare` reads what the batch
    needs (by its messages' booking ids, in one go), `make` turns one message into its email or
    a `Skip`. The loop every renderer shares is here: messages rendered already pass through,
    skipped ones are recorded with their reason, and the rendered bytes are kept before they are
    sent (a retry sends the same message with the same Message-ID)."""

    async def render_due(claimed: list[Claimed], sender: str, now: dt.datetime) -> list[Claimed]:
        batch = await prepare([m.booking_id for m in claimed if m.to_render and m.booking_id is not None], now)
        ready: list[Claimed] = []
        made: list[Made] = []
        for message in claimed:
            if not message.to_render:
                ready.append(message)
                continue
            email = await make(message, batch, now)
            if isinstance(email, Skip):
                await skip(message.id, sender=sender, reason=str(email))
                continue
            kept, sendable = rendered_message(message, email, config=config, now=now)
            made.append(kept)
            ready.append(sendable)
        await store_rendered(made)
        return ready

    return render_due


def by_kind(renderers: dict[str, Renderer], default: Renderer) -> Renderer:
    """One renderer made of several: each message to be rendered goes to the renderer of its
    kind (`default` for the rest); messages rendered already pass through."""

    async def render(claimed: list[Claimed], sender: str, now: dt.datetime) -> list[Claimed]:
        ready = [m for m in claimed if not m.to_render]
        for kind, renderer in [*renderers.items(), (None, default)]:
            mine = [m for m in claimed if m.to_render and (m.kind == kind if kind else m.kind not in renderers)]
            if mine:
                ready += await renderer(mine, sender, now)
        return ready

    return render


async def deliver_due(transport: Transport, *, now: Callable[[], dt.datetime],
                      sender: str | None = None, batch: int = 50, render: Renderer | None = None,
                      stop: asyncio.Event | None = None) -> DeliveryReport:
    """Send everything due, batch by batch: one connection and one settling transaction per
    batch. A sender that dies between sending and settling leaves its claims to expire, and the
    batch goes again (at least once, never lost). Messages queued to be rendered are rendered by
    `render` first (without one they wait). Once `stop` is set no further batch is claimed (the
    one in hand is finished and recorded)."""
    sender = sender or sender_name()
    report = DeliveryReport()
    await _settle_what_was_delivered(sender, report)
    while stop is None or not stop.is_set():
        claimed = await claim_due(sender=sender, now=now(), limit=batch)
        if not claimed:
            return report
        _IN_FLIGHT[sender] = [m.id for m in claimed]
        if render is not None and any(m.to_render for m in claimed):
            ready = await render(claimed, sender, now())
            report.skipped += len(claimed) - len(ready)
            claimed = ready
        unrendered = [m for m in claimed if m.to_render]
        claimed = [m for m in claimed if not m.to_render]
        if unrendered:
            for outcome, status in zip(unrendered, await settle([Outcome(m, "not rendered yet") for m in unrendered],
                                                                sender=sender, now=now())):
                _count(report, status, "not rendered yet")
        if not claimed:
            continue
        outcomes: list[Outcome] = []
        try:
            async with transport.session() as session:
                for message in claimed:
                    try:
                        await session.send(message)
                        outcomes.append(Outcome(message, None))
                    except (aiosmtplib.SMTPException, OSError) as exc:
                        outcomes.append(Outcome(message, f"{type(exc).__name__}: {exc}"))
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            # The connection failed: what was not handed over is retried later.
            error = f"{type(exc).__name__}: {exc}"
            done = {o.message.id for o in outcomes}
            outcomes += [Outcome(m, error) for m in claimed if m.id not in done]
        handed_over = now()
        try:
            statuses = await settle(outcomes, sender=sender, now=handed_over)
        except Exception as exc:
            if is_outage(exc):  # handed to SMTP but not recorded: kept, recorded once it is back
                _UNSETTLED.setdefault(sender, []).append((outcomes, handed_over))
                _IN_FLIGHT.pop(sender, None)
            raise
        _IN_FLIGHT.pop(sender, None)
        for outcome, status in zip(outcomes, statuses):
            _count(report, status, outcome.error)
        if any(o.error for o in outcomes):
            return report  # the server is struggling: leave the rest for the next pass
    return report


#: Batches this process handed to the SMTP server but could not record (the database went away
#: between the two), by sender. Recorded first on the next pass, before anything is claimed: so
#: they are not sent again when their claim would have lapsed, nor left waiting on it. Only a
#: sender killed between SMTP and recording can send a batch twice (README, "Email").
_UNSETTLED: dict[str, list[tuple[list[Outcome], dt.datetime]]] = {}


#: The batch this process has claimed and not yet settled, by sender. A pass that failed after
#: claiming and before handing anything to SMTP (the database went away while rendering) leaves
#: it here: the next pass gives it back at once rather than after the claim's lease.
_IN_FLIGHT: dict[str, list[int]] = {}


async def _settle_what_was_delivered(sender: str, report: DeliveryReport) -> None:
    stranded = _IN_FLIGHT.get(sender)
    if stranded:
        await release_claims(stranded, sender=sender)
        _IN_FLIGHT.pop(sender, None)
    waiting = _UNSETTLED.get(sender, [])
    while waiting:
        outcomes, handed_over = waiting[0]
        for outcome, status in zip(outcomes, await settle(outcomes, sender=sender, now=handed_over)):
            _count(report, status, outcome.error)
        waiting.pop(0)


def _count(report: DeliveryReport, outcome: str, error: str | None) -> None:
    if outcome == MessageStatus.sent.value:
        report.sent += 1
    elif outcome == MessageStatus.failed.value:
        report.failed += 1
    else:
        report.retrying += 1
    if error:
        report.errors.append(error)


async def run_sender(config: Config, *, now: Callable[[], dt.datetime], stop: asyncio.Event,
                     poll_seconds: float = 2.0, render: Renderer | None = None,
                     also: Callable[[], Awaitable[None]] | None = None) -> None:
    """Deliver until `stop` is set: every `poll_seconds`, and at once when this process queues
    an email (other processes' email waits for the poll). `also` runs each pass (the scheduler)."""
    with woken_when_queued() as queued:
        await _deliver_until(config, now=now, stop=stop, poll_seconds=poll_seconds, render=render, also=also,
                             queued=queued)


async def _deliver_until(config: Config, *, now: Callable[[], dt.datetime], stop: asyncio.Event,
                         poll_seconds: float, render: Renderer | None, also: Callable[[], Awaitable[None]] | None,
                         queued: asyncio.Event) -> None:
    transport = transport_for(config)
    sender = sender_name()
    while not stop.is_set():
        queued.clear()
        try:
            if also is not None:
                await also()
            report = await deliver_due(transport, now=now, sender=sender, render=render, stop=stop)
            if report.sent or report.retrying or report.failed:
                log.info("Email: %d sent, %d to retry, %d failed", report.sent, report.retrying, report.failed)
            for error in report.errors[:3]:
                log.warning("Email delivery problem: %s", error)
        except Exception:  # noqa: BLE001 - the sender must outlive any one bad pass
            log.exception("Email sender pass failed; trying again shortly")
        if queued.is_set():
            continue  # queued while this pass ran
        stopping, woken = asyncio.ensure_future(stop.wait()), asyncio.ensure_future(queued.wait())
        await asyncio.wait({stopping, woken}, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        woken.cancel()
