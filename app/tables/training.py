"""Piccolo tables for each person's training record: certificates of attendance, feedback on a
session, and the links by which a person reads their own record (no account)."""

from __future__ import annotations

import enum

from piccolo.columns import Boolean, Bytea, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.tables.bookings import Booking
from app.tables.organisers import Organiser
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


class LeadClock(Table, tablename="lead_clock"):
    """Each person's three safeguarding dates, worked out from what the service knows (the person's
    recorded attendance, the training their setting declared for them, the forum packs they
    acknowledged) by `app.clocks.dates.refresh_clocks`, in the transaction that changes any of
    those. Keyed by work email, as the settings' leads on record are. Dates are London dates;
    each `*_due` is indexed so the organisers' lists are counted in SQL."""

    email = Varchar(length=254, unique=True, help_text="Work email, lower-cased.")
    level3_on = Date(null=True, default=None, help_text="Formal DSL training (Level 3): last recorded or declared.")
    level3_from = Varchar(length=300, default="", help_text="Where that date comes from, as the record says it.")
    level3_due = Date(null=True, default=None, index=True, help_text="Two years on.")
    knowledge_on = Date(null=True, default=None, help_text="Knowledge refreshed: last forum attended or pack read.")
    knowledge_from = Varchar(length=300, default="")
    knowledge_due = Date(null=True, default=None, index=True, help_text="A year on.")
    prevent_on = Date(null=True, default=None, help_text="Prevent awareness: last session attended or declared.")
    prevent_from = Varchar(length=300, default="")
    prevent_due = Date(null=True, default=None, index=True, help_text="PREVENT_RENEW_YEARS on.")
    reminders_token = Varchar(length=64, unique=True, secret=True,
                              help_text="Secret in the reminders' stop link and List-Unsubscribe address.")
    reminders_stopped_at = Timestamptz(null=True, default=None, help_text="The person stopped the reminders.")
    updated_at = Timestamptz()


class ClockReminder(Table, tablename="clock_reminder"):
    """One reminder sent for one date of one person's clock at one threshold (60 or 14 days
    before): `key` is unique, so a date is never reminded twice at a threshold."""

    key = Varchar(length=120, unique=True, help_text="email hash : which date : due date : days before")
    email = Varchar(length=254, index=True)
    sent_at = Timestamptz()


class ForumPack(Table, tablename="forum_pack"):
    """A forum's slides and notes (one PDF), kept in the database with the event and removed with
    it by the retention purge; sent once to those who attended, sent apologies or were absent."""

    event = ForeignKey(Event, null=False, unique=True, on_delete=OnDelete.cascade)
    filename = Varchar(length=200)
    content = Bytea()
    size = Integer()
    uploaded_by = ForeignKey(Organiser, null=False, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None, help_text="When it was sent: it is sent once.")


class PackCopy(Table, tablename="pack_copy"):
    """One person's link to a forum's pack. Only the link's hash is kept; "I have read it" (a POST)
    dates the acknowledgement, which refreshes their knowledge on their clock (never Q13, never a
    certificate)."""

    pack = ForeignKey(ForumPack, null=False, on_delete=OnDelete.cascade, index=True)
    booking = ForeignKey(Booking, null=False, unique=True, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True, secret=True)
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)
