"""Issue 25 in a real browser, every page checked with axe: a forum attended → its pack sent →
"I have read it" → the record's refreshed date → the setting's evidence through an inspector's link."""

import datetime as dt

import pytest
from playwright.async_api import expect

from app.areas import local
from app.bookings.services import book_place
from app.formats import day_month_year
from app.settings_register.services import record_lead
from app.tables.bookings import BookingSource
from tests import factories as f
from tests.browser.conftest import screenshot
from tests.browser.test_booking_journey import assert_accessible
from tests.browser.test_organiser_workspace import signed_in_page
from tests.browser.test_training_journeys import email_with, link_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_forum_pack_read_refreshes_the_record_and_an_inspector_sees_the_evidence(
        browser, server, smtp_server, now, tmp_path):
    oak = await f.setting("Oak Nursery", urn="EY123456", quadrant="west", setting_type="nursery",
                          contact_email="office@oak.example.org", now=now)
    await record_lead(oak, role="dsl", name="Jo Barclay", email="jo.barclay@oak.example.org", since=None,
                      actor="test", now=now)
    event_id = await f.event(now=now, starts_in=dt.timedelta(hours=-3), title="West Safeguarding Forum")
    await book_place(event_id, f.request(1, email="jo.barclay@oak.example.org", setting="Oak Nursery", urn="EY123456")
                     .model_copy(update={"name": "Jo Barclay"}), source=BookingSource.web, actor="public",
                     now=now - dt.timedelta(days=2), config=f.CONFIG.with_overrides(base_url=server.base_url))
    smtp_server.messages.clear()
    organiser = await signed_in_page(browser, server, now)
    await organiser.goto(f"{server.base_url}/organisers/events/{event_id}/attendance")
    await organiser.get_by_role("button", name="Attended: Jo Barclay").click()
    await expect(organiser.locator("#attendance-status")).to_have_text("Jo Barclay: Attended")

    # The organiser attaches the forum's slides and sends them.
    await organiser.goto(f"{server.base_url}/organisers/events/{event_id}")
    await organiser.get_by_role("link", name="Forum pack").click()
    await assert_accessible(organiser, "forum pack")
    slides = tmp_path / "West forum slides.pdf"
    slides.write_bytes(f.pdf())
    await organiser.get_by_label("The PDF of the slides and notes").set_input_files(str(slides))
    await organiser.get_by_role("button", name="Attach the pack").click()
    await expect(organiser.locator("#pack-state")).to_contain_text("West forum slides.pdf")
    await organiser.get_by_role("button", name="Send the pack").click()
    await expect(organiser.locator(".govuk-notification-banner")).to_contain_text("Pack sent to 1 person")
    await assert_accessible(organiser, "forum pack sent")

    # Jo reads it and says so.
    pack_email = await email_with(smtp_server, "Slides and notes: West Safeguarding Forum")
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(server.base_url + link_in(pack_email, "/packs/"))
    await assert_accessible(page, "forum pack page")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download the slides and notes").click()
    assert (await download.value).suggested_filename == "West forum slides.pdf"
    await page.get_by_role("button", name="I have read it").click()
    today = day_month_year(local(now).date())
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("your knowledge refreshed on")
    await assert_accessible(page, "forum pack read")

    # Her record shows the refreshed date, and the pack as read.
    await page.goto(server.base_url + "/my-record")
    await page.get_by_label("Work email address").fill("jo.barclay@oak.example.org")
    await page.get_by_role("button", name="Email me a link to my record").click()
    record_email = await email_with(smtp_server, "Your safeguarding training record")
    await page.goto(server.base_url + link_in(record_email, "/my-record/"))
    await expect(page.locator("#record-today")).to_contain_text(f"Knowledge refreshed: last recorded {today}")
    await expect(page.locator("#record-packs")).to_contain_text("West Safeguarding Forum")
    await assert_accessible(page, "record with a pack read")

    # The setting's contact makes a link for an inspector, who sees the evidence page.
    contact = await browser.new_page(viewport={"width": 390, "height": 844})
    await contact.goto(server.base_url + "/")
    await contact.get_by_role("link", name="Share your setting's safeguarding evidence with an inspector").click()
    await assert_accessible(contact, "ask for the evidence link")
    await contact.get_by_label("Your setting's contact email address").fill("office@oak.example.org")
    await contact.get_by_role("button", name="Email me the link").click()
    await expect(contact.locator("#evidence-sent")).to_be_visible()
    evidence_email = await email_with(smtp_server, "Your setting's safeguarding evidence for an inspector")
    await contact.goto(server.base_url + link_in(evidence_email, "/settings/evidence/"))
    await assert_accessible(contact, "links for an inspector")
    await contact.get_by_label("Days the link works").fill("7")
    await contact.get_by_role("button", name="Make a link for an inspector").click()
    shared = await contact.locator("#made-link").inner_text()
    await assert_accessible(contact, "link for an inspector made")
    inspector = await browser.new_page(viewport={"width": 1024, "height": 900})
    answer = await inspector.goto(shared)
    assert answer.headers["x-robots-tag"].startswith("noindex") and answer.headers["referrer-policy"] == "no-referrer"
    await expect(inspector.locator("h1")).to_have_text("Safeguarding evidence: Oak Nursery")
    await expect(inspector.locator("main")).to_contain_text(f"Knowledge refreshed: last recorded {today}")
    await expect(inspector.locator("main")).to_contain_text("forum attended by the DSL / Lead Practitioner (Jo Barclay")
    await assert_accessible(inspector, "evidence through an inspector's link")
    await screenshot(inspector, "evidence-page")
    assert await inspector.evaluate("document.documentElement.scrollWidth") <= 1024
