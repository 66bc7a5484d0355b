"""Piccolo tables for the programme."""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.readable import Readable
from piccolo.table import Table

from app.areas import Term


class EventStatus(enum.StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class Venue(Table):
    """A place where in-person forums are held."""

    name = Varchar(length=200, help_text="What attendees look for on arrival, e.g. the building and room.")
    address = Text(help_text="Street address and town, without the postcode.")
    postcode = Varchar(length=10)
    created_at = Timestamptz()

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class EventKind(Table, tablename="event_kind"):
    """A kind of event: the termly forum, or a training course such as HSB or Prevent awareness.
    New kinds of training are new rows, not new code."""

    code = Varchar(length=40, unique=True, help_text="Stable identifier used in URLs and the API.")
    name = Varchar(length=200)
    description = Text(default="")
    is_forum = Boolean(default=False, help_text="Attendance counts as forum attendance (Q13).")

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class WaitlistRule(enum.StrEnum):
    """Who a freed place is offered to first."""

    first_come = "first_come"  #: first come, first served
    setting_first = "setting_first"  #: a setting's first place before another setting's second


#: As the event page and the organisers' form say each rule.
WAITLIST_RULE_LABELS = {
    WaitlistRule.first_come: "First come, first served",
    WaitlistRule.setting_first: "A setting's first place before another setting's second",
}


class Event(Table):
    """One session of the programme, in person at a venue or online on Microsoft Teams.

    `places_taken` counts confirmed bookings and open waiting-list offers; it is changed only by a
    guarded UPDATE inside the booking transaction, and a CHECK (a trigger on SQLite, added by a
    migration because Piccolo's constraints cannot be added to SQLite tables) makes overbooking
    impossible even for code that forgets the guard.
    """

    seed_key = Varchar(length=120, unique=True, null=True, default=None, help_text="Set for events loaded from seeds/, so reloading finds them.")
    title = Varchar(length=200)
    kind = ForeignKey(EventKind, null=False, on_delete=OnDelete.restrict)
    quadrant = Varchar(length=20, null=True, default=None,
                       help_text="The area's code (seeds/councils); empty for online sessions.")
    online = Boolean(default=False)
    academic_year = Varchar(length=7, help_text='Like "2023/24".')
    term = Varchar(length=10, choices=Term)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    venue = ForeignKey(Venue, null=True, on_delete=OnDelete.restrict)
    join_url = Text(default="", help_text="Teams join link: only ever sent to confirmed bookers.")
    note = Text(default="", help_text="What attendees of this event must know, as the programme says it, e.g. "
                                      "\"Please note change of venue.\" (a note on the event, never the venue: "
                                      "it concerns these dates only).")
    agenda = Text(default="", help_text="What this session covers, as its programme says (\"Covered: …\" on "
                                        "the page, the invite and the certificate).")
    trainer_name = Varchar(length=200, default="", help_text="Who leads it: on the page and the certificate, "
                                                             "never in a calendar object.")
    trainer_role = Varchar(length=200, default="", help_text="The trainer's role: the invite gives this only.")
    capacity = Integer(help_text="Places available; never exceeded.")
    capacity_assumed = Boolean(default=False, help_text="Capacity is our assumption, not from the source documents.")
    places_taken = Integer(default=0)
    booking_opens_at = Timestamptz(null=True, default=None)
    booking_closes_at = Timestamptz(null=True, default=None)
    waitlist_rule = Varchar(length=20, choices=WaitlistRule, default=WaitlistRule.first_come,
                            help_text="Who is offered a freed place first: first_come (first come, first served) or "
                                      "setting_first (a setting's first place before another setting's second).")
    in_demand = Boolean(default=False, help_text="Marked by organisers: someone who was a no-show at the last two "
                                                 "in-person forums they booked waits behind others for an offer.")
    minimum = Integer(null=True, default=None, help_text="The fewest places taken for the session to run well: "
                                                         "organisers are told when it is below this in time.")
    late_cancel_hours = Integer(default=24, help_text="A booker's apologies sent later than this many hours before "
                                                      "the start are shown as a late cancellation.")
    status = Varchar(length=20, choices=EventStatus, default=EventStatus.scheduled)
    sequence = Integer(default=0, help_text="iCalendar SEQUENCE: bumped whenever time, place or status changes.")
    is_demo = Boolean(default=False, help_text="Demo data: the 2023/24 programme moved forward.")
    created_at = Timestamptz()
    updated_at = Timestamptz()

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.title])


class DatedNotice(Table, tablename="dated_notice"):
    """A dated notice from the briefing for one quadrant's settings (the Multi-Agency Case Audit
    nomination windows): shown on that quadrant's event pages, in its forum reminders and on the
    home page from `opens_on` to `closes_on`, or to `shown_until` when later (local dates, both
    included), with `note` once the window has closed. Seeded from
    seeds/notices.toml and edited by organisers each year. Not a nomination form: a case is a
    child's data and goes to the partnership by its own route."""

    code = Varchar(length=60, unique=True, help_text="Seeding key, e.g. maca-2024-north-east.")
    quadrant = Varchar(length=20, help_text="The area's code (seeds/councils).")
    title = Varchar(length=200)
    opens_on = Date()
    closes_on = Date()
    shown_until = Date(null=True, default=None, help_text="Still shown after closing, until then (with the note).")
    summary = Text(default="", help_text="What the notice is about, as the briefing says it.")
    criteria = JSON(default=[], help_text="The criteria, a line each.")
    rule = Text(default="", help_text="e.g. the line-manager approval rule.")
    contact = Text(default="", help_text="Who to contact: a shared address, no named officer by default.")
    note = Text(default="", help_text="A note for this window only, e.g. that its deadline has passed.")
    is_demo = Boolean(default=False)
    updated_at = Timestamptz()
