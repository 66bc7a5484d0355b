"""Emails reach a real SMTP server (aiosmtpd) exactly once, whatever happens to it."""

import asyncio
import datetime as dt
import os

import icalendar

from app.bookings.reminders import queue_due_reminders
from app.bookings.services import book_place, cancel_booking
from app.config import PROJECT_ROOT
from app.jobs import deliver_due
from app.mail.outbox import count_by_status, retry_failed
from app.mail.sender import FileTransport, SmtpTransport
from app.event_changes.events import EventChange, cancel_event, change_event
from app.programme.services import get_event
from app.tables.bookings import BookingSource
from app.tables.mail import DeliveryAttempt, OutboxMessage
from app.tables.programme import Event
from tests import factories as f
from tests.processes import AppProcess
from tests.support import RunningServer, SmtpSink, calendar_parts, free_port, run_cli


def book(event_id, n, config, now, **kw):
    return book_place(event_id, f.request(n, **kw), source=BookingSource.web, actor="public", now=now,
                      config=config)


def vevent(message):
    (content_type, payload), *_ = calendar_parts(message)
    cal = icalendar.Calendar.from_ical(payload)
    return content_type, cal["METHOD"], cal.walk("VEVENT")[0]


async def test_the_confirmation_arrives_with_a_meeting_request(db, now, smtp_server, mail_config):
    event_id = await f.event(now=now, title="West Safeguarding Forum")
    booking = await book(event_id, 1, mail_config, now)
    report = await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    assert report.sent == 1
    [received] = smtp_server.messages
    assert received["rcpt"] == ["person1@school.example.org"]
    [message] = smtp_server.parsed()
    assert message["To"] == "person1@school.example.org"
    assert message["Subject"].startswith("Booking confirmed: West Safeguarding Forum")
    types = [p.get_content_type() for p in message.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html",
                     "image/png", "text/calendar", "application/ics"]
    content_type, method, event = vevent(message)
    assert content_type == "text/calendar; method=REQUEST" and method == "REQUEST"
    assert str(event["UID"]) == booking.calendar_uid and event["SEQUENCE"] == 0
    text = message.get_body(("plain",)).get_content()
    assert booking.reference in text
    assert f"http://testserver.local/bookings/{booking.manage_token}" in text
    assert f"http://testserver.local/bookings/{booking.manage_token}/cancel" in text
    assert "Can't come?" in text
    html = message.get_body(("html",)).get_content()
    assert booking.reference in html and "release your place" in html
    assert [p.get_filename() for p in message.walk() if p.get_filename()] == ["check-in.png", "invite.ics"]
    # The QR code is this booking's check-in link (segno is deterministic, so the same link
    # gives the same image).
    from app.bookings.notices import checkin_qr_png
    from app.tables.bookings import Booking

    token = (await Booking.select(Booking.checkin_token).where(Booking.id == booking.id).first())["checkin_token"]
    [png] = [p.get_payload(decode=True) for p in message.walk() if p.get_content_type() == "image/png"]
    assert png == checkin_qr_png(f"http://testserver.local/organisers/check-in/{token}")
    assert 'src="cid:checkin-qr@safeguarding-bookings"' in html


async def test_online_confirmations_have_no_check_in_code(db, now, smtp_server, mail_config):
    event_id = await f.event(now=now, quadrant=None)
    await book(event_id, 1, mail_config, now)
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    [message] = smtp_server.parsed()
    assert "image/png" not in [p.get_content_type() for p in message.walk()]


async def test_online_bookers_get_the_teams_link_in_the_email_and_the_invite(db, now, smtp_server, mail_config):
    event_id = await f.event(now=now, quadrant=None, title="Online Safeguarding Forum")
    url = "https://teams.microsoft.com/l/meetup-join/abc"
    await Event.update({Event.join_url: url}).where(Event.id == event_id)
    await book(event_id, 1, mail_config, now)
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    [message] = smtp_server.parsed()
    assert url in message.get_body(("plain",)).get_content()
    _, _, event = vevent(message)
    assert str(event["LOCATION"]) == "Microsoft Teams meeting"
    assert url in str(event["DESCRIPTION"]) and str(event["X-MICROSOFT-SKYPETEAMSMEETINGURL"]) == url


