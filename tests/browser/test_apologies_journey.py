"""Issue 24's journey in a real browser: a DSL cancels the day before, which is recorded as a late
apology; the one email offers the term's online forum, which they book from its link; the
organisers' dashboard shows one apology and no no-show."""

import asyncio
import datetime as dt
import re

import pytest
from playwright.async_api import expect

from tests import factories as f
from tests.browser.test_booking_journey import assert_accessible, delivered
from tests.browser.test_organiser_workspace import signed_in_page

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def fill_in(page) -> None:
    """The booking form, the role chosen before the setting is typed: once the setting is known,
    its suggestions list opens over the radios below it."""
    await page.get_by_label("Designated Safeguarding Lead (DSL) or Lead Practitioner").check()
    await page.get_by_label("Full name").fill("Sam Patel")
    await page.get_by_label("Work email address").fill("sam.patel@oak.example.org")
    await page.get_by_label("Name of school or setting").fill("Oak Tree Primary")
    await page.keyboard.press("Escape")
    await page.get_by_label("URN or Ofsted number (optional)").fill("123456")


async def test_a_cancellation_the_day_before_is_an_apology_and_the_online_forum_is_booked_from_its_email(
        browser, server, smtp_server, now):
    west = await f.event(now=now, starts_in=dt.timedelta(hours=20), title="West Safeguarding Forum", quadrant="west")
    online = await f.event(now=now, starts_in=dt.timedelta(days=9), title="Online Safeguarding Forum", quadrant=None)
    await f.setting("Oak Tree Primary", urn="123456", quadrant="west", now=now)
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/events/{west}/book")
    await fill_in(page)
    await page.get_by_role("button", name="Book place").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Booking confirmed")

    await page.locator("#manage-link").click()
    await page.get_by_role("button", name="Cancel your booking").click()
    await page.get_by_role("button", name="Yes, cancel my booking").click()
    await expect(page.locator("#booking-status")).to_have_text("Cancelled")

    apology = (await delivered(smtp_server, 2))[1]
    assert apology["To"] == "sam.patel@oak.example.org" and apology["Subject"].startswith("Your apologies")
    text = apology.get_body(("plain",)).get_content()
    assert "recorded as a late cancellation" in text and "absent" not in text.lower()
    links = re.findall(r"(http://127\.0\.0\.1:\d+/events/(\d+)/book)\s", text)
    # As the chase after a no-show offers: the West's next forum this term, then the online one.
    assert len(links) == 2 and int(links[1][1]) == online, links
    await page.goto(links[1][0])
    await expect(page.get_by_role("heading", name="Book a place")).to_be_visible()
    await fill_in(page)
    await page.get_by_role("button", name="Book place").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Booking confirmed")
    await expect(page.get_by_text("Online Safeguarding Forum").first).to_be_visible()

    organiser = await signed_in_page(browser, server, now)
    await organiser.goto(f"{server.base_url}/organisers/events/{west}")
    counts = organiser.locator("#counts")
    await expect(counts).to_contain_text("Sent apologies")
    await expect(counts).to_contain_text("1 (1 late)")
    await expect(organiser.get_by_text("Sent apologies (late cancellation)")).to_be_visible()
    await assert_accessible(organiser, "register with an apology")
    await organiser.goto(f"{server.base_url}/organisers/dashboard/")
    row = organiser.locator("#no-show-rates tr", has_text="(in person)")
    cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
    assert cells[1] == "0" and cells[-1] == "1 (1 late)"  # marked absent: none; apologies: one, late
    await assert_accessible(organiser, "dashboard with an apology")
    await asyncio.sleep(0)
