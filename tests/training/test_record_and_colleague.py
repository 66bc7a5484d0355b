"""Issue 12, points 3, 4 and 5: a person's own training record (link by email only to the address
asked for, what it means today, PDF) and sending a colleague instead."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_string, policy

from app.attendance.services import mark
from app.bookings.services import book_place
from app.tables.attendance import MarkSource, Outcome
from app.tables.audit import AuditRecord
from app.tables.bookings import Booking, BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from app.tables.register import Setting
from app.areas import local
from app.formats import day_month_year
from app.training.record import training_record
from tests import factories as f
from tests.support import calendar_parts, plain_text
from tests.training.test_certificates_and_feedback import attended_booking, csrf, pdf_text, sent


async def test_the_record_link_goes_only_to_a_known_address_and_shows_what_was_attended(db, client, organiser, now,
                                                                                       tmp_path):
    event_id, booking_id, _ = await attended_booking(now, online=True)
    await Event.update({Event.title: "Online Safeguarding Forum"}).where(Event.id == event_id)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG, source=MarkSource.teams,
               minutes_present=95)
    form = await client.get("/my-record")
    assert form.status_code == 200 and "Work email address" in form.text
    bad = await client.post("/my-record", data={"email": "not an address", "_csrf_token": csrf(form.text)})
    assert bad.status_code == 400 and 'href="#email"' in bad.text
    stranger = await client.post("/my-record", data={"email": "nobody@example.org", "_csrf_token": csrf(form.text)})
    known = await client.post("/my-record", data={"email": "Jo.Barclay@oak.example.org", "_csrf_token": csrf(form.text)})
    # The same page either way: it never tells whether an address has bookings.
    assert stranger.status_code == known.status_code == 200
    assert "If nobody@example.org is the address you book with" in stranger.text
    [row] = await OutboxMessage.select(OutboxMessage.recipient).where(OutboxMessage.kind == "training_record")
    assert row["recipient"] == "jo.barclay@oak.example.org"
    [raw] = await sent(tmp_path, now, "training_record")
    link = re.search(r"http://testserver\.local(/my-record/\S+)", plain_text(raw)).group(1)
    page = await client.get(link)
    assert page.status_code == 200
    code = await _code()
    sessions = page.text[page.text.index('id="record-sessions"'):]
    assert "Online Safeguarding Forum" in sessions and ">95<" in sessions and code in sessions
    assert "Knowledge refreshed: last recorded " in page.text
    pdf = await client.get(f"{link}/record.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Safeguarding training record: Jo Barclay" in text and code in text
    certificate = await client.get(f"{link}/certificates/{code}")
    assert certificate.status_code == 200 and "Certificate of attendance" in pdf_text(certificate.content)
    assert (await client.get(f"{link}/certificates/0000-0000-0000-0000")).status_code == 404
    assert (await client.get("/my-record/not-a-token")).status_code == 404


async def _code() -> str:
    from app.tables.training import Certificate

    return (await Certificate.select(Certificate.code).first())["code"]


async def test_the_record_shows_the_clock_from_sessions_and_declarations(db, organiser, now):
    _, booking_id, _ = await attended_booking(now)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    setting = (await Booking.select(Booking.setting).first())["setting"]
    completed = dt.date(2025, 3, 14)
    # Declared before declarations named a work email: matched by the name, at a setting they booked for.
    await f.declaration(setting, person_name="jo  barclay", course="Level 3 child protection", completed_on=completed,
                        now=now)
    record = await training_record("JO.BARCLAY@oak.example.org", now, f.CONFIG)
    assert [s.title for s in record.sessions] == ["West Safeguarding Forum"]
    assert [d.course for d in record.declared] == ["Level 3 child protection"]
    forum_day = local(record.sessions[0].starts_at).date()  # four hours ago: yesterday, just after midnight
    assert record.today[1].startswith(f"Knowledge refreshed: last recorded {day_month_year(forum_day)} "
                                      f"(attended West Safeguarding Forum); a year on: ")
    assert record.today[2] == "Prevent awareness: nothing recorded in this service"


async def test_organisers_see_a_persons_record(db, signed_in, now):
    _, booking_id, _ = await attended_booking(now)
    person = (await Booking.select(Booking.person).first())["person"]
    page = await signed_in.get(f"/organisers/people/{person}")
    assert f'href="/organisers/people/{person}/record"' in page.text
    record = await signed_in.get(f"/organisers/people/{person}/record")
    assert record.status_code == 200 and "Training record: Jo Barclay" in record.text


async def test_a_colleague_takes_the_place_with_their_own_invite_and_the_first_calendar_is_cancelled(
        db, client, now, tmp_path):
    event_id = await f.event(now=now, starts_in=dt.timedelta(days=10), capacity=2, title="Mid Safeguarding Forum")
    made = await book_place(event_id, f.request(1, email="jo@oak.example.org"), source=BookingSource.web,
                            actor="public", now=now, config=f.CONFIG)
    before = await Booking.select(Booking.calendar_uid, Booking.setting).where(Booking.id == made.id).first()
    manage = await client.get(f"/bookings/{made.manage_token}")
    assert 'id="send-colleague"' in manage.text
    form = await client.get(f"/bookings/{made.manage_token}/colleague")
    token = csrf(form.text)
    own = await client.post(f"/bookings/{made.manage_token}/colleague",
                            data={"name": "Jo", "email": "jo@oak.example.org", "role": "dsl", "_csrf_token": token})
    assert own.status_code == 400 and "not your own" in own.text
    empty = await client.post(f"/bookings/{made.manage_token}/colleague", data={"_csrf_token": token})
    assert empty.status_code == 400 and 'href="#name"' in empty.text and 'href="#role"' in empty.text
    done = await client.post(f"/bookings/{made.manage_token}/colleague", data={
        "name": "Sam Patel", "email": "Sam.Patel@oak.example.org", "role": "deputy_dsl", "_csrf_token": token})
    assert done.status_code == 200 and "Your place has passed to Sam Patel" in done.text
    after = await Booking.select(Booking.status, Booking.role, Booking.manage_token, Booking.calendar_uid,
                                 Booking.setting, Booking.person.email.as_alias("email")).where(
        Booking.id == made.id).first()
    assert after["status"] == "confirmed" and after["email"] == "sam.patel@oak.example.org"
    assert after["role"] == "deputy_dsl" and after["setting"] == before["setting"]
    assert after["calendar_uid"] != before["calendar_uid"] and after["manage_token"] != made.manage_token
    assert (await Event.select(Event.places_taken).where(Event.id == event_id).first())["places_taken"] == 1
    # The old link no longer manages the place, and says who has it now (not "page not found").
    old = await client.get(f"/bookings/{made.manage_token}")
    assert old.status_code == 410 and "was passed to Sam Patel" in old.text and "Cancel" not in old.text
    assert (await client.get(f"/bookings/{made.manage_token}x")).status_code == 404
    await sent(tmp_path, now, "confirmation")
    messages = {r["kind"]: r for r in await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.recipient,
                                                                 OutboxMessage.raw, OutboxMessage.status)}
    cancel = message_from_string(messages["passed_on"]["raw"], policy=policy.default)
    assert messages["passed_on"]["recipient"] == "jo@oak.example.org" and messages["passed_on"]["status"] == "sent"
    ics = calendar_parts(cancel)[0][1]
    assert b"METHOD:CANCEL" in ics and before["calendar_uid"].encode() in ics
    assert after["manage_token"] not in messages["passed_on"]["raw"]  # never the colleague's link
    confirmation = message_from_string(messages["confirmation"]["raw"], policy=policy.default)
    assert messages["confirmation"]["recipient"] == "sam.patel@oak.example.org"
    ics = calendar_parts(confirmation)[0][1]
    assert b"METHOD:REQUEST" in ics and after["calendar_uid"].encode() in ics
    assert await AuditRecord.count().where(AuditRecord.action == "booking.passed_to_colleague") == 1
    # Sam cannot take a second place; and once the event has started nothing is passed on.
    second = await book_place(event_id, f.request(2, email="kim@oak.example.org"), source=BookingSource.web,
                              actor="public", now=now, config=f.CONFIG)
    form = await client.get(f"/bookings/{second.manage_token}/colleague")
    twice = await client.post(f"/bookings/{second.manage_token}/colleague", data={
        "name": "Sam Patel", "email": "sam.patel@oak.example.org", "role": "dsl", "_csrf_token": csrf(form.text)})
    assert twice.status_code == 409 and "Your colleague already has a place at this event" in twice.text
    await Event.update({Event.starts_at: now - dt.timedelta(minutes=5)}).where(Event.id == event_id)
    late = await client.post(f"/bookings/{after['manage_token']}/colleague", data={
        "name": "Kim Lee", "email": "kim.lee@oak.example.org", "role": "dsl", "_csrf_token": token})
    assert late.status_code == 409 and "can no longer be passed" in late.text
    assert await Setting.count() == 1


async def test_asking_for_a_record_link_is_limited_per_address(db, client, now):
    await attended_booking(now)
    form = await client.get("/my-record")
    answers = [(await client.post("/my-record", data={"email": "jo.barclay@oak.example.org",
                                                       "_csrf_token": csrf(form.text)})).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert await OutboxMessage.count().where(OutboxMessage.kind == "training_record") == 3


async def test_a_place_passed_to_a_colleague_counts_against_their_cap(db, now):
    """The colleague is held to `MAX_ACTIVE_BOOKINGS` as if they had booked: at the cap the pass
    is refused, nothing changes and no email is queued; their own next booking is then theirs."""
    from app.bookings.colleague import ColleagueHasTooMany, pass_to_colleague

    cap = f.CONFIG.max_active_bookings
    for n in range(cap):
        held = await f.event(now=now, title=f"Forum {n}")
        await book_place(held, f.request(n, email="ｓａｍ@oak.example.org"), source=BookingSource.web,
                         actor="public", now=now, config=f.CONFIG)
    event_id = await f.event(now=now, title="One more forum")
    made = await book_place(event_id, f.request(99, email="jo@oak.example.org"), source=BookingSource.web,
                            actor="public", now=now, config=f.CONFIG)
    queued = await OutboxMessage.count()
    try:
        await pass_to_colleague(made.manage_token, {"name": "Sam Patel", "email": "SAM@oak.example.org",
                                                    "role": "dsl"}, now=now, config=f.CONFIG)
        raise AssertionError("passed past the cap")
    except ColleagueHasTooMany as refused:
        assert f"already has {cap} bookings" in refused.message
    row = await Booking.select(Booking.manage_token, Booking.person.email.as_alias("email")).where(
        Booking.id == made.id).first()
    assert row == {"manage_token": made.manage_token, "email": "jo@oak.example.org"}
    assert await OutboxMessage.count() == queued
