"""What one booking costs the database, counted, so that it cannot creep back up: statements sent
on SQLite (BEGIN and COMMIT included), round trips on PostgreSQL (BEGIN and COMMIT included; the
issue allows four; it is one),
for a setting already on file. Rendering the confirmation is the sender's job, not the booking's."""

import contextlib

import aiosqlite
import asyncpg

from app.bookings.services import book_place
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from tests import factories as f


@contextlib.contextmanager
def counting(monkeypatch):
    sent: list[str] = []

    def wrap(cls, name):
        original = getattr(cls, name)

        def counted(self, query, *args, **kwargs):
            sent.append(str(query).split()[0].upper().rstrip(";"))
            return original(self, query, *args, **kwargs)

        monkeypatch.setattr(cls, name, counted)

    wrap(aiosqlite.Connection, "execute")
    for name in ("execute", "fetch", "fetchrow", "fetchval"):
        wrap(asyncpg.connection.Connection, name)
    yield sent


async def test_one_booking_sends_few_statements_and_renders_no_email(db, now, monkeypatch):
    event_id = await f.event(now=now, capacity=10)
    await book_place(event_id, f.request(1), source=BookingSource.api, actor="api", now=now, config=f.CONFIG)
    with counting(monkeypatch) as sent:
        made = await book_place(event_id, f.request(2), source=BookingSource.api, actor="api", now=now,
                                config=f.CONFIG)
    statements = [s for s in sent if s != "PRAGMA"]
    print(db.split(":")[0], len(statements), statements, "pragmas:", len(sent) - len(statements))
    # SQLite: BEGIN, person, counter, booking (its setting in the same statement), outbox, audit,
    # the cap on one address's active bookings, COMMIT. PostgreSQL: one call of the booking
    # function (app.bookings.one_call), which is its own transaction: one round trip in all.
    if db.startswith("sqlite"):
        assert statements[0] == "BEGIN" and statements[-2] == "SELECT" and statements[-1] == "COMMIT"
        assert len(statements) <= 8, statements
    else:
        assert statements == ["SELECT"], statements
    assert made.reference and made.manage_token and made.status.value == "confirmed"
    queued = await OutboxMessage.select().where(OutboxMessage.booking == made.id).first()
    assert queued["kind"] == "confirmation" and queued["raw"] == ""  # the sender renders it
