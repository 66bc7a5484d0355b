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
from litestar.params import FromPath, PathParameter, QueryParameter

from app.areas import Term, council
from app.bookings.services import (
    book_place,
    cancel_booking,
    get_booking,
    take_offered_place,
)
from app.bookings.validation import BookingRequest, InvalidBooking, validate_booking
from app.certificates.services import CertificateNotFound, check_certificate
from app.errors import DomainError
from app.programme.services import get_event, list_events
from app.settings_register.services import find_public_settings
from app.tables.bookings import BookingSource
from app.validation import UNPRINTABLE_ECMA
from app.web.api_schemas import (
    AreaOut,
    CertificateCheckOut,
    EVERY,
    BookingCreated,
    BookingOut,
    EventOut,
    Problem,
    booking_out,
    event_out,
    problems,
    schema_of,
)
from app.web.bodies import json_body
from app.web.dependencies import ConfigDep, Now
from app.web.errors import problem_for
from app.web.limits import limit_email
from app.web.page_cache import PAGE_SECONDS, REVALIDATE
from app.web.programme import parse_filters

_str = Schema(type=OpenAPIType.STRING)
#: One line of text as the API takes it: something besides spaces, and no control or invisible
#: format characters (`app.validation.has_unprintable`), in JSON Schema's (ECMA) regex dialect.
_HIDDEN = UNPRINTABLE_ECMA
#: A manage token as the service makes them (URL-safe base64).
TOKEN = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,100}$", description="The secret in the manage link")]


@dataclass
class _BookingOperation(Operation):
    """Documents the booking body: the handler reads raw JSON itself so that malformed JSON is
    a 400 and invalid fields a 422 with per-field messages."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(required=True, content={"application/json": OpenAPIMediaType(
            schema=schema_of(BookingRequest))})


@dataclass
class _ProgrammeOperation(Operation):
    """The `quadrant` filter's values are the council's area codes, read from its file when the
    document is made (after the app has chosen its council), not fixed in the code. The handler
    checks both filters itself, so that a request wrong in both is told of both at once."""

    def __post_init__(self) -> None:
        allowed = {"quadrant": [*council().codes, "online"], "term": [t.value for t in Term]}
        for parameter in self.parameters or []:
            name = getattr(parameter, "name", None)
            if name in allowed and parameter.schema is not None:
                parameter.schema.pattern = "^(" + "|".join(allowed[name]) + ")$"


class SettingFound(msgspec.Struct):
    name: str
    urn: str | None


QuadrantParam = Annotated[str | None, QueryParameter(
    description="An area's code, as GET /api/areas lists them (Essex: south, west, mid, north_east), or online",
    pattern="^[a-z][a-z_]{0,19}$")]
TermParam = Annotated[str | None, QueryParameter(description="autumn, spring or summer",
                                                 pattern="^[a-z]{1,20}$")]
#: A query value: no control or invisible characters (a 400 otherwise).
Plain = Annotated[str | None, QueryParameter(pattern=f"^[^{_HIDDEN}]*$")]


class ApiController(Controller):
    path = "/api"
    tags = ["API"]
    exception_handlers = None  # set below, once the handlers are defined

    @get("/events", summary="List the programme", responses=problems(*EVERY), cache=PAGE_SECONDS,
         cache_control=REVALIDATE, operation_class=_ProgrammeOperation)
    async def list_events(self, now: Now, quadrant: QuadrantParam = None, kind: Plain = None,
                          term: TermParam = None, academic_year: Plain = None) -> list[EventOut]:
        errors = []
        if quadrant and quadrant != "online" and not council().is_area(quadrant):
            errors.append({"key": "quadrant", "message": f"Use {', '.join(council().codes)} or online"})
        if term and term not in Term._value2member_map_:
            errors.append({"key": "term", "message": "Use autumn, spring or summer"})
        if errors:
            raise ValidationException(detail="Invalid filter", extra=errors)
        events = await list_events(parse_filters(quadrant, kind, term, academic_year), now)
        return [event_out(e) for e in events]

    @get("/areas", summary="The council's areas", responses=problems(*EVERY), cache=PAGE_SECONDS)
    async def areas(self) -> list[AreaOut]:
        """The council's areas in the order its pages list them: each one's code (an event's
        `quadrant`), label, and the areas whose in-person forums its settings may book."""
        return [AreaOut(a.code, a.label, list(a.forums)) for a in council().areas]

    @get("/settings", summary="Find a school or setting on the register (for the booking form)",
         opt={"limit": "lookup"}, responses=problems(*EVERY))
    async def find_settings(self, q: Plain = None) -> list[SettingFound]:
        """Schools, colleges and nurseries on the register by name or URN. Childminders are left
        out: their setting names are often their own names."""
        return [SettingFound(r["name"], r["urn"]) for r in await find_public_settings(q or "")]

    @get("/certificates/{code:str}", summary="Check a certificate of attendance", opt={"limit": "verify"},
         responses=problems(*EVERY, 404))
    async def certificate_check(self, code: Annotated[str, PathParameter(
            description="The verification code as printed or read out, like K7QF-M2XD-9P4R-WT3H",
            pattern="^[0-9A-Za-z -]{1,40}$")], issue: Annotated[int | None, QueryParameter(
            description="The issue number printed on the copy held", ge=1, le=99999)] = None) -> CertificateCheckOut:
        """What the certificate with this code says (initials, session, date, time attended,
        issue) and whether it still stands: current, re-issued since the issue held, or withdrawn."""
        found = await check_certificate(code[:40], issue)
        if found is None:
            raise CertificateNotFound()
        return CertificateCheckOut(**found.as_json())

    @get("/events/{event_id:int}", summary="One event", responses=problems(*EVERY, 404), cache=PAGE_SECONDS,
         cache_control=REVALIDATE)
    async def get_event(self, event_id: FromPath[int], now: Now) -> EventOut:
        return event_out(await get_event(event_id, now))

    @post("/events/{event_id:int}/bookings", summary="Book a place", operation_class=_BookingOperation,
          status_code=201, responses=problems(*EVERY, 404, 409, 413, 415, 422), opt={"limit": "booking"})
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
          status_code=200, opt={"limit": "booking"}, responses=problems(*EVERY, 404, 409))
    async def accept(self, manage_token: TOKEN, now: Now, config: ConfigDep) -> Response[Any]:
        await take_offered_place(manage_token, now=now, config=config)
        return Response(booking_out(await get_booking(manage_token, now)))

    @get("/bookings/{manage_token:str}", summary="A booking, by its manage token", opt={"limit": "token"},
         responses=problems(*EVERY, 404))
    async def get_booking(self, manage_token: TOKEN, now: Now) -> BookingOut:
        return booking_out(await get_booking(manage_token, now))

    @post("/bookings/{manage_token:str}/cancel", summary="Cancel a booking", status_code=200,
          opt={"limit": "token"}, responses=problems(*EVERY, 404, 409))
    async def cancel(self, manage_token: TOKEN, now: Now, config: ConfigDep) -> BookingOut:
        return booking_out(await cancel_booking(manage_token, actor="api", reason="Cancelled through the API",
                                                now=now, config=config))


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    return problem_for(exc)


#: Every refusal of a rule, as JSON: {status, code, detail, errors}.
ApiController.exception_handlers = {DomainError: _domain_error}
