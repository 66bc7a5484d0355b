"""Issue 5 in a real browser: the setting look-up on the booking form, completing the
questionnaire, and the organisers' questionnaire, settings and dashboard pages, all with axe."""

import re

import pytest
from playwright.async_api import expect

from app.config import Config
from app.questionnaire.answers import shape
from app.questionnaire.seeding import load_questionnaire, seed_questionnaire
from app.questionnaire.services import send_questionnaire
from app.register.importer import import_settings
from app.tables.programme import Event
from app.tables.register import Setting
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


async def test_completing_the_questionnaire(browser, server, now):
    await seed_questionnaire()
    await import_settings(csv_bytes(GIAS))
    oak = (await Setting.select(Setting.id).where(Setting.urn == "115000").first())["id"]
    token = await send_questionnaire(oak, "dsl@oak.example.org", actor="test", now=now,
                                     config=Config(base_url=server.base_url))
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/questionnaire/{token}")
    await expect(page.get_by_role("heading", name="Early Years Safeguarding Questionnaire")).to_be_visible()
    await assert_accessible(page, "questionnaire")
    await page.locator("#question-1").get_by_label("No").check()
    await page.locator("#q1-action_points").fill("Review the child protection policy")
    await page.get_by_role("button", name="Save and come back later").click()
    await expect(page.get_by_text("Your answers have been saved")).to_be_visible()
    await page.get_by_role("button", name="Submit the questionnaire").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Answer question 2")
    await assert_accessible(page, "questionnaire with errors")
    for question in load_questionnaire()["questions"][1:]:
        q = shape(question)  # a radio group's first input is "Yes" (or option a.)
        if q.kind == "items":
            for letter in q.letters:
                await page.locator(f"#q{q.number}-item-{letter}").check()
        else:
            await page.locator(f"#q{q.number}-{'choice' if q.kind == 'choice' else 'compliant'}").check()
        if q.follow_up:
            await page.locator(f"#q{q.number}-follow_up").check()
    # Q15c does not apply (no deputy has CP files to see), said why; Q10 is "Other", said how.
    await page.locator("#question-15").get_by_role("group", name="c. accessible only by").get_by_label("Not applicable").check()
    await page.locator("#q15-na_reason").fill("The files are kept by the DSL alone")
    await page.locator("#question-10").get_by_label("d. Other.").check()
    await page.get_by_role("button", name="Submit the questionnaire").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Say how, for question 10 (Other)")
    await page.locator("#q10-other").fill("Online course from our umbrella organisation")
    await page.get_by_role("button", name="Submit the questionnaire").click()
    # Q4 and Q5 answered yes: who the DSL and the deputy are.
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the name of your Lead Practitioner / DSL")
    await page.get_by_label("Name of your Lead Practitioner / DSL").fill("Jo Barclay")
    await page.locator("#q4-lead_email").fill("jo.barclay@oak.example.org")
    await page.get_by_label("Name of your deputy").fill("Sam Patel")
    await page.locator("#q5-lead_email").fill("sam.patel@oak.example.org")
    await page.get_by_role("button", name="Submit the questionnaire").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Questionnaire submitted")
    await expect(page.locator("#q1-action_points")).to_have_value("Review the child protection policy")
    await expect(page.locator("#q15-na_reason")).to_have_value("The files are kept by the DSL alone")
    await expect(page.locator("#q10-other")).to_have_value("Online course from our umbrella organisation")
    await assert_accessible(page, "submitted questionnaire")


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
