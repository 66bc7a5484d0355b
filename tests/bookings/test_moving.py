"""A booker moves their own place (issue 24, point 5), on both databases: the new place is taken
before the old is released, in one transaction and through the one booking path; a full session
means its waiting list, keeping the old place until its offer is accepted; invites follow; a move
never counts twice against the cap."""

import datetime as dt
import json
import re

import pytest

from app.bookings.services import NotMovable, book_place, cancel_booking, get_booking, move_place, take_offered_place
from app.tables.bookings import Booking, BookingSource, BookingStatus
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f
from tests.support import csrf_token


async def _book(event_id, n, now, *, config=f.CONFIG, waitlist=False):
    request = f.request(n).model_copy(update={"waitlist": waitlist})
    return await book_place(event_id, request, source=BookingSource.web, actor="public", now=now, config=config)


async def _places(*event_ids):
    rows = {r["id"]: r["places_taken"] for r in await Event.select(Event.id, Event.places_taken)}
    return [rows[e] for e in event_ids]


async def test_a_move_takes_the_new_place_then_releases_the_old_and_the_invites_follow(db, now):
    old_event = await f.event(now=now, title="West Safeguarding Forum")
    new_event = await f.event(now=now, starts_in=dt.timedelta(days=30), title="West Safeguarding Forum (summer)")
    old = await _book(old_event, 1, now)
    moved = await move_place(old.manage_token, new_event, now=now, config=f.CONFIG)
    assert moved.status is BookingStatus.confirmed and moved.event_id == new_event
    assert await _places(old_event, new_event) == [0, 1]
    was = await get_booking(old.manage_token, now)
    assert was.status is BookingStatus.cancelled
    kinds = {r["booking"]: r["kind"] for r in await OutboxMessage.select(OutboxMessage.booking, OutboxMessage.kind).where(
        OutboxMessage.kind.is_in(["cancellation", "confirmation"]) & (OutboxMessage.booking.is_in([old.id, moved.id])))
        .order_by(OutboxMessage.id)}
    assert kinds == {old.id: "cancellation", moved.id: "confirmation"}  # the old invite's CANCEL, the new REQUEST
    row = await Booking.select(Booking.moves_from, Booking.apology_at).where(Booking.id == moved.id).first()
    assert row["moves_from"] == old.id
    assert (await Booking.select(Booking.apology_at).where(Booking.id == old.id).first())["apology_at"] is None


async def test_a_move_to_a_full_session_waits_keeping_the_old_place_until_the_offer_is_accepted(db, now):
    old_event = await f.event(now=now)
    full = await f.event(now=now, starts_in=dt.timedelta(days=30), capacity=1)
    holder = await _book(full, 9, now)
    old = await _book(old_event, 1, now)
    waiting = await move_place(old.manage_token, full, now=now, config=f.CONFIG)
    assert waiting.status is BookingStatus.waitlisted
    assert (await get_booking(old.manage_token, now)).status is BookingStatus.confirmed  # kept meanwhile
    told = await OutboxMessage.select(OutboxMessage.details).where(
        (OutboxMessage.kind == "waitlisted") & (OutboxMessage.booking == waiting.id)).first()
    assert json.loads(told["details"])["keeps_place"] is True
    await cancel_booking(holder.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    assert (await get_booking(waiting.manage_token, now)).status is BookingStatus.offered
    assert await _places(old_event, full) == [1, 1]
    await take_offered_place(waiting.manage_token, now=now, config=f.CONFIG)
    assert (await get_booking(waiting.manage_token, now)).status is BookingStatus.confirmed
    assert (await get_booking(old.manage_token, now)).status is BookingStatus.cancelled
    assert await _places(old_event, full) == [0, 1]


async def test_a_move_never_counts_twice_against_the_cap(db, now):
    config = f.CONFIG.model_copy(update={"max_active_bookings": 1})
    old_event = await f.event(now=now)
    other = await f.event(now=now, starts_in=dt.timedelta(days=30))
    full = await f.event(now=now, starts_in=dt.timedelta(days=40), capacity=1)
    await _book(full, 9, now, config=config)
    old = await _book(old_event, 1, now, config=config)
    waiting = await move_place(old.manage_token, full, now=now, config=config)  # one place held, one waited for
    assert waiting.status is BookingStatus.waitlisted
    await cancel_booking(waiting.manage_token, actor="public", reason="", now=now, config=config)
    moved = await move_place(old.manage_token, other, now=now, config=config)
    assert moved.status is BookingStatus.confirmed


async def test_only_a_confirmed_place_moves_and_only_to_another_session_of_its_kind(db, now):
    forum = await f.event(now=now)
    prevent = await f.event(now=now, kind_code="prevent", quadrant=None, starts_in=dt.timedelta(days=20))
    old = await _book(forum, 1, now)
    for target in (forum, prevent):
        with pytest.raises(NotMovable):
            await move_place(old.manage_token, target, now=now, config=f.CONFIG)
    assert (await get_booking(old.manage_token, now)).status is BookingStatus.confirmed


async def test_the_manage_link_moves_a_place_with_a_button_and_a_get_changes_nothing(client, db, now):
    old_event = await f.event(now=now, title="West Safeguarding Forum")
    new_event = await f.event(now=now, starts_in=dt.timedelta(days=30), title="Online Safeguarding Forum",
                              quadrant=None)
    old = await _book(old_event, 1, now)
    manage = await client.get(f"/bookings/{old.manage_token}")
    assert f'/bookings/{old.manage_token}/move' in manage.text
    form = await client.get(f"/bookings/{old.manage_token}/move")
    assert form.status_code == 200 and "Online Safeguarding Forum" in form.text
    assert (await get_booking(old.manage_token, now)).status is BookingStatus.confirmed
    missing = await client.post(f"/bookings/{old.manage_token}/move", data={"_csrf_token": csrf_token(form.text)})
    assert missing.status_code == 400 and "Select the session to move to" in missing.text
    done = await client.post(f"/bookings/{old.manage_token}/move", follow_redirects=False,
                             data={"event": str(new_event), "_csrf_token": csrf_token(form.text)})
    assert done.status_code == 303
    token = re.search(r"/bookings/([^/]+)/confirmation", done.headers["location"]).group(1)
    assert (await get_booking(token, now)).event.id == new_event
    assert (await get_booking(old.manage_token, now)).status is BookingStatus.cancelled
