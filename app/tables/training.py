"""Piccolo tables for each person's training record: certificates of attendance, feedback on a
session, and the links by which a person reads their own record (no account)."""

from __future__ import annotations

import enum

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.tables.bookings import Booking
from app.tables.programme import Event


class Certificate(Table):
    """A certificate of attendance for one booking, issued once when attendance is recorded. What
    it states is kept as issued (a re-issue after a correction writes it again and counts up
    `issue`); a correction that removes the attendance, or erasing the person, withdraws it."""

    booking = ForeignKey(Booking, null=False, unique=True, on_delete=OnDelete.restrict)
    code = Varchar(length=24, unique=True, help_text="Verification code: 80 bits, four groups to read out")
    person_name = Varchar(length=200)
    setting_name = Varchar(length=300)
    event_title = Varchar(length=200)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    online = Boolean(default=False)
    minutes = Integer(null=True, default=None, help_text="Minutes present from the Teams report (online)")
    issue = Integer(default=1)
    issued_at = Timestamptz()
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_reason = Varchar(length=200, default="")
    feedback_token = Varchar(length=64, unique=True, secret=True, help_text="Secret in the feedback link")


class Usefulness(enum.StrEnum):
    very = "very"
    quite = "quite"
    little = "little"
    not_useful = "not_useful"


class Feedback(Table):
    """What one attendee thought of a session: given once per booking, through the link in their
    certificate email. No name is kept here: organisers read it per event and per kind."""

    booking = ForeignKey(Booking, null=False, unique=True, on_delete=OnDelete.restrict)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.restrict)
    usefulness = Varchar(length=12, choices=Usefulness)
    cover_next = Text(default="")
    comments = Text(default="")
    submitted_at = Timestamptz()


class RecordLink(Table, tablename="record_link"):
    """A link to a person's own training record, emailed to the address asked for. Only its hash is
    kept; it lapses after a week."""

    email = Varchar(length=254, index=True)
    token_hash = Varchar(length=64, unique=True, secret=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
