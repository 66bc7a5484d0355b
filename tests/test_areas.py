"""The council's areas are data (`seeds/councils/<council>.toml`): every test here runs for Essex's
four quadrants and for a made-up council with three areas, its own district map and an area
whose settings may also book the next area's forum, on both databases. Expectations are worked
out from the council's file, never written for one council."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from app.areas import AreasInvalid, Term, council, load_council, use_council
from app.clocks.lists import clock_counts, cover_table
from app.programme.dated_notices import checked_notice
from app.programme.recovery import next_forum
from app.questionnaire.dashboard import chart_rows, dashboard
from app.questionnaire.evidence import Forum, TermState, q13_from
from app.settings_register.importer import import_settings
from app.tables.register import Setting
from app.errors import InvalidInput
from tests import factories as f

COUNCILS = ["essex", "wessex-test"]


@pytest.fixture(params=COUNCILS)
def areas(request, client):
    """The council whose areas the service (already built by `client`) reads for this test."""
    chosen = use_council(request.param)
    yield chosen
    use_council("essex")


async def _forums(areas, now: dt.datetime) -> dict[str, int]:
    """One forum per area, a day apart in the file's order, and the online forum last."""
    ids = {a.code: await f.event(now=now, quadrant=a.code, starts_in=dt.timedelta(days=i + 1),
                                 title=f"{a.label} Safeguarding Forum") for i, a in enumerate(areas.areas)}
    ids["online"] = await f.event(now=now, quadrant=None, starts_in=dt.timedelta(days=30),
                                  title="Online Safeguarding Forum")
    return ids


async def test_the_programme_which_area_page_feeds_and_api_read_the_councils_areas(areas, client, db, now):
    await _forums(areas, now)
    page = (await client.get("/")).text
    assert f"All {areas.words} and online" in page and f"Which {areas.word} am I in?" in page
    for area in areas.areas:
        assert f'<option value="{area.code}">{area.label}</option>' in page
    for area in areas.areas:
        shown = (await client.get("/", params={"quadrant": area.code})).text
        for other in areas.areas:
            assert (f"{other.label} Safeguarding Forum" in shown) is (other.code in area.forums), (area, other)
        assert "Online Safeguarding Forum" in shown
        api = await client.get("/api/events", params={"quadrant": area.code})
        assert api.status_code == 200 and {e["quadrant"] for e in api.json()} == {area.code}
        feed = await client.get(f"/calendar/quadrant/{area.code}.ics")
        assert feed.status_code == 200 and f"{area.label} Safeguarding Forum" in feed.text
    assert (await client.get("/api/areas")).json() == [
        {"code": a.code, "label": a.label, "forums": list(a.forums)} for a in areas.areas]
    not_ours = "north_east" if areas.key != "essex" else "moor"
    refused = await client.get("/api/events", params={"quadrant": not_ours})
    assert refused.status_code == 400
    assert f"Use {', '.join(areas.codes)} or online" in refused.text
    assert (await client.get(f"/calendar/quadrant/{not_ours}.ics")).status_code == 404
    for district, code in areas.districts.items():
        answer = (await client.get("/quadrant", params={"district": district})).text
        assert f"Your {areas.word} is {areas.label(code)}." in answer and f'href="/?quadrant={code}"' in answer


async def test_a_setting_is_offered_the_forums_its_area_opens(areas, db, now):
    ids = await _forums(areas, now)
    for area in areas.areas:
        offered = await next_forum(area.code, now)
        # The soonest forum of the areas this one opens (the file's order is the forums' order).
        expected = next(a.code for a in areas.areas if a.code in area.forums)
        assert offered is not None and offered.id == ids[expected], area
    assert (await next_forum(None, now)).id == ids[areas.codes[0]]  # area not known: every forum


