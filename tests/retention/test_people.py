"""A person's requests under UK GDPR: everything held about them, and erasure that keeps the
evidence true (attendance stays, anonymous)."""

import csv
import datetime as dt
import io
import json

import pytest

from app.bookings.services import book_place
from app.organisers.services import create_organiser
from app.questionnaire.evidence import attended as attended_records
from app.retention.people import (
    PersonNotFound,
    as_csv,
    as_json,
    erase_person,
    export_person,
)
from app.tables.attendance import Outcome
from app.tables.audit import AuditRecord
from app.tables.bookings import Booking, BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from app.tables.register import Person
from tests import factories as f


async def _attended_and_upcoming(now):
    organiser = await create_organiser(email="jo.barclay@essex.gov.uk", name="Jo Barclay",
                                       password="correct horse battery staple", now=now)
    past, future = await f.event(now=now), await f.event(now=now)
    request = f.request(1, email="Sam.Taylor@school.example.org")
    attended = await book_place(past, request, source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    upcoming = await book_place(future, request, source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    two_days_ago = now - dt.timedelta(days=2)
    await Event.update({Event.starts_at: two_days_ago, Event.ends_at: two_days_ago + dt.timedelta(hours=2)}).where(
        Event.id == past)
    return organiser, attended, upcoming, future


async def test_a_person_gets_everything_held_about_them(db, now):
    _, attended, upcoming, _ = await _attended_and_upcoming(now)
    held = await export_person("ＳＡＭ.taylor@school.example.org", actor="cli")  # however it is typed
    assert held["person"][0]["email"] == "sam.taylor@school.example.org"
    assert {b["reference"] for b in held["bookings"]} == {attended.reference, upcoming.reference}
    assert len(held["emails"]) == 2 and held["audit"]
    assert json.loads(as_json(held))["person"][0]["name"] == "Person 1"
    rows = list(csv.reader(io.StringIO(as_csv(held))))
    assert rows[0] == ["section", "item", "field", "value"]
    assert ["person", "1", "email", "sam.taylor@school.example.org"] in rows
    assert await AuditRecord.count().where(AuditRecord.action == "person.exported") == 1
    with pytest.raises(PersonNotFound):
        await export_person("nobody@school.example.org", actor="cli")


async def test_erasing_a_person_keeps_their_attendance_as_anonymous_evidence(db, now):
    organiser, attended, upcoming, future = await _attended_and_upcoming(now)
    from app.attendance.services import mark

    await mark(attended.id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    setting_id = (await Booking.select(Booking.setting).where(Booking.id == attended.id).first())["setting"]
    evidence_before = await attended_records(None, ["forum"], [setting_id])
    done = await erase_person("sam.taylor@school.example.org", actor="cli", now=now, config=f.CONFIG)
    assert (done.bookings_cancelled, done.bookings_kept_anonymous) == (1, 2)
    person = await Person.select().first()
    assert person["name"] == "Erased on request" and "sam" not in person["email"]
    assert (await Event.select(Event.places_taken).where(Event.id == future).first())["places_taken"] == 0
    rows = await Booking.select(Booking.manage_token, Booking.status, Booking.name_given)
    assert upcoming.manage_token not in {r["manage_token"] for r in rows}  # the old link is dead
    from app.tables.attendance import Attendance

    assert await Attendance.count().where(Attendance.outcome == "attended") == 1
    evidence_after = await attended_records(None, ["forum"], [setting_id])
    # The setting's evidence stays as it was, the person in it now nameless.
    assert len(evidence_after) == len(evidence_before) == 1
    assert [(a.setting_id, a.role, a.term) for a in evidence_after] == [(a.setting_id, a.role, a.term) for a in evidence_before]
    assert evidence_after[0].person_name == "Erased on request"
    assert await OutboxMessage.count().where(OutboxMessage.recipient.like("%sam%")) == 0
    assert await OutboxMessage.count().where(OutboxMessage.raw != "") == 0
    assert await AuditRecord.count().where(AuditRecord.action == "person.erased") == 1
    with pytest.raises(PersonNotFound):
        await export_person("sam.taylor@school.example.org", actor="cli")
