"""Apologies told apart from no-shows (issue 24, points 1 and 2): a confirmed place given up before
the event is apologies (late after the event's cut-off), never a no-show; the booker gets one email,
worded as apologies, and for a forum it carries the offers the chase after a no-show would make."""

import datetime as dt
import json

from app.attendance.services import register
from app.bookings.notices import notice_email
from app.bookings.services import book_place, cancel_booking, get_booking
from app.programme.recovery import offers
from app.programme.services import get_event
from app.tables.bookings import Booking, BookingSource, BookingStatus
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from app.tables.register import Setting
from tests import factories as f


async def _booked(event_id: int, n: int, now: dt.datetime, *, waitlist: bool = False):
    request = f.request(n, setting="Oak Tree Primary")
    if waitlist:
        request = request.model_copy(update={"waitlist": True})
    made = await book_place(event_id, request, source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    await Setting.update({Setting.quadrant: "west"}).where(Setting.name == "Oak Tree Primary")
    return made


async def _forums(now: dt.datetime) -> tuple[int, int, int]:
    """A West forum in two weeks, with the same term's later West and online forums to offer."""
    missed = await f.event(now=now, title="West Safeguarding Forum", quadrant="west")
    later_west = await f.event(now=now, starts_in=dt.timedelta(days=30), title="West Safeguarding Forum (later)",
                               quadrant="west")
    online = await f.event(now=now, starts_in=dt.timedelta(days=21), title="Online Safeguarding Forum",
                           quadrant=None)
    return missed, later_west, online


async def test_a_booker_cancelling_ahead_sends_apologies_and_is_offered_what_a_no_show_would_be(db, now):
    missed, later_west, online = await _forums(now)
    made = await _booked(missed, 1, now)
    await cancel_booking(made.manage_token, actor="public", reason="Cancelled by the booker", now=now,
                         config=f.CONFIG)
    row = await Booking.select(Booking.status, Booking.apology_at, Booking.apology_late).where(
        Booking.id == made.id).first()
    assert row["status"] == "cancelled" and row["apology_at"] is not None and row["apology_late"] is False
    _, _, counts = await register(missed, now)
    assert counts.apologies == 1 and counts.late_apologies == 0
    # After the event: an apology is not a no-show.
    _, _, after = await register(missed, now + dt.timedelta(days=15))
    assert after.no_shows == 0 and after.apologies == 1

    text = await _cancellation_text(made.id, made.manage_token, now)
    assert "Thank you for sending your apologies" in text and "missed you" not in text and "absent" not in text.lower()
    # Exactly the chase's offers, in its order (the setting's own way of attending first), each with its booking link.
    chase_offers = await offers(await get_event(missed, now), "west", now)
    assert [e.id for e in chase_offers] == [later_west, online]
    positions = [text.index(f"http://testserver.local/events/{e.id}/book") for e in chase_offers]
    assert positions == sorted(positions)


async def _cancellation_text(booking_id: int, token: str, now: dt.datetime) -> str:
    """The one email the booker gets, as the sender makes it from what was queued."""
    [queued] = await OutboxMessage.select(OutboxMessage.details, OutboxMessage.subject, OutboxMessage.recipient).where(
        (OutboxMessage.booking == booking_id) & (OutboxMessage.kind == "cancellation"))
    assert queued["recipient"] == "person1@school.example.org" or queued["recipient"].startswith("person")
    email = notice_email("cancellation", await get_booking(token, now), json.loads(queued["details"]),
                         config=f.CONFIG, now=now, join_url="", checkin_token=None)
    assert email.subject.startswith("Your apologies: ")
    return email.text


async def test_apologies_are_emailed_once_however_often_the_booking_is_cancelled(db, now):
    missed, _, _ = await _forums(now)
    made = await _booked(missed, 1, now)
    for _ in range(2):
        await cancel_booking(made.manage_token, actor="public", reason="Cancelled by the booker", now=now,
                             config=f.CONFIG)
    assert await OutboxMessage.count().where(OutboxMessage.booking == made.id) == 2  # its confirmation, then this
    assert await OutboxMessage.count().where(OutboxMessage.kind == "cancellation") == 1


async def test_apologies_after_the_events_cut_off_are_a_late_cancellation(db, now):
    soon = await f.event(now=now, starts_in=dt.timedelta(hours=20), title="West Safeguarding Forum")
    await Event.update({Event.late_cancel_hours: 24}).where(Event.id == soon)
    made = await _booked(soon, 1, now)
    await cancel_booking(made.manage_token, actor="public", reason="Cancelled by the booker", now=now,
                         config=f.CONFIG)
    event, rows, counts = await register(soon, now)
    assert counts.apologies == 1 and counts.late_apologies == 1
    assert [r.state for r in rows] == ["Sent apologies (late cancellation)"]
    assert "recorded as a late cancellation" in await _cancellation_text(made.id, made.manage_token, now)
    # The same cancellation with a cut-off of 12 hours is in time.
    other = await f.event(now=now, starts_in=dt.timedelta(hours=20))
    await Event.update({Event.late_cancel_hours: 12}).where(Event.id == other)
    second = await _booked(other, 2, now)
    await cancel_booking(second.manage_token, actor="public", reason="Cancelled by the booker", now=now,
                         config=f.CONFIG)
    _, rows, _ = await register(other, now)
    assert [r.state for r in rows] == ["Sent apologies"]


async def test_the_team_cancelling_a_place_and_a_waiting_list_withdrawal_are_not_apologies(db, now):
    missed, _, _ = await _forums(now)
    await Event.update({Event.capacity: 1}).where(Event.id == missed)
    first = await _booked(missed, 1, now)
    waiting = await _booked(missed, 2, now, waitlist=True)
    assert waiting.status is BookingStatus.waitlisted
    await cancel_booking(waiting.manage_token, actor="public", reason="Cancelled by the booker", now=now,
                         config=f.CONFIG)
    await cancel_booking(first.manage_token, actor="organiser@council.example", reason="Room double-booked",
                         now=now, config=f.CONFIG, apology=False)
    _, rows, counts = await register(missed, now)
    assert counts.apologies == 0 and sorted(r.state for r in rows) == ["Cancelled", "Cancelled"]
    [queued] = await OutboxMessage.select(OutboxMessage.details).where(
        (OutboxMessage.booking == first.id) & (OutboxMessage.kind == "cancellation"))
    email = notice_email("cancellation", await get_booking(first.manage_token, now), json.loads(queued["details"]),
                         config=f.CONFIG, now=now, join_url="", checkin_token=None)
    assert email.subject.startswith("Booking cancelled: ") and "apologies" not in email.text


async def test_apologies_for_training_are_recorded_but_offer_no_forum(db, now):
    course = await f.event(now=now, kind_code="prevent", quadrant=None, title="Prevent awareness")
    made = await _booked(course, 1, now)
    await cancel_booking(made.manage_token, actor="public", reason="Cancelled by the booker", now=now,
                         config=f.CONFIG)
    _, _, counts = await register(course, now)
    assert counts.apologies == 1
    text = await _cancellation_text(made.id, made.manage_token, now)
    assert "Thank you for sending your apologies" in text and "/book" not in text  # no forum offered
