"""Issue 25, point 4: the pack after a forum, checked to be a PDF, sent once to those who attended,
sent apologies or were absent, each by a link of their own; "I have read it" (a POST) refreshes
their knowledge on their clock, never Q13, never a certificate."""

from __future__ import annotations

import datetime as dt
import re

from app.areas import local
from app.attendance.services import mark
from app.bookings.services import book_place, cancel_booking
from app.clocks.dates import clocks_for
from app.tables.attendance import Attendance, Outcome
from app.tables.bookings import Booking, BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from app.tables.training import Certificate, PackCopy
from tests import factories as f
from tests.support import csrf_token, plain_text


async def _forum_with_bookers(now: dt.datetime, organiser) -> tuple[int, list]:
    event_id = await f.event(now=now, starts_in=dt.timedelta(days=5), title="West Safeguarding Forum")
    made = [await book_place(event_id, f.request(n, email=f"person{n}@oak.example.org"), source=BookingSource.web,
                             actor="public", now=now, config=f.CONFIG) for n in range(1, 5)]
    await cancel_booking(made[2].manage_token, actor="public", reason="", now=now, config=f.CONFIG)  # apologies
    await Event.update({Event.starts_at: now - dt.timedelta(hours=3), Event.ends_at: now - dt.timedelta(hours=1)}).where(
        Event.id == event_id)
    await mark(made[0].id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    await mark(made[1].id, Outcome.absent, organiser=organiser, now=now, config=f.CONFIG)
    return event_id, made


async def test_the_pack_is_a_pdf_sent_once_to_attended_apologies_and_absent(db, signed_in, organiser, now):
    event_id, made = await _forum_with_bookers(now, organiser)
    page = await signed_in.get(f"/organisers/events/{event_id}/pack")
    csrf = csrf_token(page.text)
    url = f"/organisers/events/{event_id}/pack"
    not_pdf = await signed_in.post(url, data={"_csrf_token": csrf}, files={"pack": ("slides.pdf", b"<html>", "application/pdf")})
    assert not_pdf.status_code == 400 and "The file must be a PDF" in not_pdf.text and 'href="#pack"' in not_pdf.text
    fake = await signed_in.post(url, data={"_csrf_token": csrf}, files={"pack": ("x.pdf", b"%PDF-1.4 junk", "application/pdf")})
    assert fake.status_code == 400  # a PDF header on something no reader opens
    big = await signed_in.post(url, data={"_csrf_token": csrf},
                               files={"pack": ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf")})
    assert big.status_code == 400 and "10 MB or smaller" in big.text
    pdf = f.pdf()
    attached = await signed_in.post(url, data={"_csrf_token": csrf}, files={"pack": ("Spring forum.pdf", pdf, "application/pdf")})
    assert attached.status_code == 200 and "Spring forum.pdf" in attached.text
    refused = await signed_in.post(f"{url}/send", data={"_csrf_token": csrf})
    assert refused.status_code == 409 and "Record attendance for everyone first (1 not marked)" in refused.text
    await mark(made[3].id, Outcome.absent, organiser=organiser, now=now, config=f.CONFIG)
    sent = await signed_in.post(f"{url}/send", data={"_csrf_token": csrf})
    assert sent.status_code == 200 and "Pack sent to 4 people" in sent.text
    again = await signed_in.post(f"{url}/send", data={"_csrf_token": csrf})
    assert again.status_code == 409 and "it is sent once" in again.text
    replace = await signed_in.post(url, data={"_csrf_token": csrf}, files={"pack": ("new.pdf", pdf, "application/pdf")})
    assert replace.status_code == 409
    rows = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.raw).where(
        OutboxMessage.kind == "forum_pack").order_by(OutboxMessage.recipient)
    assert [r["recipient"] for r in rows] == [f"person{n}@oak.example.org" for n in range(1, 5)]
    texts = [plain_text(r["raw"]).replace("\r\n", "\n") for r in rows]
    assert texts[0].startswith("Dear Person 1,\n\nThank you for coming to the West Safeguarding Forum")
    assert "You sent apologies for the West Safeguarding Forum" in texts[2]
    assert "We missed you at the West Safeguarding Forum" in texts[1]
    assert not any("Content-Disposition: attachment" in r["raw"] for r in rows)  # a link, never the file
    links = [re.search(r"http://testserver\.local(/packs/\S+)", t).group(1) for t in texts]
    assert len(set(links)) == 4


async def test_i_have_read_it_refreshes_knowledge_not_attendance(db, signed_in, organiser, client, now):
    event_id, made = await _forum_with_bookers(now, organiser)
    await mark(made[3].id, Outcome.absent, organiser=organiser, now=now, config=f.CONFIG)
    page = await signed_in.get(f"/organisers/events/{event_id}/pack")
    pdf = f.pdf()
    await signed_in.post(f"/organisers/events/{event_id}/pack", data={"_csrf_token": csrf_token(page.text)},
                         files={"pack": ("pack.pdf", pdf, "application/pdf")})
    await signed_in.post(f"/organisers/events/{event_id}/pack/send", data={"_csrf_token": csrf_token(page.text)})
    raw = (await OutboxMessage.select(OutboxMessage.raw).where(
        (OutboxMessage.kind == "forum_pack") & (OutboxMessage.recipient == "person2@oak.example.org")).first())["raw"]
    link = re.search(r"http://testserver\.local(/packs/\S+)", plain_text(raw)).group(1)
    shown = await client.get(link)  # what a mail scanner does: nothing is acknowledged
    assert shown.status_code == 200 and "I have read it" in shown.text
    assert await PackCopy.count().where(PackCopy.read_at.is_not_null()) == 0
    download = await client.get(f"{link}/file.pdf")
    assert download.content == pdf and download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == 'attachment; filename="pack.pdf"'
    marks_before = await Attendance.count()
    certificates_before = await Certificate.count()
    read = await client.post(link, data={"_csrf_token": csrf_token(shown.text)})
    assert read.status_code == 200 and "your knowledge refreshed on" in read.text
    clock = (await clocks_for(["person2@oak.example.org"], f.CONFIG))["person2@oak.example.org"]
    assert clock.date("knowledge").on == local(now).date()
    assert clock.date("knowledge").source == "read the forum pack of West Safeguarding Forum"
    assert (await Attendance.count(), await Certificate.count()) == (marks_before, certificates_before)
    assert (await Attendance.select(Attendance.outcome).where(Attendance.booking == made[1].id).first())["outcome"] == "absent"
    person = (await Booking.select(Booking.person).where(Booking.id == made[1].id).first())["person"]
    record = await signed_in.get(f"/organisers/people/{person}/record")
    assert "Forum packs read" in record.text and "West Safeguarding Forum" in record.text
    assert (await client.get("/packs/not-a-token")).status_code == 404
