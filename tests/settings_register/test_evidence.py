"""Issue 25, point 5: a setting's page of evidence, and the link for an inspector its contact makes
through a secret link emailed to that address: days chosen (at most 30), withdrawn, nothing else
shown, each opening recorded, never indexed or cached, no referrer."""

from __future__ import annotations

import datetime as dt
import io
import re

import pypdf
import pytest

from app.attendance.services import mark
from app.bookings.services import book_place
from app.questionnaire.answers import clean
from app.questionnaire.seeding import list_questions, seed_questionnaire
from app.settings_register.services import record_lead
from app.settings_register.sharing import ShareEnded, open_share
from app.tables.attendance import Outcome
from app.tables.audit import AuditRecord
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from app.tables.questionnaire import Response
from app.tables.register import InspectorShare
from app.tables.training import Certificate
from tests import factories as f
from tests.support import answered_form, csrf_token, plain_text

CONTACT = "office@oak.example.org"


async def _setting_with_evidence(now: dt.datetime, organiser) -> int:
    oak = await f.setting("Oak Nursery", urn="EY123456", quadrant="west", setting_type="nursery",
                          contact_email=CONTACT, now=now)
    await record_lead(oak, role="dsl", name="Jo Barclay", email="jo@oak.example.org", since=None, actor="o",
                      now=now)
    event_id = await f.event(now=now, starts_in=dt.timedelta(hours=-3), title="West Safeguarding Forum")
    made = await book_place(event_id, f.request(1, email="jo@oak.example.org", setting="Oak Nursery", urn="EY123456")
                            .model_copy(update={"name": "Jo Barclay"}), source=BookingSource.web, actor="public",
                            now=now - dt.timedelta(days=3), config=f.CONFIG)
    await mark(made.id, Outcome.attended, organiser=organiser, now=now, config=f.CONFIG)
    seeded = await seed_questionnaire()
    questions = await list_questions(seeded.version_id)
    form = answered_form(**{"q6-compliant": "no", "q6-action_points": "Book Level 3 for Sam", "q6-when_who": "Jo, summer"})
    await Response.insert(Response(setting=oak, version=seeded.version_id, questionnaire=questions[0]["questionnaire"],
                                   academic_year="2026/27", token_hash="x" * 64, respondent_email=CONTACT,
                                   status="submitted", answers=clean(form, questions), sent_at=now, updated_at=now,
                                   submitted_at=now))
    return oak


async def _contact_link(client) -> str:
    form = await client.get("/settings/evidence/")
    sent = await client.post("/settings/evidence/", data={"email": CONTACT.upper(), "_csrf_token": csrf_token(form.text)})
    assert sent.status_code == 200 and "Check your email" in sent.text
    [raw] = await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "evidence_link").output(as_list=True)
    return re.search(r"http://testserver\.local(/settings/evidence/\S+)", plain_text(raw)).group(1)


async def test_an_inspector_sees_the_evidence_by_the_contacts_link_until_it_ends(db, client, organiser, now):
    oak = await _setting_with_evidence(now, organiser)
    code = (await Certificate.select(Certificate.code).first())["code"]
    link = await _contact_link(client)
    page = await client.get(link)
    assert page.status_code == 200 and "Oak Nursery" in page.text and "Make a link for an inspector" in page.text
    too_long = await client.post(f"{link}/shares", data={"setting": str(oak), "days": "31",
                                                        "_csrf_token": csrf_token(page.text)})
    assert too_long.status_code == 400 and "Enter a number of days from 1 to 30" in too_long.text
    assert f'href="#days-{oak}"' in too_long.text
    made = await client.post(f"{link}/shares", data={"setting": str(oak), "days": "3", "_csrf_token": csrf_token(page.text)})
    shared = re.search(r'<code id="made-link">http://testserver\.local(/evidence/[^<]+)</code>', made.text).group(1)
    inspector = await client.get(shared)
    assert inspector.status_code == 200
    for fact in ("Safeguarding evidence: Oak Nursery", "Jo Barclay", "Knowledge refreshed: last recorded",
                 "attended West Safeguarding Forum", code, "Book Level 3 for Sam", "2026/27, submitted"):
        assert fact in inspector.text, fact
    assert inspector.headers["x-robots-tag"].startswith("noindex")
    assert inspector.headers["cache-control"] == "no-store" and inspector.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in inspector.text
    assert "/organisers" not in inspector.text.split("</header>", 1)[-1]  # nothing else reachable from it
    pdf = await client.get(f"{shared}/evidence.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Safeguarding evidence: Oak Nursery" in " ".join(text.split()) and code in text
    share = await InspectorShare.select(InspectorShare.opened, InspectorShare.last_opened_at).first()
    assert share["opened"] == 2 and share["last_opened_at"] >= now
    assert await AuditRecord.count().where(AuditRecord.action == "evidence.share_opened") == 2
    # Three days on it has ended; a withdrawn one ends at once.
    made_at, ends = (await InspectorShare.select(InspectorShare.created_at, InspectorShare.expires_at).first()).values()
    assert ends - made_at == dt.timedelta(days=3)
    await open_share(shared.rsplit("/", 1)[1], now=ends - dt.timedelta(seconds=1))  # the last second still opens it
    with pytest.raises(ShareEnded):
        await open_share(shared.rsplit("/", 1)[1], now=ends)
    again = await client.post(f"{link}/shares", data={"setting": str(oak), "days": "30", "_csrf_token": csrf_token(page.text)})
    second = re.search(r'<code id="made-link">http://testserver\.local(/evidence/[^<]+)</code>', again.text).group(1)
    share_id = (await InspectorShare.select(InspectorShare.id).order_by(InspectorShare.id, ascending=False).first())["id"]
    withdrawn = await client.post(f"{link}/shares/{share_id}/withdraw", data={"_csrf_token": csrf_token(page.text)})
    assert withdrawn.status_code == 200 and "withdrawn" in withdrawn.text
    ended = await client.get(second)
    assert ended.status_code == 404 and "This link has ended or is not a link the setting made" in ended.text


async def test_only_the_contact_gets_the_link_and_a_copies_link_is_not_one(db, client, organiser, now):
    await _setting_with_evidence(now, organiser)
    form = await client.get("/settings/evidence/")
    stranger = await client.post("/settings/evidence/", data={"email": "someone@else.example",
                                                              "_csrf_token": csrf_token(form.text)})
    assert stranger.status_code == 200 and "Check your email" in stranger.text  # the same answer either way
    assert await OutboxMessage.count().where(OutboxMessage.kind == "evidence_link") == 0
    copies = await client.get("/settings/copies/")
    await client.post("/settings/copies/", data={"email": CONTACT, "_csrf_token": csrf_token(copies.text)})
    [raw] = await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "copies_link").output(as_list=True)
    token = re.search(r"/settings/copies/(\S+)", plain_text(raw)).group(1)
    assert (await client.get(f"/settings/evidence/{token}")).status_code == 404


async def test_organisers_see_the_evidence_page_and_its_pdf(db, signed_in, organiser, now):
    oak = await _setting_with_evidence(now, organiser)
    page = await signed_in.get(f"/organisers/settings/{oak}/evidence")
    assert page.status_code == 200 and "Forum attendance by term" in page.text and "Jo Barclay" in page.text
    pdf = await signed_in.get(f"/organisers/settings/{oak}/evidence.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
