"""The outbox: queue an email inside the caller's transaction; claim, settle and list messages.

Claims are what stop two senders (threads, processes or machines) sending one message twice: a
message moves from pending to sending in one guarded UPDATE, under `FOR UPDATE SKIP LOCKED` on
PostgreSQL and inside `BEGIN IMMEDIATE` on SQLite. A sender that dies mid-send leaves a claim that
expires after `CLAIM_LEASE`; the message then goes again (at least once, never lost).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.utils import make_msgid
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.methods.raw import Raw
from piccolo.querystring import QueryString

from app.config import Config
from app.db import after_commit, current_engine, write_transaction
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


#: Kinds of email about safeguarding rather than a booking: their replies go to the team.
SAFEGUARDING_KINDS = frozenset({"certificate", "training_record", "questionnaire", "questionnaire_copy", "questionnaire_reminder", "chase",
                                "clock_reminder", "lead_welcome", "forum_pack"})


def reply_to_for(kind: str, config: Config) -> str:
    """Where a reply to an email of this kind goes (configurable, see Config.reply_to_*)."""
    if kind in SAFEGUARDING_KINDS:
        return config.safeguarding_mailbox
    return config.reply_to_bookings


def prepare(email: Email, *, config: Config, now: dt.datetime, message_id: str | None = None,
            kind: str = "") -> Rendered:
    message_id, raw = render(email, mail_from=config.mail_from, from_name=config.mail_from_name,
                             reply_to=reply_to_for(kind, config), now=now, message_id=message_id)
    return Rendered(email, message_id, raw)


def new_message_id(config: Config) -> str:
    return make_msgid(domain=config.mail_from.rsplit("@", 1)[-1] or "localhost")


@dataclass(frozen=True)
class ToRender:
    """A booker's email recorded to be made by the sender: what kind, for which booking, and the
    few facts the booking itself will not hold then (what changed, a reason)."""

    kind: str
    booking_id: int
    event_id: int
    recipient: str
    details: dict[str, Any] = field(default_factory=dict)
    #: Set for a message that must go at most once (reminder:<booking id>).
    dedupe_key: str | None = None


#: Rows written by one INSERT: bounded, so a county-wide change never builds one huge statement.
QUEUE_CHUNK = 500


async def queue_to_render(messages: list[ToRender], *, config: Config, now: dt.datetime) -> int:
    """Queue messages the sender renders when their turn comes (call inside the change's
    transaction): only rows are written while the change holds its locks, one statement per
    500. Messages whose dedupe key was used already are left out. Returns how many were queued."""
    queued = 0
    for start in range(0, len(messages), QUEUE_CHUNK):
        chunk = messages[start:start + QUEUE_CHUNK]
        query = OutboxMessage.insert(*[OutboxMessage(
            kind=m.kind, recipient=m.recipient, subject="", message_id=new_message_id(config), raw="",
            details=json.dumps(m.details) if m.details else "", booking=m.booking_id, event=m.event_id,
            dedupe_key=m.dedupe_key, status=MessageStatus.pending.value, next_attempt_at=now, created_at=now,
        ) for m in chunk])
        if any(m.dedupe_key for m in chunk):
            query = query.on_conflict(target=OutboxMessage.dedupe_key, action="DO NOTHING")
        queued += len(await query.returning(OutboxMessage.id))
    if queued:
        after_commit(wake_senders)
    return queued


@dataclass(frozen=True)
class Made:
    """A rendered message's bytes, to keep before it is sent."""

    id: int
    recipient: str
    subject: str
    raw: str


def rendered_message(message: "Claimed", email: Email, *, config: Config, now: dt.datetime) -> tuple[Made, "Claimed"]:
    """A renderer's result for one claimed message: the bytes to keep (with its Message-ID, so a
    retry sends the same message) and the message ready to send."""
    rendered = prepare(email, config=config, now=now, message_id=message.message_id, kind=message.kind)
    return (Made(message.id, email.recipient, email.subject, rendered.raw),
            replace(message, raw=rendered.raw, recipient=email.recipient))


