"""Piccolo tables for bookings."""

from __future__ import annotations

import enum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.readable import Readable
from piccolo.table import Table

from app.tables.programme import Event
from app.tables.register import Person, Setting


class Role(enum.StrEnum):
    dsl = "dsl"
    deputy_dsl = "deputy_dsl"
    headteacher_manager = "headteacher_manager"
    other = "other"


#: The same roles as a register's column says them, short enough not to wrap every row.
ROLE_SHORT = {Role.dsl: "DSL / Lead Practitioner", Role.deputy_dsl: "Deputy", Role.headteacher_manager: "Head or manager",
              Role.other: "Other"}

ROLE_LABELS = {
    Role.dsl: "Designated Safeguarding Lead (DSL) or Lead Practitioner",
    Role.deputy_dsl: "Deputy DSL or deputy Lead Practitioner",
    Role.headteacher_manager: "Headteacher or manager",
    Role.other: "Other",
}


class LeadAnswer(enum.StrEnum):
    """Whether the booker is the setting's Lead Practitioner / DSL, its deputy, or neither: asked
    apart from the job, since a nursery's manager is often its Lead Practitioner (issue 21)."""

    dsl = "dsl"
    deputy = "deputy"
    neither = "neither"

    @classmethod
    def from_role(cls, role: "Role") -> "LeadAnswer":
        """What a role says when the question was not answered (the API, bookings from before)."""
        return {Role.dsl: cls.dsl, Role.deputy_dsl: cls.deputy}.get(role, cls.neither)


LEAD_ANSWER_LABELS = {
    LeadAnswer.dsl: "Yes, I am its Lead Practitioner / DSL",
    LeadAnswer.deputy: "I am its deputy Lead Practitioner / DSL",
    LeadAnswer.neither: "Neither",
}


class BookingStatus(enum.StrEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    offered = "offered"
    cancelled = "cancelled"


#: Statuses that hold the person's one active booking for an event.
ACTIVE_STATUSES = (BookingStatus.confirmed, BookingStatus.waitlisted, BookingStatus.offered)
#: Statuses that take one of the event's places.
PLACE_HOLDING_STATUSES = (BookingStatus.confirmed, BookingStatus.offered)


class BookingSource(enum.StrEnum):
    web = "web"
    api = "api"
    organiser = "organiser"
    walk_in = "walk_in"


class Booking(Table):
    """One person's place at one event, made for a setting in a role.

    A person has at most one active booking per event (a partial unique index in the migrations).
    History must survive, so nothing here cascades on delete.
    """

    event = ForeignKey(Event, null=False, on_delete=OnDelete.restrict)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict)
    setting = ForeignKey(Setting, null=False, on_delete=OnDelete.restrict)
    role = Varchar(length=30, choices=Role)
    lead = Varchar(length=10, choices=LeadAnswer, default=LeadAnswer.neither,
                   help_text="The setting's Lead Practitioner / DSL, its deputy, or neither, as the booker said "
                             "(a childminder is their own Lead Practitioner). Q13 counts it only when no DSL is "
                             "on record.")
    name_given = Varchar(length=200, default="", help_text="The name as the booker gave it: a booking never renames"
                                                         " the person, whose record keeps its own.")
    status = Varchar(length=20, choices=BookingStatus)
    reference = Varchar(length=12, unique=True, help_text="Short code a person can read out on the phone.")
    manage_token = Varchar(length=64, unique=True, help_text="Secret in the manage link.")
    calendar_uid = Varchar(length=120, unique=True, help_text="iCalendar UID of this booking's invite.")
    calendar_sequence = Integer(default=0)
    source = Varchar(length=20, choices=BookingSource, default=BookingSource.web)
    checkin_token = Varchar(length=64, null=True, default=None,
                            help_text="Secret in the QR code an organiser scans to mark attendance (unique index"
                                      " in a migration: SQLite cannot add a UNIQUE column).")
    passed_from_token_hash = Varchar(length=64, null=True, default=None, index=True, secret=True,
                                     help_text="SHA-256 of the manage link this place had before it was passed to a "
                                               "colleague: that old link then says who has the place now.")
    over_capacity = Boolean(default=False, help_text="A walk-in an organiser admitted beyond capacity: holds no place.")
    offer_expires_at = Timestamptz(null=True, default=None, help_text="A waiting-list offer lapses then.")
    chased_at = Timestamptz(null=True, default=None, help_text="When the no-show chase email was queued.")
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Text(default="")
    apology_at = Timestamptz(null=True, default=None,
                             help_text="When the booker sent apologies: a confirmed place cancelled before the event by "
                                       "them (manage link, the reminder's release link) or for them (an organiser "
                                       "recording a phoned apology). An apology is never a no-show.")
    apology_late = Boolean(default=False, help_text="The apology came after the event's late_cancel_hours cut-off.")
    moves_from = Integer(null=True, default=None,
                         help_text="The booking this one replaces when the booker moves to another session: "
                                   "released when this one is confirmed (at once, or when its offer is accepted).")
    created_at = Timestamptz()
    updated_at = Timestamptz()

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.reference])
