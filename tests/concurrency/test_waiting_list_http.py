"""Capacity holds with the waiting list under concurrency, through a running server, on both
databases: freed places go only to the people waiting, in order, and offers count as places."""

import asyncio
import random

import httpx
import pytest

from app.bookings.records import count_active_bookings
from app.tables.bookings import Booking
from app.tables.programme import Event
from tests import factories as f
from tests.support import LOAD_TEST, RunningServer

pytestmark = pytest.mark.concurrency


async def test_offers_and_bookings_race_without_breaking_capacity_or_queue_order(db, now):
    capacity = 10
    event_id = await f.event(now=now, capacity=capacity)
    workers = 2 if db.startswith("postgresql") else 1
    with RunningServer(db, workers=workers, extra_env=LOAD_TEST) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120,
                                     limits=httpx.Limits(max_connections=100)) as client:
            async def post(path, body=None):
                return await client.post(path, json=body) if body is not None else await client.post(path)

            holders = [(await post(f"/api/events/{event_id}/bookings", f.api_body(f"h{n}"))).json()
                       for n in range(capacity)]
            waiting = [(await post(f"/api/events/{event_id}/bookings", {**f.api_body(f"w{n}"), "waitlist": True})).json()
                       for n in range(30)]
            assert {w["status"] for w in waiting} == {"waitlisted"}
            jobs = [("cancel", post(f"/api/bookings/{h['manage_token']}/cancel")) for h in holders]
            jobs += [("cancel", post(f"/api/bookings/{h['manage_token']}/cancel")) for h in holders[:5]]
            jobs += [("join", post(f"/api/events/{event_id}/bookings", {**f.api_body(f"late{n}"), "waitlist": True}))
                     for n in range(40)]
            jobs += [("direct", post(f"/api/events/{event_id}/bookings", f.api_body(f"direct{n}"))) for n in range(40)]
            random.Random(3).shuffle(jobs)
            responses = await asyncio.gather(*[job for _, job in jobs])
            kinds = [kind for kind, _ in jobs]
            direct = [r for kind, r in zip(kinds, responses) if kind == "direct"]
            assert len(direct) == 40
            assert {r.status_code for kind, r in zip(kinds, responses) if kind == "cancel"} == {200}
            # Every freed place went to someone already waiting: no one could jump the queue.
            assert {r.status_code for r in direct} == {409}
            offered = [w for w in waiting if (await client.get(f"/api/bookings/{w['manage_token']}")).json()["status"] == "offered"]
            assert [w["reference"] for w in offered] == [w["reference"] for w in waiting[:capacity]]
            accepts = await asyncio.gather(*[post(f"/api/bookings/{w['manage_token']}/accept") for w in offered * 2])
            assert sorted(r.status_code for r in accepts) == [200] * capacity + [409] * capacity
            shown = (await client.get(f"/api/events/{event_id}")).json()
    event = await Event.select(Event.places_taken, Event.capacity).where(Event.id == event_id).first()
    assert event["places_taken"] == await count_active_bookings(event_id) == capacity
    assert shown["places_left"] == 0
    confirmed = await Booking.count().where((Booking.event == event_id) & (Booking.status == "confirmed"))
    assert confirmed == capacity
