"""The 2023/24 programme loads exactly as the briefing gives it, idempotently, on both databases."""

import datetime as dt

from app.areas import LONDON
from app.programme.seeding import seed_programme
from app.programme.services import EventFilters, list_events
from app.tables.programme import Event, Venue
from tests.support import utc

NOW = utc(2026, 11, 26, 9)


def london(moment: dt.datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d.%m.%y %H:%M")


async def test_the_briefing_programme_loads_exactly(db):
    report = await seed_programme(demo=False, now=NOW)
    assert report.added == {"kinds": 3, "venues": 4, "events": 14}
    events = await list_events(EventFilters(), NOW)
    forums = [e for e in events if e.kind_code == "forum"]
    assert len(forums) == 10
    assert sorted(e.kind_code for e in events if e.kind_code != "forum") == ["hsb", "hsb", "prevent", "prevent"]
    by_title_and_term = {(e.title, e.term.value): e for e in events if e.kind_code == "forum"}
    south_spring = by_title_and_term[("South Safeguarding Forum", "spring")]
    assert london(south_spring.starts_at) == "Wed 13.03.24 09:30"
    assert london(south_spring.ends_at) == "Wed 13.03.24 12:00"
    assert south_spring.venue.name == "Basildon Lower Academy"
    assert south_spring.venue.postcode == "SS14 1UX"
    # Summer dates are in BST: still 9.30 on the wall clock.
    assert london(by_title_and_term[("North East Safeguarding Forum", "summer")].starts_at) == "Wed 10.07.24 09:30"
    online = by_title_and_term[("Online Safeguarding Forum", "summer")]
    assert online.online and online.venue is None and online.quadrant is None
    assert london(online.starts_at) == "Tue 09.07.24 18:00" and london(online.ends_at) == "Tue 09.07.24 19:30"
    prevent = sorted((e for e in events if e.kind_code == "prevent"), key=lambda e: e.starts_at)
    assert [london(p.starts_at) for p in prevent] == ["Tue 05.03.24 09:30", "Tue 02.07.24 14:00"]
    assert [london(p.ends_at) for p in prevent] == ["Tue 05.03.24 11:30", "Tue 02.07.24 16:00"]
    hsb = sorted((e for e in events if e.kind_code == "hsb"), key=lambda e: e.starts_at)
    assert [london(h.starts_at) for h in hsb] == ["Mon 25.03.24 14:00", "Thu 27.06.24 14:00"]
    assert {e.academic_year for e in events} == {"2023/24"}
    # Past events are shown as such and cannot be booked.
    assert all(not e.availability.bookable for e in events)
    # Capacities are marked as our assumption.
    assert await Event.count().where(Event.capacity_assumed == True) == 14  # noqa: E712


async def test_loading_twice_changes_nothing(db):
    await seed_programme(demo=False, now=NOW)
    before = await Event.select().order_by(Event.id)
    report = await seed_programme(demo=False, now=NOW)
    assert report.added == {"kinds": 0, "venues": 0, "events": 0}
    assert await Event.select().order_by(Event.id) == before
    assert await Venue.count() == 4


async def test_a_reload_keeps_an_organisers_capacity_change(db):
    await seed_programme(demo=False, now=NOW)
    await Event.update({Event.capacity: 60}).where(Event.seed_key == "2023/24:forum/spring/mid")
    await seed_programme(demo=False, now=NOW)
    row = await Event.select(Event.capacity).where(Event.seed_key == "2023/24:forum/spring/mid").first()
    assert row["capacity"] == 60


async def test_the_demo_programme_is_in_the_future_with_weekdays_and_times_kept(db):
    real = await seed_programme(demo=False, now=NOW)
    demo = await seed_programme(demo=True, now=NOW)
    assert real.added["events"] == demo.added["events"] == 14
    assert demo.shift_weeks % 52 == 0
    rows = await Event.select(Event.seed_key, Event.starts_at, Event.ends_at, Event.is_demo, Event.academic_year)
    by_key = {r["seed_key"]: r for r in rows}
    demo_rows = [r for r in rows if r["is_demo"]]
    assert len(demo_rows) == 14
    for row in demo_rows:
        original = by_key[row["seed_key"].replace("demo:", "2023/24:")]
        assert row["starts_at"] > NOW
        a, b = row["starts_at"].astimezone(LONDON), original["starts_at"].astimezone(LONDON)
        assert (a.weekday(), a.time()) == (b.weekday(), b.time())
        assert row["ends_at"].astimezone(LONDON).time() == original["ends_at"].astimezone(LONDON).time()
        assert row["academic_year"] == "2026/27"


async def test_each_kind_is_described_in_the_briefings_own_words(client, now):
    """HSB's audience and five topics, Prevent's six objectives and why the sessions exist, as
    section 7 of the briefing gives them (bullets as a list), and no made-up forum blurb."""
    import re

    from app.tables.programme import Event

    await seed_programme(demo=True, now=now)
    pages = {}
    for code in ("hsb", "prevent", "forum"):
        event = await Event.select(Event.id).where(Event.kind.code == code).first()
        pages[code] = (await client.get(f"/events/{event['id']}")).text
    hsb, prevent, forum = pages["hsb"], pages["prevent"], pages["forum"]
    assert "The training is relevant to Headteachers, DSLs and DDSLs, and will cover:" in hsb
    assert len(re.findall(r"<li>", hsb[hsb.index("will cover:"):hsb.index("will cover:") + 2000])) >= 5
    assert "<li>to ensure DSLs are aware of the CHANNEL panel.</li>" in prevent
    assert "We are still awaiting the replacement for the WRAP (Workshop to Raise Awareness of Prevent) training" in prevent
    assert "a chance to meet other DSLs" not in forum and "updates on statutory guidance" not in forum
