"""What a webhook message says: its type, the time it happened, identifiers and facts, and the
person's name, email and role only where the endpoint's registration allows personal data.

Made from the audit record the message reports (and the booking, event and setting it names) at
the message's first delivery attempt, then kept: every retry sends the same bytes."""

from __future__ import annotations

import json
from typing import Any

from app.tables.audit import AuditRecord
from app.tables.bookings import Booking
from app.tables.register import Setting

#: The audit actions other systems hear of, and the type each is sent as. The trigger that
#: queues messages (migration 2026-12-08T01:48:22) names the same actions.
TYPES = {
    "booking.confirmed": "booking.made",
    "booking.walk_in": "booking.made",
    "booking.waitlisted": "booking.waitlisted",
    "booking.offered": "booking.offered",
    "booking.cancelled": "booking.cancelled",
    "booking.passed_to_colleague": "booking.passed_on",
    "attendance.attended": "attendance.recorded",
    "attendance.absent": "attendance.recorded",
    "attendance.corrected": "attendance.corrected",
    "certificate.issued": "certificate.issued",
    "certificate.reissued": "certificate.issued",
    "certificate.withdrawn": "certificate.withdrawn",
    "questionnaire.submitted": "questionnaire.submitted",
}
#: Facts copied from the audit record's detail where present, by type (never names or addresses).
FACTS = {
    "booking.cancelled": ("apology", "late"),
    "booking.offered": ("expires_at", "second_place"),
    "attendance.recorded": ("outcome", "source", "minutes_present"),
    "attendance.corrected": ("outcome", "was", "source", "minutes_present"),
    "certificate.issued": ("issue",),
    "certificate.withdrawn": ("reason",),
}


def message_id(audit_record: int) -> str:
    """The message's stable id (the `webhook-id` header): the same for every retry and endpoint."""
    return f"msg_{audit_record}"


async def payload(message: dict[str, Any], *, personal_data: bool) -> str:
    """The JSON body of `message` (a row of webhook_message)."""
    record = await AuditRecord.select().where(AuditRecord.id == message["audit_record"]).output(load_json=True).first()
    detail = (record or {}).get("detail") or {}
    kind = TYPES.get(message["action"], message["action"])
    data: dict[str, Any] = {}
    if message["booking"] is not None:
        booking = await Booking.select(
            Booking.id, Booking.reference, Booking.status, Booking.role, Booking.moves_from, Booking.source,
            Booking.event.id.as_alias("event_id"), Booking.event.title.as_alias("event_title"),
            Booking.event.starts_at.as_alias("starts_at"), Booking.setting.id.as_alias("setting_id"),
            Booking.setting.urn.as_alias("setting_urn"), Booking.person.name.as_alias("person_name"),
            Booking.person.email.as_alias("person_email")).where(Booking.id == message["booking"]).first()
        if booking is not None:
            if kind == "booking.made" and booking["moves_from"]:
                kind = "booking.moved"
                data["moved_from_booking"] = booking["moves_from"]
                data["moved_by"] = "organiser" if "@" in (record or {}).get("actor", "") or \
                    booking["source"] == "organiser" else "booker"
            data["booking"] = {"id": booking["id"], "reference": booking["reference"], "status": booking["status"],
                               "sequence": message["sequence"]}
            data["event"] = {"id": booking["event_id"], "title": booking["event_title"],
                             "starts_at": booking["starts_at"].isoformat()}
            data["setting"] = {"id": booking["setting_id"], "urn": booking["setting_urn"]}
            if personal_data:
                data["person"] = {"name": booking["person_name"], "email": booking["person_email"],
                                  "role": booking["role"]}
    if kind == "questionnaire.submitted" and detail.get("setting"):
        setting = await Setting.select(Setting.id, Setting.urn).where(Setting.id == detail["setting"]).first()
        data["setting"] = {"id": detail["setting"], "urn": setting["urn"] if setting else None}
    data.update({k: detail[k] for k in FACTS.get(kind, ()) if k in detail})
    if personal_data and kind == "booking.cancelled" and detail.get("reason"):
        data["reason"] = detail["reason"]  # the booker's own words: they may say why, about anyone
    happened = record["created_at"] if record else message["created_at"]
    return json.dumps({"type": kind, "timestamp": happened.isoformat(), "data": data}, separators=(",", ":"),
                      sort_keys=True)
