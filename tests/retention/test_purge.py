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
