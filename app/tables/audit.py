"""Piccolo table for the audit trail."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from app.tables.bookings import Booking
from app.tables.programme import Event
from app.tables.register import Person


class AuditRecord(Table, tablename="audit_record"):
    """One state change that matters to evidence: booked, cancelled, attended, chased, offered,
    or a programme change. `action` is a dotted code such as `booking.cancelled`."""

    action = Varchar(length=60, index=True)
    actor = Varchar(length=254, help_text='"public", "api" or an organiser\'s email address.')
    event = ForeignKey(Event, null=True, on_delete=OnDelete.restrict)
    booking = ForeignKey(Booking, null=True, on_delete=OnDelete.restrict)
    person = ForeignKey(Person, null=True, on_delete=OnDelete.restrict)
    detail = JSON(default={})
    created_at = Timestamptz()
