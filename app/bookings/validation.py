"""Validating a booking request, for the booking form and the API alike.

pydantic (with email-validator) does the checking and `app.validation` turns its errors into
GOV.UK-style messages keyed by field, so a page and an API client are told the same thing.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from app.errors import InvalidInput
from app.tables.bookings import LeadAnswer, Role
from app.validation import TEXT_PATTERN, EmailAddress, Messages, printable, validate

# Each type as it is checked, and (`json_schema_extra`) as the OpenAPI document gives it: the
# API's request schema is made from these models (app.web.api_schemas.schema_of).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(printable),
                 Field(json_schema_extra={"pattern": TEXT_PATTERN})]
Urn = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"(?i)^(EY\d{6}|\d{6,7})$"),
                Field(json_schema_extra={"pattern": r"^ *([Ee][Yy][0-9]{6}|[0-9]{6,7}) *$",
                                         "description": "6-7 digits or EY + 6 digits"})]


class SettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    urn: Urn | None = None


class BookingRequest(BaseModel):
    """What someone booking a place tells us: only what each field is needed for."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Name, Field(description="Full name")]
    email: Annotated[EmailAddress, Field(description="Work email (not at a reserved name such as .test or .invalid)")]
    role: Role
    #: Whether the booker is the setting's Lead Practitioner / DSL, its deputy, or neither, asked
    #: apart from the job (a nursery's manager is often its Lead Practitioner). Not given: what the
    #: role says (dsl, deputy_dsl; otherwise neither). A childminder is their own Lead Practitioner.
    lead: LeadAnswer | None = Field(None, description=(
        "Whether the booker is the setting's Lead Practitioner / DSL, its deputy, or neither (apart from the "
        "role). Left out: what the role says."))
    setting: SettingIn
    #: If the event is full, join its waiting list instead of being refused.
    # Strictly a boolean, as the OpenAPI says: 0, 1, "yes" are refused (pydantic's lax mode took them).
    waitlist: StrictBool = Field(False, description="If full, join the waiting list (201, status waitlisted)")

    @property
    def lead_answer(self) -> LeadAnswer:
        return self.lead or LeadAnswer.from_role(self.role)


class InvalidBooking(InvalidInput):
    """A booking request with fields at fault: {API field path: message}."""

    message = "The booking has invalid fields"


LEAD_MISSING = "Select whether you are this setting's Lead Practitioner / DSL, its deputy, or neither"

_MESSAGES: Messages = {
    "name": {"missing": "Enter your full name", "long": "Full name must be 200 characters or fewer"},
    "email": {
        "missing": "Enter your work email address",
        "invalid": "Enter an email address in the correct format, like name@example.com",
        "long": "Email address must be 254 characters or fewer",
    },
    "role": {"missing": "Select your role", "invalid": "Select your role"},
    "lead": {"missing": LEAD_MISSING, "invalid": LEAD_MISSING},
    "setting": {"missing": "Enter the name of your school or setting", "invalid": "Enter the name of your school or setting"},
    "setting.name": {
        "missing": "Enter the name of your school or setting",
        "long": "Setting name must be 200 characters or fewer",
    },
    "waitlist": {"invalid": "waitlist must be true or false"},
    "setting.urn": {
        "invalid": "Enter a URN of 6 or 7 digits, or an Ofsted number like EY123456",
    },
}


def validate_booking(data: Any) -> BookingRequest:
    """Check raw input (a JSON object or the form fields as a dict); raise `InvalidBooking`."""
    return validate(BookingRequest, data, _MESSAGES, error=InvalidBooking)


def booking_from_form(form: dict[str, str]) -> BookingRequest:
    """The booking form's flat fields, validated like an API body."""
    data: dict[str, Any] = {
        "name": form.get("name", ""),
        "email": form.get("email", "").strip(),
        "setting": {"name": form.get("setting_name", ""), "urn": form.get("setting_urn", "").strip() or None},
    }
    if form.get("role"):
        data["role"] = form["role"]
    if form.get("lead"):
        data["lead"] = form["lead"]
    if form.get("waitlist") == "true":
        data["waitlist"] = True
    # The form asks it of everyone: the role alone says it only for a DSL or a deputy.
    unanswered = not form.get("lead") and form.get("role") not in (Role.dsl.value, Role.deputy_dsl.value)
    try:
        request = validate_booking(data)
    except InvalidBooking as exc:
        if unanswered and "lead" not in exc.errors:
            exc.errors["lead"] = LEAD_MISSING
        raise
    if unanswered:
        raise InvalidBooking({"lead": LEAD_MISSING})
    return request


#: Where each API field's error shows on the booking form, in the form's order (the error
#: summary lists them so).
FORM_FIELD_IDS = {"name": "name", "email": "email", "setting": "setting_name", "setting.name": "setting_name",
                  "setting.urn": "setting_urn", "role": "role", "lead": "lead"}