async def store_rendered(made: list[Made]) -> None:
    """Keep the bytes about to be sent, so a retry sends exactly the same message: one statement
    for a batch (a message rendered already keeps its first bytes)."""
    if not made:
        return
    rows = ", ".join("(CAST({} AS INTEGER), {}, {}, {})" for _ in made)
    values = [value for m in made for value in (m.id, m.raw, m.recipient, m.subject)]
    # `Raw` spelled out: the table's own `raw` column hides `Table.raw`. The VALUES list is named
    # in a WITH clause, the form SQLite and PostgreSQL both read.
    await Raw(OutboxMessage, QueryString(
        f"WITH v(id, raw, recipient, subject) AS (VALUES {rows}) "
        "UPDATE outbox_message SET raw = v.raw, recipient = v.recipient, subject = v.subject "
        "FROM v WHERE outbox_message.id = v.id AND outbox_message.raw = ''", *values))


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
    rendered = email if isinstance(email, Rendered) else prepare(email, config=config, now=now, kind=kind)
    email, message_id, raw = rendered.email, rendered.message_id, rendered.raw
    query = OutboxMessage.insert(OutboxMessage(
        kind=kind, recipient=email.recipient, subject=email.subject, message_id=message_id, raw=raw,
        booking=booking_id, event=event_id, dedupe_key=dedupe_key, status=MessageStatus.pending.value,
        next_attempt_at=now, created_at=now,
    ))
    if dedupe_key:
        query = query.on_conflict(target=OutboxMessage.dedupe_key, action="DO NOTHING")
    inserted = await query.returning(OutboxMessage.id)
    if inserted:
        after_commit(wake_senders)
    return bool(inserted)


#: The wake-up calls of this process's running senders (`run_sender`): set when a transaction
#: that queued email commits, so it goes at once rather than at the sender's next poll.
_senders_waiting: set[asyncio.Event] = set()


def wake_senders() -> None:
    for waiting in list(_senders_waiting):
        waiting.set()


@contextmanager
def woken_when_queued() -> Iterator[asyncio.Event]:
    """An event set whenever this process queues email (for the sender loop to wait on)."""
    event = asyncio.Event()
    _senders_waiting.add(event)
    try:
        yield event
    finally:
        _senders_waiting.discard(event)


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
    details: str = ""

    @property
    def to_render(self) -> bool:
        return not self.raw

    @property
    def facts(self) -> dict[str, Any]:
        return json.loads(self.details) if self.details else {}


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
            OutboxMessage.kind, OutboxMessage.booking, OutboxMessage.message_id, OutboxMessage.details)
    return sorted((Claimed(r["id"], r["recipient"], r["raw"], r["attempts"], r["kind"], r["booking"], r["message_id"],
                           r["details"]) for r in rows), key=lambda c: c.id)


async def release_claims(ids: list[int], *, sender: str) -> int:
    """Give back messages this sender claimed and never handed to the mail server."""
    released = await OutboxMessage.update({OutboxMessage.status: MessageStatus.pending.value,
                                           OutboxMessage.claimed_by: "", OutboxMessage.claimed_at: None}).where(
        OutboxMessage.id.is_in(ids) & (OutboxMessage.claimed_by == sender)
        & (OutboxMessage.status == MessageStatus.sending.value)).returning(OutboxMessage.id)
    return len(released)


@dataclass(frozen=True)
class Outcome:
    message: Claimed
    error: str | None  # None: the server accepted it


async def settle(outcomes: list[Outcome], *, sender: str, now: dt.datetime,
                 max_attempts: int = MAX_ATTEMPTS) -> list[str]:
    """Record a batch of attempts in one transaction; each message becomes sent, pending again
    (backed off) or failed. Returns each message's new status."""
    statuses = []
    delivered = [o.message.id for o in outcomes if o.error is None]
    mine = (OutboxMessage.claimed_by == sender) & (OutboxMessage.status == MessageStatus.sending.value)
    async with write_transaction():
        if delivered:  # the usual case, one statement for the batch (a batch is at most 50)
            await OutboxMessage.update({
                OutboxMessage.status: MessageStatus.sent.value, OutboxMessage.sent_at: now,
                OutboxMessage.last_error: "", OutboxMessage.attempts: OutboxMessage.attempts + 1,
            }).where(OutboxMessage.id.is_in(delivered) & mine)
        for outcome in outcomes:
            message, error = outcome.message, outcome.error
            attempts = message.attempts + 1
            if error is None:
                statuses.append(MessageStatus.sent.value)
                continue
            if attempts >= max_attempts:
                changes = {OutboxMessage.status: MessageStatus.failed.value, OutboxMessage.last_error: error}
                status = MessageStatus.failed.value
            else:
                changes = {OutboxMessage.status: MessageStatus.pending.value, OutboxMessage.last_error: error,
                           OutboxMessage.next_attempt_at: now + retry_delay(attempts)}
                status = MessageStatus.pending.value
            await OutboxMessage.update({**changes, OutboxMessage.attempts: attempts}).where(
                (OutboxMessage.id == message.id) & mine)
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


async def outbox_state(now: dt.datetime) -> dict[str, Any]:
    """How many messages are in each status, and how old the oldest waiting one is (seconds)."""
    by_status = await count_by_status()
    oldest = await OutboxMessage.select(OutboxMessage.created_at).where(
        OutboxMessage.status.is_in([MessageStatus.pending.value, MessageStatus.failed.value])).order_by(
        OutboxMessage.created_at).first()
    return {"by_status": by_status, "oldest_age": (now - oldest["created_at"]).total_seconds() if oldest else 0.0}
