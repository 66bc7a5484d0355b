"""Invites and feeds as Outlook, Google and other calendar software will read them."""

import datetime as dt

import icalendar
import pytest
import vobject

from app.calendar.ics import CalendarEvent, Invitee, feed, invite
from app.calendar.links import google_calendar_url, outlook_calendar_url
from tests.support import utc

STAMP = utc(2027, 1, 5, 12)
JO = Invitee("jo.barclay@acorns.example.org", "Jo Barclay")


def item(starts_at: dt.datetime, *, hours: float = 2.5, sequence: int = 0, cancelled: bool = False,
         teams_url: str = "", location: str = "Latton Bush Centre, Blue Room, Southern Way, Harlow, CM18 7BL"):
    return CalendarEvent(uid="b7c1@safeguarding-bookings", sequence=sequence, summary="West Safeguarding Forum",
                         starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=hours), location=location,
                         description="Safeguarding Forum, run by the Education Safeguarding Team.",
                         cancelled=cancelled, teams_url=teams_url)


def request_for(starts_at: dt.datetime, **kw) -> bytes:
    return invite(item(starts_at, **kw), JO, "team@council.example.org", "Education Safeguarding Team", STAMP)


def test_an_invite_is_an_itip_request_for_one_attendee():
    cal = icalendar.Calendar.from_ical(request_for(utc(2027, 3, 9, 9, 30)))
    assert cal["METHOD"] == "REQUEST"
    events = cal.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["UID"]) == "b7c1@safeguarding-bookings"
    assert event["SEQUENCE"] == 0
    assert event["DTSTAMP"].dt == STAMP
    assert str(event["ORGANIZER"]) == "mailto:team@council.example.org"
    attendee = event["ATTENDEE"]
    assert not isinstance(attendee, list), "exactly one ATTENDEE"
    assert str(attendee) == "mailto:jo.barclay@acorns.example.org"
    assert attendee.params["RSVP"] == "FALSE" and attendee.params["CN"] == "Jo Barclay"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert str(event["LOCATION"]).startswith("Latton Bush Centre")
    timezones = cal.walk("VTIMEZONE")
    assert len(timezones) == 1 and str(timezones[0]["TZID"]) == "Europe/London"
    rules = sorted(str(c.name) + ":" + c["RRULE"].to_ical().decode() for c in timezones[0].subcomponents)
    assert rules == ["DAYLIGHT:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "STANDARD:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"]


def test_no_personal_data_in_summary_or_description():
    raw = request_for(utc(2027, 3, 9, 9, 30))
    event = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]
    for field in ("SUMMARY", "DESCRIPTION", "LOCATION"):
        assert "Jo" not in str(event[field]) and "acorns" not in str(event[field])


def test_an_online_invite_carries_the_teams_link():
    url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc"
    cal = icalendar.Calendar.from_ical(request_for(utc(2027, 3, 16, 18), hours=1.5, teams_url=url,
                                                   location="Microsoft Teams meeting"))
    event = cal.walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Microsoft Teams meeting"
    assert str(event["X-MICROSOFT-SKYPETEAMSMEETINGURL"]) == url


