"""Sessions too small, seen in time (issue 24, point 4), on both databases: an event below its
minimum within the warning days is on the organisers' home page, and the organiser mailbox gets
one email for it, never a second."""

import datetime as dt
from email import message_from_string, policy

from app.bookings.services import book_place
from app.jobs import run_timed_jobs
from app.programme.low_numbers import below_minimum, tell_organisers
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f


async def _event(now, *, days, minimum, booked, title):
    event_id = await f.event(now=now, starts_in=dt.timedelta(days=days), capacity=40, title=title)
    await Event.update({Event.minimum: minimum}).where(Event.id == event_id)
    for n in range(booked):
        await book_place(event_id, f.request(f"{event_id}-{n}"), source=BookingSource.web, actor="public", now=now,
                         config=f.CONFIG)
    return event_id


async def test_an_event_below_its_minimum_in_time_is_told_once(db, now):
    low = await _event(now, days=10, minimum=5, booked=2, title="Mid Safeguarding Forum")
    await _event(now, days=10, minimum=2, booked=2, title="At its minimum")
    await _event(now, days=20, minimum=5, booked=0, title="Not yet in the warning days")
    await _event(now, days=10, minimum=None, booked=0, title="No minimum")
    assert [e.event_id for e in await below_minimum(now, f.CONFIG)] == [low]
    assert await tell_organisers(config=f.CONFIG, now=now) == 1
    assert await tell_organisers(config=f.CONFIG, now=now + dt.timedelta(hours=2)) == 0
    [email] = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.raw).where(
        OutboxMessage.kind == "below_minimum")
    assert email["recipient"] == f.CONFIG.organiser_mailbox
    assert email["subject"].startswith("Below its minimum: Mid Safeguarding Forum")
    text = message_from_string(email["raw"], policy=policy.default).get_body(("plain",)).get_content()
    assert "2 places taken of 40: below its minimum of 5" in " ".join(text.split())


async def test_the_scheduler_tells_the_mailbox_and_the_home_page_lists_it(signed_in, now):
    low = await _event(now, days=7, minimum=10, booked=3, title="South Safeguarding Forum")
    report = await run_timed_jobs(config=f.CONFIG, now=now)
    assert report.below_minimum_told == 1
    home = await signed_in.get("/organisers")
    assert 'id="below-minimum"' in home.text and f"/organisers/events/{low}" in home.text
    assert "3 of a minimum of 10" in home.text
