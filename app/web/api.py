"""The JSON API under /api: the programme, booking a place, and a booking by its manage token.

Domain errors become problem responses here: 404 unknown event or token, 409 with a `code`
(`event_full`, `already_booked`, `booking_closed`, `event_started`), 422 with per-field details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromPath, FromQuery, QueryParameter

from app.areas import Quadrant, Term
from app.bookings.services import (
    book_place,
    cancel_booking,
    get_booking,
)
from app.bookings.validation import InvalidBooking, validate_booking
from app.bookings.waiting_list import accept_offer
from app.errors import DomainError
from app.programme.services import get_event, list_events
from app.register.services import search_settings
from app.tables.bookings import BookingSource, Role
from app.web.api_schemas import (
    BookingCreated,
    BookingOut,
    EventOut,
    Problem,
    booking_out,
    event_out,
)
from app.web.bodies import json_body
from app.web.dependencies import ConfigDep, Now
from app.web.errors import problem_for
from app.web.limits import limit_email
from app.web.programme import parse_filters

_str = Schema(type=OpenAPIType.STRING)


@dataclass
class _BookingOperation(Operation):
    """Documents the booking body: the handler reads raw JSON itself so that malformed JSON is
    a 400 and invalid fields a 422 with per-field messages."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(required=True, content={"application/json": OpenAPIMediaType(schema=Schema(
            type=OpenAPIType.OBJECT, required=["name", "email", "role", "setting"],
            properties={
                "name": Schema(type=OpenAPIType.STRING, max_length=200, description="Full name"),
                "email": Schema(type=OpenAPIType.STRING, format="email", max_length=254, description="Work email"),
                "role": Schema(type=OpenAPIType.STRING, enum=[r.value for r in Role]),
                "waitlist": Schema(type=OpenAPIType.BOOLEAN, description="If full, join the waiting list (201, status waitlisted)"),
                "setting": Schema(type=OpenAPIType.OBJECT, required=["name"], properties={
                    "name": Schema(type=OpenAPIType.STRING, max_length=200),
                    "urn": Schema(one_of=[_str, Schema(type=OpenAPIType.NULL)], description="6-7 digits or EY + 6 digits"),
                }),
            },
        ))})


class SettingFound(msgspec.Struct):
    name: str
    urn: str | None


QuadrantParam = Annotated[str | None, QueryParameter(description="south, west, mid, north_east or online")]
Text = FromQuery[str | None]


class ApiController(Controller):
    path = "/api"
    tags = ["API"]
    exception_handlers = None  # set below, once the handlers are defined

    @get("/events", summary="List the programme")
    async def list_events(self, now: Now, quadrant: QuadrantParam = None, kind: Text = None,
                          term: Text = None, academic_year: Text = None) -> list[EventOut]:
        errors = []
        if quadrant and quadrant not in {*Quadrant._value2member_map_, "online"}:
            errors.append({"key": "quadrant", "message": "Use south, west, mid, north_east or online"})
        if term and term not in Term._value2member_map_:
            errors.append({"key": "term", "message": "Use autumn, spring or summer"})
        if errors:
            raise ValidationException(detail="Invalid filter", extra=errors)
        events = await list_events(parse_filters(quadrant, kind, term, academic_year), now)
        return [event_out(e) for e in events]

    @get("/settings", summary="Find a school or setting on the register (for the booking form)",
         opt={"limit": "lookup"})
    async def find_settings(self, q: Text = None) -> list[SettingFound]:
        """Schools, colleges and nurseries on the register by name or URN. Childminders are left
        out: their setting names are often their own names."""
        if not q or len(q.strip()) < 2:
            return []
        rows = await search_settings(q[:100], limit=30)
        return [SettingFound(r["name"], r["urn"]) for r in rows
                if r["on_register"] and r["setting_type"] != "childminder"][:10]

    @get("/events/{event_id:int}", summary="One event")
    async def get_event(self, event_id: FromPath[int], now: Now) -> EventOut:
        return event_out(await get_event(event_id, now))

    @post("/events/{event_id:int}/bookings", summary="Book a place", operation_class=_BookingOperation,
          status_code=201, responses=None, opt={"limit": "booking"})
    async def book(self, event_id: FromPath[int], request: Request[Any, Any, Any], now: Now,
                   config: ConfigDep) -> Response[Any]:
        body = await json_body(request)
        try:
            booking_request = validate_booking(body)
        except InvalidBooking as exc:
            return problem_for(exc)
        await limit_email(request, "booking", booking_request.email)
        booking = await book_place(event_id, booking_request, source=BookingSource.api, actor="api", now=now,
                                   config=config)
        return Response(BookingCreated(reference=booking.reference, status=booking.status.value,
                                       manage_token=booking.manage_token, event_id=event_id), status_code=201)

    @post("/bookings/{manage_token:str}/accept", summary="Accept a place offered from the waiting list",
          status_code=200, opt={"limit": "booking"})
    async def accept(self, manage_token: FromPath[str], now: Now, config: ConfigDep) -> Response[Any]:
        await accept_offer(manage_token, now=now, config=config)
        return Response(booking_out(await get_booking(manage_token, now)))

    @get("/bookings/{manage_token:str}", summary="A booking, by its manage token", opt={"limit": "token"})
    async def get_booking(self, manage_token: FromPath[str], now: Now) -> BookingOut:
        return booking_out(await get_booking(manage_token, now))

    @post("/bookings/{manage_token:str}/cancel", summary="Cancel a booking", status_code=200,
          opt={"limit": "token"})
    async def cancel(self, manage_token: FromPath[str], now: Now, config: ConfigDep) -> BookingOut:
        return booking_out(await cancel_booking(manage_token, actor="api", reason="Cancelled through the API",
                                                now=now, config=config))


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    return problem_for(exc)


#: Every refusal of a rule, as JSON: {status, code, detail, errors}.
ApiController.exception_handlers = {DomainError: _domain_error}