async def test_a_venue_change_then_a_cancellation_update_the_same_meeting(db, now, smtp_server, mail_config):
    from app.tables.programme import Venue

    event_id = await f.event(now=now, title="South Safeguarding Forum")
    booking = await book(event_id, 1, mail_config, now)
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)  # the confirmation goes
    new_venue = (await Venue.insert(Venue(name="Basildon Lower Academy", address="Timberlog Close, Basildon, Essex",
                                          postcode="SS14 1UX")).returning(Venue.id))[0]["id"]
    changes = await change_event(event_id, EventChange(venue_id=new_venue), actor="cli", now=now,
                                 config=mail_config)
    assert changes and "Basildon Lower Academy" in changes[0]
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)  # the update goes
    await cancel_booking(booking.manage_token, actor="public", reason="", now=now, config=mail_config)
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    first, update, cancel = smtp_server.parsed()
    assert update["Subject"].startswith("Change to your booking")
    assert "The venue is now Basildon Lower Academy" in update.get_body(("plain",)).get_content()
    seen = [vevent(m) for m in (first, update, cancel)]
    assert [s[1] for s in seen] == ["REQUEST", "REQUEST", "CANCEL"]
    assert {str(s[2]["UID"]) for s in seen} == {booking.calendar_uid}
    assert [s[2]["SEQUENCE"] for s in seen] == [0, 1, 2]
    assert str(seen[1][2]["LOCATION"]).startswith("Basildon Lower Academy")
    assert seen[2][2]["STATUS"] == "CANCELLED"
    assert seen[2][0] == "text/calendar; method=CANCEL"


async def test_a_change_not_yet_sent_when_the_booking_is_cancelled_is_never_sent(db, now, smtp_server, mail_config):
    from app.tables.programme import Venue

    event_id = await f.event(now=now, title="South Safeguarding Forum")
    booking = await book(event_id, 1, mail_config, now)
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    venue = (await Venue.insert(Venue(name="Basildon Lower Academy", address="Timberlog Close, Basildon, Essex",
                                      postcode="SS14 1UX")).returning(Venue.id))[0]["id"]
    await change_event(event_id, EventChange(venue_id=venue), actor="cli", now=now, config=mail_config)
    await cancel_booking(booking.manage_token, actor="public", reason="", now=now, config=mail_config)
    report = await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    assert (report.sent, report.skipped) == (1, 1)
    first, cancel = smtp_server.parsed()
    assert cancel["Subject"].startswith("Your apologies")
    assert [vevent(m)[2]["SEQUENCE"] for m in (first, cancel)] == [0, 2]
    skipped = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.last_error).where(
        OutboxMessage.kind == "update").first()
    assert skipped == {"status": "skipped", "last_error": "the booking is cancelled"}


async def test_a_time_change_moves_the_meeting_and_says_what_changed(db, now, smtp_server, mail_config):
    event_id = await f.event(now=now)
    await book(event_id, 1, mail_config, now)
    await book(event_id, 2, mail_config, now)
    event = await get_event(event_id, now)
    later = event.starts_at + dt.timedelta(minutes=30)
    await change_event(event_id, EventChange(starts_at=later, ends_at=event.ends_at + dt.timedelta(minutes=30)),
                       actor="cli", now=now, config=mail_config)
    # Nothing changes the second time: nobody is emailed again.
    assert await change_event(event_id, EventChange(starts_at=later), actor="cli", now=now, config=mail_config) == []
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    updates = [m for m in smtp_server.parsed() if m["Subject"].startswith("Change")]
    assert sorted(m["To"] for m in updates) == ["person1@school.example.org", "person2@school.example.org"]
    for message in updates:
        _, _, vev = vevent(message)
        assert vev["DTSTART"].dt.astimezone(dt.timezone.utc) == later and vev["SEQUENCE"] == 1
        assert "The date and time are now" in message.get_body(("plain",)).get_content()


async def test_cancelling_an_event_cancels_every_booking_and_tells_each_booker(db, now, smtp_server, mail_config):
    event_id = await f.event(now=now, capacity=5)
    for n in range(3):
        await book(event_id, n, mail_config, now)
    told = await cancel_event(event_id, reason="The venue is closed for repairs.", actor="cli", now=now,
                              config=mail_config)
    assert told == 3
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    cancels = [m for m in smtp_server.parsed() if m["Subject"].startswith("Cancelled:")]
    assert len(cancels) == 3
    assert all(vevent(m)[1] == "CANCEL" for m in cancels)
    assert "The venue is closed for repairs." in cancels[0].get_body(("plain",)).get_content()
    event = await get_event(event_id, now)
    assert event.status == "cancelled" and event.availability.places_taken == 0


