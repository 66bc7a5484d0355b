"""The organiser workspace in a real browser: every page passes axe-core; attendance on a tablet;
a Teams import; chasing no-shows."""

import asyncio
import datetime as dt
import re

import httpx
import pytest
from playwright.async_api import Page, expect

from app.organisers.services import create_organiser
from app.tables.organisers import OrganiserRole
from app.tables.programme import Event
from app.tables.webhooks import WebhookDelivery, WebhookEndpoint
from tests import factories as f
from tests.attendance import teams_samples
from tests.browser.conftest import axe_violations, screenshot

#: On the session's event loop, with the one Chromium of this test process (conftest).
pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "correct horse battery staple"


async def assert_accessible(page: Page, what: str) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{what}: {violations}"


async def signed_in_page(browser, server, now, **context) -> Page:
    await create_organiser(email="jo.barclay@essex.gov.uk", name="Jo Barclay", password=PASSWORD, now=now,
                           role=OrganiserRole.administrator)
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(server.base_url + "/organisers")
    await expect(page).to_have_url(re.compile(r"/organisers/sign-in\?next=/organisers"))
    await assert_accessible(page, "sign in")
    await page.get_by_label("Email address").fill("jo.barclay@essex.gov.uk")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    return page


def book(server, event_id, n, **overrides):
    response = httpx.post(f"{server.base_url}/api/events/{event_id}/bookings", json=f.api_body(n, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def test_every_organiser_page_passes_axe(browser, server, now):
    page = await signed_in_page(browser, server, now)
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/west").first())["id"]
    online_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/online").first())["id"]
    booked = book(server, event_id, 1)
    from app.tables.bookings import Booking

    row = await Booking.select(Booking.id, Booking.person, Booking.checkin_token).where(
        Booking.reference == booked["reference"]).first()
    [hook] = await WebhookEndpoint.insert(WebhookEndpoint(
        url="https://crm.example.org/hooks", description="County CRM", secret="whsec_" + "A" * 44,
        created_at=now)).returning(WebhookEndpoint.id)
    await WebhookDelivery.insert(WebhookDelivery(endpoint=hook["id"], attempted_at=now, status_code=503,
                                                 response="Service Unavailable", milliseconds=20))
    pages = {
        "home": "/organisers", "register": f"/organisers/events/{event_id}",
        "edit event": f"/organisers/events/{event_id}/edit", "new event": "/organisers/events/new",
        "cancel event": f"/organisers/events/{event_id}/cancel", "venues": "/organisers/venues",
        "new venue": "/organisers/venues/new", "edit venue": "/organisers/venues/1/edit",
        "accounts": "/organisers/accounts", "sign-in sheet": f"/organisers/events/{event_id}/sign-in-sheet",
        "attendance": f"/organisers/events/{event_id}/attendance",
        "phone booking": f"/organisers/events/{event_id}/bookings/new",
        "walk-in": f"/organisers/events/{event_id}/bookings/new?walk_in=true",
        "cancel booking": f"/organisers/events/{event_id}/bookings/{row['id']}/cancel",
        "no-shows": f"/organisers/events/{event_id}/no-shows", "repeat no-shows": "/organisers/no-shows",
        "history": f"/organisers/events/{event_id}/history", "person": f"/organisers/people/{row['person']}",
        "check-in": f"/organisers/check-in/{row['checkin_token']}",
        "teams import": f"/organisers/events/{online_id}/teams-import/",
        "your account": "/organisers/account", "password reset": "/organisers/password-reset",
        "audit trail": f"/organisers/audit?event={event_id}", "jobs and email": "/organisers/service",
        "feedback": "/organisers/feedback", "training record": f"/organisers/people/{row['person']}/record",
        "certificates": f"/organisers/events/{event_id}/certificates",
        "dated notices": "/organisers/notices", "new notice": "/organisers/notices/new",
        "guidance links": "/organisers/questionnaire/guidance",
        "webhooks": "/organisers/webhooks/", "webhook": f"/organisers/webhooks/{hook['id']}",
    }
    for name, path in pages.items():
        response = await page.goto(server.base_url + path)
        assert response.status == 200, f"{name}: {response.status}"
        await assert_accessible(page, name)
    # Error states too.
    await page.goto(server.base_url + "/organisers/events/new")
    await page.get_by_role("button", name="Save event").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a title")
    await assert_accessible(page, "new event with errors")
    await page.goto(server.base_url + "/organisers/accounts")
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Enter their full name")
    await assert_accessible(page, "invite with errors")
    await page.goto(server.base_url + "/organisers/notices/new")
    await page.get_by_role("button", name="Save notice").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the quadrant the notice is for")
    await assert_accessible(page, "new notice with errors")


async def test_marking_attendance_on_a_tablet(browser, server, now):
    """Issue 20 point 4: four people marked at the door on an 820 px tablet, the tally checked
    after every tap (a polite live region) and after a reload; each mark said in words."""
    page = await signed_in_page(browser, server, now, viewport={"width": 820, "height": 1180}, has_touch=True)
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/mid").first())["id"]
    for n, setting in [(1, "Oak Primary"), (2, "Little Acorns Nursery"), (3, "Ash Tree Pre-school"), (4, "Elm Academy")]:
        book(server, event_id, n, setting={"name": setting, "urn": None})
    # The door: half an hour before the start (check-in opens an hour before).
    await Event.update({Event.starts_at: now + dt.timedelta(minutes=30),
                        Event.ends_at: now + dt.timedelta(hours=3)}).where(Event.id == event_id)
    await page.goto(f"{server.base_url}/organisers/events/{event_id}/attendance")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 820
    await assert_accessible(page, "attendance on a tablet")
    counts = page.locator("#attendance-counts")
    assert await counts.get_attribute("aria-live") == "polite"
    await expect(counts).to_have_text("0 attended, 0 absent, 4 not marked.")
    await expect(page.get_by_text("Check people in by QR code")).to_be_visible()
    rows = page.locator(".app-attendance__row")
    await expect(rows).to_have_count(4)
    await expect(rows.filter(has_text="Person 1").locator("[data-outcome]")).to_have_text("Not marked")
    await page.get_by_label("Find by name or setting").fill("acorns")  # filter as you type
    await expect(rows.filter(has_text="Person 2")).to_be_visible()
    await expect(rows.filter(has_text="Person 1")).to_be_hidden()
    url_before = page.url
    await page.get_by_role("button", name="Attended: Person 2").tap()
    await expect(rows.filter(has_text="Person 2").locator("[data-outcome]")).to_have_text("Attended")
    await expect(page.locator("#attendance-status")).to_have_text("Person 2: Attended")
    await expect(counts).to_have_text("1 attended, 0 absent, 3 not marked.")
    assert page.url == url_before  # no reload
    await page.get_by_label("Find by name or setting").fill("")
    for name, outcome, tally in [("Person 1", "Attended", "2 attended, 0 absent, 2 not marked."),
                                 ("Person 3", "Absent", "2 attended, 1 absent, 1 not marked."),
                                 ("Person 4", "Attended", "3 attended, 1 absent, 0 not marked.")]:
        await page.get_by_role("button", name=f"{outcome}: {name}").tap()
        await expect(rows.filter(has_text=name).locator("[data-outcome]")).to_have_text(outcome)
        await expect(counts).to_have_text(tally)
    await page.reload()
    await expect(counts).to_have_text("3 attended, 1 absent, 0 not marked.")
    await expect(rows.filter(has_text="Person 3").locator("[data-outcome]")).to_have_text("Absent")
    await assert_accessible(page, "attendance marked")
    # A correction: Person 3 arrived late after all.
    await page.get_by_role("button", name="Attended: Person 3").tap()
    await expect(counts).to_have_text("4 attended, 0 absent, 0 not marked.")
    await page.goto(f"{server.base_url}/organisers/events/{event_id}/history")
    await expect(page.get_by_text("attendance.corrected")).to_be_visible()


async def test_importing_a_teams_report_in_the_browser(browser, server, now, tmp_path):
    """Issue 20 point 5: another day's report refused naming both dates; the right day's
    previewed (nothing recorded), then confirmed."""
    page = await signed_in_page(browser, server, now)
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/online").first())["id"]
    book(server, event_id, "jo", name="Jo Barclay", email="jo.barclay@acorns.example.org")
    book(server, event_id, "pat", name="Pat Smith", email="pat.smith@ash.example.org")
    report = tmp_path / "Online Safeguarding Forum - Attendance report.csv"
    other_day = [[c.replace("16/03/26", "19/03/26") for c in row] for row in teams_samples.ROWS]
    report.write_bytes(teams_samples.as_teams_downloads_it(other_day))
    start = (await Event.select(Event.starts_at).where(Event.id == event_id).first())["starts_at"]
    await Event.update({Event.starts_at: start.replace(year=2026, month=10, day=2),  # over: imports are taken
                        Event.ends_at: start.replace(year=2026, month=10, day=2) + dt.timedelta(hours=2)}).where(
        Event.id == event_id)
    await page.goto(f"{server.base_url}/organisers/events/{event_id}/teams-import/")
    await page.get_by_label("Attendance report file").set_input_files(str(report))
    await page.get_by_role("button", name="Preview the import").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("a meeting on Thursday 19 March 2026")
    await expect(page.locator(".govuk-error-summary")).to_contain_text("this event is on")
    await assert_accessible(page, "teams import of another day refused")
    report.write_bytes(teams_samples.as_teams_downloads_it())  # the meeting of the event's own day
    await Event.update({Event.starts_at: start.replace(year=2026, month=3, day=16),
                        Event.ends_at: start.replace(year=2026, month=3, day=16) + dt.timedelta(hours=2)}).where(
        Event.id == event_id)
    await page.get_by_label("Attendance report file").set_input_files(str(report))
    await page.get_by_role("button", name="Preview the import").click()
    await expect(page.get_by_role("heading", name="Check the Teams import")).to_be_visible()
    await expect(page.locator("#will-attend")).to_contain_text("Jo Barclay")
    await expect(page.locator("#will-be-absent")).to_contain_text("Pat Smith")
    await expect(page.locator("#team-rows")).to_contain_text("Chris Organiser")
    await assert_accessible(page, "teams import preview")
    await screenshot(page, "teams-import-preview")
    await page.get_by_role("button", name="Confirm and record attendance").click()
    await expect(page.get_by_role("heading", name="Teams report imported")).to_be_visible()
    await expect(page.locator("#matched")).to_contain_text("Jo Barclay")
    await assert_accessible(page, "teams import result")
    options = page.get_by_label(re.compile(r"^Morgan Lee"))
    await options.select_option(index=1)  # Pat Smith, the one booking not matched
    await page.get_by_role("button", name="Save matches").click()
    await expect(page.get_by_role("heading", name=re.compile("^Attendance"))).to_be_visible()
    await expect(page.get_by_text("2 attended, 0 absent, 0 not marked")).to_be_visible()


async def test_chasing_no_shows_sends_one_email_each(browser, server, now, smtp_server):
    page = await signed_in_page(browser, server, now)
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/south").first())["id"]
    book(server, event_id, 1)
    await Event.update({Event.starts_at: now - dt.timedelta(hours=4), Event.ends_at: now - dt.timedelta(hours=1)}).where(
        Event.id == event_id)
    before = len(smtp_server.messages)
    await page.goto(f"{server.base_url}/organisers/events/{event_id}/no-shows")
    # Nobody marked the register: not a no-show until someone is marked absent.
    await expect(page.get_by_text("0 no-shows")).to_be_visible()
    await expect(page.locator("#not-recorded")).to_contain_text("1 booking was not marked")
    await assert_accessible(page, "no-shows with the register not marked")
    await page.get_by_role("link", name="Record attendance").click()
    await page.get_by_role("button", name="Mark everyone left as absent").click()
    await page.goto(f"{server.base_url}/organisers/events/{event_id}/no-shows")
    await expect(page.get_by_text("1 no-show")).to_be_visible()
    await page.get_by_label("The session's materials or a summary (optional)").fill("Slides: https://example.org/slides")
    await page.get_by_role("button", name="Send chase emails").click()
    await expect(page.get_by_text("1 chase email queued")).to_be_visible()
    await assert_accessible(page, "no-shows after chasing")
    await expect(page.get_by_role("button", name="Send chase emails")).to_have_count(0)
    for _ in range(300):
        chases = [m for m in smtp_server.parsed()[before:] if m["Subject"].startswith("We missed you")]
        if chases:
            break
        await asyncio.sleep(0.1)
    [chase] = chases
    assert chase["To"] == "person1@school.example.org"
    assert "https://example.org/slides" in chase.get_body(("plain",)).get_content()
