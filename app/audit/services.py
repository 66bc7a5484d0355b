"""Writing audit records, always inside the transaction of the change they describe."""

from __future__ import annotations

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
