"""Issue 5 in a real browser: the setting look-up on the booking form, completing the
questionnaire, and the organisers' questionnaire, settings and dashboard pages, all with axe."""

import re

import pytest
from playwright.async_api import expect

from app.config import Config
from app.questionnaire.seeding import seed_questionnaire
from app.questionnaire.services import send_questionnaire
from app.settings_register.importer import import_settings
from app.tables.programme import Event
from app.tables.register import Setting
from tests.browser.conftest import screenshot
from tests.browser.test_booking_journey import assert_accessible
from tests.browser.test_organiser_workspace import signed_in_page
from tests.settings_register.test_import import GIAS, csv_bytes

#: On the session's event loop, with the one Chromium of this test process (conftest).
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_booking_form_finds_a_setting_as_you_type(browser, server):
    await import_settings(csv_bytes(GIAS))
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/west").first())["id"]
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/events/{event_id}/book")
    field = page.get_by_label("Name of school or setting")
    await field.press_sequentially("Oak Pri", delay=50)
    option = page.get_by_role("option", name="Oak Primary School (URN 115000)")
    await expect(option).to_be_visible()
    await assert_accessible(page, "booking form with suggestions open")
    await option.click()
    await expect(page.get_by_label("URN or Ofsted number (optional)")).to_have_value("115000")
    await page.get_by_label("Full name").fill("Jo Barclay")
    await page.get_by_label("Work email address").fill("jo@oak.example.org")
    await page.get_by_label("Designated Safeguarding Lead (DSL) or Lead Practitioner").check()
    await page.get_by_role("button", name="Book place").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Booking confirmed")
    assert await Setting.count() == 2  # the register entry was used, no new setting typed in


PHONE = {"width": 390, "height": 844}


async def fits(page, width: int = PHONE["width"]) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, page.url


async def answer_yes_and_continue(page) -> None:
    """Answer the page in front of us: every yes/no asked on it "Yes", a choice its first option,
    the names asked for filled in; then "Save and continue"."""
    for radio in await page.locator("form input[type=radio][value=yes]").all():
        await radio.check()
    boxes = page.locator("form input[type=checkbox]")
    if await boxes.count():
        await boxes.first.check()
    for field, value in {"lead_name": "Jo Barclay", "lead_email": "jo.barclay@oak.example.org"}.items():
        for box in await page.locator(f"form input[name$='-{field}']").all():
            if await box.is_visible() and not await box.input_value():
                await box.fill(value)
    await page.get_by_role("button", name="Save and continue").click()


async def test_completing_the_questionnaire_on_a_phone_in_steps(browser, server, now):
    """Issue 20: a childminder on her phone answers page by page; adding training from Q6 keeps
    the page's answers; another browser with the same link carries on where she stopped."""
    await seed_questionnaire()
    await import_settings(csv_bytes(GIAS))
    oak = (await Setting.select(Setting.id).where(Setting.urn == "115000").first())["id"]
    token = await send_questionnaire(oak, "dsl@oak.example.org", actor="test", now=now,
                                     config=Config(base_url=server.base_url))
    link = f"{server.base_url}/questionnaire/{token}"
    page = await browser.new_page(viewport=PHONE, has_touch=True)
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Early Years Safeguarding Questionnaire")).to_be_visible()
    await fits(page)
    await assert_accessible(page, "questionnaire task list")
    await screenshot(page, "questionnaire-task-list-phone")
    await page.get_by_role("link", name="Your setting").click()
    await page.get_by_role("group", name="deputy").get_by_label("No").check()
    await page.get_by_role("group", name="anyone other").get_by_label("No").check()
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.get_by_role("heading", name=re.compile(r"^1\. "))).to_be_visible()
    # The Action Plan's boxes show only once an answer is not compliant.
    await expect(page.locator("#q1-action_points")).to_be_hidden()
    await page.get_by_role("group", name="Compliant").get_by_label("No").check()
    await expect(page.locator("#q1-action_points")).to_be_visible()
    await page.locator("#q1-action_points").fill("Review the child protection policy")
    await fits(page)
    await assert_accessible(page, "question 1 on a phone")
    await screenshot(page, "questionnaire-question-phone")
    await page.get_by_role("button", name="Save and continue").click()
    while not re.search(r"/questions/6$", page.url):
        await answer_yes_and_continue(page)
    # Q6: answered, then off to add training taken elsewhere, and back with the answer kept.
    await page.get_by_role("group", name="Compliant").get_by_label("Yes").check()
    await page.get_by_role("button", name="Add training taken elsewhere").click()
    await page.get_by_label("Who took it").fill("Jo Barclay")
    await page.get_by_label("Their work email address").fill("jo.barclay@oak.example.org")
    await page.get_by_label("Course").fill("Level 3 Designated Safeguarding Lead")
    await page.get_by_label("Provider").fill("Safeguarding Partners Ltd")
    await page.get_by_label("Day").fill("14")
    await page.get_by_label("Month").fill("3")
    await page.get_by_label("Year").fill("2024")
    await fits(page)
    await page.get_by_role("button", name="Add training").click()
    await expect(page.get_by_text("Training added. Your answers on this page were kept.")).to_be_visible()
    await expect(page.get_by_role("group", name="Compliant").get_by_label("Yes")).to_be_checked()
    await expect(page.locator("#training-known")).to_contain_text("Jo Barclay")
    await page.get_by_role("button", name="Save and continue").click()
    # The same link on another device: the tasks say how far she got, and her answers are there.
    other = await browser.new_page(viewport=PHONE)
    await other.goto(link)
    await expect(other.locator(".govuk-task-list")).to_contain_text("In progress")
    await other.goto(f"{link}/questions/1")
    await expect(other.locator("#q1-action_points")).to_have_value("Review the child protection policy")
    while "/check" not in page.url:
        await answer_yes_and_continue(page)
    await expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    await fits(page)
    await assert_accessible(page, "check your answers")
    await page.get_by_role("button", name="Submit the questionnaire").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Questionnaire submitted")
    await expect(page.get_by_text("save and come back")).to_have_count(0)
    await fits(page)
    await assert_accessible(page, "submitted questionnaire")
    await screenshot(page, "questionnaire-submitted-phone")


