"""Typed shapes of the JSON API (msgspec Structs), shared by the API controllers."""

from __future__ import annotations

import datetime as dt

import msgspec

from app.areas import local
from app.bookings.records import BookingView
from app.programme.services import EventView


class VenueOut(msgspec.Struct):
    id: int
    name: str
    address: str
    postcode: str


class EventOut(msgspec.Struct):
    id: int
    title: str
    kind: str
    quadrant: str | None
    academic_year: str
    term: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: VenueOut | None
    online: bool
    capacity: int
    places_left: int
    status: str
    bookable: bool
    unbookable_reason: str | None


class SettingOut(msgspec.Struct):
    name: str
    urn: str | None


class BookingCreated(msgspec.Struct):
    reference: str
    status: str
    manage_token: str
    event_id: int


class BookingOut(msgspec.Struct):
    reference: str
    status: str
    event_id: int
    name: str
    email: str
    role: str
    setting: SettingOut
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    event: EventOut


class FieldProblem(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    status: int
    code: str
    detail: str
    errors: list[FieldProblem] = []


def event_out(event: EventView) -> EventOut:
    venue = event.venue
    return EventOut(
        id=event.id, title=event.title, kind=event.kind_code,
        quadrant=event.quadrant.value if event.quadrant else None,
        academic_year=event.academic_year, term=event.term.value,
        starts_at=local(event.starts_at), ends_at=local(event.ends_at),
        venue=VenueOut(venue.id, venue.name, venue.address, venue.postcode) if venue else None,
        online=event.online, capacity=event.availability.capacity,
        places_left=event.availability.places_left, status=event.status,
        bookable=event.availability.bookable,
        unbookable_reason=event.availability.reason.value if event.availability.reason else None,
    )


def booking_out(booking: BookingView) -> BookingOut:
    return BookingOut(
        reference=booking.reference, status=booking.status.value, event_id=booking.event.id,
        name=booking.person_name, email=booking.email, role=booking.role.value,
        setting=SettingOut(booking.setting_name, booking.setting_urn),
        created_at=local(booking.created_at),
        cancelled_at=local(booking.cancelled_at) if booking.cancelled_at else None,
        event=event_out(booking.event),
    )
