"""Calendar feeds and the booker's invite download, over HTTP."""

import asyncio

import icalendar

from app.event_changes.events import EventChange, change_event
from app.programme.seeding import seed_programme
from app.tables.programme import Event
from tests import factories as f


async def test_feeds_publish_the_programme_whole_and_by_quadrant_and_kind(client, now):
    await seed_programme(demo=True, now=now)
    await Event.update({Event.join_url: "https://teams.microsoft.com/l/secret"}).where(Event.online == True)  # noqa: E712
    cases = {"/calendar/programme.ics": 14, "/calendar/quadrant/south.ics": 2, "/calendar/quadrant/online.ics": 6,
             "/calendar/kind/prevent.ics": 2, "/calendar/kind/forum.ics": 10}
    for path, count in cases.items():
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/calendar")
        cal = icalendar.Calendar.from_ical(response.content)
        assert cal["METHOD"] == "PUBLISH"
        events = cal.walk("VEVENT")
        assert len(events) == count, path
        assert "teams.microsoft.com" not in response.text
        assert all("ATTENDEE" not in e for e in events)
    for path in ["/calendar/quadrant/east.ics", "/calendar/kind/knitting.ics", "/calendar/quadrant/south"]:
        assert (await client.get(path)).status_code == 404


async def test_a_feed_event_keeps_its_uid_and_raises_its_sequence_when_it_moves(client, now):
    event_id = await f.event(now=now)
    before = icalendar.Calendar.from_ical((await client.get("/calendar/programme.ics")).content).walk("VEVENT")[0]
    await change_event(event_id, EventChange(venue_id=await f.venue()), actor="cli", now=now, config=f.CONFIG)
    await asyncio.sleep(1.1)  # changed by another process (the CLI): feeds show it within a second
    after = icalendar.Calendar.from_ical((await client.get("/calendar/programme.ics")).content).walk("VEVENT")[0]
    assert str(after["UID"]) == str(before["UID"]) == f"event-{event_id}@testserver.local"
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1


async def test_the_programme_page_links_to_feeds_by_https_and_webcal(client, now):
    await seed_programme(demo=True, now=now)
    page = (await client.get("/")).text
    assert 'href="webcal://testserver.local/calendar/programme.ics"' in page
    assert 'href="http://testserver.local/calendar/quadrant/north_east.ics"' in page


async def test_the_booker_can_download_the_same_invite_and_add_it_to_google_or_outlook(client, now):
    event_id = await f.event(now=now)
    body = (await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))).json()
    token = body["manage_token"]
    for page in [f"/bookings/{token}", f"/bookings/{token}/confirmation"]:
        html = (await client.get(page)).text
        assert f'href="/bookings/{token}/invite.ics"' in html
        assert "https://calendar.google.com/calendar/render?" in html
        assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html
    download = await client.get(f"/bookings/{token}/invite.ics")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/calendar")
    assert 'filename="invite.ics"' in download.headers["content-disposition"]
    cal = icalendar.Calendar.from_ical(download.content)
    assert cal["METHOD"] == "REQUEST"
    booking = (await client.get(f"/api/bookings/{token}")).json()
    assert str(cal.walk("VEVENT")[0]["ATTENDEE"]) == f"mailto:{booking['email']}"
    await client.post(f"/api/bookings/{token}/cancel")
    cancelled = icalendar.Calendar.from_ical((await client.get(f"/bookings/{token}/invite.ics")).content)
    assert cancelled["METHOD"] == "CANCEL"
    assert "calendar.google.com" not in (await client.get(f"/bookings/{token}")).text
    assert (await client.get("/bookings/not-a-token/invite.ics")).status_code == 404
