"""Every form of the service as a pydantic model, with its GOV.UK messages.

A handler calls `read(Form, data)`: it answers the model, or raises `InvalidInput` with a message
per field that the page shows in its error summary (`app.web.errors.field_errors`). The booking
form's model is the domain's `BookingRequest`, shared with the API (`app.bookings.validation`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from app.areas import LONDON, council
from app.event_changes.manage import EventDetails
from app.tables.organisers import OrganiserRole
from app.validation import EmailAddress, Messages, printable, printable_lines, validate


def _blank_is_missing(value: Any) -> Any:
    """An empty form field is a missing answer, not an empty string or a zero."""
    return None if isinstance(value, str) and not value.strip() else value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(printable)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000), AfterValidator(printable_lines)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(printable_lines)]
Email = Annotated[EmailAddress, BeforeValidator(_blank_is_missing)]
WholeNumber = Annotated[int, BeforeValidator(_blank_is_missing)]

EMAIL_MESSAGES = {"missing": "Enter an email address",
                  "invalid": "Enter an email address in the correct format, like name@example.com",
                  "long": "Email address must be 254 characters or fewer"}


class Form(BaseModel):
    """A page's form: unknown fields (the CSRF token, buttons) are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")
    messages: ClassVar[Messages] = {}


F = TypeVar("F", bound=Form)


def read(form: type[F], data: Any, *, context: dict[str, Any] | None = None) -> F:
    """The form's fields checked, or `InvalidInput` with GOV.UK messages by field."""
    return validate(form, dict(data), form.messages, context=context)


class SignInForm(Form):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    next: str | None = None
    messages = {"email": {"missing": "Enter your email address", "long": "Enter a correct email address and password"},
                "password": {"missing": "Enter your password", "long": "Enter a correct email address and password"}}


class SetPasswordForm(Form):
    password: Annotated[str, StringConstraints(max_length=1000)] = ""
    confirm_password: Annotated[str, StringConstraints(max_length=1000)] = ""
    messages = {"password": {"long": "Password must be 1,000 characters or fewer"}}

    @model_validator(mode="after")
    def same_twice(self) -> "SetPasswordForm":
        if self.password != self.confirm_password:
            raise ValueError("confirm_password: Enter the same password twice")
        return self


class ChangePasswordForm(SetPasswordForm):
    current: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    messages = {**SetPasswordForm.messages, "current": {"missing": "Enter your current password",
                                                        "long": "Your current password is not right"}}


class ResetRequestForm(Form):
    email: Email
    messages = {"email": {**EMAIL_MESSAGES, "missing": "Enter your work email address"}}


class AccountForm(Form):
    """An administrator's change to an account: whose, and (for a role) which."""

    email: Email
    role: OrganiserRole | None = None
    messages = {"email": EMAIL_MESSAGES, "role": {"invalid": "Select administrator or organiser"}}


class InviteOrganiserForm(Form):
    name: Text
    email: Email
    messages = {"name": {"missing": "Enter their full name", "long": "Full name must be 200 characters or fewer"},
                "email": EMAIL_MESSAGES}


class VenueForm(Form):
    name: Text
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
    messages = {"name": {"missing": "Enter the name of the venue", "long": "Venue name must be 200 characters or fewer"},
                "address": {"missing": "Enter the address", "long": "Address must be 500 characters or fewer"},
                "postcode": {"missing": "Enter the postcode", "long": "Enter a real postcode, like CM18 7BL"}}