async def test_an_smtp_outage_loses_nothing_and_sends_each_email_exactly_once(db, now, mail_config):
    port = free_port()
    config = mail_config.with_overrides(smtp_port=port)  # nothing listens there yet
    event_id = await f.event(now=now, capacity=10)
    for n in range(5):
        await book(event_id, n, config, now)
    down = await deliver_due(SmtpTransport(config), config=config, now=lambda: now)
    assert (down.sent, down.retrying) == (0, 5)
    assert await DeliveryAttempt.count().where(DeliveryAttempt.outcome == "error") == 5
    assert (await get_event(event_id, now)).availability.places_taken == 5
    rows = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.last_error, OutboxMessage.next_attempt_at)
    assert {r["status"] for r in rows} == {"pending"} and all("Connect" in r["last_error"] or "refused" in r["last_error"].lower() for r in rows)
    # Too soon to retry: nothing happens.
    assert (await deliver_due(SmtpTransport(config), config=config, now=lambda: now)).sent == 0
    sink = SmtpSink(port).start()
    try:
        later = now + dt.timedelta(minutes=5)
        up = await deliver_due(SmtpTransport(config), config=config, now=lambda: later)
        again = await deliver_due(SmtpTransport(config), config=config, now=lambda: later + dt.timedelta(hours=2))
        assert (up.sent, again.sent) == (5, 0)
        received = sorted(m["To"] for m in sink.parsed())
        assert received == sorted(f"person{n}@school.example.org" for n in range(5))
        assert len({m["Message-ID"] for m in sink.parsed()}) == 5
    finally:
        sink.stop()
    assert await count_by_status() == {"pending": 0, "sending": 0, "sent": 5, "failed": 0, "skipped": 0}


async def test_a_message_that_keeps_failing_is_marked_failed_and_can_be_retried(db, now, mail_config):
    config = mail_config.with_overrides(smtp_port=free_port())
    event_id = await f.event(now=now)
    await book(event_id, 1, config, now)
    moment = now
    for _ in range(8):
        await deliver_due(SmtpTransport(config), config=config, now=lambda: moment)
        moment += dt.timedelta(hours=2)
    [row] = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error)
    assert row["status"] == "failed" and row["attempts"] == 8 and row["last_error"]
    assert await retry_failed(moment) == 1
    assert (await count_by_status())["pending"] == 1


async def test_two_senders_in_separate_processes_never_send_the_same_message(db, now, smtp_server, mail_config):
    event_id = await f.event(now=now, capacity=200)
    for n in range(120):
        await book(event_id, n, mail_config, now)
    env = {**os.environ, "DATABASE_URL": db, **smtp_server.settings_env()}
    senders = [AppProcess(["send-mail", "--once"], env, cwd=PROJECT_ROOT, merge_output=True) for _ in range(2)]
    codes = [await asyncio.to_thread(s.wait, 120) for s in senders]
    outputs = [s.output()[0] for s in senders]
    assert codes == [0, 0], outputs
    ids = smtp_server.message_ids()
    assert len(ids) == 120 and len(set(ids)) == 120
    assert await count_by_status() == {"pending": 0, "sending": 0, "sent": 120, "failed": 0, "skipped": 0}
    assert await DeliveryAttempt.count() == 120  # one attempt per message, none repeated


async def test_a_reminder_is_sent_once_however_often_the_scheduler_runs(db, now, smtp_server, mail_config):
    soon = await f.event(now=now, starts_in=dt.timedelta(days=2), title="Mid Safeguarding Forum")
    later = await f.event(now=now, starts_in=dt.timedelta(days=10))
    booking = await book(soon, 1, mail_config, now)
    await book(later, 1, mail_config, now)
    cancelled = await book(soon, 2, mail_config, now)
    await cancel_booking(cancelled.manage_token, actor="public", reason="", now=now, config=mail_config)
    assert await queue_due_reminders(config=mail_config, now=now) == 1
    assert await queue_due_reminders(config=mail_config, now=now) == 0
    await asyncio.gather(queue_due_reminders(config=mail_config, now=now),
                         queue_due_reminders(config=mail_config, now=now))
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    assert await queue_due_reminders(config=mail_config, now=now + dt.timedelta(hours=1)) == 0
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now + dt.timedelta(hours=1))
    reminders = [m for m in smtp_server.parsed() if m["Subject"].startswith("Reminder")]
    assert len(reminders) == 1
    text = reminders[0].get_body(("plain",)).get_content()
    assert "I can no longer attend: release my place" in text
    assert f"/bookings/{booking.manage_token}/cancel" in text


