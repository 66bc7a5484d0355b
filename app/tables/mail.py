"""Piccolo tables for the outbox."""

from __future__ import annotations

import enum

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.tables.bookings import Booking
from app.tables.programme import Event


class MessageStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    #: Not sent because it no longer applied when its turn came (a confirmation for a booking
    #: cancelled before it went).
    skipped = "skipped"


class OutboxMessage(Table, tablename="outbox_message"):
    """One email to one recipient, queued in the transaction of the change that causes it, then
    delivered by a sender. A booker's email is queued as (kind, booking, details) with `raw` empty
    and rendered by the sender from the booking as it is then; others are rendered when queued.
    Once rendered, the bytes and Message-ID never change, so a retry is the same message."""

    kind = Varchar(length=40, help_text="confirmation, update, cancellation, reminder, …")
    recipient = Varchar(length=254)
    subject = Varchar(length=300)
    message_id = Varchar(length=200, unique=True)
    raw = Text(help_text="The whole RFC 5322 message, as sent.")
    details = Text(default="", help_text="JSON: what a message rendered by the sender needs beyond the "
                                         "booking (what changed, a reason, a position on the list).")
    booking = ForeignKey(Booking, null=True, on_delete=OnDelete.restrict)
    event = ForeignKey(Event, null=True, on_delete=OnDelete.restrict)
    dedupe_key = Varchar(length=120, unique=True, null=True, default=None,
                         help_text="Set for messages that must go at most once, e.g. reminder:<booking id>.")
    status = Varchar(length=10, choices=MessageStatus, default=MessageStatus.pending, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    claimed_by = Varchar(length=100, default="")
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz()


class DeliveryAttempt(Table, tablename="delivery_attempt"):
    """One try at handing a message to the mail server, and what happened."""

    message = ForeignKey(OutboxMessage, null=False, on_delete=OnDelete.restrict)
    attempted_at = Timestamptz()
    sender = Varchar(length=100)
    outcome = Varchar(length=10, help_text="sent or error")
    error = Text(default="")
