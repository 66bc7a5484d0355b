"""Who a freed place goes to (issue 24, point 3), on both databases: the event's rule (first come,
or a setting's first place before another's second), offers that stop a set time before the
event, and repeat no-shows waiting behind others on events in demand until they attend once or
an organiser lifts it."""

import datetime as dt
import json

from app.bookings.priority import is_repeat_no_show, lift_repeat_no_show
from app.bookings.services import book_place, cancel_booking
from app.tables.attendance import Attendance
from app.tables.bookings import Booking, BookingSource, BookingStatus
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f


async def _book(event_id, n, setting, now, *, waitlist=False):
    request = f.request(n, setting=setting).model_copy(update={"waitlist": waitlist})
    return await book_place(event_id, request, source=BookingSource.web, actor="public", now=now, config=f.CONFIG)


async def _offered(event_id):
    return await Booking.select(Booking.name_given).where(
        (Booking.event == event_id) & (Booking.status == BookingStatus.offered.value)).output(as_list=True)


async def _full_event(now, rule):
    event_id = await f.event(now=now, capacity=2)
    await Event.update({Event.waitlist_rule: rule}).where(Event.id == event_id)
    first = await _book(event_id, 1, "Alder Nursery", now)
    await _book(event_id, 2, "Alder Nursery", now)
    await _book(event_id, 3, "Alder Nursery", now, waitlist=True)  # Alder's third, waiting first
    await _book(event_id, 4, "Birch Primary", now, waitlist=True)  # Birch has no place
    return event_id, first


async def test_first_come_offers_the_place_to_whoever_waited_longest(db, now):
    event_id, first = await _full_event(now, "first_come")
    await cancel_booking(first.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    assert await _offered(event_id) == ["Person 3"]


async def test_setting_first_offers_a_settings_first_place_before_another_settings_second(db, now):
    event_id, first = await _full_event(now, "setting_first")
    await cancel_booking(first.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    assert await _offered(event_id) == ["Person 4"]


async def test_offers_stop_a_day_before_and_the_place_is_then_open_to_anyone(db, now):
    event_id = await f.event(now=now, capacity=1, starts_in=dt.timedelta(hours=20))
    first = await _book(event_id, 1, "Alder Nursery", now)
    await _book(event_id, 2, "Birch Primary", now, waitlist=True)
    await cancel_booking(first.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    assert await _offered(event_id) == []
    walk_up = await _book(event_id, 3, "Cedar School", now)
    assert walk_up.status is BookingStatus.confirmed


async def _no_show_at_two_forums(person_n, now):
    """Person `person_n` booked two in-person forums that ended and was marked absent at both."""
    from app.organisers.services import create_organiser

    organiser = await create_organiser(email=f"o{person_n}@essex.gov.uk", name="O", password="correct horse battery",
                                       now=now)
    for days in (60, 30):
        past = await f.event(now=now, starts_in=dt.timedelta(days=-days))
        made = await _book_past(past, person_n, now)
        await f.attendance(made, "absent", organiser_id=organiser.id, now=now)
    return organiser


async def _book_past(event_id, n, now):
    """A booking at an event already over (made directly: the booking rules refuse a past event)."""

    from app.settings_register.services import find_or_add_setting, upsert_person

    person = await upsert_person(name=f"Person {n}", email=f"person{n}@school.example.org", now=now)
    setting = await find_or_add_setting(name="Alder Nursery", urn=None)
    return await f.past_booking(event_id, person, setting, now=now)


async def test_a_repeat_no_show_waits_behind_others_on_an_event_in_demand_and_is_told(db, now):
    await _no_show_at_two_forums(1, now)
    person = (await Booking.select(Booking.person).where(Booking.person.email == "person1@school.example.org")
              .first())["person"]
    assert await is_repeat_no_show(person, now)
    busy = await f.event(now=now, capacity=1)
    await Event.update({Event.in_demand: True}).where(Event.id == busy)
    holder = await _book(busy, 9, "Cedar School", now)
    early = await _book(busy, 1, "Alder Nursery", now, waitlist=True)  # the repeat no-show, waiting first
    await _book(busy, 2, "Birch Primary", now, waitlist=True)
    told = await OutboxMessage.select(OutboxMessage.details).where(
        (OutboxMessage.kind == "waitlisted") & (OutboxMessage.booking == early.id)).first()
    assert json.loads(told["details"])["behind_others"] is True  # the sender's email says so
    other = await OutboxMessage.select(OutboxMessage.details).where(
        (OutboxMessage.kind == "waitlisted") & (OutboxMessage.booking != early.id)).first()
    assert json.loads(other["details"])["behind_others"] is False
    await cancel_booking(holder.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    assert await _offered(busy) == ["Person 2"]

    # Not in demand: first come as ever.
    calm = await f.event(now=now, capacity=1)
    holder = await _book(calm, 9, "Cedar School", now)
    await _book(calm, 1, "Alder Nursery", now, waitlist=True)
    await _book(calm, 2, "Birch Primary", now, waitlist=True)
    await cancel_booking(holder.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    assert await _offered(calm) == ["Person 1"]


async def test_an_organiser_lifts_the_rule_and_attending_once_lifts_it_too(db, now):
    await _no_show_at_two_forums(1, now)
    person = (await Booking.select(Booking.person).first())["person"]
    await lift_repeat_no_show(person, actor="organiser@essex.gov.uk", now=now + dt.timedelta(seconds=1))
    assert not await is_repeat_no_show(person, now)

    organiser = await _no_show_at_two_forums(2, now)
    other = (await Booking.select(Booking.person).where(Booking.person.email == "person2@school.example.org")
             .first())["person"]
    assert await is_repeat_no_show(other, now)
    later = await f.event(now=now, starts_in=dt.timedelta(days=-2))
    attended = await _book_past(later, 2, now)
    await f.attendance(attended, "attended", organiser_id=organiser.id, now=now)
    assert not await is_repeat_no_show(other, now)


async def test_a_short_stay_in_teams_or_a_mark_from_before_the_rule_never_counts(db, now):
    organiser = await _no_show_at_two_forums(1, now)
    person = (await Booking.select(Booking.person).first())["person"]
    assert await is_repeat_no_show(person, now)
    await Attendance.update({Attendance.minutes_present: 5}).where(Attendance.id == (await Attendance.select(
        Attendance.id).first())["id"])
    assert not await is_repeat_no_show(person, now)
    await Attendance.update({Attendance.minutes_present: None,
                             Attendance.recorded_at: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}).where(
        Attendance.id > 0)
    assert not await is_repeat_no_show(person, now)
    assert organiser
