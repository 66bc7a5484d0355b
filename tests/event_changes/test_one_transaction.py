"""One transaction per change: a refused change, or one that fails half way, leaves every row as
it was (events, venues, walk-ins, questionnaires sent, merges)."""

import datetime as dt

import pytest

from app.attendance import services as attendance
from app.attendance.services import admit_walk_in
from app.bookings.records import EventFull
from app.bookings.services import book_place
from app.errors import DomainError, NotFound
from app.organisers.services import create_organiser
from app.event_changes import manage
from app.event_changes.events import EventChangeRefused, cancel_event
from app.event_changes.manage import (
    CapacityBelowPlacesTaken,
    EventDetails,
    create_event,
    save_venue,
    update_event,
)
from app.questionnaire import services as questionnaire
from app.settings_register.services import MergeRefused, merge_setting
from app.tables.attendance import Attendance
from app.tables.audit import AuditRecord
from app.tables.bookings import Booking, BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import Event, Venue
from app.tables.questionnaire import Response
from app.tables.register import Setting
from tests import factories as f

CONFIG = f.CONFIG


async def snapshot() -> dict[str, list[dict]]:
    """Every row that a programme change could touch."""
    tables = {"event": Event, "venue": Venue, "booking": Booking, "attendance": Attendance,
              "outbox": OutboxMessage, "audit": AuditRecord, "response": Response, "setting": Setting}
    return {name: await table.select().order_by(table.id) for name, table in tables.items()}


async def details_of(event_id: int, **changes) -> EventDetails:
    row = await Event.select().where(Event.id == event_id).first()
    base = dict(title=row["title"], kind_id=row["kind"], quadrant=row["quadrant"], venue_id=row["venue"],
                join_url=row["join_url"], starts_at=row["starts_at"], ends_at=row["ends_at"],
                capacity=row["capacity"], booking_opens_at=None, booking_closes_at=None)
    return EventDetails(**{**base, **changes})


async def test_an_edit_to_a_cancelled_event_saves_nothing_not_even_its_title(db, now):
    event_id = await f.event(now=now, capacity=10)
    await cancel_event(event_id, reason="Snow", actor="jo", now=now, config=CONFIG)
    before = await snapshot()
    with pytest.raises(EventChangeRefused):
        await update_event(event_id, await details_of(event_id, title="New title", capacity=99), actor="jo",
                           now=now, config=CONFIG)
    assert await snapshot() == before


async def test_an_event_cannot_move_between_online_and_in_person_and_nothing_is_saved(db, now):
    event_id = await f.event(now=now, capacity=10)
    before = await snapshot()
    with pytest.raises(EventChangeRefused) as refused:
        await update_event(event_id, await details_of(event_id, title="Now online", quadrant=None, venue_id=None,
                                                      join_url="https://teams.example/x"),
                           actor="jo", now=now, config=CONFIG)
    assert refused.value.field == "where"
    assert await snapshot() == before


async def test_a_capacity_below_the_places_taken_refuses_the_whole_edit(db, now):
    event_id = await f.event(now=now, capacity=10)
    for n in range(3):
        await book_place(event_id, f.request(n), source=BookingSource.web, actor="public", now=now, config=CONFIG)
    before = await snapshot()
    with pytest.raises(CapacityBelowPlacesTaken) as refused:
        await update_event(event_id, await details_of(event_id, title="Renamed", capacity=2,
                                                      starts_at=now + dt.timedelta(days=20),
                                                      ends_at=now + dt.timedelta(days=20, hours=2)),
                           actor="jo", now=now, config=CONFIG)
    assert refused.value.field == "capacity" and "3 already taken" in refused.value.message
    assert await snapshot() == before


async def test_a_change_that_fails_half_way_leaves_every_row_as_it_was(db, now, monkeypatch):
    event_id = await f.event(now=now, capacity=10)
    await book_place(event_id, f.request(1), source=BookingSource.web, actor="public", now=now, config=CONFIG)
    before = await snapshot()

    async def broken(*args, **kwargs):
        raise RuntimeError("the mail queue is unavailable")

    # The renamed title and new capacity are written before bookers are told; telling them fails.
    monkeypatch.setattr("app.event_changes.events.queue_notices", broken)
    with pytest.raises(RuntimeError):
        await update_event(event_id, await details_of(event_id, title="Renamed", capacity=20,
                                                      starts_at=now + dt.timedelta(days=21),
                                                      ends_at=now + dt.timedelta(days=21, hours=2)),
                           actor="jo", now=now, config=CONFIG)
    assert await snapshot() == before


