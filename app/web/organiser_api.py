"""The organiser JSON API: an event's register and marking attendance. Behind the organiser
guard (session cookie) and CSRF protection (send the value of the csrftoken cookie, __Host-csrftoken
over https, as X-CSRFToken)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromPath
from pydantic import BaseModel, ConfigDict

from app.attendance.services import NotAttendable, TooEarlyToRecord, mark, register
from app.errors import DomainError, InvalidInput
from app.tables.attendance import Outcome
from app.validation import Messages, validate
from app.web.api_schemas import EVERY, FieldProblem, problems
from app.web.bodies import json_body
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import problem, problem_for


class RegisterEntry(msgspec.Struct):
    booking_id: int
    reference: str
    name: str
    email: str
    setting: str
    role: str
    status: str
    booked_at: dt.datetime
    attendance: str | None
    minutes_present: int | None
    #: When the booker sent apologies (a cancellation before the event, never a no-show), and
    #: whether after the event's cut-off for a late cancellation.
    apologies_at: dt.datetime | None = None
    late_cancellation: bool = False


class RegisterOut(msgspec.Struct):
    event_id: int
    title: str
    capacity: int
    booked: int
    places_left: int
    waiting: int
    attended: int
    absent: int
    no_shows: int | None
    bookings: list[RegisterEntry]
    apologies: int = 0
    late_apologies: int = 0


class MarkIn(BaseModel):
    """The body of a mark: {"outcome": "attended" | "absent"}."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome


MARK_MESSAGES: Messages = {"outcome": {"missing": "Use attended or absent", "invalid": "Use attended or absent"}}


@dataclass
class _MarkOperation(Operation):
    """The attendance mark's body (read by the handler itself, so that a malformed one is a 400)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(required=True, content={"application/json": OpenAPIMediaType(schema=Schema(
            type=OpenAPIType.OBJECT, required=["outcome"], additional_properties=False,
            properties={"outcome": Schema(type=OpenAPIType.STRING, enum=["attended", "absent"])}))})


class OrganiserApi(Controller):
    path = "/api/organiser"
    tags = ["Organiser API"]

    @get("/events/{event_id:int}/register", summary="An event's register (organisers only)",
         responses=problems(*EVERY, 401, 404))
    async def get_register(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> RegisterOut:
        event, rows, counts = await register(event_id, now)
        return RegisterOut(
            event_id=event.id, title=event.title, capacity=counts.capacity, booked=counts.booked,
            places_left=counts.places_left, waiting=counts.waiting, attended=counts.attended, absent=counts.absent,
            no_shows=counts.no_shows, apologies=counts.apologies, late_apologies=counts.late_apologies,
            bookings=[RegisterEntry(
                booking_id=r.booking_id, reference=r.reference, name=r.name, email=r.email, setting=r.setting,
                role=r.role, status=r.status, booked_at=r.booked_at, attendance=r.outcome,
                minutes_present=r.minutes_present, apologies_at=r.apology_at, late_cancellation=r.apology_late)
                for r in rows])

    @post("/bookings/{booking_id:int}/attendance", summary="Mark attended or absent (organisers only)", status_code=200,
          operation_class=_MarkOperation, responses=problems(*EVERY, 401, 403, 404, 409, 413, 415, 422))
    async def mark_attendance(self, organiser: Organiser, booking_id: FromPath[int], request: Request[Any, Any, Any],
                              now: Now, config: ConfigDep) -> Response[Any]:
        try:
            data = await json_body(request)
        except DomainError as exc:
            return problem_for(exc)
        try:
            outcome = validate(MarkIn, data, MARK_MESSAGES).outcome
        except InvalidInput as exc:
            return problem(422, "invalid", "outcome must be attended or absent",
                           [FieldProblem(field=f, message=m) for f, m in exc.errors.items()])
        try:
            was = await mark(booking_id, outcome, organiser=organiser, now=now, config=config)
        except NotAttendable:
            return problem(404, "not_found", "No confirmed booking with that id")
        except TooEarlyToRecord as exc:  # before the door opens: nothing recorded
            return problem_for(exc)
        outcome = outcome.value
        return Response({"booking_id": booking_id, "attendance": outcome, "was": was})