async def test_without_an_smtp_server_emails_are_written_as_eml_files(db, now, tmp_path):
    config = f.CONFIG.with_overrides(mail_dir=tmp_path / "outbox")
    event_id = await f.event(now=now)
    await book(event_id, 1, config, now)
    report = await deliver_due(FileTransport(config.mail_dir), config=config, now=lambda: now)
    assert report.sent == 1
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    assert "Booking confirmed" in path.read_text()
    content_types = [line for line in path.read_text().splitlines() if line.startswith("Content-Type: text/calendar")]
    assert content_types == ['Content-Type: text/calendar; charset="utf-8"; method="REQUEST"']


async def test_a_new_time_given_in_london_time_is_stored_and_sent_correctly(db, now, smtp_server, mail_config):
    from app.areas import LONDON

    event_id = await f.event(now=now, starts_in=dt.timedelta(days=400))
    await book(event_id, 1, mail_config, now)
    # 28 March 2028 is a Tuesday in BST: 09:30 London is 08:30 UTC.
    starts = dt.datetime(2028, 3, 28, 9, 30, tzinfo=LONDON)
    await change_event(event_id, EventChange(starts_at=starts, ends_at=starts + dt.timedelta(hours=2)),
                       actor="cli", now=now, config=mail_config)
    event = await get_event(event_id, now)
    assert event.starts_at == dt.datetime(2028, 3, 28, 8, 30, tzinfo=dt.timezone.utc)
    assert event.term.value == "spring" and event.academic_year == "2027/28"
    await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    update = smtp_server.parsed()[-1]
    assert "Tuesday 28 March 2028, 9:30am to 11:30am" in update.get_body(("plain",)).get_content()


async def test_web_processes_started_without_the_sender_leave_email_to_send_mail_workers(db, now, smtp_server):
    """The production layout: `serve --no-sender` web processes, `send-mail` workers beside them."""
    import httpx

    event_id = await f.event(now=now)
    with RunningServer(db, workers=2 if db.startswith("postgresql") else 1, extra_args=("--no-sender",),
                       extra_env=smtp_server.settings_env()) as server:
        response = httpx.post(f"{server.base_url}/api/events/{event_id}/bookings", json=f.api_body(1))
        assert response.status_code == 201
        # Longer than the in-process sender's poll (2 s; it also wakes at once for its own
        # process's email): it would have sent by now.
        await asyncio.sleep(2.2)
        assert smtp_server.messages == []
        assert (await count_by_status())["pending"] == 1
    worker = await asyncio.to_thread(run_cli, db, "send-mail", "--once", env=smtp_server.settings_env(), check=False)
    assert worker.returncode == 0, worker.stderr
    [confirmation] = smtp_server.parsed()
    assert confirmation["Subject"].startswith("Booking confirmed")


async def test_a_booking_cancelled_before_its_confirmation_goes_gets_none(db, now, smtp_server, mail_config):
    event_id = await f.event(now=now, quadrant=None, title="Online Safeguarding Forum")
    await Event.update({Event.join_url: "https://teams.example/l/meetup-join/abc"}).where(Event.id == event_id)
    booking = await book(event_id, 1, mail_config, now)
    await cancel_booking(booking.manage_token, actor="public", reason="", now=now, config=mail_config)
    report = await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    assert report.skipped == 1 and report.sent == 1
    [cancellation] = smtp_server.parsed()
    assert cancellation["Subject"].startswith("Your apologies")
    assert "teams.example" not in cancellation.as_string()
    skipped = await OutboxMessage.select().where(OutboxMessage.kind == "confirmation").first()
    assert skipped["status"] == "skipped" and "cancelled" in skipped["last_error"]


async def test_the_sender_renders_a_confirmation_once_and_a_retry_sends_the_same_bytes(db, now, mail_config):
    event_id = await f.event(now=now)
    await book(event_id, 1, mail_config, now)
    queued = await OutboxMessage.select().where(OutboxMessage.kind == "confirmation").first()
    assert queued["raw"] == "" and queued["message_id"]  # recorded in the booking, rendered later
    down = mail_config.with_overrides(smtp_port=free_port())  # nothing listens there
    assert (await deliver_due(SmtpTransport(down), config=down, now=lambda: now)).retrying == 1
    kept = await OutboxMessage.select().where(OutboxMessage.id == queued["id"]).first()
    assert kept["message_id"] in kept["raw"] and "Booking confirmed" in kept["subject"]
    sink = SmtpSink().start()
    try:
        up = mail_config.with_overrides(smtp_port=sink.port)
        later = now + dt.timedelta(hours=1)
        assert (await deliver_due(SmtpTransport(up), config=up, now=lambda: later)).sent == 1
        assert sink.messages[0]["data"].decode("ascii").replace("\r\n", "\n").strip() == \
            kept["raw"].replace("\r\n", "\n").strip()
    finally:
        sink.stop()


