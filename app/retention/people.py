"""One person's data on request (UK GDPR rights of access and erasure): everything held about an
email address, and erasing it while keeping attendance as anonymous facts, so a setting's Q13
terms stay true. Both are recorded in the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
from dataclasses import dataclass
from typing import Any

from app.certificates.services import withdraw_for_people
from app.audit.services import record
from app.bookings.services import cancel_booking
from app.clocks.dates import forget_clocks
from app.config import Config
from app.db import write_transaction
from app.errors import NotFound
from app.retention.services import REMOVED
from app.tables.attendance import Attendance
from app.tables.audit import AuditRecord
from app.tables.bookings import ACTIVE_STATUSES, Booking
from app.tables.mail import DeliveryAttempt, MessageStatus, OutboxMessage
from app.tables.organisers import Organiser
from app.tables.questionnaire import Response, TrainingDeclaration
from app.tables.register import Person
from app.tables.training import RecordLink
from app.validation import normal_email


class PersonNotFound(NotFound):
    message = "No one with this email address is on file"


def _declared_by(name: str) -> Any:
    """Training declarations under this name (case-insensitive; exactly, if the name holds a
    character a LIKE pattern would read as a wildcard)."""
    if "%" in name or "_" in name:
        return TrainingDeclaration.person_name == name
    return TrainingDeclaration.person_name.ilike(name)


async def _person(email: str) -> dict[str, Any]:
    person = await Person.select().where(Person.email == normal_email(email).lower()).first()
    if person is None:
        raise PersonNotFound()
    return person


async def export_person(email: str, *, actor: str) -> dict[str, list[dict[str, Any]]]:
    """Everything held about the person with this email address, by kind. Training declarations
    name people only by name (a setting typed it), so those with the same name are included."""
    person = await _person(email)
    bookings = await Booking.select(
        Booking.id, Booking.reference, Booking.event.title.as_alias("event"), Booking.event.starts_at.as_alias("starts_at"),
        Booking.status, Booking.role, Booking.name_given, Booking.setting.name.as_alias("setting"), Booking.source,
        Booking.created_at, Booking.cancelled_at, Booking.cancel_reason,
    ).where(Booking.person == person["id"]).order_by(Booking.id)
    attendance = await Attendance.select(
        Attendance.booking.reference.as_alias("booking"), Attendance.outcome, Attendance.source,
        Attendance.minutes_present, Attendance.recorded_at,
    ).where(Attendance.booking.person == person["id"]).order_by(Attendance.id)
    emails = await OutboxMessage.select(
        OutboxMessage.kind, OutboxMessage.subject, OutboxMessage.status, OutboxMessage.created_at, OutboxMessage.sent_at,
    ).where(OutboxMessage.recipient == person["email"]).order_by(OutboxMessage.id)
    audit = await AuditRecord.select(AuditRecord.action, AuditRecord.actor, AuditRecord.created_at, AuditRecord.detail).where(
        AuditRecord.person == person["id"]).order_by(AuditRecord.id)
    responses = await Response.select(
        Response.setting.name.as_alias("setting"), Response.academic_year, Response.status, Response.sent_at,
        Response.submitted_at,
    ).where(Response.respondent_email == person["email"])
    declarations = await TrainingDeclaration.select(
        TrainingDeclaration.setting.name.as_alias("setting"), TrainingDeclaration.kind, TrainingDeclaration.person_name,
        TrainingDeclaration.course, TrainingDeclaration.provider, TrainingDeclaration.completed_on,
    ).where(_declared_by(person["name"]))
    account = await Organiser.select(Organiser.name, Organiser.email, Organiser.active, Organiser.created_at,
                                     Organiser.last_sign_in_at).where(Organiser.email == person["email"])
    await record("person.exported", actor, person_id=person["id"])
    return {
        "person": [{k: person[k] for k in ("id", "name", "email", "created_at", "updated_at")}],
        "bookings": [{k: v for k, v in b.items() if k != "id"} for b in bookings],
        "attendance": attendance, "emails": emails, "audit": audit, "questionnaire_responses": responses,
        "training_declarations_by_name": declarations, "organiser_account": account,
    }


def _text(value: Any) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def as_json(held: dict[str, list[dict[str, Any]]]) -> str:
    return json.dumps(held, default=_text, indent=2, ensure_ascii=False)


def as_csv(held: dict[str, list[dict[str, Any]]]) -> str:
    """One row per value: section, item number, field, value (a spreadsheet-safe layout: values
    starting with a formula character are prefixed with an apostrophe)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", "field", "value"])
    for section, rows in held.items():
        for n, row in enumerate(rows, start=1):
            for field, value in row.items():
                text = _text(value)
                writer.writerow([section, n, field, f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text])
    return out.getvalue()


