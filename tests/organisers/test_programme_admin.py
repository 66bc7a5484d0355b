"""Organisers manage the programme: events and venues, capacity, and bookers' calendars follow."""

import datetime as dt
import re

from app.jobs import deliver_due
from app.mail.sender import FileTransport
from app.programme.seeding import seed_programme
from app.tables.mail import OutboxMessage
from app.tables.programme import Event, Venue
from tests import factories as f
from tests import support
from tests.support import csrf_token as token


#: 10 November next year: always ahead, always GMT, always the autumn term.
NEXT_YEAR = __import__("datetime").date.today().year + 1


async def morning_event(now: dt.datetime, **kwargs) -> int:
    """An event in a fortnight from 10am to 12:30pm London time: the edit form takes one date, so
    an event made at `now` + 14 days would cross midnight when the tests run late in the evening."""
    from app.areas import LONDON

    event_id = await f.event(now=now, **kwargs)
    day = (now + dt.timedelta(days=14)).astimezone(LONDON).date()
    start = dt.datetime.combine(day, dt.time(10), LONDON)
    await Event.update({Event.starts_at: start, Event.ends_at: start + dt.timedelta(hours=2, minutes=30)}).where(
        Event.id == event_id)
    return event_id


def event_form(**overrides):
    form = {"title": "Mid Safeguarding Forum", "kind": "1", "where": "mid", "venue": "3", "join_url": "",
            "date-day": "10", "date-month": "11", "date-year": str(NEXT_YEAR), "start_time": "9:30", "end_time": "12:00",
            "capacity": "45"}
    form.update(overrides)
    return form


async def test_an_organiser_adds_an_event_in_london_time(signed_in, now):
    await seed_programme(demo=True, now=now)
    page = await signed_in.get("/organisers/events/new")
    response = await signed_in.post("/organisers/events/new", follow_redirects=False,
                                    data={**event_form(), "_csrf_token": token(page.text)})
    assert response.status_code == 303
    event_id = int(re.search(r"/organisers/events/(\d+)", response.headers["location"]).group(1))
    public = (await signed_in.get(f"/api/events/{event_id}")).json()
    # 10 November is GMT: 09:30 London is 09:30 UTC.
    assert public["starts_at"] in (f"{NEXT_YEAR}-11-10T09:30:00Z", f"{NEXT_YEAR}-11-10T09:30:00+00:00")
    assert public["capacity"] == 45 and public["quadrant"] == "mid" and public["term"] == "autumn"
    assert public["academic_year"] == f"{NEXT_YEAR}/{(NEXT_YEAR + 1) % 100:02d}" and public["bookable"] is True
    stored = await Event.select(Event.late_cancel_hours).where(Event.id == event_id).first()
    assert stored["late_cancel_hours"] == 24  # the day before, unless the organiser says otherwise
    edit = await signed_in.get(f"/organisers/events/{event_id}/edit")
    assert 'name="late_cancel_hours"' in edit.text and 'value="24"' in edit.text
    changed = await signed_in.post(f"/organisers/events/{event_id}/edit", follow_redirects=False,
                                   data={**event_form(late_cancel_hours="48"), "_csrf_token": token(edit.text)})
    assert changed.status_code == 303
    stored = await Event.select(Event.late_cancel_hours).where(Event.id == event_id).first()
    assert stored["late_cancel_hours"] == 48


async def test_mistakes_in_the_event_form_are_explained(signed_in, now):
    await seed_programme(demo=True, now=now)
    page = await signed_in.get("/organisers/events/new")
    response = await signed_in.post("/organisers/events/new", data={
        **event_form(title="", where="", **{"date-day": "31", "date-month": "2"}, start_time="25:00",
                     end_time="9", capacity="lots", late_cancel_hours="a day"), "_csrf_token": token(page.text)})
    assert response.status_code == 400
    for message in ["Enter a title", "Select a quadrant, or online", "must be a real date",
                    "Enter the start time like 9:30 or 18:00", "Enter the end time like 9:30 or 18:00",
                    "Enter the number of places, a whole number from 1 to 2000",
                    "Enter the hours before the start, a whole number from 0 to 720"]:
        assert message in response.text
    assert await Event.count() == 14


