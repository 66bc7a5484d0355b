"""Issue 21 point 7: the briefing's Multi-Agency Case Audit (MACA) nomination windows as dated
notices, each for its quadrant, shown while open on that quadrant's event pages, on the home page
and in its forum reminders, on a faked clock; kept as data organisers edit; moved with the demo.
Each runs on SQLite and PostgreSQL."""

import datetime as dt
import re
from email import message_from_string, policy

from app.areas import LONDON
from app.bookings.reminders import queue_due_reminders
from app.bookings.services import book_place
from app.config import Config
from app.jobs import deliver_due
from app.mail.sender import FileTransport
from app.main import create_app
from app.programme.dated_notices import seed_notices, shown_notices
from app.programme.seeding import seed_programme
from app.tables.audit import AuditRecord
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import DatedNotice, Event
from app.web.page_cache import STORE, page_store
from tests import factories as f
from tests import support
from tests.support import csrf_token

TITLE = "Multi-Agency Case Audit (MACA) nominations: North East settings"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON).astimezone(dt.timezone.utc)


async def event_id(key: str) -> int:
    return (await Event.select(Event.id).where(Event.seed_key == f"2023/24:{key}").first())["id"]


async def test_the_north_east_window_shows_on_its_forum_page_on_1_march_2024_and_not_on_7_march(db):
    await seed_programme(demo=False, now=at(dt.date(2024, 1, 5)))
    assert await seed_notices() == (4, 0) and await seed_notices() == (0, 4)
    north_east, west = await event_id("forum/spring/north_east"), await event_id("forum/spring/west")
    clock = [at(dt.date(2024, 3, 1))]
    app = create_app(Config(database_url=db, base_url="http://testserver.local", secret_key="test-secret",
                            password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False),
                     clock=lambda: clock[0])
    async with support.app_client(app) as client:
        page = (await client.get(f"/events/{north_east}")).text
        assert TITLE in page and "Nominations are open until Wednesday 6 March 2024." in page
        assert "all nominations must have line manager approval before submitting to PSAS" in page
        assert "Professional Standards &amp; Audit Service (PSAS): MultiAgency.Audits@essex.gov.uk" in page
        assert "Availability of the professional network involved." in page
        assert "MACA" not in (await client.get(f"/events/{west}")).text  # the West's window is in the autumn
        assert TITLE in (await client.get("/")).text
        clock[0] = at(dt.date(2024, 3, 7))
        app.stores.register(STORE, page_store(), allow_override=True)  # not yesterday's page from memory
        assert "MACA" not in (await client.get(f"/events/{north_east}")).text
        home = (await client.get("/")).text
        assert TITLE not in home and "(MACA) nominations: South settings" in home  # the South's note stays a while
        # The last day counts: 6 March, in London, late in the evening.
        clock[0] = at(dt.date(2024, 3, 6), hour=23)
        app.stores.register(STORE, page_store(), allow_override=True)
        assert TITLE in (await client.get(f"/events/{north_east}")).text


async def test_the_south_window_keeps_the_briefings_note_once_its_deadline_has_passed(db):
    await seed_notices()
    [south] = await shown_notices(at(dt.date(2024, 2, 26)), "south")
    assert south.status(dt.date(2024, 2, 26)) == (
        "Nominations closed on Wednesday 14 February 2024: the deadline has passed, but if any setting has any "
        "referral they wish to be considered, do contact us to discuss")
    assert south.status(dt.date(2024, 2, 1)) == "Nominations are open until Wednesday 14 February 2024"
    assert await shown_notices(at(dt.date(2024, 4, 2)), "south") == []


async def test_a_north_east_forum_reminder_carries_the_open_window_and_a_west_one_does_not(db, tmp_path):
    await seed_programme(demo=False, now=at(dt.date(2024, 1, 5)))
    await seed_notices()
    config = f.CONFIG.with_overrides(reminder_days=21)
    for n, key in [(1, "forum/spring/north_east"), (2, "forum/spring/west")]:
        await book_place(await event_id(key), f.request(n), source=BookingSource.web, actor="public",
                         now=at(dt.date(2024, 2, 10)), config=config)
    moment = at(dt.date(2024, 3, 1))
    assert await queue_due_reminders(config=config, now=moment) == 2
    await deliver_due(FileTransport(tmp_path), config=config, now=lambda: moment)
    texts = {}
    for row in await OutboxMessage.select(OutboxMessage.raw, OutboxMessage.recipient).where(
            OutboxMessage.kind == "reminder"):
        texts[row["recipient"]] = message_from_string(row["raw"], policy=policy.default).get_body(("plain",)).get_content()
    north_east, west = texts["person1@school.example.org"], texts["person2@school.example.org"]
    assert TITLE in north_east and "Nominations are open until Wednesday 6 March 2024." in north_east
    assert "- The child(ren) having had an open case with Children’s Social Care" in north_east
    assert "MACA" not in west


