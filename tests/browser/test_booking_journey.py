"""A DSL books and cancels a place in a real browser; every page passes axe-core."""

import asyncio
import re

import icalendar
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import axe_violations

#: On the session's event loop, with the one Chromium of this test process (conftest).
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def assert_accessible(page: Page, what: str) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{what}: {violations}"


async def fill_booking_form(page: Page, email: str) -> None:
    await page.get_by_label("Full name").fill("Jo Barclay")
    await page.get_by_label("Work email address").fill(email)
    await page.get_by_label("Name of school or setting").fill("Little Acorns Nursery")
    await page.get_by_label("URN or Ofsted number (optional)").fill("EY123456")
    await page.get_by_label("Designated Safeguarding Lead (DSL) or Lead Practitioner").check()


async def delivered(smtp_server, count: int):
    """Wait (without blocking the event loop) for the app's sender to deliver `count` emails."""
    for _ in range(300):
        if len(smtp_server.messages) >= count:
            break
        await asyncio.sleep(0.1)
    return smtp_server.parsed()


async def test_browse_filter_book_confirm_and_cancel_with_accessible_pages(browser, server, smtp_server):
    page = await browser.new_page()
    await page.goto(server.base_url + "/")
    await expect(page.locator(".app-event")).to_have_count(14)
    await assert_accessible(page, "programme")

    await page.get_by_label("Quadrant").select_option(label="South")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page).to_have_url(re.compile(r"quadrant=south"))
    south = page.locator(".app-event", has_text="South Safeguarding Forum")
    await expect(south).to_have_count(2)  # and the online forums and training, open to every quadrant
    await expect(page.locator(".app-event", has_text="West Safeguarding Forum")).to_have_count(0)
    await expect(page.locator(".app-event", has_text="Online Safeguarding Forum")).to_have_count(2)
    await expect(page.get_by_role("heading", name=re.compile(r"events to come matching your filters"))).to_be_visible()
    await assert_accessible(page, "filtered programme")

    await south.first.locator("a").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("South Safeguarding Forum")
    await expect(page.get_by_text("Basildon Lower Academy")).to_be_visible()
    await assert_accessible(page, "event")

    await page.get_by_role("button", name="Book a place").click()
    await expect(page.get_by_role("heading", name="Book a place")).to_be_visible()
    await assert_accessible(page, "booking form")

    # Submitting with mistakes: the error summary takes focus and links to each field.
    await page.get_by_label("Work email address").fill("jo@")
    await page.get_by_role("button", name="Book place").click()
    summary = page.locator(".govuk-error-summary")
    await expect(summary).to_contain_text("Enter your full name")
    await expect(summary).to_contain_text("Enter an email address in the correct format")
    await expect(page).to_have_title(re.compile(r"^Error: "))
    await assert_accessible(page, "booking form with errors")

    await fill_booking_form(page, "jo.barclay@acorns.example.org")
    await page.get_by_role("button", name="Book place").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Booking confirmed")
    reference = await page.locator("#booking-reference").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", reference)
    await assert_accessible(page, "confirmation")

    # The confirmation email arrives; its manage link leads to the booking.
    [confirmation] = await delivered(smtp_server, 1)
    assert confirmation["To"] == "jo.barclay@acorns.example.org"
    text = confirmation.get_body(("plain",)).get_content()
    assert reference in text
    manage_url = re.search(r"(http://127\.0\.0\.1:\d+/bookings/[A-Za-z0-9_-]+)\s", text).group(1)
    await page.goto(manage_url)
    await expect(page.get_by_text(f"Booking reference {reference}")).to_be_visible()
    await expect(page.locator("#booking-status")).to_have_text("Confirmed")
    await assert_accessible(page, "manage")

    async with page.expect_download() as download_info:
        await page.locator("#invite-download").click()
    download = await download_info.value
    invite = icalendar.Calendar.from_ical(open(await download.path(), "rb").read())
    emailed = [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"][0]
    emailed_uid = icalendar.Calendar.from_ical(emailed.get_payload(decode=True)).walk("VEVENT")[0]["UID"]
    assert invite["METHOD"] == "REQUEST" and invite.walk("VEVENT")[0]["UID"] == emailed_uid

    await page.get_by_role("button", name="Cancel your booking").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to cancel your booking?")
    await assert_accessible(page, "cancel confirmation")
    await page.get_by_role("button", name="Yes, cancel my booking").click()
    await expect(page.get_by_text("Your booking has been cancelled")).to_be_visible()
    await expect(page.locator("#booking-status")).to_have_text("Cancelled")
    await assert_accessible(page, "cancelled booking")
    cancellation = (await delivered(smtp_server, 2))[1]
    assert cancellation["Subject"].startswith("Your apologies")

    await page.goto(server.base_url + "/?quadrant=south")
    await expect(page.locator(".app-event", has_text="South Safeguarding Forum").first).to_contain_text("40 places left")


async def test_the_whole_journey_works_without_javascript(browser, server):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(server.base_url + "/?quadrant=online&kind=forum")
    await expect(page.locator(".app-event")).to_have_count(2)
    await page.locator(".app-event a").first.click()
    await expect(page.get_by_text("Online (Microsoft Teams)").first).to_be_visible()
    await page.get_by_role("button", name="Book a place").click()
    await fill_booking_form(page, "sam@oak.example.org")
    await page.get_by_role("button", name="Book place").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Booking confirmed")
    await page.locator("#manage-link").click()
    await page.get_by_role("button", name="Cancel your booking").click()
    await page.get_by_role("button", name="Yes, cancel my booking").click()
    await expect(page.locator("#booking-status")).to_have_text("Cancelled")
    await context.close()


async def test_a_narrow_phone_screen_shows_the_programme_without_sideways_scrolling(browser, server):
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await page.goto(server.base_url + "/")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    await assert_accessible(page, "programme at 320px")


async def test_the_accessibility_check_does_catch_violations(browser):
    """Guards the guard: an unlabelled input and an image without alt text are reported."""
    page = await browser.new_page()
    await page.set_content('<html lang="en"><head><title>t</title></head><body><main>'
                           '<input type="text"><img src="x.png"></main></body></html>')
    found = {v["id"] for v in await axe_violations(page)}
    assert {"label", "image-alt"} <= found


async def test_the_check_does_catch_what_the_content_security_policy_blocks(browser):
    """Guards the guard: a page served with the service's policy and an inline script fails the
    check every accessible page goes through."""
    from app.web.headers import CONTENT_SECURITY_POLICY

    page = await browser.new_page()
    await page.route("http://csp.test/", lambda route: route.fulfill(
        status=200, content_type="text/html", headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        body='<html lang="en"><head><title>t</title></head><body><main><h1>Hi</h1>'
             '<script>document.title = "ran"</script></main></body></html>'))
    await page.goto("http://csp.test/")
    assert await page.title() == "t"  # the inline script did not run
    with pytest.raises(AssertionError, match="Content-Security-Policy blocked"):
        await axe_violations(page)
