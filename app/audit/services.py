"""Writing audit records, always inside the transaction of the change they describe."""

from __future__ import annotations

from typing import Any

from app.tables.audit import AuditRecord


async def record(action: str, actor: str, *, event_id: int | None = None, booking_id: int | None = None,
                 person_id: int | None = None, **detail: Any) -> None:
    await AuditRecord.insert(AuditRecord(action=action, actor=actor, event=event_id, booking=booking_id,
                                         person=person_id, detail=detail))


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