class CancelBookingForm(Form):
    #: "yes": the booker sent apologies (by phone or email), recorded as such; "no": the team cancels.
    apology: Literal["yes", "no"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    messages = {"apology": {"missing": "Select whether they sent apologies",
                            "invalid": "Select whether they sent apologies"},
                "reason": {"missing": "Enter the reason for cancelling",
                           "long": "The reason must be 1,000 characters or fewer"}}


class CancelEventForm(Form):
    reason: Reason = ""
    messages = {"reason": {"long": "The reason must be 1,000 characters or fewer"}}


class MarkForm(Form):
    outcome: Literal["attended", "absent"]
    q: Annotated[str, StringConstraints(max_length=200)] = ""
    page: Annotated[int, Field(ge=1, le=10_000)] = 1
    messages = {"outcome": {"missing": "outcome must be attended or absent",
                            "invalid": "outcome must be attended or absent"}}


class ChaseForm(Form):
    materials: LongText = ""
    messages = {"materials": {"long": "What you send from the session must be 5,000 characters or fewer"}}


class TeamsMinimumForm(Form):
    """The minutes present that count as attended, 1 to 600 (a Teams meeting lasts at most 10 hours here)."""

    minimum: Annotated[WholeNumber, Field(ge=1, le=600)]
    messages = {"minimum": {"missing": "Enter the minimum minutes as a whole number from 1 to 600",
                            "invalid": "Enter the minimum minutes as a whole number from 1 to 600",
                            "range": "Enter the minimum minutes as a whole number from 1 to 600"}}


class MergeForm(Form):
    target: WholeNumber
    messages = {"target": {"missing": "Choose the setting on the register to merge into",
                           "invalid": "Choose the setting on the register to merge into"}}


class ContactEmailForm(Form):
    email: Email
    messages = {"email": {**EMAIL_MESSAGES, "missing": "Enter the setting's email address"}}


class StartLinkForm(Form):
    setting: WholeNumber
    messages = {"setting": {"missing": "Choose your setting", "invalid": "Choose your setting"}}


class BulkSendForm(Form):
    quadrant: Annotated[str, BeforeValidator(_blank_is_missing), _area_or("all")] = "all"
    messages = {"quadrant": {"invalid": "Choose a quadrant, or all"}}


class SendQuestionnaireForm(Form):
    email: Email
    messages = {"email": EMAIL_MESSAGES}


def _clock(value: Any) -> dt.time | None:
    """A time as organisers type it: 9:30, 09.30, 6:00pm, 18:00."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*(am|pm)?\s*", str(value).lower())
    if not match:
        raise ValueError("not a time")
    hour, minute, suffix = int(match[1]), int(match[2]), match[3]
    if suffix == "pm" and hour < 12:
        hour += 12
    if suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ValueError("not a time")
    return dt.time(hour, minute)


def _date(parts: Any) -> dt.date | None:
    """A GOV.UK date input's day, month and year; none given is no date."""
    if parts is None:
        return None
    day, month, year = (int(p) for p in parts)  # ValueError: not a date
    if year < 2000:
        raise ValueError("not a date")
    return dt.date(year, month, day)


Clock = Annotated[dt.time, BeforeValidator(_clock)]
GovDate = Annotated[dt.date, BeforeValidator(_date)]


def _area_or(*others: str):
    """A value that must be one of the council's area codes (read when the form is, so a council's
    file decides) or one of `others`."""
    def check(value: str) -> str:
        if value in others or council().is_area(value):
            return value
        raise ValueError("not an area")
    return AfterValidator(check)

_TIME = "Enter the {} like 9:30 or 18:00"


class LeadForm(Form):
    """An organiser records a setting's DSL / Lead Practitioner or a deputy."""

    role: Annotated[Literal["dsl", "deputy_dsl"], BeforeValidator(_blank_is_missing)]
    name: Text
    email: Email
    since: GovDate | None = None
    messages = {
        "role": {"missing": "Select DSL / Lead Practitioner or deputy", "invalid": "Select DSL / Lead Practitioner or deputy"},
        "name": {"missing": "Enter their full name", "long": "Full name must be 200 characters or fewer"},
        "email": {**EMAIL_MESSAGES, "missing": "Enter their work email address"},
        "since": {"invalid": "The date they took on the role must be a real date, like 1 9 2023"},
    }
    field_ids: ClassVar[dict[str, str]] = {"since": "since-day"}

    @model_validator(mode="before")
    @classmethod
    def gather_date(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            parts = tuple(str(data.get(f"since-{p}", "")).strip() for p in ("day", "month", "year"))
            data["since"] = parts if any(parts) else None
        return data


class EventForm(Form):
    """An organiser's event form. Pass `context={"kind_ids": …, "venue_ids": …}` to `read`."""

    title: Text
    kind: WholeNumber
    where: Annotated[str, BeforeValidator(_blank_is_missing), _area_or("online")]
    venue: Annotated[int | None, BeforeValidator(_blank_is_missing)] = None
    join_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    #: What attendees of this event must know ("Please note change of venue."): on the event's
    #: page, its emails and its invite, for this event only.
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(printable)] = ""
    #: What the session covers ("Covered: …" on its page, invite and certificate); who leads it.
    agenda: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(printable)] = ""
    trainer_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(printable)] = ""
    trainer_role: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(printable)] = ""
    date: GovDate
    start_time: Clock
    end_time: Clock
    capacity: Annotated[WholeNumber, Field(ge=1, le=2000)]
    #: Apologies later than this many hours before the start are shown as a late cancellation.
    late_cancel_hours: Annotated[WholeNumber, Field(ge=0, le=720)] = 24
    #: The fewest places taken for the session to run well (none: no minimum).
    minimum: Annotated[Annotated[int, Field(ge=1, le=2000)] | None, BeforeValidator(_blank_is_missing)] = None
    #: Who a freed place is offered to first; whether the event is in demand (repeat no-shows wait behind).
    waitlist_rule: Literal["first_come", "setting_first"] = "first_come"
    in_demand: Literal["", "yes"] = ""
    opens: GovDate | None = None
    closes: GovDate | None = None
    messages = {
        "title": {"missing": "Enter a title", "long": "Title must be 200 characters or fewer"},
        "kind": {"missing": "Select the type of event", "invalid": "Select the type of event"},
        "where": {"missing": "Select a quadrant, or online", "invalid": "Select a quadrant, or online"},
        "venue": {"invalid": "Select the venue"},
        "join_url": {"long": "Enter the Teams link starting https://"},
        "note": {"long": "The note must be 300 characters or fewer", "invalid": "The note must be plain text"},
        "agenda": {"long": "What the session covers must be 1000 characters or fewer",
                   "invalid": "What the session covers must be plain text"},
        "trainer_name": {"long": "The trainer's name must be 200 characters or fewer", "invalid": "Enter the trainer's name as plain text"},
        "trainer_role": {"long": "The trainer's role must be 200 characters or fewer", "invalid": "Enter the trainer's role as plain text"},
        "date": {"missing": "Enter the date of the event",
                 "invalid": "The date of the event must be a real date, like 13 3 2027"},
        "start_time": {"missing": _TIME.format("start time"), "invalid": _TIME.format("start time")},
        "end_time": {"missing": _TIME.format("end time"), "invalid": _TIME.format("end time")},
        "capacity": {k: "Enter the number of places, a whole number from 1 to 2000" for k in ("missing", "invalid", "range")},
        "late_cancel_hours": {k: "Enter the hours before the start, a whole number from 0 to 720"
                              for k in ("missing", "invalid", "range")},
        "waitlist_rule": {"invalid": "Select who is offered a freed place first"},
        "minimum": {k: "Enter the minimum as a whole number from 1 to 2000, or leave it empty"
                    for k in ("invalid", "range")},
        "in_demand": {"invalid": "Select whether the event is in demand"},
        "opens": {"invalid": "The date booking opens must be a real date, like 13 3 2027"},
        "closes": {"invalid": "The date booking closes must be a real date, like 13 3 2027"},
    }
    #: Where each field's error shows: a date's first box.
    field_ids: ClassVar[dict[str, str]] = {"date": "date-day", "opens": "opens-day", "closes": "closes-day"}

    @model_validator(mode="before")
    @classmethod
    def gather_dates(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for prefix in ("date", "opens", "closes"):
                parts = tuple(str(data.get(f"{prefix}-{p}", "")).strip() for p in ("day", "month", "year"))
                data[prefix] = parts if any(parts) else None
        return data

    @model_validator(mode="after")
    def consistent(self, info: ValidationInfo) -> "EventForm":
        known = info.context or {}
        if "kind_ids" in known and self.kind not in known["kind_ids"]:
            raise ValueError("kind: Select the type of event")
        online = self.where == "online"
        if not online and (self.venue is None or ("venue_ids" in known and self.venue not in known["venue_ids"])):
            raise ValueError("venue: Select the venue")
        if self.join_url and not online:
            raise ValueError("join_url: Only online events have a Teams link")
        if self.join_url and not re.fullmatch(r"https://\S+", self.join_url):
            raise ValueError("join_url: Enter the Teams link starting https://")
        if self.end_time <= self.start_time:
            raise ValueError("end_time: The end time must be after the start time")
        return self

    def details(self) -> EventDetails:
        online = self.where == "online"
        starts_at = dt.datetime.combine(self.date, self.start_time, tzinfo=LONDON)
        closes_at = dt.datetime.combine(self.closes, dt.time(23, 59), tzinfo=LONDON) if self.closes else None
        if closes_at and closes_at > starts_at:
            closes_at = None  # booking closes at the start anyway
        return EventDetails(
            title=self.title, kind_id=self.kind, quadrant=None if online else self.where,
            venue_id=None if online else self.venue, join_url=self.join_url if online else "", note=self.note,
            agenda=self.agenda, trainer_name=self.trainer_name, trainer_role=self.trainer_role,
            starts_at=starts_at,
            ends_at=dt.datetime.combine(self.date, self.end_time, tzinfo=LONDON), capacity=self.capacity,
            late_cancel_hours=self.late_cancel_hours, waitlist_rule=self.waitlist_rule, minimum=self.minimum,
            in_demand=self.in_demand == "yes",
            booking_opens_at=dt.datetime.combine(self.opens, dt.time(0, 0), tzinfo=LONDON) if self.opens else None,
            booking_closes_at=closes_at)


class RecordLinkForm(Form):
    """Asking for a link to one's own training record."""

    email: Email
    messages: ClassVar[Messages] = {"email": {**EMAIL_MESSAGES, "missing": "Enter your work email address"}}


def radio_items(labels: Any, selected: str | None) -> list[dict[str, Any]]:
    """GOV.UK radios' items from {enum member: label}, the one chosen checked."""
    return [{"value": member.value, "text": label, "checked": selected == member.value}
            for member, label in labels.items()]
