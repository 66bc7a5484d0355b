"""Retention is code: personal data past its time is removed, history without names remains."""

import datetime as dt

from app.bookings.services import book_place
from app.jobs import deliver_due
from app.mail.sender import FileTransport
from app.retention.services import purge
from app.tables.bookings import Booking, BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from app.tables.register import Person
from tests import factories as f


async def test_people_long_gone_are_anonymised_and_old_email_bodies_removed(db, now, tmp_path):
    old = await f.event(now=now)
    recent = await f.event(now=now)
    for event_id, n in ((old, 1), (recent, 2)):
        await book_place(event_id, f.request(n), source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    await Event.update({Event.starts_at: now - dt.timedelta(days=7 * 365), Event.ends_at: now - dt.timedelta(days=7 * 365 - 1)}).where(Event.id == old)
    # The confirmations go (the sender renders them), then a hundred days pass.
    config = f.CONFIG.with_overrides(mail_dir=tmp_path)
    assert (await deliver_due(FileTransport(tmp_path), config=config, now=lambda: now)).sent == 2
    await OutboxMessage.update({OutboxMessage.created_at: now - dt.timedelta(days=100)}, force=True)
    preview = await purge(now=now, dry_run=True)
    assert (preview.people_anonymised, preview.emails_emptied) == (1, 2)
    assert await Person.count().where(Person.email == "person1@school.example.org") == 1  # dry run changed nothing
    done = await purge(now=now)
    assert (done.people_anonymised, done.emails_emptied) == (1, 2)
    people = {p["email"]: p["name"] for p in await Person.select()}
    assert "person1@school.example.org" not in people and "person2@school.example.org" in people
    assert any(name == "Removed (retention)" for name in people.values())
    assert await Booking.count() == 2  # the bookings (and so the evidence counts) remain
    assert await OutboxMessage.count().where(OutboxMessage.raw != "") == 0
    again = await purge(now=now)
    assert (again.people_anonymised, again.emails_emptied) == (0, 0)


async def test_the_purge_reaches_everything_that_names_someone(db, now, tmp_path):
    """Respondents, training declarations, audit details, cancellation reasons, names given,
    delivery errors, settings typed in by a childminder and .eml files: all gone when old; the
    same kinds of record, recent, untouched."""
    import os

    from app.bookings.services import cancel_booking
    from app.tables.audit import AuditRecord
    from app.tables.mail import DeliveryAttempt
    from app.tables.questionnaire import Response, TrainingDeclaration
    from app.tables.register import Setting

    long_ago = now - dt.timedelta(days=7 * 365)
    old, recent = await f.event(now=now), await f.event(now=now)
    made = await book_place(old, f.request(1, setting="Jo Bloggs Childminding"), source=BookingSource.web,
                            actor="public", now=now, config=f.CONFIG)
    await book_place(recent, f.request(2), source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    await cancel_booking(made.manage_token, actor="jo.barclay@essex.gov.uk", reason="Jo's daughter is unwell",
                         now=now, config=f.CONFIG)
    await Event.update({Event.starts_at: long_ago, Event.ends_at: long_ago + dt.timedelta(hours=2)}).where(Event.id == old)
    await Setting.update({Setting.created_at: long_ago}).where(Setting.name == "Jo Bloggs Childminding")
    setting_id = (await Setting.select(Setting.id).where(Setting.name == "Little Acorns Nursery").first())["id"]
    for when, who in ((long_ago, "old"), (now, "new")):
        await Response.insert(Response(setting=setting_id, questionnaire="eyq", academic_year="2019/20" if who == "old"
                                       else "2026/27", token_hash=f"t-{who}", respondent_email=f"{who}@nursery.example.org",
                                       sent_at=when, updated_at=when))
        await f.declaration(setting_id, person_name=f"Pat {who}", course="L3", provider="X", completed_on=when.date(),
                            now=when)
    await AuditRecord.update({AuditRecord.created_at: long_ago}).where(AuditRecord.booking == made.id)
    message = await OutboxMessage.select(OutboxMessage.id).first()
    await OutboxMessage.update({OutboxMessage.status: "failed", OutboxMessage.last_error: "550 no such user jo@x",
                                OutboxMessage.created_at: now - dt.timedelta(days=100)}).where(
        OutboxMessage.id == message["id"])
    await DeliveryAttempt.insert(DeliveryAttempt(message=message["id"], sender="s", outcome="error",
                                                 error="550 no such user jo@x", attempted_at=now))
    mail_dir = tmp_path / "outbox"
    mail_dir.mkdir()
    (mail_dir / "old.eml").write_text("To: jo@x")
    (mail_dir / "new.eml").write_text("To: sam@x")
    os.utime(mail_dir / "old.eml", (0, (now - dt.timedelta(days=100)).timestamp()))

    done = await purge(now=now, mail_dir=mail_dir)

    assert (done.respondents_removed, done.declarations_removed, done.settings_renamed, done.eml_files_deleted) == (1, 1, 1, 1)
    assert done.bookings_cleared == 1 and done.audit_details_removed >= 1 and done.emails_emptied == 1
    assert {r["respondent_email"] for r in await Response.select()} == {"removed@invalid", "new@nursery.example.org"}
    assert {d["person_name"] for d in await TrainingDeclaration.select()} == {"Removed (retention)", "Pat new"}
    cancelled = await Booking.select(Booking.cancel_reason, Booking.name_given).where(Booking.id == made.id).first()
    assert cancelled == {"cancel_reason": "", "name_given": ""}
    old_audit = await AuditRecord.select().where(AuditRecord.booking == made.id)
    assert old_audit and all(a["detail"] in ({}, "{}") and "@" not in a["actor"] for a in old_audit)
    assert await Setting.count().where(Setting.name == "Jo Bloggs Childminding") == 0
    assert await DeliveryAttempt.count().where(DeliveryAttempt.error != "") == 0
    assert sorted(p.name for p in mail_dir.iterdir()) == ["new.eml"]
    again = await purge(now=now, mail_dir=mail_dir)
    assert sum(vars(again).values()) == 0  # nothing left to do: a second purge changes nothing
