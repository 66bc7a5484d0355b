"""Issue 25, point 1: each person's clock, worked out from what the service knows and kept in the
transaction that changes it; London dates across the clocks' change; worded as facts."""

from __future__ import annotations

import datetime as dt

from app.attendance.services import mark
from app.bookings.services import book_place
from app.clocks.dates import clocks_for, plus_years, refresh_clocks
from app.db import write_transaction
from app.retention.people import erase_person
from app.tables.attendance import Outcome
from app.tables.bookings import BookingSource
from app.tables.training import LeadClock
from tests import factories as f

UTC = dt.timezone.utc
EMAIL = "jo.barclay@oak.example.org"
CONFIG = f.CONFIG.model_copy(update={"prevent_renew_years": 3})


async def attended(now: dt.datetime, organiser, starts_at: dt.datetime, *, kind_code: str = "forum",
                   title: str = "West Safeguarding Forum", email: str = EMAIL) -> int:
    """A booking made before a session at `starts_at`, marked attended now. Returns the booking's id."""
    event_id = await f.event(now=now, starts_in=starts_at - now, kind_code=kind_code, title=title,
                             quadrant=None if kind_code != "forum" else "west")
    request = f.request(1, email=email).model_copy(update={"name": "Jo Barclay"})
    made = await book_place(event_id, request, source=BookingSource.web, actor="public",
                            now=starts_at - dt.timedelta(days=3), config=CONFIG)
    await mark(made.id, Outcome.attended, organiser=organiser, now=now, config=CONFIG)
    return made.id


async def test_dates_are_london_dates_a_year_and_the_prevent_years_on(db, organiser, now):
    # 23:30 UTC on 13 June 2025 is 00:30 on 14 June in London (BST); 23:30 UTC on 14 January 2025
    # is 23:30 on 14 January (GMT).
    await attended(now, organiser, dt.datetime(2025, 6, 13, 23, 30, tzinfo=UTC))
    await attended(now, organiser, dt.datetime(2025, 1, 14, 23, 30, tzinfo=UTC), kind_code="prevent",
                   title="Prevent awareness")
    [row] = await LeadClock.select().where(LeadClock.email == EMAIL)
    assert (row["knowledge_on"], row["knowledge_due"]) == (dt.date(2025, 6, 14), dt.date(2026, 6, 14))
    assert (row["prevent_on"], row["prevent_due"]) == (dt.date(2025, 1, 14), dt.date(2028, 1, 14))
    assert row["level3_on"] is None and row["level3_due"] is None
    clock = (await clocks_for([EMAIL.upper()], CONFIG))[EMAIL]
    words = clock.words(dt.date(2026, 5, 1))
    assert words == [
        "Level 3: nothing recorded in this service",
        "Knowledge refreshed: last recorded 14 June 2025 (attended West Safeguarding Forum); "
        "a year on: 14 June 2026, due within 60 days",
        "Prevent awareness: last recorded 14 January 2025 (attended Prevent awareness); "
        "three years on: 14 January 2028",
    ]
    assert clock.words(dt.date(2026, 6, 15))[1].endswith("a year on: 14 June 2026, a date now passed")
    assert not any("compliant" in w.lower() or "lapsed" in w.lower() for w in words)


async def test_a_declared_course_and_one_attended_the_latest_counts_with_where_it_came_from(db, organiser, now):
    setting = await f.setting("Oak Nursery", on_register=False, now=now)
    await attended(now, organiser, dt.datetime(2024, 11, 5, 10, tzinfo=UTC), kind_code="prevent",
                   title="Prevent awareness")
    async with write_transaction():  # the setting declares a later Prevent course for the same person
        await f.declaration(setting, kind="prevent", email=EMAIL, course="Prevent e-learning", provider="Home Office",
                            completed_on=dt.date(2025, 2, 3), now=now)
        await f.declaration(setting, kind="level3", email=EMAIL, completed_on=dt.date(2024, 2, 29), now=now)
        await refresh_clocks([EMAIL], now=now, config=CONFIG)
    clock = (await clocks_for([EMAIL], CONFIG))[EMAIL]
    assert clock.date("prevent").on == dt.date(2025, 2, 3) and clock.date("prevent").source == "declared by the setting"
    # 29 February two years on is 28 February.
    assert clock.date("level3").due == dt.date(2026, 2, 28) == plus_years(dt.date(2024, 2, 29), 2)
    assert clock.words(dt.date(2026, 1, 1))[0] == ("Level 3: last recorded 29 February 2024 (declared by the "
                                                  "setting); two years on: 28 February 2026, due within 60 days")


async def test_a_correction_to_absent_takes_the_date_back_and_erasure_removes_the_clock(db, organiser, now):
    booking = await attended(now, organiser, dt.datetime(2025, 10, 1, 9, 30, tzinfo=UTC))
    assert (await clocks_for([EMAIL], CONFIG))[EMAIL].date("knowledge").on == dt.date(2025, 10, 1)
    await mark(booking, Outcome.absent, organiser=organiser, now=now, config=CONFIG)
    assert (await clocks_for([EMAIL], CONFIG))[EMAIL].date("knowledge").on is None
    await erase_person(EMAIL, actor="admin@essex.gov.uk", now=now, config=CONFIG)
    assert await LeadClock.count() == 0
