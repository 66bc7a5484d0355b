"""Typed shapes of the JSON API (msgspec Structs), shared by the API controllers."""

from __future__ import annotations

import datetime as dt

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from pydantic import BaseModel

from app.areas import local
from app.bookings.records import BookingView
from app.programme.services import EventView


class VenueOut(msgspec.Struct):
    id: int
    name: str
    address: str
    postcode: str


class AreaOut(msgspec.Struct):
    code: str
    label: str
    forums: list[str]


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


_ANSWERS = {
    400: "Bad request: a malformed body or a parameter that cannot be used (code says which)",
    401: "Not signed in as an organiser",
    403: "Forbidden: no valid CSRF token",
    404: "Not found",
    409: "Refused by a booking rule: event_full, already_booked, booking_closed, event_started, offer_not_open, "
         "too_many_bookings",
    413: "The request body is too large",
    415: "The body is not application/json",
    422: "Invalid fields: `errors` lists each field and its message",
    429: "Too many requests: wait for Retry-After seconds",
    503: "The service is busy or down: try again after Retry-After seconds",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers a route gives, each a Problem body, for its OpenAPI description."""
    return {status: ResponseSpec(data_container=Problem, description=_ANSWERS[status], generate_examples=False)
            for status in statuses}


#: What any route of the API can answer besides its own: a parameter holding control characters,
#: an address's limit passed, the database away.
EVERY = (400, 429, 503)


def event_out(event: EventView) -> EventOut:
    venue = event.venue
    return EventOut(
        id=event.id, title=event.title, kind=event.kind_code,
        quadrant=event.quadrant,
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


class CertificateCheckOut(msgspec.Struct):
    """A certificate's check: what it says and whether it still stands."""

    code: str
    status: str  #: "current", "reissued" (the issue held is not the latest) or "withdrawn"
    status_words: str
    issue: int
    issued_at: str
    held_issue: int | None
    initials: str
    event: str
    kind: str
    starts_at: str
    ends_at: str
    online: bool
    time_attended: str
    withdrawn_at: str | None


#: JSON Schema keywords (as pydantic writes them) and the OpenAPI `Schema` fields they become.
_KEYWORDS = {"description": "description", "maxLength": "max_length", "minLength": "min_length",
             "pattern": "pattern", "format": "format", "enum": "enum", "required": "required",
             "additionalProperties": "additional_properties", "default": "default"}


def schema_of(model: type[BaseModel]) -> Schema:
    """The OpenAPI schema of a request body, made from the pydantic model that checks it, so the
    document and the checks cannot drift apart (references to the model's own types inlined)."""
    document = model.model_json_schema(mode="validation")
    definitions = document.pop("$defs", {})

    def convert(node: dict[str, Any]) -> Schema:
        if "$ref" in node:
            return convert(definitions[node["$ref"].rsplit("/", 1)[-1]])
        fields: dict[str, Any] = {field: node[key] for key, field in _KEYWORDS.items() if key in node}
        if "type" in node:
            fields["type"] = OpenAPIType(node["type"])
        if "properties" in node:
            fields["properties"] = {name: convert(child) for name, child in node["properties"].items()}
        if "anyOf" in node:
            fields["one_of"] = [convert(child) for child in node["anyOf"]]
        return Schema(**fields)

    return convert(document)
