"""Checking what people send, once for every form and the API: pydantic models, and pydantic's
errors turned into GOV.UK messages ("Enter …", "Select …") keyed by field.

Each form or API body is a pydantic model with a table of messages per field and kind of error
(`missing`, `long`, `invalid`); `validate` raises `InvalidInput` with {field: message}, the first
message per field only, as the GOV.UK error summary expects.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)
#: {field path: {kind: message}}; a field path is dotted for nested members ("setting.urn").
Messages = dict[str, dict[str, str]]


def _kind(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind in ("missing", "string_too_short") or error.get("input", "") is None:
        return "missing"
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
            table = messages.get(path, {})
            errors.setdefault(path, table.get(_kind(item)) or table.get("invalid") or item["msg"])
        raise error(errors) from None