async def test_the_register_import_dashboard_lists_and_notices_use_the_areas(areas, signed_in, db, now):
    rows = [["urn", "name", "type", "postcode", "district"]] + [
        [f"EY{900000 + i}", f"Setting in {district}", "nursery", "AB1 2CD", district]
        for i, district in enumerate(areas.districts)]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    report = await import_settings(text.getvalue().encode())
    assert not report.rejected
    stored = {r["name"]: r["quadrant"] for r in await Setting.select(Setting.name, Setting.quadrant)}
    assert stored == {f"Setting in {d}": code for d, code in areas.districts.items()}

    cells = await dashboard("2026/27", now)
    assert [c.quadrant for c in cells[::3]] == list(areas.codes)
    assert {c.quadrant: c.settings for c in cells} == {
        a: sum(code == a for code in areas.districts.values()) for a in areas.codes}
    assert [r["label"] for r in chart_rows(cells)] == list(areas.labels.values())
    assert [c.label for c in await clock_counts(now.date())] == list(areas.labels.values())
    table = await cover_table(now.date())
    assert table.header[0] == areas.word.capitalize()
    listed = (await signed_in.get("/organisers/clocks/")).text
    for label in areas.labels.values():
        assert label in listed
    assert f"All {areas.words}" in listed

    first = areas.codes[0]
    notice = {"quadrant": first, "title": "MACA nominations", "opens_on": "2027-03-01", "closes_on": "2027-03-07"}
    assert checked_notice(notice)["quadrant"] == first
    with pytest.raises(InvalidInput) as refused:
        checked_notice({**notice, "quadrant": "north_east" if areas.key != "essex" else "moor"})
    assert refused.value.errors["quadrant"] == f"Choose the {areas.word} the notice is for"


def test_a_councils_file_is_checked_before_it_is_used(tmp_path, monkeypatch):
    import app.areas

    assert [load_council(c).name for c in COUNCILS] == ["Essex County Council", "Wessex County Council"]
    assert council().key == "essex"
    monkeypatch.setattr(app.areas, "COUNCILS_DIR", tmp_path)
    (tmp_path / "bad.toml").write_text('council = "X"\n[[areas]]\ncode = "North"\nlabel = "North"\n'
                                       '[[areas]]\ncode = "south"\nlabel = ""\nforums = ["east"]\n'
                                       '[districts]\n"Anytown" = "west"\n')
    with pytest.raises(AreasInvalid) as bad:
        load_council("bad")
    words = str(bad.value)
    assert "area code 'North' must be lower-case" in words and "area 'south' has no label" in words
    assert "district 'Anytown' is in 'west'" in words and "opens the forums of 'east'" in words
    with pytest.raises(AreasInvalid, match="names no file seeds/councils/kent.toml"):
        load_council("kent")
    with pytest.raises(AreasInvalid, match="must name a file"):
        load_council("../../etc/passwd")


@pytest.fixture(params=COUNCILS)
def council_only(request):
    """The council's areas for a test that needs no database (Q13's evaluator is pure)."""
    chosen = use_council(request.param)
    yield chosen
    use_council("essex")


def test_q13_judges_each_term_by_the_forums_the_settings_area_opens(council_only):
    areas = council_only
    utc = dt.timezone.utc
    forums = [Forum(i + 1, f"{a.label} Safeguarding Forum", Term.spring, a.code, False,
                    dt.datetime(2027, 3, i + 2, 13, tzinfo=utc), dt.datetime(2027, 3, i + 2, 15, tzinfo=utc))
              for i, a in enumerate(areas.areas)]
    settings = {i + 1: a.code for i, a in enumerate(areas.areas)}
    found = q13_from([], settings, "2026/27", forums, [], dt.datetime(2027, 5, 1, tzinfo=utc))
    for i, area in enumerate(areas.areas):
        spring = next(t for t in found[i + 1].terms if t.term is Term.spring)
        assert [f.quadrant for f in spring.forums] == [a.code for a in areas.areas if a.code in area.forums]
        assert spring.state is TermState.not_attended  # every forum open to it has ended, none attended
