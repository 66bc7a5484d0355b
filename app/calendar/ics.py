"""Building iCalendar bytes: iTIP invites (RFC 5546) for one booker, and PUBLISH feeds.

Times are written with `TZID=Europe/London` and a VTIMEZONE in the yearly-rule form Outlook and
Exchange import (MS-OXCICAL: one STANDARD and one DAYLIGHT with RRULEs); icalendar's own
`add_missing_timezones()` writes a list of RDATEs that Outlook largely ignores and vobject misreads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
)

from app.areas import LONDON

PRODID = "-//Education Safeguarding Team//Safeguarding forums and training//EN"


def london_vtimezone() -> Timezone:
    """Europe/London as Outlook wants it: BST from the last Sunday of March 01:00 GMT, GMT from
    the last Sunday of October 02:00 BST."""
    tz = Timezone()
    tz.add("tzid", "Europe/London")
    daylight = TimezoneDaylight()
    daylight.add("dtstart", dt.datetime(1981, 3, 29, 1, 0))
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    daylight.add("tzoffsetfrom", dt.timedelta(0))
    daylight.add("tzoffsetto", dt.timedelta(hours=1))
    daylight.add("tzname", "BST")
    standard = TimezoneStandard()
    standard.add("dtstart", dt.datetime(1996, 10, 27, 2, 0))
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    standard.add("tzoffsetfrom", dt.timedelta(hours=1))
    standard.add("tzoffsetto", dt.timedelta(0))
    standard.add("tzname", "GMT")
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz


@dataclass(frozen=True)
class CalendarEvent:
    """What a calendar needs to know about an event: nothing about any person."""

    uid: str
    sequence: int
    summary: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    description: str
    cancelled: bool = False
    url: str = ""
    #: Teams join link: only for invites to confirmed bookers, never in public feeds.
    teams_url: str = ""


@dataclass(frozen=True)
class Invitee:
    email: str
    name: str


def _vevent(item: CalendarEvent, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("sequence", item.sequence)
    event.add("dtstamp", stamp.astimezone(dt.timezone.utc))
    event.add("dtstart", item.starts_at.astimezone(LONDON))
    event.add("dtend", item.ends_at.astimezone(LONDON))
    event.add("summary", item.summary)
    event.add("location", item.location)
    event.add("description", item.description)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if item.url:
        event.add("url", item.url)
    return event


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add_component(london_vtimezone())
    return cal


def invite(item: CalendarEvent, invitee: Invitee, organiser_email: str, organiser_name: str,
           stamp: dt.datetime) -> bytes:
    """A METHOD:REQUEST invite for one booker, or METHOD:CANCEL when `item.cancelled`.

    Everything but the booking's UID and SEQUENCE, the attendee and the time stamp is the same
    for every booker of an event, so it is made once (`_invite_body`) and the booker's lines are
    put into it."""
    before, after = _invite_body(replace(item, uid=_UID_PLACEHOLDER, sequence=0), organiser_email, organiser_name)
    before = before.replace(f"UID:{_UID_PLACEHOLDER}\r\n".encode(), _ascii_line(f"UID:{item.uid}"), 1)
    before = before.replace(b"SEQUENCE:0\r\n", f"SEQUENCE:{item.sequence}\r\n".encode(), 1)
    return before + _dtstamp(stamp) + _attendee_line(invitee, item.cancelled) + after


def _ascii_line(line: str) -> bytes:
    """A content line folded at 75 octets (RFC 5545 3.1); for the ASCII values the service makes."""
    data = line.encode("ascii")
    return b"\r\n ".join([data[:75]] + [data[i:i + 74] for i in range(75, len(data), 74)]) + b"\r\n"


def _dtstamp(stamp: dt.datetime) -> bytes:
    return b"DTSTAMP:" + stamp.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ").encode() + b"\r\n"


def _attendee(invitee: Invitee, cancelled: bool) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{invitee.email}")
    attendee.params["cn"] = invitee.name
    attendee.params["role"] = "REQ-PARTICIPANT"
    attendee.params["partstat"] = "NEEDS-ACTION"
    # No reply asked for: "Decline" would mail the team's mailbox and keep the place (the
    # description says how to cancel).
    attendee.params["rsvp"] = "FALSE"
    return attendee


def _attendee_line(invitee: Invitee, cancelled: bool) -> bytes:
    """The ATTENDEE line as icalendar writes it (parameters quoted and escaped, folded at 75)."""
    holder = Event()
    holder.add("attendee", _attendee(invitee, cancelled))
    lines = holder.to_ical()
    return lines[lines.index(b"\r\n") + 2:lines.rindex(b"END:VEVENT")]


_PLACEHOLDER = b"X-ATTENDEE-GOES-HERE:1\r\n"
_UID_PLACEHOLDER = "uid-goes-here"
_STAMP_PLACEHOLDER = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


@lru_cache(maxsize=512)
def _invite_body(item: CalendarEvent, organiser_email: str, organiser_name: str) -> tuple[bytes, bytes]:
    """The invite for every booker of `item`, split where a booker's DTSTAMP and ATTENDEE go."""
    cal = _calendar("CANCEL" if item.cancelled else "REQUEST")
    event = _vevent(item, _STAMP_PLACEHOLDER)
    organiser = vCalAddress(f"mailto:{organiser_email}")
    organiser.params["cn"] = organiser_name
    event.add("organizer", organiser)
    event.add("X-ATTENDEE-GOES-HERE", "1")
    if item.teams_url and not item.cancelled:
        event.add("X-MICROSOFT-SKYPETEAMSMEETINGURL", item.teams_url)
    cal.add_component(event)
    whole = cal.to_ical().replace(_dtstamp(_STAMP_PLACEHOLDER), b"")
    before, after = whole.split(_PLACEHOLDER)
    return before, after


def feed(name: str, items: list[CalendarEvent], stamp: dt.datetime) -> bytes:
    """A METHOD:PUBLISH feed to subscribe to: no attendees, no join links."""
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/London")
    cal.add("refresh-interval", dt.timedelta(hours=6), parameters={"value": "DURATION"})
    cal.add("x-published-ttl", "PT6H")
    for item in items:
        assert not item.teams_url, "public feeds never carry join links"
        cal.add_component(_vevent(item, stamp))
    return cal.to_ical()
