"""The public pages as a DSL uses them without JavaScript: programme, booking, manage, cancel."""

import datetime as dt
import re

from app.programme.seeding import seed_programme
from tests import factories as f
from tests.support import csrf_token


def form_fields(**overrides: str) -> dict[str, str]:
    fields = {"name": "Jo Barclay", "email": "jo@oak.example.org", "setting_name": "Oak Primary",
              "setting_urn": "115678", "role": "dsl"}
    fields.update(overrides)
    return fields


async def submit(client, event_id: int, **overrides: str):
    page = await client.get(f"/events/{event_id}/book")
    assert page.status_code == 200
    data = {**form_fields(**overrides), "_csrf_token": csrf_token(page.text)}
    return await client.post(f"/events/{event_id}/book", data=data, follow_redirects=False)


async def test_the_front_door_leads_to_every_journey_and_lists_what_is_coming_by_term(client, now):
    await seed_programme(demo=True, now=now)
    page = await client.get("/")
    assert page.status_code == 200
    for name, href in [("Book a place at a forum or training", "#programme-heading"),
                       ("Complete the early-years safeguarding questionnaire", "/questionnaire/start"),
                       ("Get your training record and certificates", "/my-record"),
                       ("Check a certificate", "/certificates/verify"), ("Which quadrant am I in?", "/quadrant")]:
        assert f'href="{href}">{name}</a>' in page.text
    assert page.text.count('class="app-event"') == 14
    terms = re.findall(r'app-term-heading">([^<]+)<', page.text)
    assert terms == sorted(set(terms), key=terms.index) and terms == ["Spring term 2026/27", "Summer term 2026/27"]  # each once, in date order
    assert "Online (Microsoft Teams)" in page.text and "Basildon Lower Academy" in page.text
    assert "40 places left" in page.text and "Demo" in page.text


async def test_a_quadrant_keeps_the_online_forum_and_training_open_to_everyone(client, now):
    await seed_programme(demo=True, now=now)
    everything = (await client.get("/")).text.count('class="app-event"')
    south = (await client.get("/", params={"quadrant": "south"})).text
    shown = re.findall(r'href="/events/\d+">([^<]+)<', south)
    assert "Latton Bush" not in south and any("South" in t for t in shown)
    assert any("Online" in t for t in shown) and any("Prevent" in t for t in shown)
    west = (await client.get("/", params={"quadrant": "west"})).text.count('class="app-event"')
    assert south.count('class="app-event"') == west < everything
    hsb = await client.get("/", params={"kind": "hsb", "term": "summer"})
    assert hsb.text.count('class="app-event"') == 1
    # Unknown filter values are ignored rather than an error page.
    assert (await client.get("/", params={"quadrant": "<x>"})).status_code == 200


async def test_past_events_are_out_of_the_way_but_reachable_latest_first(client, now):
    for days, title in [(-30, "Older forum"), (-3, "Newer forum"), (3, "Coming forum")]:
        await f.event(now=now, starts_in=dt.timedelta(days=days), title=title)
    home = (await client.get("/")).text
    assert "Coming forum" in home and "Older forum" not in home and 'href="/?when=past"' in home
    past = (await client.get("/", params={"when": "past"})).text
    assert past.index("Newer forum") < past.index("Older forum") and "Coming forum" not in past
    assert "Took place" in past and "places left" not in past


async def test_past_cancelled_and_full_events_say_so_and_offer_no_booking(client, now):
    past = await f.event(now=now, starts_in=dt.timedelta(days=-3), title="Past forum")
    cancelled = await f.event(now=now, status="cancelled", title="Cancelled forum")
    full = await f.event(now=now, capacity=1, places_taken=1, title="Full forum")
    for event_id, label in [(past, "This event has passed"), (cancelled, "Cancelled"), (full, "Fully booked")]:
        page = await client.get(f"/events/{event_id}")
        assert label in page.text
        assert f'href="/events/{event_id}/book"' not in page.text
        form = await client.get(f"/events/{event_id}/book")
        assert form.status_code == 409 and "You cannot book a place at this event" in form.text


async def test_booking_through_the_form_shows_the_reference_and_manage_link(client, now):
    event_id = await f.event(now=now, capacity=5, title="West Safeguarding Forum")
    response = await submit(client, event_id)
    assert response.status_code == 303
    confirmation = await client.get(response.headers["location"])
    assert "Booking confirmed" in confirmation.text
    reference = re.search(r'id="booking-reference">([A-Z0-9-]+)<', confirmation.text).group(1)
    manage_url = re.search(r'id="manage-link" href="([^"]+)"', confirmation.text).group(1)
    assert manage_url.startswith("http://testserver.local/bookings/")
    manage = await client.get(manage_url.removeprefix("http://testserver.local"))
    assert reference in manage.text and "Confirmed" in manage.text and "Oak Primary" in manage.text
    assert "4 of 5" in (await client.get(f"/events/{event_id}")).text


async def test_errors_show_a_summary_and_inline_messages_and_keep_what_was_typed(client, now):
    event_id = await f.event(now=now)
    response = await submit(client, event_id, name="", email="jo@", role="", setting_urn="12")
    assert response.status_code == 400
    html = response.text
    assert "<title>Error: " in html
    assert "There is a problem" in html
    for field, message in [("name", "Enter your full name"),
                           ("email", "Enter an email address in the correct format, like name@example.com"),
                           ("role", "Select your role"),
                           ("setting_urn", "Enter a URN of 6 or 7 digits, or an Ofsted number like EY123456")]:
        assert f'href="#{field}"' in html, field
        assert html.count(message) == 2, message  # in the summary and beside the field
    assert 'value="jo@"' in html and 'value="Oak Primary"' in html


