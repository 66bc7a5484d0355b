"""The outbox: queue an email inside the caller's transaction; claim, settle and list messages.

Claims are what stop two senders (threads, processes or machines) sending one message twice: a
message moves from pending to sending in one guarded UPDATE, under `FOR UPDATE SKIP LOCKED` on
PostgreSQL and inside `BEGIN IMMEDIATE` on SQLite. A sender that dies mid-send leaves a claim that
expires after `CLAIM_LEASE`; the message then goes again (at least once, never lost).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app.config import Config
from app.db import current_engine, write_transaction
from app.mail.compose import Email, render
from app.tables.mail import DeliveryAttempt, MessageStatus, OutboxMessage

CLAIM_LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min, … capped at an hour."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


@dataclass(frozen=True)
class Rendered:
    """An email ready for the outbox: rendering takes milliseconds, so callers holding a lock
    render first and store inside their transaction."""

    email: Email
    message_id: str
    raw: str


def prepare(email: Email, *, config: Config, now: dt.datetime, message_id: str | None = None) -> Rendered:
    message_id, raw = render(email, mail_from=config.mail_from, from_name=config.mail_from_name,
                             reply_to=config.organiser_mailbox, now=now, message_id=message_id)
    return Rendered(email, message_id, raw)


def new_message_id(config: Config) -> str:
    return make_msgid(domain=config.mail_from.rsplit("@", 1)[-1] or "localhost")


async def queue_to_render(*, kind: str, recipient: str, booking_id: int, event_id: int, config: Config,
                          now: dt.datetime) -> None:
    """Queue a message the sender renders when its turn comes (call inside the change's
    transaction): nothing but a row is written while the booking holds its lock."""
    await OutboxMessage.insert(OutboxMessage(
        kind=kind, recipient=recipient, subject="", message_id=new_message_id(config), raw="",
        booking=booking_id, event=event_id, status=MessageStatus.pending.value, next_attempt_at=now,
        created_at=now))


async def store_rendered(message_id: int, *, recipient: str, subject: str, raw: str) -> None:
    """Keep the bytes about to be sent, so a retry sends exactly the same message."""
    await OutboxMessage.update({OutboxMessage.raw: raw, OutboxMessage.recipient: recipient,
                                OutboxMessage.subject: subject}).where(
        (OutboxMessage.id == message_id) & (OutboxMessage.raw == ""))


async def skip(message_id: int, *, sender: str, reason: str) -> None:
    """A claimed message that no longer applies: never sent, and said why."""
    await OutboxMessage.update({OutboxMessage.status: MessageStatus.skipped.value, OutboxMessage.last_error: reason}).where(
        (OutboxMessage.id == message_id) & (OutboxMessage.claimed_by == sender)
        & (OutboxMessage.status == MessageStatus.sending.value))


async def queue_email(email: Email | Rendered, *, kind: str, config: Config, now: dt.datetime,
                      booking_id: int | None = None, event_id: int | None = None,
                      dedupe_key: str | None = None) -> bool:
    """Write the email to the outbox (call inside the transaction of the change). With a
    `dedupe_key` already used, nothing is written and False is returned."""
    rendered = email if isinstance(email, Rendered) else prepare(email, config=config, now=now)
    email, message_id, raw = rendered.email, rendered.message_id, rendered.raw
    query = OutboxMessage.insert(OutboxMessage(
        kind=kind, recipient=email.recipient, subject=email.subject, message_id=message_id, raw=raw,
        booking=booking_id, event=event_id, dedupe_key=dedupe_key, status=MessageStatus.pending.value,
        next_attempt_at=now, created_at=now,
    ))
    if dedupe_key:
        query = query.on_conflict(target=OutboxMessage.dedupe_key, action="DO NOTHING")
    inserted = await query.returning(OutboxMessage.id)
    return bool(inserted)


def _claimable(now: dt.datetime) -> Any:
    return (
        ((OutboxMessage.status == MessageStatus.pending.value) & (OutboxMessage.next_attempt_at <= now))
        | ((OutboxMessage.status == MessageStatus.sending.value) & (OutboxMessage.claimed_at < now - CLAIM_LEASE))
    )


@dataclass(frozen=True)
class Claimed:
    id: int
    recipient: str
    raw: str
    attempts: int
    kind: str = ""
    booking_id: int | None = None
    message_id: str = ""

    @property
    def to_render(self) -> bool:
        return not self.raw


async def claim_due(*, sender: str, now: dt.datetime, limit: int = 50) -> list[Claimed]:
    # A plain read first: an idle sender polling must not take SQLite's write lock.
    if not await OutboxMessage.exists().where(_claimable(now)):
        return []
    async with write_transaction():
        query = OutboxMessage.select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.id).limit(limit)
        if isinstance(current_engine(), PostgresEngine):
            query = query.lock_rows(skip_locked=True)
        ids = [row["id"] for row in await query]
        if not ids:
            return []
        rows = await OutboxMessage.update({
            OutboxMessage.status: MessageStatus.sending.value, OutboxMessage.claimed_by: sender,
            OutboxMessage.claimed_at: now,
        }).where(OutboxMessage.id.is_in(ids) & _claimable(now)).returning(
            OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.raw, OutboxMessage.attempts,
            OutboxMessage.kind, OutboxMessage.booking, OutboxMessage.message_id)
    return sorted((Claimed(r["id"], r["recipient"], r["raw"], r["attempts"], r["kind"], r["booking"], r["message_id"])
                   for r in rows), key=lambda c: c.id)


@dataclass(frozen=True)
class Outcome:
    message: Claimed
    error: str | None  # None: the server accepted it


async def settle(outcomes: list[Outcome], *, sender: str, now: dt.datetime,
                 max_attempts: int = MAX_ATTEMPTS) -> list[str]:
    """Record a batch of attempts in one transaction; each message becomes sent, pending again
    (backed off) or failed. Returns each message's new status."""
    statuses = []
    async with write_transaction():
        for outcome in outcomes:
            message, error = outcome.message, outcome.error
            attempts = message.attempts + 1
            if error is None:
                changes = {OutboxMessage.status: MessageStatus.sent.value, OutboxMessage.sent_at: now,
                           OutboxMessage.last_error: ""}
                status = MessageStatus.sent.value
            elif attempts >= max_attempts:
                changes = {OutboxMessage.status: MessageStatus.failed.value, OutboxMessage.last_error: error}
                status = MessageStatus.failed.value
            else:
                changes = {OutboxMessage.status: MessageStatus.pending.value, OutboxMessage.last_error: error,
                           OutboxMessage.next_attempt_at: now + retry_delay(attempts)}
                status = MessageStatus.pending.value
            await OutboxMessage.update({**changes, OutboxMessage.attempts: attempts}).where(
                (OutboxMessage.id == message.id) & (OutboxMessage.claimed_by == sender)
                & (OutboxMessage.status == MessageStatus.sending.value)
            )
            statuses.append(status)
        await DeliveryAttempt.insert(*[
            DeliveryAttempt(message=o.message.id, attempted_at=now, sender=sender,
                            outcome="sent" if o.error is None else "error", error=o.error or "")
            for o in outcomes
        ])
    return statuses


async def list_messages(status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = OutboxMessage.select(
        OutboxMessage.id, OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.subject,
        OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.next_attempt_at,
        OutboxMessage.sent_at, OutboxMessage.last_error, OutboxMessage.created_at,
    ).order_by(OutboxMessage.id, ascending=False).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return await query


async def count_by_status() -> dict[str, int]:
    from piccolo.query.functions.aggregate import Count

    counts = {s.value: 0 for s in MessageStatus}
    for row in await OutboxMessage.select(OutboxMessage.status, Count(alias="n")).group_by(OutboxMessage.status):
        counts[row["status"]] = row["n"]
    return counts


async def retry_failed(now: dt.datetime) -> int:
    """Put every failed message back in the queue, with a fresh set of attempts."""
    async with write_transaction():
        rows = await OutboxMessage.update({
            OutboxMessage.status: MessageStatus.pending.value, OutboxMessage.attempts: 0,
            OutboxMessage.next_attempt_at: now,
        }).where(OutboxMessage.status == MessageStatus.failed.value).returning(OutboxMessage.id)
    return len(rows)
