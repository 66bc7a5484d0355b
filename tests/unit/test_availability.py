"""Availability is what a DSL sees on the programme: bookable or why not, and places left."""

import datetime as dt

from app.programme.availability import Unbookable, availability
from tests.support import utc

NOW = utc(2027, 3, 1, 12)
START = utc(2027, 3, 10, 9, 30)


def check(**overrides):
    args = dict(status="scheduled", capacity=40, places_taken=0, starts_at=START,
                booking_opens_at=None, booking_closes_at=None, now=NOW)
    args.update(overrides)
    return availability(**args)


def test_an_open_event_shows_its_places_left():
    a = check(places_taken=38)
    assert a.bookable and a.places_left == 2 and a.label == "Open for booking"


def test_the_last_place_taken_makes_the_event_full():
    a = check(places_taken=40)
    assert not a.bookable and a.reason is Unbookable.full and a.places_left == 0


def test_a_cancelled_event_cannot_be_booked_even_with_places():
    assert check(status="cancelled").reason is Unbookable.cancelled


def test_an_event_that_has_started_is_past():
    assert check(now=START).reason is Unbookable.past
    assert check(now=START - dt.timedelta(seconds=1)).bookable


def test_booking_window_opens_and_closes():
    assert check(booking_opens_at=NOW + dt.timedelta(hours=1)).reason is Unbookable.not_open
    assert check(booking_closes_at=NOW).reason is Unbookable.closed
    assert check(booking_closes_at=NOW + dt.timedelta(minutes=1)).bookable


def test_past_wins_over_full():
    assert check(places_taken=40, now=START + dt.timedelta(hours=1)).reason is Unbookable.past
