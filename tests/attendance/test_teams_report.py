"""Reading Teams attendance reports in the shapes organisers will upload."""

import datetime as dt

import pytest

from app.areas import LONDON
from app.attendance.teams_report import (
    NotATeamsReport,
    normalise_name,
    parse_duration,
    parse_report,
)
from tests.attendance import teams_samples as samples


@pytest.mark.parametrize("encode", [samples.as_teams_downloads_it, samples.as_utf8_tabs, samples.as_csv])
def test_each_shape_of_report_reads_the_same(encode):
    report = parse_report(encode())
    assert report.title == "Online Safeguarding Forum"
    assert report.started_at == dt.datetime(2026, 3, 16, 17, 58, 12, tzinfo=LONDON)
    by_name = {p.name: p for p in report.participants}
    assert set(by_name) == {"Barclay, Jo", "Sam Patel (EXT)", "Alex Jones", "Morgan Lee", "Chris Organiser"}
    jo = by_name["Barclay, Jo"]
    assert jo.seconds == 40 * 60 + 58 + 45 * 60 and jo.joins == 2  # rejoins summed, the gap not counted
    assert by_name["Alex Jones"].minutes == 8
    assert by_name["Sam Patel (EXT)"].addresses == {"sam.p@oldmail.example.com", "sam.patel@oak.example.org"}
    assert by_name["Chris Organiser"].role == "Organizer"


def test_durations():
    assert parse_duration("1h 2m 3s") == 3723
    assert parse_duration("45m 10s") == 2710
    assert parse_duration("12s") == 12
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_names_in_either_order_and_with_suffixes_compare_equal():
    assert normalise_name("Barclay, Jo") == normalise_name("jo  BARCLAY") == "jo barclay"
    assert normalise_name("Sam Patel (EXT)") == "sam patel"
    assert normalise_name("Patel, Sam (Guest)") == "sam patel"


def test_without_an_activities_section_the_participants_duration_is_used():
    report = parse_report(samples.as_teams_downloads_it(samples.SUMMARY + samples.PARTICIPANTS))
    assert {p.name: p.minutes for p in report.participants}["Barclay, Jo"] == 90


def test_a_file_that_is_not_a_teams_report_is_refused():
    with pytest.raises(NotATeamsReport):
        parse_report(b"Name,Score\nJo,10\n")


def test_someone_with_an_empty_email_in_one_section_is_one_participant():
    # Jo's Email cell is empty in the participants section and filled in the activities.
    participants = [["2. Participants"],
                    ["Name", "First join", "Last leave", "In-meeting duration", "Email", "Participant ID (UPN)", "Role"],
                    ["Barclay, Jo", "16/03/26, 17:59:02", "16/03/26, 19:30:00", "1h 25m 58s", "", "", "Attendee"], []]
    activities = [["3. In-Meeting activities"], ["Name", "Join time", "Leave time", "Duration", "Email", "Role"],
                  ["Barclay, Jo", "16/03/26, 17:59:02", "16/03/26, 18:40:00", "40m 58s",
                   "jo.barclay@acorns.example.org", "Attendee"],
                  ["Jo Barclay", "16/03/26, 18:45:00", "16/03/26, 19:30:00", "45m 0s", "", "Attendee"]]
    report = parse_report(samples.as_teams_downloads_it(samples.SUMMARY + participants + activities))
    [jo] = report.participants
    assert (jo.email, jo.minutes, jo.joins) == ("jo.barclay@acorns.example.org", 85, 2)


def test_minutes_present_never_exceed_the_meeting_two_devices_at_once_count_once():
    activities = [["3. In-Meeting activities"], ["Name", "Join time", "Leave time", "Duration", "Email", "Role"],
                  # on a laptop and a phone at the same time, then the laptop again
                  ["Sam Patel", "16/03/26, 17:58:12", "16/03/26, 19:31:40", "1h 33m 28s", "sam@oak.example.org", "Attendee"],
                  ["Sam Patel", "16/03/26, 18:00:00", "16/03/26, 19:00:00", "1h 0m 0s", "sam@oak.example.org", "Attendee"],
                  ["Sam Patel", "16/03/26, 19:10:00", "16/03/26, 19:31:40", "21m 40s", "sam@oak.example.org", "Attendee"]]
    [sam] = parse_report(samples.as_csv(samples.SUMMARY + activities)).participants
    assert sam.minutes == 93  # the meeting lasted 1h 33m 28s
    # Durations without join and leave times are summed, and still capped at the meeting's length.
    no_times = [["3. In-Meeting activities"], ["Name", "Duration", "Email"],
                ["Sam Patel", "1h 30m 0s", "sam@oak.example.org"], ["Sam Patel", "1h 0m 0s", "sam@oak.example.org"]]
    [sam] = parse_report(samples.as_csv(samples.SUMMARY + no_times)).participants
    assert sam.minutes == 93