async def test_a_second_booking_or_a_full_event_is_explained_on_the_form(client, now):
    event_id = await f.event(now=now, capacity=2)
    assert (await submit(client, event_id)).status_code == 303
    again = await submit(client, event_id, email="JO@oak.example.org")
    assert again.status_code == 409 and "You already have a place at this event" in again.text
    # Two people open the form; the first takes the last place; the second is told.
    form = await client.get(f"/events/{event_id}/book")
    assert (await submit(client, event_id, email="sam@oak.example.org")).status_code == 303
    late = await client.post(f"/events/{event_id}/book", follow_redirects=False, data={
        **form_fields(email="alex@oak.example.org"), "_csrf_token": csrf_token(form.text)})
    assert late.status_code == 409 and "This event is now fully booked" in late.text
    assert "Fully booked" in (await client.get(f"/events/{event_id}")).text


async def test_a_post_without_the_csrf_token_is_refused_and_saves_nothing(client, now):
    event_id = await f.event(now=now)
    await client.get(f"/events/{event_id}/book")
    response = await client.post(f"/events/{event_id}/book", data=form_fields())
    assert response.status_code == 403
    assert "Your form has expired" in response.text
    assert "10 of 10" in (await client.get(f"/events/{event_id}")).text


async def test_cancelling_from_the_manage_page_frees_the_place(client, now):
    event_id = await f.event(now=now, capacity=2)
    location = (await submit(client, event_id)).headers["location"]
    token = location.split("/")[2]
    manage = await client.get(f"/bookings/{token}")
    assert f'href="/bookings/{token}/cancel"' in manage.text
    confirm = await client.get(f"/bookings/{token}/cancel")
    assert "Are you sure you want to cancel your booking?" in confirm.text
    done = await client.post(f"/bookings/{token}/cancel", data={"_csrf_token": csrf_token(confirm.text)},
                             follow_redirects=False)
    assert done.status_code == 303
    after = await client.get(done.headers["location"])
    assert "Your booking has been cancelled" in after.text and "Cancelled" in after.text
    assert "2 of 2" in (await client.get(f"/events/{event_id}")).text


async def test_what_people_type_is_escaped(client, now):
    event_id = await f.event(now=now)
    location = (await submit(client, event_id, name="<script>alert(1)</script>",
                             setting_name='Oak "Primary" <b>')).headers["location"]
    manage = await client.get(location.replace("/confirmation", ""))
    assert "<script>alert(1)</script>" not in manage.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in manage.text
    assert "&lt;b&gt;" in manage.text


async def test_unknown_pages_and_links_get_a_helpful_404(client):
    for url in ["/events/999999", "/bookings/not-a-real-token", "/nowhere"]:
        response = await client.get(url)
        assert response.status_code == 404
        assert "Page not found" in response.text


async def test_which_quadrant_answers_from_the_register_never_for_a_childminder(client, now):

    for name, urn, kind, postcode, quadrant in [
            ("Oak Primary School", "115000", "school", "CM20 1AA", "west"),
            ("Little Acorns Nursery", "EY100001", "nursery", "SS14 2BB", "south"),
            ("Jane Smith", "EY200002", "childminder", "CO1 3CC", "north_east")]:
        await f.setting(name, urn=urn, setting_type=kind, postcode=postcode, quadrant=quadrant, now=now)
    by_name = await client.get("/quadrant", params={"q": "oak primary"})
    assert "Your quadrant is West." in by_name.text and 'href="/?quadrant=west"' in by_name.text
    assert "CM20" not in by_name.text  # only the quadrant is shown
    assert "Your quadrant is South." in (await client.get("/quadrant", params={"q": "EY100001"})).text
    assert "Your quadrant is South." in (await client.get("/quadrant", params={"q": "ss142bb"})).text
    for childminder in ["Jane Smith", "EY200002", "CO1 3CC"]:
        answer = await client.get("/quadrant", params={"q": childminder})
        assert answer.status_code == 400 and "Your quadrant is" not in answer.text
        assert "choose your district instead" in answer.text and "Jane Smith</a>" not in answer.text
    assert "Your quadrant is North East." in (await client.get("/quadrant", params={"district": "Tendring"})).text
    wrong = await client.get("/quadrant", params={"district": "Narnia"})
    assert wrong.status_code == 400 and "govuk-error-summary" in wrong.text


async def test_the_booking_form_lists_errors_in_its_own_order_and_calls_an_empty_email_missing(client, now):
    event_id = await f.event(now=now, capacity=5)
    page = await client.get(f"/events/{event_id}/book")
    answer = await client.post(f"/events/{event_id}/book", data={"_csrf_token": csrf_token(page.text), "name": "",
                                                                "email": "", "setting_name": "", "setting_urn": ""})
    summary = answer.text[answer.text.index("govuk-error-summary"):answer.text.index("</ul>", answer.text.index("govuk-error-summary"))]
    assert re.findall(r'href="#(\w+)"', summary) == ["name", "email", "setting_name", "role", "lead"]
    assert "Enter your work email address" in summary and "correct format" not in summary
    assert 'class="govuk-input govuk-input--error" id="setting_name"' in answer.text
