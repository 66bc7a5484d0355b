"""Writing audit records, always inside the transaction of the change they describe."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.tables.audit import AuditRecord


async def record(action: str, actor: str, *, event_id: int | None = None, booking_id: int | None = None,
                 person_id: int | None = None, **detail: Any) -> None:
    await AuditRecord.insert(AuditRecord(action=action, actor=actor, event=event_id, booking=booking_id,
                                         person=person_id, detail=detail))


async def record_many(action: str, actor: str, rows: list[dict[str, Any]]) -> None:
    """`record` for many subjects at once (one INSERT): each row gives event_id, booking_id,
    person_id and the detail."""
    if rows:
        await AuditRecord.insert(*[AuditRecord(
            action=action, actor=actor, event=r.get("event_id"), booking=r.get("booking_id"),
            person=r.get("person_id"), detail=r.get("detail", {})) for r in rows])


async def history(*, event_id: int | None = None, person_id: int | None = None) -> list[dict[str, Any]]:
    """The audit trail of an event or a person, newest first."""
    query = AuditRecord.select(AuditRecord.all_columns(), AuditRecord.booking.reference.as_alias("reference"),
                               AuditRecord.event.title.as_alias("event_title"),
                               AuditRecord.person.name.as_alias("person_name")).order_by(
        AuditRecord.id, ascending=False).output(load_json=True)
    if event_id is not None:
        query = query.where(AuditRecord.event == event_id)
    if person_id is not None:
        query = query.where(AuditRecord.person == person_id)
    return await query


def _trail_query(query: Any, *, since: dt.datetime | None, until: dt.datetime | None, event_id: int | None) -> Any:
    if since is not None:
        query = query.where(AuditRecord.created_at >= since)
    if until is not None:
        query = query.where(AuditRecord.created_at < until)
    if event_id is not None:
        query = query.where(AuditRecord.event == event_id)
    return query


async def audit_trail(*, since: dt.datetime | None = None, until: dt.datetime | None = None,
                      event_id: int | None = None, limit: int | None = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The audit trail between two moments and/or of one event, newest first (a page of it)."""
    query = _trail_query(AuditRecord.select(
        AuditRecord.all_columns(), AuditRecord.booking.reference.as_alias("reference"),
        AuditRecord.event.title.as_alias("event_title"), AuditRecord.person.name.as_alias("person_name")),
        since=since, until=until, event_id=event_id).order_by(AuditRecord.id, ascending=False).output(load_json=True)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return await query


async def count_audit_trail(*, since: dt.datetime | None = None, until: dt.datetime | None = None,
                            event_id: int | None = None) -> int:
    return await _trail_query(AuditRecord.count(), since=since, until=until, event_id=event_id)
