"""Writing audit records, always inside the transaction of the change they describe."""

from __future__ import annotations

from typing import Any

from app.audit.tables import AuditRecord


async def record(action: str, actor: str, *, event_id: int | None = None,
                 booking_id: int | None = None, **detail: Any) -> None:
    await AuditRecord.insert(
        AuditRecord(action=action, actor=actor, event=event_id, booking=booking_id, detail=detail)
    )