async def test_capacity_cannot_drop_below_the_places_taken(signed_in, now):
    event_id = await morning_event(now, capacity=10)
    for n in range(3):
        assert (await signed_in.post(f"/api/events/{event_id}/bookings", json=f.api_body(n))).status_code == 201
    page = await signed_in.get(f"/organisers/events/{event_id}/edit")
    form = dict(re.findall(r'name="([\w-]+)"[^>]*value="([^"]*)"', page.text))
    form["kind"] = str((await Event.select(Event.kind).where(Event.id == event_id).first())["kind"])
    form["where"], form["venue"] = "west", str((await Event.select(Event.venue).where(Event.id == event_id).first())["venue"])
    form["capacity"] = "2"
    refused = await signed_in.post(f"/organisers/events/{event_id}/edit", data=form)
    assert refused.status_code == 400
    assert "The number of places cannot be less than the 3 already taken" in refused.text
    assert (await signed_in.get(f"/api/events/{event_id}")).json()["capacity"] == 10
    form["capacity"] = "3"
    assert (await signed_in.post(f"/organisers/events/{event_id}/edit", data=form, follow_redirects=False)).status_code == 303
    assert (await signed_in.get(f"/api/events/{event_id}")).json()["places_left"] == 0


async def test_moving_an_event_emails_everyone_booked_and_pasting_a_teams_link_reaches_bookers(signed_in, now, tmp_path):
    online = await morning_event(now, quadrant=None, title="Online Safeguarding Forum")
    assert (await signed_in.post(f"/api/events/{online}/bookings", json=f.api_body(1))).status_code == 201
    page = await signed_in.get(f"/organisers/events/{online}/edit")
    form = dict(re.findall(r'name="([\w-]+)"[^>]*value="([^"]*)"', page.text))
    form["kind"] = str((await Event.select(Event.kind).where(Event.id == online).first())["kind"])
    form["where"] = "online"
    form["join_url"] = "https://teams.microsoft.com/l/meetup-join/xyz"
    response = await signed_in.post(f"/organisers/events/{online}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303 and "updated=1" in response.headers["location"]
    await deliver_due(FileTransport(tmp_path), config=f.CONFIG, now=lambda: now + dt.timedelta(minutes=1))  # the sender makes it
    update = await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "update").first()
    assert "teams.microsoft.com/l/meetup-join/xyz" in update["raw"].replace("=\r\n", "")
    assert "teams.microsoft.com" not in (await signed_in.get(f"/events/{online}")).text


async def test_cancelling_an_event_from_the_workspace(signed_in, now):
    event_id = await f.event(now=now)
    await signed_in.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))
    page = await signed_in.get(f"/organisers/events/{event_id}/cancel")
    assert "Cancel the event" in page.text
    await signed_in.post(f"/organisers/events/{event_id}/cancel", data={"reason": "Snow", "_csrf_token": token(page.text)})
    assert (await signed_in.get(f"/api/events/{event_id}")).json()["status"] == "cancelled"
    assert await OutboxMessage.count().where(OutboxMessage.kind == "cancellation") == 1


