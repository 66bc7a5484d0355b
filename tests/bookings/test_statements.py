"""What one booking costs the database, counted, so that it cannot creep back up: statements SQLite
ran (BEGIN and COMMIT included; the issue allows seven) and the hops to its connection's thread
(one), round trips on PostgreSQL (BEGIN and COMMIT included; the issue allows four; it is one),
for a setting already on file. Rendering the confirmation is the sender's job, not the booking's."""

import contextlib

import aiosqlite
import asyncpg
import pytest

from app.bookings.services import book_place
from app.db import current_engine, sqlite_writer
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f


@contextlib.contextmanager
def counting(monkeypatch):
    """Statements sent through Piccolo's drivers (each a hop or a round trip), and, on SQLite,
    the statements the one-hop connection ran (`ran`)."""
    sent: list[str] = []
    ran: list[str] = []

    def wrap(cls, name):
        original = getattr(cls, name)

        def counted(self, query, *args, **kwargs):
            sent.append(str(query).split()[0].upper().rstrip(";"))
            return original(self, query, *args, **kwargs)

        monkeypatch.setattr(cls, name, counted)

    wrap(aiosqlite.Connection, "execute")
    for name in ("execute", "fetch", "fetchrow", "fetchval"):
        wrap(asyncpg.connection.Connection, name)
    writer = sqlite_writer(current_engine().path) if current_engine().engine_type == "sqlite" else None
    if writer is not None:
        def traced(statement: str) -> None:
            # Python's sqlite3 reports a trigger's program (the counter's capacity guard) as
            # the statement that fired it once more, right after it: one statement, counted once.
            if not ran or ran[-1] != statement:
                ran.append(statement)

        writer.set_trace_callback(traced)
    try:
        yield sent, ran
    finally:
        if writer is not None:
            writer.set_trace_callback(None)


async def test_one_booking_sends_few_statements_and_renders_no_email(db, now, monkeypatch):
    event_id = await f.event(now=now, capacity=10)
    await book_place(event_id, f.request(1), source=BookingSource.api, actor="api", now=now, config=f.CONFIG)
    with counting(monkeypatch) as (sent, ran):
        made = await book_place(event_id, f.request(2), source=BookingSource.api, actor="api", now=now,
                                config=f.CONFIG)
    print(db.split(":")[0], "round trips or hops:", sent, "statements run:", ran)
    # SQLite: BEGIN, person, booking (its setting and the cap on one address's active bookings in
    # the same statement), outbox, audit, the counter, COMMIT, in one call on the connection's
    # thread. PostgreSQL: one call of the booking function (app.bookings.one_call), which is its
    # own transaction: one round trip in all.
    if db.startswith("sqlite"):
        assert sent == [], sent  # nothing through Piccolo's connections
        assert [s.split()[0] for s in ran] == ["BEGIN", "INSERT", "INSERT", "INSERT", "INSERT", "UPDATE", "COMMIT"], ran
    else:
        assert sent == ["SELECT"], sent
    assert made.reference and made.manage_token and made.status.value == "confirmed"
    assert (await Event.select(Event.places_taken).where(Event.id == event_id).first())["places_taken"] == 2
    queued = await OutboxMessage.select().where(OutboxMessage.booking == made.id).first()
    assert queued["kind"] == "confirmation" and queued["raw"] == ""  # the sender renders it


async def test_on_sqlite_every_write_that_moves_a_place_runs_on_the_one_writer(db, now, monkeypatch):
    """A cancellation that frees a place and offers it to the person waiting, and the offer
    accepted: every statement that writes (and BEGIN IMMEDIATE … COMMIT around them) runs on the
    process's writer connection; none goes through a connection of Piccolo's own, which only read."""
    if not db.startswith("sqlite"):
        pytest.skip("PostgreSQL has no writer of its own: each transaction is a pooled connection's")
    from app.bookings.services import cancel_booking
    from app.bookings.waiting_list import accept_offer
    from app.tables.bookings import Booking, BookingStatus

    event_id = await f.event(now=now, capacity=1)
    first = await book_place(event_id, f.request(1), source=BookingSource.api, actor="api", now=now, config=f.CONFIG)
    waiting = await book_place(event_id, f.request(2).model_copy(update={"waitlist": True}), source=BookingSource.api, actor="api",
                               now=now, config=f.CONFIG)
    assert waiting.status is BookingStatus.waitlisted
    with counting(monkeypatch) as (sent, ran):
        await cancel_booking(first.manage_token, actor="public", reason="Cancelled by the booker", now=now,
                             config=f.CONFIG)
        await accept_offer(waiting.manage_token, now=now, config=f.CONFIG)
    writes = {"INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "REPLACE"}
    assert not writes & set(sent), sent  # Piccolo's own connections only read
    verbs = [s.split()[0].upper() for s in ran]
    assert verbs.count("BEGIN") == 2 and verbs.count("COMMIT") == 2, ran
    assert any(s.startswith("UPDATE event") for s in ran) and any(s.startswith('UPDATE "booking"') or
                                                                    s.startswith("UPDATE booking") for s in ran), ran
    statuses = await Booking.select(Booking.status).where(Booking.event == event_id).order_by(Booking.id).output(
        as_list=True)
    assert statuses == ["cancelled", "confirmed"]
    assert (await Event.select(Event.places_taken).where(Event.id == event_id).first())["places_taken"] == 1
