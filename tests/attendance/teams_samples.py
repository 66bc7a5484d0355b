"""Teams attendance reports as Teams writes them (UTF-16, tabs), and as people re-save them."""

SUMMARY = [
    ["1. Summary"],
    ["Meeting title", "Online Safeguarding Forum"],
    ["Attended participants", "4"],
    ["Start time", "16/03/26, 17:58:12"],
    ["End time", "16/03/26, 19:31:40"],
    ["Meeting duration", "1h 33m 28s"],
    ["Average attendance time", "58m 3s"],
    [],
]
PARTICIPANTS = [
    ["2. Participants"],
    ["Name", "First join", "Last leave", "In-meeting duration", "Email", "Participant ID (UPN)", "Role"],
    ["Barclay, Jo", "16/03/26, 17:59:02", "16/03/26, 19:30:00", "1h 30m 58s", "jo.barclay@acorns.example.org",
     "jo.barclay@acorns.example.org", "Attendee"],
    ["Sam Patel (EXT)", "16/03/26, 18:01:00", "16/03/26, 19:29:00", "1h 10m 0s", "sam.p@oldmail.example.com",
     "sam.patel@oak.example.org", "Attendee"],
    ["Alex Jones", "16/03/26, 18:05:00", "16/03/26, 18:15:00", "10m 0s", "", "", "Attendee"],
    ["Morgan Lee", "16/03/26, 18:00:00", "16/03/26, 19:30:00", "1h 30m 0s", "morgan@elsewhere.example.org",
     "morgan@elsewhere.example.org", "Attendee"],
    ["Chris Organiser", "16/03/26, 17:58:12", "16/03/26, 19:31:40", "1h 33m 28s", "chris@essex.gov.uk",
     "chris@essex.gov.uk", "Organizer"],
    [],
]
ACTIVITIES = [
    ["3. In-Meeting activities"],
    ["Name", "Join time", "Leave time", "Duration", "Email", "Role"],
    ["Barclay, Jo", "16/03/26, 17:59:02", "16/03/26, 18:40:00", "40m 58s", "jo.barclay@acorns.example.org", "Attendee"],
    ["Barclay, Jo", "16/03/26, 18:45:00", "16/03/26, 19:30:00", "45m 0s", "jo.barclay@acorns.example.org", "Attendee"],
    ["Sam Patel (EXT)", "16/03/26, 18:01:00", "16/03/26, 19:11:00", "1h 10m 0s", "sam.p@oldmail.example.com", "Attendee"],
    ["Alex Jones", "16/03/26, 18:05:00", "16/03/26, 18:10:00", "5m 0s", "", "Attendee"],
    ["Alex Jones", "16/03/26, 18:12:00", "16/03/26, 18:15:00", "3m 0s", "", "Attendee"],
    ["Morgan Lee", "16/03/26, 18:00:00", "16/03/26, 19:30:00", "1h 30m 0s", "morgan@elsewhere.example.org", "Attendee"],
    ["Chris Organiser", "16/03/26, 17:58:12", "16/03/26, 19:31:40", "1h 33m 28s", "chris@essex.gov.uk", "Organizer"],
]
ROWS = SUMMARY + PARTICIPANTS + ACTIVITIES


def as_teams_downloads_it(rows=ROWS) -> bytes:
    """UTF-16 (little-endian, with BOM), tab-separated, CRLF."""
    return "\r\n".join("\t".join(row) for row in rows).encode("utf-16")


def as_utf8_tabs(rows=ROWS) -> bytes:
    return "\n".join("\t".join(row) for row in rows).encode("utf-8")


def as_csv(rows=ROWS) -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")
