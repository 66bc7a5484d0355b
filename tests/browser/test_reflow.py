"""WCAG 2.2 1.4.10 Reflow (issue 20): every page, public and the organisers', at 320 px wide,
with nothing making the page scroll sideways (a wide table scrolls inside its own labelled box).
One database: this tests layout, not data."""

import datetime as dt
import hashlib
import re
import secrets

import pytest
from playwright.async_api import expect

from app.attendance.services import mark
from app.attendance.teams_import import preview_report
from app.bookings.services import book_place
from app.config import Config
from app.organisers.services import organiser_for_session, sign_in, token_hash
from app.programme.dated_notices import save_notice
from app.questionnaire.seeding import seed_questionnaire
from app.questionnaire.services import send_questionnaire
from app.settings_register.importer import import_settings
from app.tables.attendance import Outcome
from app.tables.bookings import Booking, BookingSource
from app.tables.organisers import Organiser
from app.tables.programme import Event
from app.tables.questionnaire import Response
from app.tables.register import InspectorShare, CopiesLink, Setting
from app.tables.training import Certificate, ForumPack, LeadClock, PackCopy, RecordLink
from app.training.record import LINK_LIFETIME, _hash
from app.tables.webhooks import WebhookDelivery, WebhookEndpoint
from tests import factories as f
from tests.attendance import teams_samples
from tests.browser.conftest import screenshot
from tests.browser.test_booking_journey import assert_accessible
from tests.browser.test_organiser_workspace import PASSWORD, signed_in_page
from tests.settings_register.test_import import GIAS, csv_bytes
from tests.support import app_routes_of_kind

