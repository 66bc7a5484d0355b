"""Piccolo tables for webhooks: the endpoints administrators register, the messages queued for
each (by a database trigger on the audit trail, in the same transaction as what they report), and
the log of deliveries."""

from __future__ import annotations

import enum

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.tables.organisers import Organiser


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    """A URL another system gave to hear what happens (https only), with its signing secret."""

    url = Varchar(length=2000)
    description = Varchar(length=200, help_text="Whose system it is and what it does with the messages.")
    secret = Varchar(length=100, secret=True, help_text="The Standard Webhooks signing secret (whsec_…).")
    personal_data = Boolean(default=False, help_text=(
        "Messages carry the person's name, email and role only when this is on (and the privacy notice "
        "then lists this recipient)."))
    enabled = Boolean(default=True)
    disabled_reason = Varchar(length=300, default="")
    failing_since = Timestamptz(null=True, default=None, help_text="The first failure since the last success.")
    owner = ForeignKey(Organiser, null=True, on_delete=OnDelete.set_null, help_text="Told when it is turned off.")
    claimed_by = Varchar(length=100, default="", help_text="The process delivering its messages, until claimed_until.")
    claimed_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class WebhookStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"


class WebhookMessage(Table, tablename="webhook_message"):
    """One thing that happened, for one endpoint: queued by the trigger `audit_record_to_webhooks`
    when the audit record is written, delivered oldest first (a later message waits for an
    earlier one), its payload made at the first attempt and kept, so every retry is the same."""

    endpoint = ForeignKey(WebhookEndpoint, null=False, on_delete=OnDelete.cascade, index=True)
    audit_record = Integer(help_text="The audit record it reports (its id makes the message's stable id).")
    action = Varchar(length=60)
    booking = Integer(null=True, default=None, index=True)
    sequence = Integer(null=True, default=None, help_text="This booking's messages to this endpoint, counted from 1.")
    payload = Text(default="")
    status = Varchar(length=10, default=WebhookStatus.pending)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)


class WebhookDelivery(Table, tablename="webhook_delivery"):
    """One attempt to deliver a message, as the endpoint answered it (its body cut to 1 KB)."""

    endpoint = ForeignKey(WebhookEndpoint, null=False, on_delete=OnDelete.cascade, index=True)
    message = ForeignKey(WebhookMessage, null=True, on_delete=OnDelete.cascade)
    attempted_at = Timestamptz()
    status_code = Integer(null=True, default=None)
    response = Text(default="", help_text="The first 1 KB of the answer's body.")
    error = Varchar(length=300, default="")
    milliseconds = Integer(default=0)