async def test_organisers_add_next_years_window_and_correct_one_with_clear_errors(signed_in, now):
    await seed_notices()
    listed = await signed_in.get("/organisers/notices")
    assert listed.status_code == 200 and listed.text.count("/edit\">Change") == 4
    form = await signed_in.get("/organisers/notices/new")
    token = csrf_token(form.text)
    bad = await signed_in.post("/organisers/notices/new", data={
        "_csrf_token": token, "quadrant": "", "title": "", "opens_on": "2025-02-30", "closes_on": "2025-02-01"})
    assert bad.status_code == 400 and await DatedNotice.count() == 4
    summary = bad.text[bad.text.index("govuk-error-summary"):]
    assert re.findall(r'href="#(\w+)"', summary)[:3] == ["quadrant", "title", "opens_on"]
    assert "Enter the date nominations open as a real date" in bad.text
    made = await signed_in.post("/organisers/notices/new", follow_redirects=False, data={
        "_csrf_token": token, "quadrant": "north_east", "title": "Multi-Agency Case Audit (MACA) nominations",
        "opens_on": "2025-02-12", "closes_on": "2025-03-05", "criteria": "One\nTwo",
        "contact": "PSAS: MultiAgency.Audits@essex.gov.uk"})
    assert made.status_code == 303 and await DatedNotice.count() == 5
    [shown] = await shown_notices(at(dt.date(2025, 2, 20)), "north_east")
    assert shown.criteria == ["One", "Two"] and shown.closes_on == dt.date(2025, 3, 5)
    south = (await DatedNotice.select(DatedNotice.id).where(DatedNotice.code == "maca-2024-south").first())["id"]
    edit = await signed_in.get(f"/organisers/notices/{south}/edit")
    assert "the deadline has passed" in edit.text
    fields = {"_csrf_token": token, "quadrant": "south", "title": "Multi-Agency Case Audit (MACA) nominations",
              "opens_on": "2024-01-24", "closes_on": "2024-02-14", "shown_until": "2024-03-31",
              "contact": "PSAS: MultiAgency.Audits@essex.gov.uk", "note": "Get in touch."}
    assert (await signed_in.post(f"/organisers/notices/{south}/edit", data=fields,
                                 follow_redirects=False)).status_code == 303
    assert (await shown_notices(at(dt.date(2024, 3, 1)), "south"))[0].note == "Get in touch."
    await seed_notices()  # seeding again never overwrites an organiser's edit
    assert (await shown_notices(at(dt.date(2024, 3, 1)), "south"))[0].note == "Get in touch."
    assert await AuditRecord.count().where(AuditRecord.action.is_in(["notice.added", "notice.changed"])) == 2
    assert (await signed_in.get("/organisers/notices/999999/edit")).status_code == 404


async def test_the_demo_moves_its_notices_by_the_weeks_its_events_moved(db, now):
    report = await seed_programme(demo=True, now=now)
    shift = dt.timedelta(weeks=report.shift_weeks)
    await seed_notices(demo=True, shift=shift)
    demo = {r["code"]: r for r in await DatedNotice.select().where(DatedNotice.is_demo == True)}  # noqa: E712
    north_east = demo["demo:maca-2024-north-east"]
    assert north_east["opens_on"] == dt.date(2024, 2, 14) + shift and north_east["closes_on"] == dt.date(2024, 3, 6) + shift
    forum = await Event.select(Event.starts_at).where(Event.seed_key == "demo:forum/spring/north_east").first()
    # As in the briefing: the window closes two weeks before that quadrant's spring forum.
    assert (forum["starts_at"].date() - north_east["closes_on"]).days == (dt.date(2024, 3, 20) - dt.date(2024, 3, 6)).days