@dataclass
class Erasure:
    person_id: int
    bookings_cancelled: int
    bookings_kept_anonymous: int
    emails_removed: int
    responses_removed: int
    declarations_removed: int


async def erase_person(email: str, *, actor: str, now: dt.datetime, config: Config) -> Erasure:
    """Erase the person: bookings for events to come are cancelled (their places offered on),
    and then, in one transaction, name and email replaced, every booking's manage and check-in
    links made worthless, names given and reasons cleared, emails to them removed (pending ones
    not sent), audit details, questionnaire respondent addresses and training declarations under
    their name or address removed, their clock and its reminders deleted, certificates withdrawn (what they stated about the person cleared) and
    links to their training record deleted. Attendance stays, anonymous: the settings' evidence
    stays true."""
    person = await _person(email)
    upcoming = await Booking.select(Booking.manage_token).where(
        (Booking.person == person["id"]) & Booking.status.is_in([s.value for s in ACTIVE_STATUSES])
        & (Booking.event.starts_at > now))
    for booking in upcoming:
        await cancel_booking(booking["manage_token"], actor=actor, reason="", now=now, config=config, apology=False)
    async with write_transaction():
        bookings = await Booking.select(Booking.id).where(Booking.person == person["id"])
        for booking in bookings:  # new secrets, one by one (each is unique)
            await Booking.update({Booking.manage_token: secrets.token_urlsafe(32),
                                  Booking.checkin_token: secrets.token_urlsafe(24), Booking.name_given: "",
                                  Booking.cancel_reason: "", Booking.updated_at: now}).where(Booking.id == booking["id"])
        messages = OutboxMessage.recipient == person["email"]
        emails = await OutboxMessage.count().where(messages)
        await DeliveryAttempt.update({DeliveryAttempt.error: ""}).where(
            DeliveryAttempt.message.is_in(OutboxMessage.select(OutboxMessage.id).where(messages)))
        await OutboxMessage.update({OutboxMessage.status: MessageStatus.skipped.value}).where(
            messages & OutboxMessage.status.is_in([MessageStatus.pending.value, MessageStatus.failed.value]))
        await OutboxMessage.update({OutboxMessage.raw: "", OutboxMessage.last_error: "",
                                    OutboxMessage.recipient: "removed@invalid"}).where(messages)
        await AuditRecord.update({AuditRecord.detail: {}}).where(AuditRecord.person == person["id"])
        responses = await Response.update({Response.respondent_email: "removed@invalid"}).where(
            Response.respondent_email == person["email"]).returning(Response.id)
        declarations = await TrainingDeclaration.update({TrainingDeclaration.person_name: REMOVED,
                                                         TrainingDeclaration.email: ""}).where(
            _declared_by(person["name"]) | (TrainingDeclaration.email == person["email"])).returning(
            TrainingDeclaration.id)
        await withdraw_for_people([person["id"]], actor=actor, now=now)
        await RecordLink.delete().where(RecordLink.email == person["email"])
        await forget_clocks([person["email"]])
        await Person.update({Person.name: "Erased on request", Person.email: f"erased-{person['id']}@invalid",
                             Person.updated_at: now}).where(Person.id == person["id"])
        await record("person.erased", actor, person_id=person["id"])
    return Erasure(person_id=person["id"], bookings_cancelled=len(upcoming), bookings_kept_anonymous=len(bookings),
                   emails_removed=emails, responses_removed=len(responses), declarations_removed=len(declarations))
