"""The waiting list: join when full, a freed place is offered to the first person waiting,
held for them, accepted with one click, or passed on when the hold runs out."""

import datetime as dt

from app.bookings.records import count_active_bookings, get_booking
from app.bookings.waiting_list import expire_offers
from app.jobs import deliver_due
from app.mail.sender import FileTransport
from app.programme.services import get_event
from app.tables.audit import AuditRecord
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f
from tests.support import csrf_token


async def full_event(client, now, capacity=1):
    event_id = await f.event(now=now, capacity=capacity)
    holders = [(await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(f"h{n}"))).json()
               for n in range(capacity)]
    return event_id, holders


async def join(client, event_id, n):
    response = await client.post(f"/api/events/{event_id}/bookings", json={**f.api_body(n), "waitlist": True})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_full_event_takes_people_onto_its_waiting_list(client, now):
    event_id, _ = await full_event(client, now)
    refused = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))
    assert refused.status_code == 409 and refused.json()["code"] == "event_full"
    first, second = await join(client, event_id, 1), await join(client, event_id, 2)
    assert first["status"] == second["status"] == "waitlisted"
    again = await client.post(f"/api/events/{event_id}/bookings", json={**f.api_body(1), "waitlist": True})
    assert again.json()["code"] == "already_booked"
    assert (await client.get(f"/api/events/{event_id}")).json()["places_left"] == 0
    emails = await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.recipient).where(
        OutboxMessage.kind == "waitlisted")
    assert sorted(e["recipient"] for e in emails) == ["person1@school.example.org", "person2@school.example.org"]
    manage = await client.get(f"/bookings/{second['manage_token']}")
    assert "Waiting list: number 2" in manage.text
    # Joined by the booking's own statements: one audit record each, no confirmation queued.
    audit = await AuditRecord.select(AuditRecord.action, AuditRecord.detail).where(
        AuditRecord.event == event_id).output(load_json=True)
    joined = [a["detail"]["reference"] for a in audit if a["action"] == "booking.waitlisted"]
    assert sorted(joined) == sorted([first["reference"], second["reference"]])
    assert await OutboxMessage.count().where((OutboxMessage.kind == "confirmation")
                                             & (OutboxMessage.event == event_id)) == 1  # the holder's


async def test_when_the_event_has_room_a_waitlist_request_just_books(client, now):
    event_id = await f.event(now=now, capacity=3)
    assert (await join(client, event_id, 1))["status"] == "confirmed"


async def test_a_freed_place_goes_to_the_first_person_waiting_who_accepts_it(client, now, tmp_path):
    event_id, [holder] = await full_event(client, now)
    first, second = await join(client, event_id, 1), await join(client, event_id, 2)
    await client.post(f"/api/bookings/{holder['manage_token']}/cancel")
    offered = (await client.get(f"/api/bookings/{first['manage_token']}")).json()
    assert offered["status"] == "offered"
    assert (await client.get(f"/api/bookings/{second['manage_token']}")).json()["status"] == "waitlisted"
    assert (await client.get(f"/api/events/{event_id}")).json()["places_left"] == 0  # held for them
    # The sender makes the offer from the booking when its turn comes.
    assert (await deliver_due(FileTransport(tmp_path), config=f.CONFIG, now=lambda: now + dt.timedelta(minutes=1))).sent >= 1
    offer = await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "offer").first()
    assert f"/bookings/{first['manage_token']}/accept" in offer["raw"].replace("=\r\n", "")
    accepted = await client.post(f"/api/bookings/{first['manage_token']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "confirmed"
    assert await OutboxMessage.count().where(
        (OutboxMessage.kind == "confirmation") & (OutboxMessage.recipient == "person1@school.example.org")) == 1
    twice = await client.post(f"/api/bookings/{first['manage_token']}/accept")
    assert twice.status_code == 409 and twice.json()["code"] == "no_open_offer"
    assert await count_active_bookings(event_id) == 1


async def test_an_offer_not_taken_in_time_passes_to_the_next_person(client, now):
    event_id, [holder] = await full_event(client, now)
    first, second = await join(client, event_id, 1), await join(client, event_id, 2)
    await client.post(f"/api/bookings/{holder['manage_token']}/cancel")
    assert await expire_offers(now=now + dt.timedelta(hours=47), config=f.CONFIG) == 0
    assert await expire_offers(now=now + dt.timedelta(hours=49), config=f.CONFIG) == 1
    later = now + dt.timedelta(hours=49)
    assert (await get_booking(first["manage_token"], later)).status.value == "cancelled"
    assert (await get_booking(second["manage_token"], later)).status.value == "offered"
    assert await OutboxMessage.count().where(OutboxMessage.kind == "offer_expired") == 1
    assert (await get_event(event_id, now)).availability.places_taken == 1 == await count_active_bookings(event_id)


async def test_raising_the_capacity_offers_the_new_places(client, now):
    from app.event_changes.manage import set_capacity

    event_id, _ = await full_event(client, now)
    waiting = [await join(client, event_id, n) for n in range(3)]
    await set_capacity(event_id, 3, actor="organiser@test", now=now, config=f.CONFIG)
    statuses = [(await client.get(f"/api/bookings/{w['manage_token']}")).json()["status"] for w in waiting]
    assert statuses == ["offered", "offered", "waitlisted"]
    assert (await Event.select(Event.places_taken).where(Event.id == event_id).first())["places_taken"] == 3


async def test_joining_the_waiting_list_through_the_pages(client, now):

    event_id, _ = await full_event(client, now)
    event_page = await client.get(f"/events/{event_id}")
    assert f'href="/events/{event_id}/book?waitlist=true"' in event_page.text
    form = await client.get(f"/events/{event_id}/book", params={"waitlist": "true"})
    assert "Join the waiting list" in form.text
    token = csrf_token(form.text)
    done = await client.post(f"/events/{event_id}/book", data={
        "name": "Jo", "email": "jo@acorns.example.org", "setting_name": "Acorns", "role": "dsl", "waitlist": "true",
        "_csrf_token": token})
    assert done.status_code == 200 and "You are on the waiting list" in done.text and "number 1" in done.text
