"""Issue 12, points 1, 2 and 5: certificates of attendance (issued once, PDF read back, public
check, withdrawn by a correction or an erasure, re-issued by organisers) and feedback."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from email import message_from_string, policy

import pypdf
import zxingcpp

from app.certificates.services import ALPHABET, certificate_for_booking, check_url, normal_code
from app.attendance.services import mark
from app.bookings.services import book_place
from app.jobs import deliver_due
from app.mail.sender import FileTransport
from app.retention.people import erase_person
from app.tables.attendance import MarkSource, Outcome
from app.tables.bookings import Booking, BookingSource
from app.tables.mail import OutboxMessage
from app.tables.training import Certificate, Feedback
from tests import factories as f
from tests.support import csrf_token as csrf, plain_text

CODE = re.compile(rf"^[{ALPHABET}]{{4}}(-[{ALPHABET}]{{4}}){{3}}$")


async def attended_booking(now: dt.datetime, *, online: bool = False, name: str = "Jo Barclay",
                           email: str = "jo.barclay@oak.example.org") -> tuple[int, int, str]:
    """A booking made before a session that has now ended: (event id, booking id, manage token)."""
    event_id = await f.event(now=now, starts_in=dt.timedelta(hours=-4), quadrant=None if online else "west",
                             title="Online Safeguarding Forum" if online else "West Safeguarding Forum")
    request = f.request(1, email=email).model_copy(update={"name": name})
    made = await book_place(event_id, request, source=BookingSource.web, actor="public",
                            now=now - dt.timedelta(days=3), config=f.CONFIG)
    return event_id, made.id, made.manage_token


async def sent(tmp_path, now: dt.datetime, kind: str) -> list[str]:
    await deliver_due(FileTransport(tmp_path), config=f.CONFIG, now=lambda: now + dt.timedelta(minutes=1))
    return [r["raw"] for r in await OutboxMessage.select(OutboxMessage.raw).where(
        (OutboxMessage.kind == kind) & (OutboxMessage.status == "sent")).order_by(OutboxMessage.id)]


def pdf_of(raw: str) -> tuple[str, bytes]:
    message = message_from_string(raw, policy=policy.default)
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    return part.get_filename(), part.get_content()


def pdf_text(data: bytes) -> str:
    return " ".join(pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().split())


async def test_attendance_issues_one_certificate_emailed_as_a_pdf_that_states_the_facts(db, organiser, now, tmp_path):
    _, booking_id, _ = await attended_booking(now)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)  # again: still one
    [certificate] = await Certificate.select()
    assert CODE.match(certificate["code"]) and certificate["issue"] == 1
    [raw] = await sent(tmp_path, now, "certificate")
    message = message_from_string(raw, policy=policy.default)
    assert message["To"] == "jo.barclay@oak.example.org"
    name, data = pdf_of(raw)
    assert name == f"certificate-{certificate['code']}.pdf"
    text = pdf_text(data)
    for fact in ("Certificate of attendance", "Jo Barclay", "Little Acorns Nursery", "West Safeguarding Forum",
                 "Time attended: 2 hours 30 minutes (the session's length)", certificate["code"],
                 "Issued by the Education Safeguarding Team, Essex County Council"):
        assert fact in text, fact
    # The verification address on one line of the page, never broken across two.
    lines = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().splitlines()
    assert any("http://testserver.local/certificates/verify" in line for line in lines)
    # Its QR code holds its own check: the code and the issue printed.
    [image] = pypdf.PdfReader(io.BytesIO(data)).pages[0].images
    url = f"http://testserver.local/certificates/verify?code={certificate['code']}&issue=1"
    assert check_url(await certificate_for_booking(booking_id), f.CONFIG) == url
    assert [b.text for b in zxingcpp.read_barcodes(image.image.convert("L"))] == [url]  # read back as a phone would
    assert pypdf.PdfReader(io.BytesIO(data)).trailer["/Root"].get("/MarkInfo", {}).get("/Marked")  # tagged
    body = plain_text(raw)
    assert f"http://testserver.local/feedback/{certificate['feedback_token']}" in body
    assert certificate["code"] in body and "http://testserver.local/certificates/verify" in body


async def test_teams_minutes_are_the_time_attended_online(db, organiser, now, tmp_path):
    _, booking_id, _ = await attended_booking(now, online=True)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG, source=MarkSource.teams,
               minutes_present=87)
    [raw] = await sent(tmp_path, now, "certificate")
    assert "Time attended: 1 hour 27 minutes (from the Microsoft Teams attendance report)" in pdf_text(pdf_of(raw)[1])


async def test_a_correction_withdraws_the_certificate_and_the_public_check_says_so(db, organiser, now, client, tmp_path):
    _, booking_id, token = await attended_booking(now)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    code = (await Certificate.select(Certificate.code).first())["code"]
    # Read out over the phone: lower case, spaces, O for 0 and I for 1 all find it.
    spoken = code.lower().replace("-", " ").replace("0", "o").replace("1", "i")
    assert normal_code(spoken) == code
    page = await client.get("/certificates/verify", params={"code": spoken})
    assert page.status_code == 200 and "This certificate stands" in page.text
    assert "J. B." in page.text and "West Safeguarding Forum" in page.text
    assert "2 hours 30 minutes (the session&#39;s length)" in page.text and "It is issue 1, issued on" in page.text
    assert "Jo Barclay" not in page.text and "Little Acorns" not in page.text  # initials, never the name
    manage = await client.get(f"/bookings/{token}")
    assert "Download your certificate (PDF)" in manage.text
    download = await client.get(f"/bookings/{token}/certificate.pdf")
    assert download.headers["content-type"] == "application/pdf" and "Jo Barclay" in pdf_text(download.content)
    await mark(booking_id, Outcome.absent, organiser=organiser, now=now, config=f.CONFIG)
    withdrawn = await client.get("/certificates/verify", params={"code": code})
    assert "This certificate has been withdrawn" in withdrawn.text and "This certificate stands" not in withdrawn.text
    assert "corrected to absent" in withdrawn.text and "J. B." not in withdrawn.text
    assert (await client.get(f"/bookings/{token}/certificate.pdf")).status_code == 404
    assert await sent(tmp_path, now, "certificate") == []  # queued before the correction: never sent
    unknown = await client.get("/certificates/verify", params={"code": "0000-0000-0000-0000"})
    assert unknown.status_code == 404 and 'href="#code"' in unknown.text
    # Marked attended again: the same certificate comes back as a new issue, and is sent.
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    assert (await Certificate.select(Certificate.code, Certificate.issue).first()) == {"code": code, "issue": 2}
    assert len(await sent(tmp_path, now, "certificate")) == 1
    # The first issue's QR code (code and issue 1) now says that copy no longer stands.
    held = await client.get("/certificates/verify", params={"code": code, "issue": "1"})
    assert "This copy is out of date" in held.text and "The copy you hold says issue 1" in held.text
    answer = (await client.get(f"/api/certificates/{code}", params={"issue": 1})).json()
    assert (answer["status"], answer["issue"], answer["held_issue"], answer["initials"]) == ("reissued", 2, 1, "J. B.")
    assert (await client.get(f"/api/certificates/{code}")).json()["status"] == "current"
    missing = await client.get("/api/certificates/0000-0000-0000-0000")
    assert missing.status_code == 404 and missing.json()["code"] == "certificate_not_found"


async def test_organisers_see_certificates_and_reissue_one_after_a_correction(db, signed_in, now, tmp_path):
    event_id, booking_id, _ = await attended_booking(now, name="Jo Barcley")
    page = await signed_in.get(f"/organisers/events/{event_id}/attendance")
    marked = await signed_in.post(f"/organisers/events/{event_id}/attendance/{booking_id}",
                                  data={"outcome": "attended", "_csrf_token": csrf(page.text)}, follow_redirects=False)
    assert marked.status_code == 303
    listing = await signed_in.get(f"/organisers/events/{event_id}/certificates")
    assert "Jo Barcley" in listing.text and "Certificates issued (1)" in listing.text
    await Booking.update({Booking.name_given: "Jo Barclay"}).where(Booking.id == booking_id)  # the name corrected
    again = await signed_in.post(f"/organisers/events/{event_id}/certificates/{booking_id}/reissue",
                                 data={"_csrf_token": csrf(listing.text)}, follow_redirects=False)
    assert again.status_code == 303 and "reissued=" in again.headers["location"]
    row = await Certificate.select(Certificate.person_name, Certificate.issue).first()
    assert row == {"person_name": "Jo Barclay", "issue": 2}
    raws = await sent(tmp_path, now, "certificate")
    assert len(raws) == 2 and "Jo Barclay" in pdf_text(pdf_of(raws[1])[1])
    assert "replaces the one we sent before" in plain_text(raws[1])


async def test_erasing_the_person_withdraws_their_certificates(db, organiser, now, client):
    _, booking_id, _ = await attended_booking(now)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    code = (await Certificate.select(Certificate.code).first())["code"]
    await erase_person("jo.barclay@oak.example.org", actor="cli", now=now, config=f.CONFIG)
    row = await Certificate.select(Certificate.person_name, Certificate.withdrawn_reason).first()
    assert row == {"person_name": "", "withdrawn_reason": "erased"}
    assert "This certificate has been withdrawn" in (await client.get("/certificates/verify", params={"code": code})).text


async def test_feedback_once_per_booking_summarised_per_event_and_kind_and_exported(db, signed_in, organiser, now):
    event_id, booking_id, _ = await attended_booking(now)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    token = (await Certificate.select(Certificate.feedback_token).first())["feedback_token"]
    form = await signed_in.get(f"/feedback/{token}")
    assert form.status_code == 200 and "How useful was it for your role?" in form.text
    missing = await signed_in.post(f"/feedback/{token}", data={"_csrf_token": csrf(form.text), "comments": "Good"})
    assert missing.status_code == 400 and 'href="#usefulness"' in missing.text and "Good" in missing.text
    given = await signed_in.post(f"/feedback/{token}", data={
        "_csrf_token": csrf(form.text), "usefulness": "very", "cover_next": "=HYPERLINK(\"http://x\")",
        "comments": "The case studies helped"})
    assert given.status_code == 200 and "Thank you for your feedback" in given.text
    twice = await signed_in.post(f"/feedback/{token}", data={"_csrf_token": csrf(form.text), "usefulness": "not_useful"})
    assert twice.status_code == 409 and await Feedback.count() == 1
    assert (await signed_in.get("/feedback/not-a-token")).status_code == 404
    per_event = await signed_in.get(f"/organisers/events/{event_id}/certificates")
    assert "Feedback (1)" in per_event.text and "The case studies helped" in per_event.text
    per_kind = await signed_in.get("/organisers/feedback", params={"year": "2026/27"})
    assert "Safeguarding Forum" in per_kind.text and "100%" in per_kind.text
    export = await signed_in.get("/organisers/feedback.csv", params={"event": event_id})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[1][3:6] == ["Very useful", "'=HYPERLINK(\"http://x\")", "The case studies helped"]
    assert (await signed_in.get("/organisers/feedback.xlsx", params={"event": event_id})).status_code == 200


async def test_a_certificate_names_its_signatory_from_configuration_and_the_kind_of_session(db, organiser, now, tmp_path):
    from app.tables.programme import Event

    config = f.CONFIG.with_overrides(certificate_signatory_name="Alex Morgan",
                                     certificate_signatory_role="Education Safeguarding Manager")
    event_id, booking_id, _ = await attended_booking(now)
    await Event.update({Event.kind: await f.kind("prevent"), Event.title: "Prevent session 1"}).where(Event.id == event_id)
    await mark(booking_id, Outcome.attended, organiser=organiser, now=now, config=config)
    await deliver_due(FileTransport(tmp_path), config=config, now=lambda: now + dt.timedelta(minutes=1))
    [raw] = [r["raw"] for r in await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "certificate")]
    text = pdf_text(pdf_of(raw)[1])
    assert "Alex Morgan, Education Safeguarding Manager, Essex County Council" in text
    assert "Issued by the Education Safeguarding Team" not in text
    from app.tables.programme import EventKind

    kind = (await EventKind.select(EventKind.name).where(EventKind.code == "prevent").first())["name"]
    assert kind in text


async def test_a_prevent_session_says_who_leads_it_and_a_forum_what_it_covers(db, organiser, now, tmp_path):
    """Issue 21 point 4: the 2023/24 Prevent sessions' trainer (name and role) on the page and the
    certificate, the role only in the invite (a calendar object names nobody); a forum's agenda as
    "Covered: …" on its page, its invite and its certificate."""
    from app.programme.seeding import seed_programme
    from app.tables.programme import Event
    from tests.support import app_client, calendar_parts
    from tests.conftest import _app_for

    await seed_programme(demo=True, now=now)
    prevent = (await Event.select(Event.id).where(Event.seed_key == "demo:prevent/spring").first())["id"]
    forum = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/summer/west").first())["id"]
    async with app_client(_app_for(db)) as client:
        prevent_page = (await client.get(f"/events/{prevent}")).text
        forum_page = (await client.get(f"/events/{forum}")).text
    assert "David Layton-Scott, DfE Regional Prevent Coordinator, East of England" in prevent_page
    assert "feedback on the findings of the Early Years Safeguarding Questionnaire" in forum_page
    made = {}
    for event_id in (prevent, forum):
        starts = (await Event.select(Event.starts_at).where(Event.id == event_id).first())["starts_at"]
        booked = await book_place(event_id, f.request(event_id, email=f"jo{event_id}@oak.example.org"),
                                  source=BookingSource.web, actor="public", now=min(now, starts - dt.timedelta(days=1)),
                                  config=f.CONFIG)
        made[event_id] = booked.id
    invites = {}
    for raw in await sent(tmp_path, now, "confirmation"):
        message = message_from_string(raw, policy=policy.default)
        invites[message["To"]] = calendar_parts(message)[0][1].decode().replace("\r\n ", "")
    prevent_invite, forum_invite = invites[f"jo{prevent}@oak.example.org"], invites[f"jo{forum}@oak.example.org"]
    assert "DfE Regional Prevent Coordinator\\, East of England" in prevent_invite
    assert "Layton-Scott" not in prevent_invite
    assert "Covered: The updated Working together to safeguard children (DfE)" in forum_invite
    for event_id in (prevent, forum):  # the sessions are over: attendance is recorded
        await Event.update({Event.starts_at: now - dt.timedelta(hours=3), Event.ends_at: now - dt.timedelta(hours=1)}).where(
            Event.id == event_id)
        await mark(made[event_id], Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    texts = [pdf_text(pdf_of(raw)[1]) for raw in await sent(tmp_path, now, "certificate")]
    assert any("Led by David Layton-Scott, DfE Regional Prevent Coordinator, East of England." in t for t in texts)
    assert any("Covered: The updated Working together to safeguard children (DfE); feedback on the findings" in t
               for t in texts)
