"""Issue 12 in a real browser, every page checked with axe: attend → certificate → feedback →
training record (and the public check of the certificate); book → send a colleague instead."""

import asyncio
import datetime as dt
import re

import pytest
from playwright.async_api import expect

from app.bookings.services import book_place
from app.tables.bookings import BookingSource
from app.tables.programme import Event
from tests import factories as f
from tests.browser.test_booking_journey import assert_accessible, delivered
from tests.browser.test_organiser_workspace import signed_in_page

#: On the session's event loop, with the one Chromium of this test process (conftest).
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def email_with(smtp_server, subject: str):
    """The first delivered email whose subject starts with `subject` (waiting for the sender)."""
    for _ in range(300):
        found = [m for m in smtp_server.parsed() if m["Subject"].startswith(subject)]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no email {subject!r} in {[m['Subject'] for m in smtp_server.parsed()]}")


def body_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message, path: str) -> str:
    return re.search(rf"https?://\S+?({re.escape(path)}\S+)", body_of(message)).group(1)


async def test_attend_certificate_feedback_record(browser, server, smtp_server, now):
    event_id = await f.event(now=now, starts_in=dt.timedelta(hours=-3), title="West Safeguarding Forum")
    await Event.update({Event.kind: await f.kind("forum")}).where(Event.id == event_id)
    await book_place(event_id, f.request(1, email="jo.barclay@oak.example.org").model_copy(update={"name": "Jo Barclay"}),
                     source=BookingSource.web, actor="public", now=now - dt.timedelta(days=2),
                     config=f.CONFIG.with_overrides(base_url=server.base_url))
    smtp_server.messages.clear()
    organiser = await signed_in_page(browser, server, now)
    await organiser.goto(f"{server.base_url}/organisers/events/{event_id}/attendance")
    await organiser.get_by_role("button", name="Attended: Jo Barclay").click()
    await expect(organiser.locator("#attendance-status")).to_have_text("Jo Barclay: Attended")
    # The sender makes the certificate and emails it with the PDF and the feedback link.
    certificate_email = await email_with(smtp_server, "Your certificate of attendance")
    assert certificate_email["To"] == "jo.barclay@oak.example.org"
    [pdf] = [p for p in certificate_email.iter_attachments() if p.get_content_type() == "application/pdf"]
    code = re.search(r"Verification code: (\S+)", body_of(certificate_email)).group(1)
    assert pdf.get_filename() == f"certificate-{code}.pdf"
    await organiser.goto(f"{server.base_url}/organisers/events/{event_id}/certificates")
    await expect(organiser.locator("#certificates")).to_contain_text(code)
    await assert_accessible(organiser, "certificates and feedback")

    page = await browser.new_page()
    await page.goto(server.base_url + link_in(certificate_email, "/feedback/"))
    await assert_accessible(page, "feedback form")
    await page.get_by_role("button", name="Send feedback").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Select how useful the session was")
    await assert_accessible(page, "feedback form with errors")
    await page.get_by_label("Very useful").check()
    await page.get_by_label("What should we cover next time? (optional)").fill("Online safety for under-fives")
    await page.get_by_role("button", name="Send feedback").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Thank you for your feedback")
    await assert_accessible(page, "feedback given")

    await page.goto(server.base_url + "/my-record")
    await assert_accessible(page, "ask for my record")
    await page.get_by_label("Work email address").fill("jo.barclay@oak.example.org")
    await page.get_by_role("button", name="Email me a link to my record").click()
    await expect(page.locator("#sent")).to_contain_text("jo.barclay@oak.example.org")
    await assert_accessible(page, "record link sent")
    record_email = await email_with(smtp_server, "Your safeguarding training record")
    await page.goto(server.base_url + link_in(record_email, "/my-record/"))
    await expect(page.locator("#record-sessions")).to_contain_text("West Safeguarding Forum")
    await expect(page.locator("#record-sessions")).to_contain_text(code)
    await expect(page.locator("#record-today")).to_contain_text("Knowledge refreshed: last recorded")
    await assert_accessible(page, "my training record")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download it as a PDF").click()
    assert (await download.value).suggested_filename == "safeguarding-training-record.pdf"

    await page.goto(server.base_url + "/certificates/verify")
    await assert_accessible(page, "check a certificate")
    await page.get_by_label("Verification code").fill(code.lower())
    await page.get_by_role("button", name="Check the certificate").click()
    await expect(page.locator("#result")).to_contain_text("This certificate stands")
    await expect(page.locator("#certificate")).to_contain_text("J. B.")
    await assert_accessible(page, "certificate checked")
    await organiser.goto(f"{server.base_url}/organisers/events/{event_id}/certificates")
    await expect(organiser.locator("#feedback")).to_have_text("Feedback (1)")
    await organiser.goto(f"{server.base_url}/organisers/feedback?year=2026%2F27")
    await expect(organiser.locator("#feedback-by-kind")).to_contain_text("Safeguarding Forum")
    await assert_accessible(organiser, "feedback per kind")


