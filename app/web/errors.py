"""Domain errors as people and programs see them: one mapping to the GOV.UK error summary, one to
the API's JSON problem. Handlers catch `DomainError` and call one of these; they never word a
rule's refusal themselves."""

from __future__ import annotations

from typing import Any

from litestar import Response

from app.errors import DomainError, InvalidInput
from app.web.api_schemas import FieldProblem, Problem

#: Refusals worded for an organiser acting for someone else (the domain words them for the booker).
FOR_ORGANISERS = {
    "already_booked": "This person already has a place at this event",
    "event_full": "The event is full",
}


def field_errors(exc: DomainError, *, ids: dict[str, str] | None = None, default_field: str = "title",
                 organiser: bool = False, only_ids: bool = False) -> dict[str, str]:
    """{field id: message} for a page's error summary and inline errors. `ids` maps the error's
    field names to the form's element ids where they differ; with `only_ids`, a field the form
    does not show is reported against `default_field`. The errors come in the order of `ids`
    (the form's order), then any others."""
    ids = ids or {}
    if isinstance(exc, InvalidInput):
        order = {field: n for n, field in enumerate(ids)}
        found: dict[str, str] = {}
        for field, message in sorted(exc.errors.items(), key=lambda kv: order.get(kv[0], len(order))):
            found.setdefault(ids.get(field, default_field if only_ids else field), message)
        return found
    message = FOR_ORGANISERS.get(exc.code, exc.message) if organiser else exc.message
    field = exc.field or default_field
    return {ids.get(field, field): message}


def error_summary(errors: dict[str, str]) -> list[dict[str, Any]]:
    """GOV.UK error summary items from {field id: message}."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]


def problem(status: int, code: str, detail: str, errors: list[FieldProblem] | None = None) -> Response[Problem]:
    """The API's error body: {status, code, detail, errors: [{field, message}]}."""
    return Response(Problem(status=status, code=code, detail=detail, errors=errors or []), status_code=status)


def problem_for(exc: DomainError) -> Response[Problem]:
    """A domain error as the API answers it."""
    errors = [FieldProblem(field=f, message=m) for f, m in exc.errors.items()] if isinstance(exc, InvalidInput) else []
    return problem(exc.status, exc.code, exc.message, errors)
