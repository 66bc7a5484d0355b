"""The JSON API as a client sees it: shapes, status codes and error details."""

import datetime as dt

import pytest

from app.programme.seeding import seed_programme
from tests import factories as f


async def test_events_list_and_filters(client, now):
    await seed_programme(demo=True, now=now)
    everything = (await client.get("/api/events")).json()
    assert len(everything) == 14
    south = (await client.get("/api/events", params={"quadrant": "south"})).json()
    assert {e["quadrant"] for e in south} == {"south"} and len(south) == 2
    online = (await client.get("/api/events", params={"quadrant": "online"})).json()
    assert all(e["online"] and e["quadrant"] is None and e["venue"] is None for e in online)
    assert len(online) == 6
    prevent = (await client.get("/api/events", params={"kind": "prevent", "term": "summer"})).json()
    assert len(prevent) == 1 and prevent[0]["kind"] == "prevent"
    assert (await client.get("/api/events", params={"academic_year": "1999/00"})).json() == []


async def test_an_event_has_the_documented_fields_with_utc_offsets(client, now):
    await seed_programme(demo=False, now=now)
    events = (await client.get("/api/events", params={"quadrant": "south"})).json()
    summer = next(e for e in events if e["term"] == "summer")
    one = (await client.get(f"/api/events/{summer['id']}")).json()
    assert one == summer
    assert set(one) >= {"id", "title", "kind", "quadrant", "academic_year", "term", "starts_at", "ends_at",
                        "venue", "online", "capacity", "places_left", "status", "bookable"}
    # 9.30 on 3 July 2024 is BST: the offset says so.
    assert one["starts_at"] == "2024-07-03T09:30:00+01:00"
    assert one["venue"] == {"id": one["venue"]["id"], "name": "Basildon Lower Academy",
                            "address": "Timberlog Close, Basildon, Essex", "postcode": "SS14 1UX"}
    assert one["bookable"] is False and one["unbookable_reason"] == "past"
    spring = next(e for e in events if e["term"] == "spring")
    assert spring["starts_at"] in {"2024-03-13T09:30:00Z", "2024-03-13T09:30:00+00:00"}


async def test_booking_through_the_api(client, now):
    event_id = await f.event(now=now, capacity=5)
    response = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"reference", "status", "manage_token", "event_id"}
    assert body["status"] == "confirmed" and body["event_id"] == event_id
    booking = (await client.get(f"/api/bookings/{body['manage_token']}")).json()
    assert booking["reference"] == body["reference"] and booking["status"] == "confirmed"
    assert booking["setting"] == {"name": "Little Acorns Nursery", "urn": "EY123456"}
    assert booking["event"]["places_left"] == 4
    cancelled = await client.post(f"/api/bookings/{body['manage_token']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await client.get(f"/api/events/{event_id}")).json()["places_left"] == 5


async def test_conflicts_have_machine_readable_codes(client, now):
    event_id = await f.event(now=now, capacity=2)
    assert (await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))).status_code == 201
    again = await client.post(f"/api/events/{event_id}/bookings",
                              json=f.api_body(1, email="PERSON1@school.example.org"))
    assert again.status_code == 409 and again.json()["code"] == "already_booked"
    assert (await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(2))).status_code == 201
    full = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(3))
    assert full.status_code == 409 and full.json()["code"] == "event_full"
    # Capacity is checked first: on a full event, an address that has booked is told the same as
    # anyone else, so the answer does not reveal who has booked.
    booked_already = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))
    assert booked_already.status_code == 409 and booked_already.json() == full.json()
    past = await f.event(now=now, starts_in=dt.timedelta(days=-1))
    closed = await client.post(f"/api/events/{past}/bookings", json=f.api_body(3))
    assert closed.status_code == 409 and closed.json()["code"] == "booking_closed"


@pytest.mark.parametrize("body,fields", [
    ({"name": "A", "email": "not-an-email", "role": "dsl", "setting": {"name": "S"}}, {"email"}),
    ({"email": "a@b.org", "role": "dsl", "setting": {"name": "S"}}, {"name"}),
    ({"name": "x" * 201, "email": "a@b.org", "role": "dsl", "setting": {"name": "S"}}, {"name"}),
    ({"name": "A", "email": "a@b.org", "role": "caretaker", "setting": {"name": "S"}}, {"role"}),
    ({"name": "A", "email": "a@b.org", "role": "dsl", "setting": {"name": "", "urn": "ABC"}},
     {"setting.name", "setting.urn"}),
    ({"name": 5, "email": ["a"], "role": None, "setting": "S"}, {"name", "email", "role", "setting"}),
])
async def test_invalid_fields_are_422_with_details(client, now, body, fields):
    event_id = await f.event(now=now)
    response = await client.post(f"/api/events/{event_id}/bookings", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid"
    assert {e["field"] for e in problem["errors"]} == fields
    assert all(e["message"] for e in problem["errors"])
    assert (await client.get(f"/api/events/{event_id}")).json()["places_left"] == 10


async def test_malformed_json_is_400(client, now):
    event_id = await f.event(now=now)
    response = await client.post(f"/api/events/{event_id}/bookings", content=b'{"name": ',
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"


async def test_unknown_events_and_tokens_are_404(client, now):
    assert (await client.get("/api/events/424242")).status_code == 404
    assert (await client.post("/api/events/424242/bookings", json=f.api_body(1))).status_code == 404
    assert (await client.get("/api/events/not-a-number")).status_code == 404
    for impossible in ["99999999999999999999", "2147483648", "0"]:
        assert (await client.get(f"/api/events/{impossible}")).status_code == 404
        assert (await client.post(f"/api/events/{impossible}/bookings", json=f.api_body(1))).status_code == 404
        assert (await client.get(f"/events/{impossible}")).status_code == 404
    assert (await client.get("/api/bookings/nope")).status_code == 404
    assert (await client.post("/api/bookings/nope/cancel")).status_code == 404


async def test_bad_filters_are_400_with_details(client):
    response = await client.get("/api/events", params={"quadrant": "east", "term": "winter"})
    assert response.status_code == 400
    # Each field at fault, in the shape every API error has ({field, message}, as documented).
    assert {e["field"] for e in response.json()["errors"]} == {"quadrant", "term"}


async def test_openapi_documents_the_api(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert {"/api/events", "/api/events/{event_id}", "/api/events/{event_id}/bookings",
            "/api/bookings/{manage_token}", "/api/bookings/{manage_token}/cancel"} <= set(schema["paths"])
    body = schema["paths"]["/api/events/{event_id}/bookings"]["post"]["requestBody"]
    props = body["content"]["application/json"]["schema"]["properties"]
    assert set(props) == {"name", "email", "role", "lead", "setting", "waitlist"}
    assert (await client.get("/schema")).status_code == 200
