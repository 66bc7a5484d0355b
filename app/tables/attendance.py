"""Piccolo table for attendance marks."""

from __future__ import annotations

import enum

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from app.tables.bookings import Booking
from app.tables.organisers import Organiser
from app.tables.programme import Event


class Outcome(enum.StrEnum):
    attended = "attended"
    absent = "absent"


class MarkSource(enum.StrEnum):
    register = "register"
    qr = "qr"
    teams = "teams"
    walk_in = "walk_in"


class Attendance(Table):
    """What happened at the event for one booking, as an organiser recorded it. One row per
    booking; a correction updates it and leaves the old value in the audit trail. A Teams
    accept/decline is never attendance."""

    booking = ForeignKey(Booking, null=False, unique=True, on_delete=OnDelete.restrict)
    outcome = Varchar(length=10, choices=Outcome)
    source = Varchar(length=10, choices=MarkSource)
    minutes_present = Integer(null=True, default=None, help_text="From a Teams report, rejoins summed.")
    recorded_by = ForeignKey(Organiser, null=False, on_delete=OnDelete.restrict)
    recorded_at = Timestamptz()


class TeamsImportPreview(Table):
    """What a Teams report would mark, shown before anything is recorded: kept in the database so
    any process can confirm it, applied once, and removed by the retention purge after it expires."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    uploaded_by = ForeignKey(Organiser, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    applied_at = Timestamptz(null=True, default=None)
    marks_seen = Varchar(length=64, help_text="The event's marks when previewed: confirming is refused if they changed.")
    plan = JSON(help_text="Marks to record: booking, outcome, minutes; the report's title and meeting date; "
                          "who was not matched (names as Teams gives them).")
