"""Public pages from memory for at most a second, dropped at once by the process that makes a
change, with ETags and 304 answers."""

import asyncio

from app.tables.programme import Event
from tests import factories as f


async def test_a_page_is_served_from_memory_for_a_second_at_most(client, now):
    event_id = await f.event(now=now, title="West Safeguarding Forum")
    assert "West Safeguarding Forum" in (await client.get(f"/events/{event_id}")).text
    # Another process (here: the database directly) renames it: this process shows it within a second.
    await Event.update({Event.title: "West Safeguarding Forum (moved)"}).where(Event.id == event_id)
    assert "(moved)" not in (await client.get(f"/events/{event_id}")).text  # from memory
    await asyncio.sleep(1.1)
    assert "(moved)" in (await client.get(f"/events/{event_id}")).text


async def test_the_process_that_makes_a_change_shows_it_at_once(client, now):
    event_id = await f.event(now=now, capacity=5)
    before = (await client.get("/api/events")).json()
    booked = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))
    assert booked.status_code == 201
    after = (await client.get("/api/events")).json()
    assert before[0]["places_left"] == 5 and after[0]["places_left"] == 4


async def test_pages_carry_an_etag_and_answer_304_when_unchanged(client, now):
    event_id = await f.event(now=now)
    for path in ("/", f"/events/{event_id}", "/api/events", "/calendar/programme.ics"):
        first = await client.get(path)
        etag = first.headers["etag"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == etag
        other = await client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.content == first.content, path
    assert "etag" not in (await client.get(f"/events/{event_id}/book")).headers  # forms are never cached
