"""NUL bytes and other control characters are refused with a clear 4xx wherever text comes in,
never stored and never a 500 (PostgreSQL cannot hold a NUL: it answered 500)."""

from app.tables.bookings import Booking
from app.tables.register import Person
from tests import factories as f
from tests.support import csrf_token


async def test_a_nul_in_a_booking_is_refused_by_field_and_nothing_is_saved(client, now):
    event_id = await f.event(now=now)
    for body in (f.api_body(1, name="Jo\x00Bloggs"), f.api_body(1, name="Jo\u202eBloggs"),
                 f.api_body(1, setting={"name": "Oak\x07 Primary"})):
        response = await client.post(f"/api/events/{event_id}/bookings", json=body)
        assert response.status_code == 422, response.text
        [problem] = response.json()["errors"]
        assert problem["message"] == "Remove the invisible or control characters from this answer"
    assert await Booking.count() == 0 and await Person.count() == 0


async def test_control_characters_in_the_address_or_a_filter_are_a_400(client, now):
    await f.event(now=now)
    for url in ("/api/events?quadrant=%00", "/api/events?kind=forum%0d", "/?term=spring%00",
                "/bookings/abc%00def", "/api/bookings/abc%00def", "/api/settings?q=%00"):
        response = await client.get(url)
        assert response.status_code == 400, (url, response.status_code)


async def test_the_booking_form_explains_the_refusal(client, now):
    event_id = await f.event(now=now)
    page = await client.get(f"/events/{event_id}/book")
    token = csrf_token(page.text)
    response = await client.post(f"/events/{event_id}/book", data={
        "_csrf_token": token, "name": "Jo\x00 Bloggs", "email": "jo@school.example.org", "role": "dsl",
        "setting_name": "Oak Primary", "setting_urn": ""})
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text and "control characters" in response.text
