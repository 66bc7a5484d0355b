"""Pages reached from emails or the footer, checked with axe-core in a real browser: joining the
waiting list, accepting an offered place, an invited organiser setting a password, the privacy
notice and the accessibility statement."""

import httpx
import pytest
from playwright.async_api import expect

from app.config import Config
from app.organisers.services import invite_organiser
from app.tables.organisers import Organiser, OrganiserRole
from app.tables.programme import Event
from tests import factories as f
from tests.browser.test_booking_journey import assert_accessible

#: On the session's event loop, with the one Chromium of this test process (conftest).
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_waiting_list_and_offer_pages(browser, server, now):
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:prevent/spring").first())["id"]
    await Event.update({Event.capacity: 1}).where(Event.id == event_id)
    holder = httpx.post(f"{server.base_url}/api/events/{event_id}/bookings", json=f.api_body("holder")).json()
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/events/{event_id}")
    await page.get_by_role("button", name="Join the waiting list").click()
    await expect(page.get_by_role("heading", name="Join the waiting list")).to_be_visible()
    await assert_accessible(page, "waiting list form")
    await page.get_by_label("Full name").fill("Sam Patel")
    await page.get_by_label("Work email address").fill("sam.patel@oak.example.org")
    await page.get_by_label("Name of school or setting").fill("Oak Primary")
    await page.get_by_label("Designated Safeguarding Lead (DSL) or Lead Practitioner").check()
    await page.get_by_role("button", name="Join the waiting list").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("You are on the waiting list")
    await assert_accessible(page, "waiting list confirmation")
    manage = page.url.replace("/confirmation", "")
    httpx.post(f"{server.base_url}/api/bookings/{holder['manage_token']}/cancel")
    await page.goto(manage)
    await expect(page.get_by_text("A place is held for you")).to_be_visible()
    await assert_accessible(page, "manage with an offer")
    await page.get_by_role("button", name="Accept the place").click()
    await assert_accessible(page, "accept offer")
    await page.get_by_role("button", name="Accept the place").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Booking confirmed")


async def test_an_invited_organiser_sets_a_password(browser, server, now, smtp_server):
    from app.organisers.services import create_organiser

    inviter = await create_organiser(email="jo@essex.gov.uk", name="Jo", password="correct horse battery", now=now,
                                     role=OrganiserRole.administrator)
    await invite_organiser(email="sam@essex.gov.uk", name="Sam", invited_by=inviter,
                           config=Config(base_url=server.base_url), now=now)
    import re

    for _ in range(100):
        invites = [m for m in smtp_server.parsed() if m["To"] == "sam@essex.gov.uk"]
        if invites:
            break
        import asyncio

        await asyncio.sleep(0.1)
    link = re.search(r"(http://\S+/organisers/invitations/\S+)", invites[0].get_body(("plain",)).get_content()).group(1)
    page = await browser.new_page()
    await page.goto(link)
    await assert_accessible(page, "set password")
    await page.get_by_label("Password", exact=True).fill("four random words here")
    await page.get_by_label("Enter the password again").fill("four random words too")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the same password twice")
    await assert_accessible(page, "set password with errors")
    await page.get_by_label("Password", exact=True).fill("four random words here")
    await page.get_by_label("Enter the password again").fill("four random words here")
    await page.get_by_role("button", name="Set password").click()
    await expect(page).to_have_url(re.compile(r"/organisers/sign-in"))
    assert (await Organiser.select(Organiser.password_hash).where(Organiser.email == "sam@essex.gov.uk").first())["password_hash"]


async def test_the_privacy_notice_and_accessibility_statement_from_the_footer(browser, server):
    page = await browser.new_page()
    await page.goto(server.base_url + "/")
    await page.get_by_role("link", name="Privacy notice").click()
    await expect(page.get_by_role("heading", name="Privacy notice", exact=True)).to_be_visible()
    await assert_accessible(page, "privacy notice")
    await page.get_by_role("link", name="Accessibility statement").click()
    await expect(page.get_by_role("heading", name="Accessibility statement", exact=True)).to_be_visible()
    await assert_accessible(page, "accessibility statement")


async def test_a_setting_gets_its_questionnaire_link_from_the_start_page(browser, server, now, smtp_server):
    import asyncio
    import datetime as dt


    for name, email in (("Little Acorns Nursery", "office@littleacorns.example.org"), ("Acorn Childminding", "")):
        await f.setting(name, setting_type="nursery", quadrant="west", contact_email=email, now=now)
    before = len(smtp_server.messages)
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/questionnaire/start")
    await assert_accessible(page, "questionnaire start")
    await page.get_by_label("Your setting's name, URN or Ofsted number").fill("acorn")
    await page.get_by_role("button", name="Find my setting").click()
    await expect(page.locator("#found")).to_contain_text("Little Acorns Nursery")
    await assert_accessible(page, "questionnaire start: settings found")
    await page.get_by_role("button", name="Email the questionnaire link for Little Acorns Nursery").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Link sent")
    await expect(page.locator("#sent-to")).to_contain_text("o•••@littleacorns.example.org")
    await assert_accessible(page, "questionnaire link sent")
    await page.get_by_role("link", name="Find another setting").click()
    await page.get_by_label("Your setting's name, URN or Ofsted number").fill("acorn childminding")
    await page.get_by_role("button", name="Find my setting").click()
    await page.get_by_role("button", name="Email the questionnaire link for Acorn Childminding").click()
    await expect(page.locator("#no-address")).to_contain_text(Config().organiser_mailbox)
    await assert_accessible(page, "questionnaire: no address on the register")
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while dt.datetime.now() < deadline and not [m for m in smtp_server.parsed()[before:]
                                                 if "Questionnaire" in m["Subject"]]:
        await asyncio.sleep(0.1)
    [message] = [m for m in smtp_server.parsed()[before:] if "Questionnaire" in m["Subject"]]
    assert message["To"] == "office@littleacorns.example.org"
