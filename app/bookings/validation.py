"""Validating a booking request, for the booking form and the API alike.

pydantic (with email-validator) does the checking; this module only turns its errors into
GOV.UK-style messages keyed by field, so a page and an API client are told the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints, ValidationError

from app.bookings.tables import Role

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Urn = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"(?i)^(EY\d{6}|\d{6,7})$")]


class SettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    urn: Urn | None = None


class BookingRequest(BaseModel):
    """What someone booking a place tells us: only what each field is needed for."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    role: Role
    setting: SettingIn
    #: If the event is full, join its waiting list instead of being refused.
    waitlist: bool = False


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path as in the API body, e.g. "setting.urn"
    message: str


class InvalidBooking(ValueError):
    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


_MESSAGES: dict[str, dict[str, str]] = {
    "name": {"missing": "Enter your full name", "long": "Full name must be 200 characters or fewer"},
    "email": {
        "missing": "Enter your work email address",
        "invalid": "Enter an email address in the correct format, like name@example.com",
        "long": "Email address must be 254 characters or fewer",
    },
    "role": {"missing": "Select your role", "invalid": "Select your role"},
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


def _kind(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing" or kind == "string_too_short":
        return "missing"
    if kind == "string_too_long":
        return "long"
    return "invalid"


def validate_booking(data: Any) -> BookingRequest:
    """Check raw input (a JSON object or the form fields as a dict); raise `InvalidBooking`."""
    if not isinstance(data, dict):
        raise InvalidBooking([FieldError("body", "Send a JSON object")])
    try:
        return BookingRequest.model_validate(data)
    except ValidationError as exc:
        errors: list[FieldError] = []
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"])
            if error["type"] == "extra_forbidden":
                errors.append(FieldError(path, f"Unknown field: {path}"))
                continue
            messages = _MESSAGES.get(path, {})
            errors.append(FieldError(path, messages.get(_kind(error)) or messages.get("invalid") or error["msg"]))
        # One message per field, first one wins (as the GOV.UK error summary expects).
        seen: set[str] = set()
        unique = [e for e in errors if not (e.field in seen or seen.add(e.field))]
        raise InvalidBooking(unique) from None


def booking_from_form(form: dict[str, str]) -> BookingRequest:
    """The booking form's flat fields, validated like an API body."""
    data: dict[str, Any] = {
        "name": form.get("name", ""),
        "email": form.get("email", "").strip(),
        "setting": {"name": form.get("setting_name", ""), "urn": form.get("setting_urn", "").strip() or None},
    }
    if form.get("role"):
        data["role"] = form["role"]
    if form.get("waitlist") == "true":
        data["waitlist"] = True
    return validate_booking(data)


#: Where each API field's error shows on the booking form.
FORM_FIELD_IDS = {"name": "name", "email": "email", "role": "role", "setting": "setting_name",
                  "setting.name": "setting_name", "setting.urn": "setting_urn"}
