"""The privacy notice and accessibility statement: in every page's footer, linked from the forms
that collect personal data, and stating the retention the purge really applies."""

import re

from app.retention.services import MAIL_AFTER, PEOPLE_AFTER
from tests import factories as f


async def test_the_privacy_notice_states_what_the_purge_does(client):
    page = await client.get("/privacy")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert f"removed {PEOPLE_AFTER.days // 365} years after the last event you booked" in text
    assert f"deleted after {MAIL_AFTER.days} days" in text
    assert "public interest" in text and "ico.org.uk" in text and "workforcedevelopment@essex.gov.uk" in text


async def test_every_page_links_both_and_the_booking_form_links_the_notice(client, now):
    event_id = await f.event(now=now)
    for path in ("/", f"/events/{event_id}", "/organisers/sign-in", "/no-such-page", "/accessibility"):
        html = (await client.get(path)).text
        assert 'href="/privacy"' in html and 'href="/accessibility"' in html, path
    form = (await client.get(f"/events/{event_id}/book")).text
    assert form.count('href="/privacy"') == 2  # the footer's, and the form's beside what it asks
    statement = (await client.get("/accessibility")).text
    assert "WCAG" in statement and "2.2" in statement and "Enforcement procedure" in statement


async def test_every_form_that_collects_personal_data_links_the_notice(signed_in, now):
    """Besides the footer's link: the booking form, the questionnaire, and the organiser's forms
    that take someone's name and email (a phone booking or walk-in, an invitation, a link sent)."""
    event_id = await f.event(now=now)

    setting_id = await f.setting("Oak Primary", now=now)
    for path in (f"/events/{event_id}/book", f"/organisers/events/{event_id}/bookings/new",
                 f"/organisers/events/{event_id}/bookings/new?walk_in=true", "/organisers/accounts",
                 f"/organisers/settings/{setting_id}"):
        html = (await signed_in.get(path)).text
        assert html.count('href="/privacy"') >= 2, path  # the form's own link, and the footer's
