"""Booking and cancelling places: the rules a DSL and an organiser rely on, on both databases."""

import datetime as dt

import pytest

from app.bookings.records import count_active_bookings
from app.bookings.services import (
    AlreadyBooked,
    BookingClosed,
    BookingNotFound,
    EventAlreadyStarted,
    EventFull,
    book_place,
    cancel_booking,
    get_booking,
)
from app.programme.availability import Unbookable
from app.programme.services import EventNotFound, get_event
from app.tables.audit import AuditRecord
from app.tables.bookings import Booking, BookingSource
from app.tables.programme import Event
from app.tables.register import Person, Setting
from tests import factories as f

WEB = dict(source=BookingSource.web, actor="public", config=f.CONFIG)


async def test_booking_takes_a_place_and_gives_a_reference_and_secret_link(db, now):
    event_id = await f.event(now=now, capacity=10)
    booking = await book_place(event_id, f.request(1, urn="EY123456"), **WEB, now=now)
    assert booking.status.value == "confirmed"
    assert len(booking.reference) == 9 and booking.reference[4] == "-"
    assert not set(booking.reference.replace("-", "")) & set("01ILOU")
    assert len(booking.manage_token) >= 40
    assert (await get_event(event_id, now)).availability.places_left == 9
    assert booking.setting_urn == "EY123456"
    audit = await AuditRecord.select().where(AuditRecord.booking == booking.id)
    assert [a["action"] for a in audit] == ["booking.confirmed"]


async def test_the_same_email_in_any_case_cannot_book_twice(db, now):
    event_id = await f.event(now=now)
    await book_place(event_id, f.request(email="jo@school.example.org"), **WEB, now=now)
    with pytest.raises(AlreadyBooked):
        await book_place(event_id, f.request(email="JO@School.Example.ORG"), **WEB, now=now)
    assert await count_active_bookings(event_id) == 1
    assert await Person.count() == 1


async def test_after_cancelling_the_same_person_can_book_again(db, now):
    event_id = await f.event(now=now)
    first = await book_place(event_id, f.request(1), **WEB, now=now)
    await cancel_booking(first.manage_token, actor="public", reason="", config=f.CONFIG, now=now)
    again = await book_place(event_id, f.request(1), **WEB, now=now)
    assert again.status.value == "confirmed" and again.reference != first.reference


async def test_a_full_event_refuses_and_saves_nothing(db, now):
    event_id = await f.event(now=now, capacity=2)
    await book_place(event_id, f.request(1), **WEB, now=now)
    await book_place(event_id, f.request(2), **WEB, now=now)
    with pytest.raises(EventFull):
        await book_place(event_id, f.request(3), **WEB, now=now)
    assert await Booking.count() == 2
    assert await Person.count().where(Person.email == "person3@school.example.org") == 0
    assert (await get_event(event_id, now)).availability.places_left == 0


@pytest.mark.parametrize("setup,reason", [
    (dict(starts_in=dt.timedelta(hours=-1)), Unbookable.past),
    (dict(status="cancelled"), Unbookable.cancelled),
    (dict(booking_closes_at_in=dt.timedelta(minutes=-5)), Unbookable.closed),
    (dict(booking_opens_at_in=dt.timedelta(days=1)), Unbookable.not_open),
])
async def test_past_cancelled_and_closed_events_cannot_be_booked(db, now, setup, reason):
    setup = dict(setup)
    if "booking_closes_at_in" in setup:
        setup["booking_closes_at"] = now + setup.pop("booking_closes_at_in")
    if "booking_opens_at_in" in setup:
        setup["booking_opens_at"] = now + setup.pop("booking_opens_at_in")
    event_id = await f.event(now=now, **setup)
    with pytest.raises(BookingClosed) as info:
        await book_place(event_id, f.request(1), **WEB, now=now)
    assert info.value.reason is reason
    assert await Booking.count() == 0


async def test_an_unknown_event_is_not_found(db, now):
    with pytest.raises(EventNotFound):
        await book_place(987654, f.request(1), **WEB, now=now)


async def test_cancelling_frees_the_place_at_once_and_is_recorded(db, now):
    event_id = await f.event(now=now, capacity=1)
    booking = await book_place(event_id, f.request(1), **WEB, now=now)
    with pytest.raises(EventFull):
        await book_place(event_id, f.request(2), **WEB, now=now)
    cancelled = await cancel_booking(booking.manage_token, actor="public", reason="Ill", config=f.CONFIG, now=now)
    assert cancelled.status.value == "cancelled" and cancelled.cancelled_at is not None
    assert (await get_event(event_id, now)).availability.places_left == 1
    second = await book_place(event_id, f.request(2), **WEB, now=now)
    assert second.status.value == "confirmed"
    actions = [a["action"] for a in await AuditRecord.select().order_by(AuditRecord.id)]
    assert actions == ["booking.confirmed", "booking.cancelled", "booking.confirmed"]


async def test_cancelling_twice_frees_only_one_place(db, now):
    event_id = await f.event(now=now, capacity=3)
    booking = await book_place(event_id, f.request(1), **WEB, now=now)
    await book_place(event_id, f.request(2), **WEB, now=now)
    await cancel_booking(booking.manage_token, actor="public", reason="", config=f.CONFIG, now=now)
    await cancel_booking(booking.manage_token, actor="public", reason="", config=f.CONFIG, now=now)
    event = await get_event(event_id, now)
    assert event.availability.places_taken == 1 == await count_active_bookings(event_id)


async def test_a_booking_cannot_be_cancelled_once_the_event_has_started(db, now):
    event_id = await f.event(now=now, starts_in=dt.timedelta(hours=1))
    booking = await book_place(event_id, f.request(1), **WEB, now=now)
    with pytest.raises(EventAlreadyStarted):
        await cancel_booking(booking.manage_token, actor="public", reason="", config=f.CONFIG, now=now + dt.timedelta(hours=2))
    assert (await get_booking(booking.manage_token, now)).status.value == "confirmed"


async def test_an_unknown_manage_token_is_not_found(db, now):
    with pytest.raises(BookingNotFound):
        await get_booking("not-a-token", now)
    with pytest.raises(BookingNotFound):
        await cancel_booking("not-a-token", actor="public", reason="", config=f.CONFIG, now=now)


async def test_settings_are_found_by_urn_then_by_name(db, now):
    event_id = await f.event(now=now, capacity=10)
    await book_place(event_id, f.request(1, setting="Oak Primary", urn="115678"), **WEB, now=now)
    await book_place(event_id, f.request(2, setting="Oak Primary School (typo)", urn="115678"), **WEB, now=now)
    await book_place(event_id, f.request(3, setting="  little   acorns NURSERY "), **WEB, now=now)
    await book_place(event_id, f.request(4, setting="Little Acorns Nursery"), **WEB, now=now)
    names = sorted(r["name"] for r in await Setting.select(Setting.name))
    # The register's name stands; a different spelling with the same URN does not add a setting.
    assert names == ["Oak Primary", "little   acorns NURSERY"]


async def test_the_database_refuses_overbooking_even_without_the_service(db, now):
    event_id = await f.event(now=now, capacity=2, places_taken=2)
    with pytest.raises(Exception, match="places_within_capacity"):
        await Event.update({Event.places_taken: 3}).where(Event.id == event_id)


async def test_deleting_an_event_with_bookings_is_refused_so_history_survives(db, now):
    event_id = await f.event(now=now)
    await book_place(event_id, f.request(1), **WEB, now=now)
    with pytest.raises(Exception):
        await Event.delete().where(Event.id == event_id)
    assert await Booking.count() == 1