async def test_the_organisers_questionnaire_settings_and_dashboard_pages(browser, server, now):
    page = await signed_in_page(browser, server, now)
    await seed_questionnaire()
    await import_settings(csv_bytes(GIAS))
    oak = (await Setting.select(Setting.id).where(Setting.urn == "115000").first())["id"]
    await send_questionnaire(oak, "dsl@oak.example.org", actor="test", now=now, config=Config(base_url=server.base_url))
    from app.tables.questionnaire import Response

    response_id = (await Response.select(Response.id).first())["id"]
    for name, path in {"questionnaire overview": "/organisers/questionnaire",
                       "findings": "/organisers/questionnaire/findings", "response": f"/organisers/questionnaire/responses/{response_id}",
                       "settings": "/organisers/settings/?q=oak", "setting": f"/organisers/settings/{oak}",
                       "dashboard": "/organisers/dashboard/"}.items():
        response = await page.goto(server.base_url + path)
        assert response.status == 200, name
        await assert_accessible(page, name)
    await page.goto(server.base_url + "/organisers/dashboard/")
    await expect(page.get_by_role("img", name=re.compile("Settings whose DSL or Lead Practitioner attended a forum"))).to_be_visible()
    await expect(page.locator("#dashboard-table tbody tr")).to_have_count(12)


async def test_an_organiser_enters_a_past_forum_and_its_attendance_becomes_q13_evidence(browser, server, now):
    """Autumn exists because organisers can enter a forum that took place before the service did:
    they add the past event, admit the people who came and mark them; Q13 then states it."""
    page = await signed_in_page(browser, server, now)
    await import_settings(csv_bytes(GIAS))
    oak = (await Setting.select(Setting.id).where(Setting.urn == "115000").first())["id"]
    first_year = (now.year if now.month >= 9 else now.year - 1) - 1  # an academic year already over
    year = f"{first_year}/{(first_year + 1) % 100:02d}"
    await page.goto(server.base_url + "/organisers/events/new")
    await page.get_by_label("Title").fill("Online Safeguarding Forum")
    await page.get_by_label("Type of event").select_option(label="Safeguarding Forum")
    await page.get_by_label("Online (Microsoft Teams)").check()
    await page.get_by_label("Microsoft Teams joining link (online)").fill("https://teams.microsoft.com/l/meetup-join/autumn")
    await page.locator("#date-day").fill("12")
    await page.locator("#date-month").fill("11")
    await page.locator("#date-year").fill(str(first_year))
    await page.get_by_label("Start time").fill("9:30")
    await page.get_by_label("End time").fill("11:30")
    await page.get_by_label("Number of places").fill("100")
    await page.get_by_role("button", name="Save event").click()
    await expect(page.get_by_role("heading", name=re.compile("Online Safeguarding Forum"))).to_be_visible()
    event_id = int(re.search(r"/organisers/events/(\d+)", page.url).group(1))
    # The DSL came: admitted as a walk-in, then marked attended.
    await page.goto(f"{server.base_url}/organisers/events/{event_id}/bookings/new?walk_in=true")
    await page.get_by_label("Full name").fill("Jo Barclay")
    await page.get_by_label("Work email address").fill("jo.barclay@oak.example.org")
    await page.get_by_label("School or setting").fill("Oak Primary School")
    await page.get_by_label("URN or Ofsted number (optional)").fill("115000")
    await page.get_by_label("Designated Safeguarding Lead (DSL) or Lead Practitioner").check()
    await page.get_by_role("button", name="Add walk-in").click()
    await expect(page).to_have_url(re.compile(f"/organisers/events/{event_id}/attendance"))
    await page.get_by_role("button", name="Attended: Jo Barclay").click()
    await page.goto(f"{server.base_url}/organisers/settings/{oak}?year={year}")
    autumn = page.locator("#q13 .govuk-summary-list__row").filter(has_text="Autumn")
    await expect(autumn).to_contain_text("forum attended by the DSL / Lead Practitioner (Jo Barclay, Online Safeguarding Forum")
    await assert_accessible(page, "setting with a past forum attended")