async def test_creating_an_event_writes_the_event_and_its_audit_record_together(db, now, monkeypatch):
    kind_id, venue_id = await f.kind(), await f.venue()
    details = EventDetails(title="West forum", kind_id=kind_id, quadrant="west", venue_id=venue_id, join_url="",
                           starts_at=now + dt.timedelta(days=30), ends_at=now + dt.timedelta(days=30, hours=2),
                           capacity=40, booking_opens_at=None, booking_closes_at=None)
    before = await snapshot()

    async def broken(*args, **kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(manage, "record", broken)
    with pytest.raises(RuntimeError):
        await create_event(details, actor="jo", now=now)
    assert await snapshot() == before


async def test_correcting_a_venue_that_does_not_exist_saves_nothing(db, now):
    before = await snapshot()
    with pytest.raises(NotFound):
        await save_venue(999, name="Nowhere", address="1 Road", postcode="CM1 1AA", actor="jo", now=now,
                         config=CONFIG)
    assert await snapshot() == before


async def test_a_walk_in_is_booked_and_marked_together_or_not_at_all(db, now, monkeypatch):
    organiser = await create_organiser(email="jo@essex.gov.uk", name="Jo", password="correct horse battery", now=now)
    event_id = await f.event(now=now, starts_in=dt.timedelta(minutes=-10), capacity=1)
    walk_in = await admit_walk_in(event_id, f.request("w1"), organiser=organiser, override=False, now=now,
                                  config=CONFIG)
    marks = await Attendance.select().where(Attendance.booking == walk_in.id)
    assert [m["outcome"] for m in marks] == ["attended"] and marks[0]["source"] == "walk_in"
    before = await snapshot()
    # Full: without the organiser's override the walk-in is refused, and nothing is written.
    with pytest.raises(EventFull):
        await admit_walk_in(event_id, f.request("w2"), organiser=organiser, override=False, now=now, config=CONFIG)
    assert await snapshot() == before

    async def broken(*args, **kwargs):
        raise RuntimeError("lost the connection")

    # The mark fails after the booking row is written: the booking goes too.
    monkeypatch.setattr(attendance, "record_mark", broken)
    with pytest.raises(RuntimeError):
        await admit_walk_in(event_id, f.request("w3"), organiser=organiser, override=True, now=now, config=CONFIG)
    assert await snapshot() == before


async def test_sending_the_questionnaire_writes_the_response_its_email_and_audit_together(db, now, monkeypatch):
    setting_id = await f.setting("Little Acorns Nursery", urn="EY123456")
    before = await snapshot()
    with pytest.raises(NotFound):
        await questionnaire.send_questionnaire(setting_id + 1, "dsl@acorns.example.org", actor="jo", now=now,
                                               config=CONFIG)

    async def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(questionnaire, "queue_email", broken)
    with pytest.raises(RuntimeError):
        await questionnaire.send_questionnaire(setting_id, "dsl@acorns.example.org", actor="jo", now=now,
                                               config=CONFIG)
    assert await snapshot() == before


async def test_a_refused_merge_moves_nothing(db, now):
    event_id = await f.event(now=now)
    booking = await book_place(event_id, f.request(1, setting="Acorns typed in"), source=BookingSource.web,
                               actor="public", now=now, config=CONFIG)
    typed = (await Booking.select(Booking.setting).where(Booking.id == booking.id).first())["setting"]
    target = await f.setting("Little Acorns")
    other = await f.setting("Oak")
    await merge_setting(other, target, actor="jo")
    before = await snapshot()
    with pytest.raises(MergeRefused):
        await merge_setting(typed, other, actor="jo")  # other has already been merged
    with pytest.raises(MergeRefused):
        await merge_setting(typed, typed, actor="jo")
    assert await snapshot() == before
    assert issubclass(MergeRefused, DomainError)