pytestmark = [pytest.mark.asyncio(loop_scope="session"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

#: How wide the page is, and the elements that reach past the viewport's right edge or whose
#: text spills out of them, outside a table's scrolling box (to say why a page is too wide).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    const scroller = el.closest(".app-table-scroll");
    const spills = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).position === "static"
      && getComputedStyle(el).overflowX === "visible";
    if (box.width && (box.right > width + 1 || spills) && (!scroller || scroller === el))
      wide.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || "").trim().slice(0, 40)}"`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(-3)};
}"""

#: Routes that are not pages for people to read (probes, metrics, a certificate's PDF, and the two
#: ends of a sign-in through the identity provider: redirects, walked at 320 px by
#: tests/browser/test_provider_sign_in_journey.py).
NOT_PAGES = {"/healthz", "/readyz", "/metrics", "/my-record/{token:str}/certificates/{code:str}",
             "/organisers/sign-in/provider", "/organisers/sign-in/provider/callback"}


async def test_every_page_fits_a_320_px_phone(browser, server, now):
    page = await signed_in_page(browser, server, now, viewport={"width": 320, "height": 640})
    config = Config(base_url=server.base_url)
    await seed_questionnaire()
    await import_settings(csv_bytes(GIAS))
    setting = (await Setting.select(Setting.id).where(Setting.urn == "115000").first())["id"]
    event_id = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/west").first())["id"]
    past = await f.event(now=now, starts_in=dt.timedelta(hours=-3), title="West Safeguarding Forum")
    made = await book_place(event_id, f.request(1, email="jo.barclay@oak.example.org"), source=BookingSource.web,
                            actor="public", now=now, config=config)
    attended = await book_place(past, f.request(2, email="sam.patel@oak.example.org"), source=BookingSource.web,
                                actor="public", now=now - dt.timedelta(days=2), config=config)
    organiser = await organiser_for_session(await sign_in(email="jo.barclay@essex.gov.uk", password=PASSWORD, now=now), now)
    await mark(attended.id, Outcome.attended, organiser=organiser, now=now, config=config)
    certificate = await Certificate.select(Certificate.code, Certificate.feedback_token).where(
        Certificate.booking == attended.id).first()
    booking = await Booking.select(Booking.person, Booking.checkin_token).where(Booking.id == made.id).first()
    questionnaire = await send_questionnaire(setting, "dsl@oak.example.org", actor="test", now=now, config=config)
    response_id = (await Response.select(Response.id).first())["id"]
    record, invite, reset, link = (secrets.token_urlsafe(16) for _ in range(4))
    await RecordLink.insert(RecordLink(email="sam.patel@oak.example.org", token_hash=_hash(record), created_at=now,
                                       expires_at=now + LINK_LIFETIME))
    copies, evidence, shared = (secrets.token_urlsafe(16) for _ in range(3))
    await CopiesLink.insert(CopiesLink(email="office@oak.example.org", purpose="evidence", created_at=now,
                                       token_hash=hashlib.sha256(evidence.encode()).hexdigest(),
                                       expires_at=now + dt.timedelta(days=7)))
    await InspectorShare.insert(InspectorShare(setting=setting, token_hash=hashlib.sha256(shared.encode()).hexdigest(),
                                               made_by="office@oak.example.org", created_at=now,
                                               expires_at=now + dt.timedelta(days=7)))
    await Setting.update({Setting.contact_email: "office@oak.example.org"}).where(Setting.id == setting)
    await CopiesLink.insert(CopiesLink(email="office@oak.example.org", token_hash=hashlib.sha256(copies.encode()).hexdigest(),
                                       created_at=now, expires_at=now + dt.timedelta(days=7)))
    await Organiser.update({Organiser.reset_token_hash: token_hash(reset),
                            Organiser.reset_expires_at: now + dt.timedelta(hours=1),
                            Organiser.sign_in_link_hash: token_hash(link),
                            Organiser.sign_in_link_expires_at: now + dt.timedelta(minutes=15)}).where(Organiser.id == organiser.id)
    await Organiser.insert(Organiser(email="new@essex.gov.uk", name="New Organiser", invite_token_hash=token_hash(invite),
                                     created_at=now))
    preview = await preview_report(past, teams_samples.as_teams_downloads_it(), minimum_minutes=30, organiser=organiser,
                                   now=now, config=config, other_day=True)
    # A MACA window open today for the West: on its event page, the home page and the organisers' list.
    notice = await save_notice(None, {
        "quadrant": "west", "title": "Multi-Agency Case Audit (MACA) nominations",
        "opens_on": (now.date() - dt.timedelta(days=1)).isoformat(),
        "closes_on": (now.date() + dt.timedelta(days=20)).isoformat(),
        "summary": "MACAs involve a range of agencies coming together to consider the effectiveness of Multi-Agency "
                   "working.", "criteria": "The child(ren) involved being under the age of 18 at the time of "
                   "engagement with services.\nAvailability of the professional network involved.",
        "rule": "Please note that all nominations must have line manager approval before submitting to PSAS.",
        "contact": "Professional Standards & Audit Service (PSAS): MultiAgency.Audits@essex.gov.uk"}, actor="test", now=now)
    q = f"/questionnaire/{questionnaire}"
    reminders = (await LeadClock.select(LeadClock.reminders_token).first())["reminders_token"]  # Sam attended
    [pack] = await ForumPack.insert(ForumPack(event=past, filename="West forum slides.pdf", content=b"%PDF-1.7", size=8,
                                             uploaded_by=organiser.id, uploaded_at=now)).returning(ForumPack.id)
    pack_token = secrets.token_urlsafe(16)
    await PackCopy.insert(PackCopy(pack=pack["id"], booking=attended.id, created_at=now,
                                   token_hash=hashlib.sha256(pack_token.encode()).hexdigest()))
    [hook] = await WebhookEndpoint.insert(WebhookEndpoint(
        url="https://crm.example.org/hooks/safeguarding-bookings/" + "x" * 60, description="County CRM", secret="whsec_"
        + "A" * 44, personal_data=True, owner=organiser.id, created_at=now)).returning(WebhookEndpoint.id)
    await WebhookDelivery.insert(WebhookDelivery(endpoint=hook["id"], attempted_at=now, status_code=500,
                                                 response="<html>" + "Internal Server Error " * 40, milliseconds=12))
    walk = {
        "/organisers/webhooks": ["/organisers/webhooks/"],
        "/organisers/webhooks/{endpoint_id:int}": [f"/organisers/webhooks/{hook['id']}"],
        "/": ["/", "/?when=past", "/?quadrant=west"], "/quadrant": ["/quadrant", "/quadrant?q=Oak+Primary", "/quadrant?q=zz"],
        "/events/{event_id:int}": [f"/events/{event_id}"], "/events/{event_id:int}/book": [f"/events/{event_id}/book"],
        "/bookings/{token:str}": [f"/bookings/{made.manage_token}"],
        "/bookings/{token:str}/confirmation": [f"/bookings/{made.manage_token}/confirmation"],
        "/bookings/{token:str}/cancel": [f"/bookings/{made.manage_token}/cancel"],
        "/bookings/{token:str}/colleague": [f"/bookings/{made.manage_token}/colleague"],
        "/bookings/{token:str}/move": [f"/bookings/{made.manage_token}/move"],
        "/settings/copies": ["/settings/copies/"],
        "/settings/copies/{token:str}": [f"/settings/copies/{copies}"],
        "/reminders/{token:str}": [f"/reminders/{reminders}"],
        "/packs/{token:str}": [f"/packs/{pack_token}"],
        "/settings/evidence": ["/settings/evidence/"],
        "/settings/evidence/{token:str}": [f"/settings/evidence/{evidence}"],
        "/settings/evidence/{token:str}/settings/{setting_id:int}": [f"/settings/evidence/{evidence}/settings/{setting}"],
        "/evidence/{secret:str}": [f"/evidence/{shared}"],
        "/organisers/settings/{setting_id:int}/evidence": [f"/organisers/settings/{setting}/evidence"],
        "/organisers/events/{event_id:int}/pack": [f"/organisers/events/{past}/pack"],
        "/organisers/clocks": ["/organisers/clocks/", "/organisers/clocks/?which=prevent&show=none"],
        "/organisers/clocks/cover": ["/organisers/clocks/cover"],
        "/bookings/{token:str}/move-back": [f"/bookings/{made.manage_token}/move-back"],
        "/bookings/{token:str}/accept": [f"/bookings/{made.manage_token}/accept"],
        "/feedback/{token:str}": [f"/feedback/{certificate['feedback_token']}"],
        "/certificates/verify": ["/certificates/verify", f"/certificates/verify?code={certificate['code']}"],
        "/my-record": ["/my-record"], "/my-record/{token:str}": [f"/my-record/{record}"],
        "/privacy": ["/privacy"], "/accessibility": ["/accessibility"], "/questionnaire/start": ["/questionnaire/start"],
        "/questionnaire/{token:str}": [q], "/questionnaire/{token:str}/questions/{key:str}": [f"{q}/questions/about", f"{q}/questions/13"],
        "/questionnaire/{token:str}/training": [f"{q}/training"], "/questionnaire/{token:str}/check": [f"{q}/check"],
        "/questionnaire/{token:str}/submitted": [f"{q}/submitted"],
        "/organisers": ["/organisers"], "/organisers/account": ["/organisers/account"],
        "/organisers/accounts": ["/organisers/accounts"], "/organisers/audit": ["/organisers/audit"],
        "/organisers/check-in/{token:str}": [f"/organisers/check-in/{booking['checkin_token']}"],
        "/organisers/dashboard": ["/organisers/dashboard"], "/organisers/events/new": ["/organisers/events/new"],
        "/organisers/events/{event_id:int}": [f"/organisers/events/{event_id}"],
        "/organisers/events/{event_id:int}/attendance": [f"/organisers/events/{past}/attendance"],
        "/organisers/events/{event_id:int}/bookings/new": [f"/organisers/events/{event_id}/bookings/new"],
        "/organisers/events/{event_id:int}/bookings/{booking_id:int}/cancel": [f"/organisers/events/{event_id}/bookings/{made.id}/cancel"],
        "/organisers/events/{event_id:int}/cancel": [f"/organisers/events/{event_id}/cancel"],
        "/organisers/events/{event_id:int}/certificates": [f"/organisers/events/{past}/certificates"],
        "/organisers/events/{event_id:int}/edit": [f"/organisers/events/{event_id}/edit"],
        "/organisers/events/{event_id:int}/history": [f"/organisers/events/{event_id}/history"],
        "/organisers/events/{event_id:int}/move-bookers": [f"/organisers/events/{event_id}/move-bookers"],
        "/organisers/events/{event_id:int}/no-shows": [f"/organisers/events/{past}/no-shows"],
        "/organisers/events/{event_id:int}/sign-in-sheet": [f"/organisers/events/{event_id}/sign-in-sheet"],
        "/organisers/events/{event_id:int}/teams-import": [f"/organisers/events/{past}/teams-import/"],
        "/organisers/events/{event_id:int}/teams-import/preview/{preview_id:int}": [
            f"/organisers/events/{past}/teams-import/preview/{preview}"],
        "/organisers/feedback": ["/organisers/feedback"], "/organisers/no-shows": ["/organisers/no-shows"],
        "/organisers/people/{person_id:int}": [f"/organisers/people/{booking['person']}"],
        "/organisers/people/{person_id:int}/record": [f"/organisers/people/{booking['person']}/record"],
        "/organisers/questionnaire": ["/organisers/questionnaire"],
        "/organisers/questionnaire/findings": ["/organisers/questionnaire/findings"],
        "/organisers/questionnaire/guidance": ["/organisers/questionnaire/guidance"],
        "/organisers/notices": ["/organisers/notices"], "/organisers/notices/new": ["/organisers/notices/new"],
        "/organisers/notices/{notice_id:int}/edit": [f"/organisers/notices/{notice}/edit"],
        "/organisers/questionnaire/responses/{response_id:int}": [f"/organisers/questionnaire/responses/{response_id}"],
        "/organisers/service": ["/organisers/service"], "/organisers/settings": ["/organisers/settings"],
        "/organisers/settings/{setting_id:int}": [f"/organisers/settings/{setting}"],
        "/organisers/venues": ["/organisers/venues"], "/organisers/venues/new": ["/organisers/venues/new"],
        "/organisers/venues/{venue_id:int}/edit": ["/organisers/venues/1/edit"],
        "/organisers/password-reset": ["/organisers/password-reset"],
        "/organisers/password-reset/{token:str}": [f"/organisers/password-reset/{reset}"],
        "/organisers/invitations/{token:str}": [f"/organisers/invitations/{invite}"],
        "/organisers/sign-in": ["/organisers/sign-in"],
        "/organisers/sign-in/link/{token:str}": [f"/organisers/sign-in/link/{link}"],
    }
    assert set(walk) == app_routes_of_kind("page") - NOT_PAGES, "a page the walk does not visit (or no longer exists)"
    wide = {}
    for paths in walk.values():
        for path in paths:
            answer = await page.goto(server.base_url + path)
            assert answer.status < 500, path
            found = await page.evaluate(OVERFLOW)
            if found["scrollWidth"] > 320:  # what spills is listed to say why
                wide[path] = found
    assert wide == {}
    tables = page.locator(".app-table-scroll")
    await page.goto(f"{server.base_url}/organisers/events/{event_id}")
    assert await tables.count() >= 1
    for attribute, value in {"tabindex": "0", "role": "region"}.items():
        assert await tables.first.get_attribute(attribute) == value
    label = await tables.first.get_attribute("aria-labelledby")
    assert (await page.locator(f"#{label}").inner_text()).startswith("Bookings")


async def test_the_home_page_on_a_phone_leads_to_each_journey(browser, server, now):
    """Issue 20 point 2: from the front door to every public journey by its name, on a phone."""
    page = await browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True)
    await page.goto(server.base_url + "/")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await assert_accessible(page, "home on a phone")
    await screenshot(page, "home-phone")
    for link, heading in [("Complete the early-years safeguarding questionnaire", "questionnaire"),
                          ("Get your training record and certificates", "training record"),
                          ("Check a certificate", "Check a certificate"),
                          ("Which quadrant am I in?", "Which quadrant am I in?")]:
        await page.goto(server.base_url + "/")
        await page.get_by_role("link", name=link).click()
        await expect(page.locator("h1")).to_contain_text(re.compile(heading, re.I))
        await assert_accessible(page, link)
    await page.get_by_label("Or choose your district").select_option("Harlow")
    await page.get_by_role("button", name="Show my quadrant").click()
    await expect(page.locator("#quadrant-answer")).to_contain_text("Your quadrant is West.")
    await page.get_by_role("link", name=re.compile("See the West forums")).click()
    titles = await page.locator(".app-event a").all_inner_texts()
    assert any("West" in t for t in titles) and any("Online" in t for t in titles)
    assert not any(q in t for t in titles for q in ("South", "Mid ", "North East"))
    await page.goto(server.base_url + "/")
    await page.get_by_role("link", name="Book a place at a forum or training").click()
    await page.locator(".app-event a").first.click()
    await expect(page.get_by_role("button", name=re.compile("Book"))).to_be_visible()
