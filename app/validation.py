"""Checking what people send, once for every form and the API: pydantic models, and pydantic's
errors turned into GOV.UK messages ("Enter …", "Select …") keyed by field.

Each form or API body is a pydantic model with a table of messages per field and kind of error
(`missing`, `long`, `invalid`); `validate` raises `InvalidInput` with {field: message}, the first
message per field only, as the GOV.UK error summary expects.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, TypeVar

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from app.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)
#: {field path: {kind: message}}; a field path is dotted for nested members ("setting.urn").
Messages = dict[str, dict[str, str]]


#: C0 and C1 control characters, and Unicode format characters that hide or reorder text.
_UNPRINTABLE_RANGES = [(0x00, 0x1F), (0x7F, 0x9F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
                       (0xFEFF, 0xFEFF)]


def _character_class(ranges: list[tuple[int, int]], escape: str) -> str:
    return "".join(escape % first if first == last else f"{escape % first}-{escape % last}" for first, last in ranges)


_PYTHON, _ECMA = "\\U%08x", "\\u%04x"
#: The same characters as a JSON Schema (ECMA) character class body, for the OpenAPI document.
UNPRINTABLE_ECMA = _character_class(_UNPRINTABLE_RANGES, _ECMA)
_UNPRINTABLE = re.compile("[" + _character_class(_UNPRINTABLE_RANGES, _PYTHON) + "]")
#: Line breaks and tabs allowed (multi-line fields).
_UNPRINTABLE_MULTILINE = re.compile(
    "[" + _character_class([(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), *_UNPRINTABLE_RANGES[1:]], _PYTHON) + "]")


def has_unprintable(text: str, *, multiline: bool = False) -> bool:
    """True if the text holds a NUL, another control character or a hidden format character (line
    breaks are allowed only where a field is multi-line). PostgreSQL cannot store a NUL, and
    control characters break spreadsheets and emails."""
    return bool((_UNPRINTABLE_MULTILINE if multiline else _UNPRINTABLE).search(text))


def printable(text: str) -> str:
    """A pydantic check for one-line text fields."""
    if has_unprintable(text):
        raise ValueError("unprintable characters")
    return text


def printable_lines(text: str) -> str:
    """A pydantic check for multi-line text fields (line breaks and tabs allowed)."""
    if has_unprintable(text, multiline=True):
        raise ValueError("unprintable characters")
    return text


def normal_email(value: Any) -> Any:
    """An email address as it is compared and stored: compatibility-normalised (full-width or
    styled letters become the plain ones they look like), trimmed and, after validation, in lower
    case, so one person is one address however it was typed."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


def canonical_email(value: str) -> str:
    """The one form an address is stored and counted in (`EmailAddress` without the checks):
    what every per-address limit and cap compares."""
    return normal_email(value).lower()


#: A line of text as the OpenAPI document gives it (JSON Schema, ECMA): something printable
#: after any leading spaces, and no character `printable` refuses.
TEXT_PATTERN = f"^ *[^\\s{UNPRINTABLE_ECMA}][^{UNPRINTABLE_ECMA}]*$"
#: An address as the OpenAPI document gives it: at a dotted domain whose last part is not a number,
#: and not at a name reserved for special use (email-validator refuses those: it cannot be sent to).
EMAIL_PATTERN = (rf"^(?!.*[.@]({'|'.join(SPECIAL_USE_DOMAIN_NAMES)})$)"
                 r"[^\s@]+@([^\s@.]+\.)+[^\s@.0-9][^\s@.]*$")

#: A work email address, normalised (`normal_email`) before it is checked and in lower case after.
EmailAddress = Annotated[EmailStr, StringConstraints(max_length=254), AfterValidator(str.lower),
                         BeforeValidator(normal_email), Field(json_schema_extra={"pattern": EMAIL_PATTERN})]


def _kind(error: dict[str, Any]) -> str:
    kind = error["type"]
    given = error.get("input", "")
    if kind in ("missing", "string_too_short") or given is None or (isinstance(given, str) and not given.strip()):
        return "missing"  # an empty or blank answer is missing, never "in the wrong format"
    if kind in ("string_too_long", "too_long"):
        return "long"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "range"
    return "invalid"


def validate(model: type[Model], data: Any, messages: Messages, *,
             error: type[InvalidInput] = InvalidInput, context: dict[str, Any] | None = None) -> Model:
    """`model` from `data`, or `error` with a GOV.UK message for each field at fault."""
    if not isinstance(data, dict):
        raise error({"body": "Send a JSON object"})
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for item in exc.errors():
            path = ".".join(str(p) for p in item["loc"])
            if item["type"] == "extra_forbidden":
                errors.setdefault(path, f"Unknown field: {path}")
                continue
            if not path and item["type"] == "value_error":
                # A model-level check names its own field: ValueError("field: message").
                field, _, message = str(item["ctx"]["error"]).partition(": ")
                errors.setdefault(field, message)
                continue
            if item["type"] == "value_error" and "unprintable" in str(item.get("ctx", {}).get("error", "")):
                errors.setdefault(path, "Remove the invisible or control characters from this answer")
                continue
            table = messages.get(path, {})
            errors.setdefault(path, table.get(_kind(item)) or table.get("invalid") or item["msg"])
        raise error(errors) from None


_WORK_EMAIL = TypeAdapter(EmailAddress)


def work_email(value: str) -> str | None:
    """`value` as a work email is stored (normalised, lower case), or None if it is not one."""
    try:
        return _WORK_EMAIL.validate_python(value)
    except ValidationError:
        return None