async def test_venues_are_added_and_corrected(signed_in, now, tmp_path):
    page = await signed_in.get("/organisers/venues/new")
    bad = await signed_in.post("/organisers/venues/new", data={"name": "", "address": "", "postcode": "",
                                                                "_csrf_token": token(page.text)})
    assert bad.status_code == 400 and "Enter the name of the venue" in bad.text
    ok = await signed_in.post("/organisers/venues/new", follow_redirects=False, data={
        "name": "Basildon Lower Academy", "address": "Timberlog Close, Basildon, Essex", "postcode": "SS14 1UX",
        "_csrf_token": token(page.text)})
    assert ok.status_code == 303
    venue_id = (await Venue.select(Venue.id).where(Venue.postcode == "SS14 1UX").first())["id"]
    event_id = await f.event(now=now)
    await Event.update({Event.venue: venue_id}).where(Event.id == event_id)
    await signed_in.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))
    await signed_in.post(f"/organisers/venues/{venue_id}/edit", data={
        "name": "Basildon Lower Academy, Main Hall", "address": "Timberlog Close, Basildon, Essex",
        "postcode": "SS14 1UX", "_csrf_token": token(page.text)})
    await deliver_due(FileTransport(tmp_path), config=f.CONFIG, now=lambda: now + dt.timedelta(minutes=1))
    update = await OutboxMessage.select(OutboxMessage.subject, OutboxMessage.raw).where(
        OutboxMessage.kind == "update").first()
    assert update["subject"].startswith("Change to your booking")
    assert "Basildon Lower Academy, Main Hall" in support.plain_text(update["raw"])
    assert "Main Hall" in (await signed_in.get("/organisers/venues")).text


async def test_booking_windows_set_by_an_organiser_open_and_close_booking(signed_in, now):

    from app.areas import LONDON

    await seed_programme(demo=True, now=now)
    page = await signed_in.get("/organisers/events/new")
    tomorrow = (now + dt.timedelta(days=1)).astimezone(LONDON)
    yesterday = (now - dt.timedelta(days=1)).astimezone(LONDON)
    later = await signed_in.post("/organisers/events/new", follow_redirects=False, data={
        **event_form(), "opens-day": str(tomorrow.day), "opens-month": str(tomorrow.month),
        "opens-year": str(tomorrow.year), "_csrf_token": token(page.text)})
    not_yet = int(re.search(r"/organisers/events/(\d+)", later.headers["location"]).group(1))
    assert (await signed_in.get(f"/api/events/{not_yet}")).json()["unbookable_reason"] == "not_open"
    closed = await signed_in.post("/organisers/events/new", follow_redirects=False, data={
        **event_form(), "closes-day": str(yesterday.day), "closes-month": str(yesterday.month),
        "closes-year": str(yesterday.year), "_csrf_token": token(page.text)})
    closed_id = int(re.search(r"/organisers/events/(\d+)", closed.headers["location"]).group(1))
    assert (await signed_in.get(f"/api/events/{closed_id}")).json()["unbookable_reason"] == "closed"
    refused = await signed_in.post(f"/api/events/{closed_id}/bookings", json=f.api_body(1))
    assert refused.status_code == 409 and refused.json()["code"] == "booking_closed"


async def test_an_organiser_writes_a_note_on_one_event_and_it_stays_on_that_event(signed_in, now):
    """A change of venue is a note on the events it concerns: written on the event form, shown
    with the venue on that event's page, kept through an edit, never on the venue's other events."""
    await seed_programme(demo=True, now=now)
    page = await signed_in.get("/organisers/events/new")
    made = []
    for note in ("Please note change of venue: the Blue Room this term.", ""):
        extra = {"agenda": "Online safety <and> filtering.", "trainer_name": "Sam Patel",
                 "trainer_role": "Online Safety Adviser"} if note else {}
        response = await signed_in.post("/organisers/events/new", follow_redirects=False,
                                        data={**event_form(note=note, **extra), "_csrf_token": token(page.text)})
        assert response.status_code == 303
        made.append(int(re.search(r"/organisers/events/(\d+)", response.headers["location"]).group(1)))
    noted, plain = made
    shown = (await signed_in.get(f"/events/{noted}")).text
    assert "the Blue Room this term" in shown and "Online safety &lt;and&gt; filtering." in shown
    assert "Sam Patel, Online Safety Adviser" in shown
    assert "the Blue Room this term" not in (await signed_in.get(f"/events/{plain}")).text
    edit = await signed_in.get(f"/organisers/events/{noted}/edit")
    assert "the Blue Room this term" in edit.text and 'value="Online Safety Adviser"' in edit.text
    too_long = await signed_in.post("/organisers/events/new", data={**event_form(note="x" * 301),
                                                                   "_csrf_token": token(page.text)})
    assert too_long.status_code == 400 and "300 characters or fewer" in too_long.text
