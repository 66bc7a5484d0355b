"""Piccolo table for attendance marks."""

from __future__ import annotations

import enum

from piccolo.columns import ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from app.tables.bookings import Booking
from app.tables.organisers import Organiser


class Outcome(str, enum.Enum):
    attended = "attended"
    absent = "absent"


class MarkSource(str, enum.Enum):
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
