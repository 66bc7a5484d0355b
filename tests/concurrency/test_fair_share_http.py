"""Places shared setting by setting under concurrency (issue 24, point 3), through a running server
on both databases: a burst of people from a few settings joins the waiting list for a full event,
then its places are freed all at once. Every setting that asked is offered its first place before
any setting a second, and capacity holds."""

import asyncio
import random
from collections import Counter

import httpx
import pytest

from app.bookings.records import count_active_bookings
from app.tables.bookings import Booking
from app.tables.programme import Event
from app.tables.register import Setting
from tests import factories as f
from tests.support import LOAD_TEST, RunningServer

pytestmark = pytest.mark.concurrency


def _body(n: str, setting: str) -> dict[str, object]:
    return {**f.api_body(n), "setting": {"name": setting}, "waitlist": True}


async def test_a_burst_for_the_last_places_gives_every_setting_that_asked_one_before_any_a_second(db, now):
    capacity = 4
    event_id = await f.event(now=now, capacity=capacity)
    await Event.update({Event.waitlist_rule: "setting_first"}).where(Event.id == event_id)
    workers = 2 if db.startswith("postgresql") else 1
    asked = {"Alder Nursery": 5, "Birch Primary": 3, "Cedar Childminding": 1, "Damson Academy": 1}
    with RunningServer(db, workers=workers, extra_env=LOAD_TEST) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120,
                                     limits=httpx.Limits(max_connections=100)) as client:
            holders = [(await client.post(f"/api/events/{event_id}/bookings",
                                          json=_body(f"z{n}", "Zed School"))).json() for n in range(capacity)]
            assert {h["status"] for h in holders} == {"confirmed"}
            joins = [_body(f"{name[0]}{n}", name) for name, many in asked.items() for n in range(many)]
            random.Random(7).shuffle(joins)
            joined = await asyncio.gather(*[client.post(f"/api/events/{event_id}/bookings", json=b) for b in joins])
            assert {r.status_code for r in joined} == {201} and {r.json()["status"] for r in joined} == {"waitlisted"}
            # Every place freed at once (and some twice): each release offers the place in the event's order.
            cancels = [client.post(f"/api/bookings/{h['manage_token']}/cancel") for h in holders + holders[:2]]
            random.Random(8).shuffle(cancels)
            assert {r.status_code for r in await asyncio.gather(*cancels)} == {200}
    offered = await Booking.select(Booking.setting.name.as_alias("setting")).where(
        (Booking.event == event_id) & (Booking.status == "offered"))
    assert Counter(r["setting"] for r in offered) == {name: 1 for name in asked}
    # The burst's first bookings for each new name added one setting, not one each.
    assert await Setting.count().where(Setting.name.is_in(list(asked))) == len(asked)
    event = await Event.select(Event.places_taken).where(Event.id == event_id).first()
    assert event["places_taken"] == await count_active_bookings(event_id) == capacity