def test_a_cancellation_keeps_the_uid_and_raises_the_sequence():
    cal = icalendar.Calendar.from_ical(request_for(utc(2027, 3, 9, 9, 30), sequence=2, cancelled=True,
                                                   teams_url="https://teams.example/x"))
    event = cal.walk("VEVENT")[0]
    assert cal["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == "b7c1@safeguarding-bookings" and event["SEQUENCE"] == 2
    assert "X-MICROSOFT-SKYPETEAMSMEETINGURL" not in event


# The clocks change at 01:00 UTC on the last Sunday of March (28 March 2027) and of October
# (31 October 2027). Each case: the moment, and the London wall-clock time an attendee must see.
CLOCK_CHANGE_CASES = [
    (utc(2027, 3, 27, 9, 30), "2027-03-27 09:30", "GMT, the Saturday before"),
    (utc(2027, 3, 28, 8, 30), "2027-03-28 09:30", "BST, the Sunday the clocks go forward"),
    (utc(2027, 3, 29, 8, 30), "2027-03-29 09:30", "BST, the Monday after"),
    (utc(2027, 10, 30, 8, 30), "2027-10-30 09:30", "BST, the Saturday before"),
    (utc(2027, 10, 31, 9, 30), "2027-10-31 09:30", "GMT, the Sunday the clocks go back"),
    (utc(2027, 1, 12, 18, 0), "2027-01-12 18:00", "GMT, a winter evening"),
    (utc(2027, 7, 6, 17, 0), "2027-07-06 18:00", "BST, a summer evening"),
]


@pytest.mark.parametrize("moment,wall_clock,case", CLOCK_CHANGE_CASES)
def test_start_times_read_back_right_in_icalendar_and_vobject(moment, wall_clock, case):
    raw = request_for(moment)
    assert f"DTSTART;TZID=Europe/London:{wall_clock.replace('-', '').replace(' ', 'T').replace(':', '')}00" in raw.decode()
    # icalendar
    start = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]["DTSTART"].dt
    assert start.astimezone(dt.timezone.utc) == moment, case
    # vobject, an independent parser, using only the VTIMEZONE in the file
    parsed = vobject.readOne(raw.decode())
    start = parsed.vevent.dtstart.value
    assert start.strftime("%Y-%m-%d %H:%M") == wall_clock, case
    assert start.astimezone(dt.timezone.utc) == moment, case


def test_a_feed_is_published_with_no_attendees_and_no_join_links():
    items = [item(utc(2027, 3, 9, 9, 30)), item(utc(2027, 7, 6, 8, 30), sequence=3, cancelled=True)]
    cal = icalendar.Calendar.from_ical(feed("West forums", items, STAMP))
    assert cal["METHOD"] == "PUBLISH"
    events = cal.walk("VEVENT")
    assert len(events) == 2
    assert all("ATTENDEE" not in e and "ORGANIZER" not in e for e in events)
    assert events[1]["STATUS"] == "CANCELLED" and events[1]["SEQUENCE"] == 3
    with pytest.raises(AssertionError):
        feed("x", [item(utc(2027, 3, 9, 9, 30), teams_url="https://teams.example/secret")], STAMP)


def test_add_to_calendar_links_use_utc_times_and_the_event_details():
    event = item(utc(2027, 7, 6, 8, 30))
    google = google_calendar_url(event)
    assert "dates=20270706T083000Z%2F20270706T110000Z" in google and "text=West+Safeguarding+Forum" in google
    outlook = outlook_calendar_url(event)
    assert outlook.startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    assert "startdt=2027-07-06T08%3A30%3A00%2B00%3A00" in outlook


def test_each_booker_of_an_event_gets_their_own_attendee_and_stamp_in_the_shared_body():
    # The body is made once per event and version; the booker's lines are put into it.
    awkward = Invitee("o.brien@acorns.example.org", 'Siobhán "Shiv" O\'Brien; Deputy, Acorns')
    first = invite(item(utc(2027, 3, 9, 9, 30)), JO, "team@council.example.org", "Team", STAMP)
    second = invite(item(utc(2027, 3, 9, 9, 30)), awkward, "team@council.example.org", "Team",
                    STAMP + dt.timedelta(minutes=5))
    for raw, who, stamp in [(first, JO, STAMP), (second, awkward, STAMP + dt.timedelta(minutes=5))]:
        [vevent] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
        attendees = vevent.get("attendee")
        assert not isinstance(attendees, list)  # one attendee, the booker
        assert str(attendees) == f"mailto:{who.email}"
        assert attendees.params["CN"] == who.name  # quotes survive (RFC 6868)
        assert vevent.decoded("dtstamp") == stamp
        assert [str(vevent["summary"]), vevent.decoded("dtstart")] == ["West Safeguarding Forum", utc(2027, 3, 9, 9, 30)]
        assert raw.count(b"BEGIN:VTIMEZONE") == 1 and raw.count(b"DTSTAMP") == 1
