"""Issue 25, points 1 and 3: the organisers' view of the leads' dates and of each setting's cover,
per quadrant, counted in SQL, a page at a time, with CSV and Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io

from app.areas import local
from app.clocks.lists import clock_counts, cover_counts, cover_gaps, lead_dates
from app.settings_register.services import record_lead
from tests import factories as f


async def _setting(name: str, quadrant: str | None, now: dt.datetime, kind: str = "nursery") -> int:
    return await f.setting(name, quadrant=quadrant, setting_type=kind, now=now)


async def _clock(email: str, now: dt.datetime, **dates: dt.date | None) -> None:
    await f.lead_clock(email, now=now, **dates)


async def test_dates_passed_and_coming_by_quadrant_and_the_cover_gaps(db, now):
    today = local(now).date()
    oak = await _setting("Oak Nursery", "west", now)
    elm = await _setting("Elm Pre-school", "west", now)
    ash = await _setting("Ash Childminding", "south", now, kind="childminder")
    await _setting("Birch Nursery", "mid", now)  # nobody on record
    for setting, role, name, email in [(oak, "dsl", "Jo Barclay", "jo@oak.example"),
                                       (oak, "deputy_dsl", "Sam Patel", "sam@oak.example"),
                                       (elm, "dsl", "Kim Lee", "kim@elm.example"),
                                       (ash, "dsl", "Ash Green", "ash@ash.example")]:
        await record_lead(setting, role=role, name=name, email=email, since=None, actor="o@essex.gov.uk", now=now)
    await _clock("jo@oak.example", now, knowledge=today + dt.timedelta(days=30))
    await _clock("sam@oak.example", now, knowledge=today - dt.timedelta(days=1))
    await _clock("kim@elm.example", now, knowledge=today + dt.timedelta(days=200))
    # Ash has no clock row: nothing recorded.
    counts = {c.label: c for c in await clock_counts(today)}
    assert counts["West"].leads == 3 and counts["West"].dates["knowledge"] == (1, 1, 0)
    assert counts["South"].leads == 1 and counts["South"].dates["knowledge"] == (0, 0, 1)
    assert counts["West"].dates["prevent"] == (0, 0, 3)
    assert counts["Mid"].leads == 0
    rows, total = await lead_dates("knowledge", today, quadrant="west", state="")
    assert total == 3 and [r.email for r in rows] == ["sam@oak.example", "jo@oak.example", "kim@elm.example"]
    soon, n = await lead_dates("knowledge", today, state="soon")
    assert n == 1 and soon[0].name == "Jo Barclay" and soon[0].source == "attended West Safeguarding Forum"
    none, n = await lead_dates("knowledge", today, state="none")
    assert n == 1 and none[0].setting_name == "Ash Childminding"
    # Cover: Elm has no deputy; Ash's DSL never refreshed (a childminder is not listed for no deputy);
    # Birch has no DSL and no deputy; Oak is covered (its DSL's date is still to come).
    gaps, total = await cover_gaps(today)
    assert total == 3
    assert {g.name: g.gaps for g in gaps} == {
        "Ash Childminding": ["Ash Green's knowledge refreshed: nothing recorded in this service"],
        "Birch Nursery": ["No DSL / Lead Practitioner on record", "No deputy on record"],
        "Elm Pre-school": ["No deputy on record"]}
    by_quadrant = {c.label: c for c in await cover_counts(today)}
    assert (by_quadrant["West"].settings, by_quadrant["West"].no_deputy) == (1, 1)
    assert (by_quadrant["Mid"].no_dsl, by_quadrant["South"].not_refreshed) == (1, 1)


async def test_the_organisers_pages_paginate_and_download(db, signed_in, now):
    today = local(now).date()
    west = await _setting("Big Academy", "west", now, kind="school")
    for n in range(105):
        await record_lead(west, role="deputy_dsl", name=f"Deputy {n:03d}", email=f"d{n:03d}@big.example", since=None,
                          actor="o@essex.gov.uk", now=now)
    await _clock("d000@big.example", now, prevent=today + dt.timedelta(days=10))
    page = await signed_in.get("/organisers/clocks/?which=prevent&quadrant=west")
    assert page.status_code == 200
    assert "showing 1 to 100 of 105" in page.text and "d000@big.example" in page.text
    assert "/organisers/clocks/?which=prevent&amp;quadrant=west&amp;page=2" in page.text
    second = await signed_in.get("/organisers/clocks/?which=prevent&quadrant=west&page=2")
    assert "showing 101 to 105 of 105" in second.text and "d104@big.example" in second.text
    assert (await signed_in.get("/organisers/clocks/?which=nonsense&show=%27%3B&quadrant=x")).status_code == 200
    download = await signed_in.get("/organisers/clocks/leads.csv?quadrant=west")
    rows = list(csv.reader(io.StringIO(download.text)))
    assert download.headers["content-disposition"] == 'attachment; filename="safeguarding-dates-west.csv"'
    assert len(rows) == 106 and rows[1][2:5] == ["Deputy 000", "d000@big.example", "Deputy DSL"]
    assert rows[1][rows[0].index("Prevent awareness: due")] == (today + dt.timedelta(days=10)).isoformat()
    excel = await signed_in.get("/organisers/clocks/cover.xlsx")
    assert excel.status_code == 200 and excel.content[:2] == b"PK"
    cover = await signed_in.get("/organisers/clocks/cover")
    assert "Big Academy" in cover.text and "No DSL / Lead Practitioner on record" in cover.text


async def test_a_dsl_changed_mid_year_moves_the_setting_onto_the_new_dsls_dates(db, now):
    today = local(now).date()
    oak = await _setting("Oak Nursery", "west", now)
    await record_lead(oak, role="dsl", name="Jo Barclay", email="jo@oak.example", since=today.replace(month=9, day=1)
                      if today.month >= 9 else today.replace(year=today.year - 1, month=9, day=1),
                      actor="o@essex.gov.uk", now=now)
    await record_lead(oak, role="deputy_dsl", name="Sam Patel", email="sam@oak.example", since=None,
                      actor="o@essex.gov.uk", now=now)
    await _clock("jo@oak.example", now, knowledge=today + dt.timedelta(days=200))
    assert (await cover_gaps(today))[1] == 0  # Jo's knowledge is current: Oak is covered
    # Kim takes over from today: Jo's time in the role ends, and Oak's cover is Kim's dates.
    await record_lead(oak, role="dsl", name="Kim Lee", email="kim@oak.example", since=today, actor="o@essex.gov.uk",
                      now=now)
    gaps, total = await cover_gaps(today)
    assert total == 1 and gaps[0].gaps == ["Kim Lee's knowledge refreshed: nothing recorded in this service"]
    rows, _ = await lead_dates("knowledge", today, quadrant="west")
    assert {r.email for r in rows} == {"kim@oak.example", "sam@oak.example"}