async def test_book_then_send_a_colleague_instead(browser, server, smtp_server, now):
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/west").first())["id"]
    made = await book_place(event_id, f.request(1, email="jo.barclay@oak.example.org"), source=BookingSource.web,
                            actor="public", now=now, config=f.CONFIG.with_overrides(base_url=server.base_url))
    await delivered(smtp_server, 1)
    smtp_server.messages.clear()
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/bookings/{made.manage_token}")
    await page.get_by_role("link", name="Send a colleague instead").click()
    # The click returns before the next page is there: axe on a document being replaced finds none.
    await page.wait_for_url(f"**/bookings/{made.manage_token}/colleague")
    await assert_accessible(page, "send a colleague")
    await page.get_by_role("button", name="Pass my place to my colleague").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your colleague's full name")
    await assert_accessible(page, "send a colleague with errors")
    await page.get_by_label("Your colleague's full name").fill("Sam Patel")
    await page.get_by_label("Their work email address").fill("sam.patel@oak.example.org")
    await page.get_by_label("Deputy DSL or deputy Lead Practitioner").check()
    await page.get_by_role("button", name="Pass my place to my colleague").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Your place has passed to Sam Patel")
    await assert_accessible(page, "place passed to a colleague")
    messages = {m["To"]: m for m in await delivered(smtp_server, 2)}
    assert set(messages) == {"jo.barclay@oak.example.org", "sam.patel@oak.example.org"}
    assert "METHOD:CANCEL" in str(messages["jo.barclay@oak.example.org"])
    new_link = link_in(messages["sam.patel@oak.example.org"], "/bookings/")
    await page.goto(server.base_url + new_link)
    await expect(page.get_by_text("Sam Patel")).to_be_visible()
    response = await page.goto(f"{server.base_url}/bookings/{made.manage_token}")
    assert response.status == 410  # the old link says who has the place now
    await expect(page.locator("#passed-on")).to_contain_text("was passed to Sam Patel")


async def test_book_a_prevent_session_and_read_its_description_invite_and_certificate(browser, server, smtp_server, now):
    """Issue 21: a DSL on a phone books the Prevent session, reading the briefing's objectives and
    who leads it; the invite gives the trainer's role only; the certificate names the trainer."""
    import io

    import pypdf

    from tests.browser.test_booking_journey import fill_booking_form
    from tests.support import calendar_parts

    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:prevent/spring").first())["id"]
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(f"{server.base_url}/events/{event_id}")
    await expect(page.get_by_text("to ensure DSLs are aware of the CHANNEL panel.")).to_be_visible()
    await expect(page.locator("#trainer")).to_contain_text("David Layton-Scott, DfE Regional Prevent Coordinator")
    await expect(page.get_by_text("We are still awaiting the replacement for the WRAP")).to_be_visible()
    await assert_accessible(page, "the Prevent session's page")
    await page.get_by_role("button", name="Book a place").click()
    await fill_booking_form(page, "jo.barclay@acorns.example.org")
    await page.get_by_role("button", name="Book place").click()
    await expect(page.locator(".govuk-panel__title")).to_contain_text("Booking confirmed")
    confirmation = await email_with(smtp_server, "Booking confirmed")
    invite = calendar_parts(confirmation)[0][1].decode().replace("\r\n ", "")
    assert "Led by the DfE Regional Prevent Coordinator\\, East of England." in invite
    assert "Layton-Scott" not in invite
    # The session over, the organiser records attendance; the certificate names the trainer.
    await Event.update({Event.starts_at: now - dt.timedelta(hours=3), Event.ends_at: now - dt.timedelta(hours=1)}).where(
        Event.id == event_id)
    organiser = await signed_in_page(browser, server, now)
    await organiser.goto(f"{server.base_url}/organisers/events/{event_id}/attendance")
    await organiser.get_by_role("button", name="Attended: Jo Barclay").click()
    await expect(organiser.locator("#attendance-status")).to_have_text("Jo Barclay: Attended")
    certificate = await email_with(smtp_server, "Your certificate of attendance")
    [pdf] = [p for p in certificate.iter_attachments() if p.get_content_type() == "application/pdf"]
    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text().split())
    assert "Led by David Layton-Scott, DfE Regional Prevent Coordinator, East of England." in text
