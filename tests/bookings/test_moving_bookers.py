"""Organisers move an event's bookers to another in one step (issue 24, point 4), on both
databases: capacity respected, the old event not cancelled, those not taken listed, the old
invite's CANCEL and the new one's REQUEST, and a move back by a button that is refused once the
old event has no place."""

import datetime as dt
import json

import icalendar
import pytest

from app.bookings.notices import notice_email
from app.bookings.services import NoPlaceToGoBack, book_place, get_booking, move_back, move_bookers
from app.tables.audit import AuditRecord
from app.tables.bookings import Booking, BookingSource, BookingStatus
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f
from tests.support import csrf_token


async def _book(event_id, n, now):
    return await book_place(event_id, f.request(n), source=BookingSource.web, actor="public", now=now,
                            config=f.CONFIG)


async def _rendered(booking_id, kind, now):
    [queued] = await OutboxMessage.select(OutboxMessage.details).where(
        (OutboxMessage.booking == booking_id) & (OutboxMessage.kind == kind))
    booking = await Booking.select(Booking.manage_token).where(Booking.id == booking_id).first()
    return notice_email(kind, await get_booking(booking["manage_token"], now), json.loads(queued["details"] or "{}"),
                        config=f.CONFIG, now=now, join_url="", checkin_token=None)


def _vevent(email):
    calendar = icalendar.Calendar.from_ical(email.ics)
    return calendar["METHOD"], calendar.walk("VEVENT")[0]


async def test_moving_an_events_bookers_respects_capacity_and_lists_who_stays(db, now):
    small = await f.event(now=now, title="Mid Safeguarding Forum", capacity=10)
    bigger = await f.event(now=now, starts_in=dt.timedelta(days=21), title="Online Safeguarding Forum",
                           quadrant=None, capacity=2)
    booked = [await _book(small, n, now) for n in range(3)]
    report = await move_bookers(small, bigger, actor="jo.barclay@essex.gov.uk", now=now, config=f.CONFIG)
    assert report.moved == ["Person 0", "Person 1"] and report.stayed == [("Person 2", "no place left on the new event")]
    places = {r["id"]: (r["places_taken"], r["status"]) for r in await Event.select(
        Event.id, Event.places_taken, Event.status)}
    assert places[small] == (1, "scheduled") and places[bigger] == (2, "scheduled")  # not cancelled; capacity held
    assert (await get_booking(booked[2].manage_token, now)).status is BookingStatus.confirmed
    audit = await AuditRecord.select(AuditRecord.detail).where(AuditRecord.action == "event.bookers_moved").first()
    assert audit is not None

    # The old invite's CANCEL (its own UID) and the new REQUEST (a new UID), with a link to move back.
    old = await _rendered(booked[0].id, "cancellation", now)
    method, old_event = _vevent(old)
    assert method == "CANCEL" and str(old_event["UID"]) == booked[0].calendar_uid
    assert old.subject == "Your place has moved to the Online Safeguarding Forum, " + old.subject.split(", ", 1)[1]
    assert "/move-back" in old.text
    new_id = (await Booking.select(Booking.id).where(
        (Booking.event == bigger) & (Booking.moves_from == booked[0].id)).first())["id"]
    new = await _rendered(new_id, "confirmation", now)
    method, new_event = _vevent(new)
    assert method == "REQUEST" and str(new_event["UID"]) != booked[0].calendar_uid


async def test_moving_back_is_a_button_and_is_refused_once_the_old_event_is_full(client, db, now):
    first = await f.event(now=now, title="Mid Safeguarding Forum", capacity=1)
    second = await f.event(now=now, starts_in=dt.timedelta(days=21), title="West Safeguarding Forum")
    mine = await _book(first, 1, now)
    await move_bookers(first, second, actor="organiser", now=now, config=f.CONFIG)
    new = await Booking.select(Booking.manage_token).where(Booking.moves_from == mine.id).first()
    page = await client.get(f"/bookings/{new['manage_token']}/move-back")
    assert page.status_code == 200 and "Move back to the Mid Safeguarding Forum" in page.text
    assert (await get_booking(new["manage_token"], now)).event.id == second  # the link alone changed nothing
    taken = await _book(first, 2, now)  # someone takes the freed place meanwhile
    refused = await client.post(f"/bookings/{new['manage_token']}/move-back",
                                data={"_csrf_token": csrf_token(page.text)})
    assert refused.status_code == 409 and "has no place left now" in refused.text
    assert (await get_booking(new["manage_token"], now)).status is BookingStatus.confirmed
    with pytest.raises(NoPlaceToGoBack):
        await move_back(new["manage_token"], now=now, config=f.CONFIG)
    from app.bookings.services import cancel_booking

    await cancel_booking(taken.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    done = await client.post(f"/bookings/{new['manage_token']}/move-back", follow_redirects=False,
                             data={"_csrf_token": csrf_token(page.text)})
    assert done.status_code == 303
    assert (await get_booking(new["manage_token"], now)).status is BookingStatus.cancelled


async def test_the_register_page_moves_bookers_in_one_step(signed_in, now):
    small = await f.event(now=now, title="Mid Safeguarding Forum")
    other = await f.event(now=now, starts_in=dt.timedelta(days=21), title="Online Safeguarding Forum", quadrant=None)
    for n in range(2):
        await _book(small, n, now)
    register = await signed_in.get(f"/organisers/events/{small}")
    assert f"/organisers/events/{small}/move-bookers" in register.text
    form = await signed_in.get(f"/organisers/events/{small}/move-bookers")
    assert "Online Safeguarding Forum" in form.text
    missing = await signed_in.post(f"/organisers/events/{small}/move-bookers", data={"_csrf_token": csrf_token(form.text)})
    assert missing.status_code == 400 and "Select the event to move the bookers to" in missing.text
    done = await signed_in.post(f"/organisers/events/{small}/move-bookers",
                                data={"to": str(other), "_csrf_token": csrf_token(form.text)})
    assert done.status_code == 200 and "2 moved" in done.text
