"""Copies for a setting (issue 24, point 6), on both databases: the registered contact chooses
through a link emailed to that address (a POST; the link alone changes nothing); then each
confirmation, cancellation and certificate of its staff gets a copy to that address, its own
email, without the booker's manage, release or join links."""

import datetime as dt
import re
from email import message_from_string, policy

from app.bookings.notices import copy_email
from app.bookings.services import book_place, cancel_booking, get_booking
from app.settings_register.copies import choose_copies, request_contact_link
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from app.tables.register import Setting
from tests import factories as f
from tests.support import csrf_token

CONTACT = "office@oak-tree.example.org"


async def _setting() -> int:
    return await f.setting("Oak Tree Primary", urn="123456", contact_email=CONTACT)


async def _link(now) -> str:
    await request_contact_link(CONTACT, purpose="copies", config=f.CONFIG, now=now)
    [raw] = await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "copies_link").output(as_list=True)
    text = message_from_string(raw, policy=policy.default).get_body(("plain",)).get_content()
    return re.search(r"/settings/copies/([A-Za-z0-9_-]+)", text).group(1)


async def test_the_contact_chooses_copies_and_each_email_of_its_staff_is_copied_without_links(db, now):
    await _setting()
    token = await _link(now)
    await choose_copies(token, True, now=now)
    event_id = await f.event(now=now)
    made = await book_place(event_id, f.request(1, setting="Oak Tree Primary", urn="123456"),
                            source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    queued = await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.recipient).where(
        OutboxMessage.booking == made.id).order_by(OutboxMessage.id)
    assert [(q["kind"], q["recipient"]) for q in queued] == [
        ("confirmation", "person1@school.example.org"), ("copy_confirmation", CONTACT)]  # one recipient each
    booking = await get_booking(made.manage_token, now)
    copy = copy_email("confirmation", booking, recipient=CONTACT, config=f.CONFIG)
    assert copy.recipient == CONTACT and copy.ics is None
    assert "Person 1" in copy.text and "has booked a place" in copy.text
    assert made.manage_token not in copy.text and "/bookings/" not in copy.text and "/cancel" not in copy.text
    await cancel_booking(made.manage_token, actor="public", reason="", now=now, config=f.CONFIG)
    assert await OutboxMessage.count().where((OutboxMessage.kind == "copy_cancellation")
                                             & (OutboxMessage.recipient == CONTACT)) == 1


async def test_no_copies_until_the_contact_chooses_and_none_after_it_stops(db, now):
    await _setting()
    event_id = await f.event(now=now)
    await book_place(event_id, f.request(1, setting="Oak Tree Primary", urn="123456"), source=BookingSource.web,
                     actor="public", now=now, config=f.CONFIG)
    token = await _link(now)
    await choose_copies(token, True, now=now)
    await choose_copies(token, False, now=now)
    await book_place(event_id, f.request(2, setting="Oak Tree Primary", urn="123456"), source=BookingSource.web,
                     actor="public", now=now, config=f.CONFIG)
    assert await OutboxMessage.count().where(OutboxMessage.kind.like("copy_%")) == 0


async def test_an_address_not_on_the_register_gets_nothing_and_the_page_says_the_same(client, db, now):
    await _setting()
    form = await client.get("/settings/copies/")
    unknown = await client.post("/settings/copies/", data={"email": "someone@else.example.org",
                                                            "_csrf_token": csrf_token(form.text)})
    known = await client.post("/settings/copies/", data={"email": CONTACT, "_csrf_token": csrf_token(form.text)})
    assert unknown.status_code == known.status_code == 200
    assert 'id="copies-sent"' in unknown.text and 'id="copies-sent"' in known.text
    assert [r["recipient"] for r in await OutboxMessage.select(OutboxMessage.recipient).where(
        OutboxMessage.kind == "copies_link")] == [CONTACT]


async def test_the_link_shows_a_button_and_following_it_chooses_nothing(client, db, now):
    setting = await _setting()
    token = await _link(now)
    page = await client.get(f"/settings/copies/{token}")
    assert page.status_code == 200 and "Oak Tree Primary" in page.text and "No copies are sent." in page.text
    assert (await Setting.select(Setting.copies_to_contact).where(Setting.id == setting).first())["copies_to_contact"] is False
    saved = await client.post(f"/settings/copies/{token}", data={"copies": "yes", "_csrf_token": csrf_token(page.text)})
    assert saved.status_code == 200 and "copies will be sent" in saved.text
    assert (await Setting.select(Setting.copies_to_contact).where(Setting.id == setting).first())["copies_to_contact"] is True
    lapsed = await client.get("/settings/copies/" + "x" * 43)
    assert lapsed.status_code == 404 and "This link has expired" in lapsed.text


async def test_a_certificate_is_copied_with_its_pdf_and_without_the_bookers_links(db, now):
    from app.attendance.services import mark
    from app.jobs import renderer
    from app.mail.outbox import Claimed
    from app.organisers.services import create_organiser
    from app.tables.attendance import Outcome
    from app.tables.programme import Event

    await _setting()
    await choose_copies(await _link(now), True, now=now)
    event_id = await f.event(now=now)
    made = await book_place(event_id, f.request(1, setting="Oak Tree Primary", urn="123456"),
                            source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    start = now - dt.timedelta(hours=3)
    await Event.update({Event.starts_at: start, Event.ends_at: start + dt.timedelta(hours=2)}).where(Event.id == event_id)
    organiser = await create_organiser(email="o@essex.gov.uk", name="O", password="correct horse battery", now=now)
    await mark(made.id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    [row] = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.recipient).where(
        OutboxMessage.kind == "copy_certificate")
    assert row["recipient"] == CONTACT
    [rendered] = await renderer(f.CONFIG)([Claimed(id=row["id"], recipient=CONTACT, raw="", attempts=0,
                                                   kind="copy_certificate", booking_id=made.id)], "test", now)
    message = message_from_string(rendered.raw, policy=policy.default)
    assert message["To"] == CONTACT
    assert [p.get_content_type() for p in message.iter_attachments()] == ["application/pdf"]
    text = message.get_body(("plain",)).get_content()
    assert "/bookings/" not in text and "/feedback/" not in text and "Person 1 attended" in " ".join(text.split())