async def test_an_eml_file_is_named_without_the_address_even_one_with_a_slash(db, now, tmp_path):
    """An address may hold "/" (RFC 5322 allows it): the file is named by the message alone, so it
    is written (it used to stay pending for ever) and its name holds no personal data."""
    from app.mail.compose import compose_email
    from app.mail.outbox import queue_email
    from app.mail.sender import FileTransport
    from app.tables.mail import OutboxMessage

    config = f.CONFIG.with_overrides(mail_dir=tmp_path)
    await queue_email(compose_email("organiser_invite", recipient="jo/barclay@school.example.org", config=config,
                                    subject="Hello", name="Jo", invited_by="Sam", link="http://x"),
                      kind="organiser_invite", config=config, now=now)
    report = await deliver_due(FileTransport(tmp_path), config=config, now=lambda: now)
    assert report.sent == 1
    [written] = list(tmp_path.glob("*.eml"))
    assert "barclay" not in written.name and "jo/barclay@school.example.org" in written.read_text()
    assert (await OutboxMessage.select(OutboxMessage.status).first())["status"] == "sent"


async def test_a_batch_delivered_while_the_database_went_away_is_recorded_once_it_is_back(
        db, now, smtp_server, mail_config, monkeypatch):
    """Issue 22 point 8: the sender handed a batch to SMTP and could not record it (the database
    went away). It keeps what it knows and records it on its next pass, before claiming more:
    nothing is delivered twice, nothing waits for the claim's lease to lapse."""
    import pytest

    from app.mail import sender as mail_sender

    event_id = await f.event(now=now, capacity=10)
    for n in range(4):
        await book(event_id, n, mail_config, now)
    real_settle = mail_sender.settle

    async def database_gone(*args, **kwargs):
        raise ConnectionRefusedError("the database went away")

    monkeypatch.setattr(mail_sender, "settle", database_gone)
    with pytest.raises(ConnectionRefusedError):
        await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now)
    assert len(smtp_server.parsed()) == 4
    assert (await count_by_status())["sending"] == 4
    monkeypatch.setattr(mail_sender, "settle", real_settle)
    back = await deliver_due(SmtpTransport(mail_config), config=mail_config, now=lambda: now + dt.timedelta(seconds=5))
    assert back.sent == 4
    ids = smtp_server.message_ids()
    assert len(ids) == 4 and len(set(ids)) == 4
    assert await count_by_status() == {"pending": 0, "sending": 0, "sent": 4, "failed": 0, "skipped": 0}


async def test_a_sender_stopped_mid_batch_records_the_batch_it_holds_and_claims_no_more(db, now, mail_config):
    """`systemctl stop` sends SIGTERM: the worker finishes the batch in hand (sent and recorded,
    so nothing goes twice when a claim's lease would have run out) and claims nothing more."""
    slow = SmtpSink(seconds_a_message=0.03).start()
    try:
        event_id = await f.event(now=now, capacity=200)
        for n in range(80):  # a batch of 50, and 30 for the next
            await book(event_id, n, mail_config, now)
        env = {**os.environ, "DATABASE_URL": db, **slow.settings_env(), "PORT": "1"}
        worker = AppProcess(["send-mail"], env, cwd=PROJECT_ROOT, merge_output=True)
        try:
            deadline = asyncio.get_running_loop().time() + 30
            while not slow.messages and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
            assert slow.messages, "the worker sent nothing"
            worker.terminate()  # SIGTERM, mid-batch: one message of 50 accepted so far
            code = await asyncio.to_thread(worker.wait, 30)
            output = worker.output()[0]
        finally:
            worker.kill()
            worker.remove_files()
        assert code == 0, output
        assert "Sender stopped" in output
        counts = await count_by_status()
        assert counts["sending"] == 0, (counts, output)
        assert counts["sent"] == len(slow.messages) == 50, (counts, len(slow.messages))
        assert counts["pending"] == 30
    finally:
        slow.stop()
