"""A booking in one go: on PostgreSQL one round trip (a server-side function), on SQLite one hop to
a worker thread (the statements run back to back on the process's writing connection).

Why: the guarded counter locks the event's row (PostgreSQL) or the database (SQLite) until COMMIT,
so every booking waits for the one before. Sent one by one, each statement's answer waits for a
turn of a busy event loop while the lock is held; in one go the lock is held for the statements
themselves.

Both engines run the same statements, written once here with {name} markers (`STATEMENTS`): the
person (found or added), the booking row with its setting found in the same statement and the cap
on one address's active bookings in its WHERE, the confirmation for the sender to render, the
audit record, and last the guarded counter (`places.take_place_sql`): on PostgreSQL its row lock,
which every booking for the event waits for, is then held from the counter to COMMIT only. Nothing
is written unless all of them are. Capacity still answers first: when the booking was refused for
another reason (a second active booking, the cap), the event is read, and if it has no place left
the answer is the one everyone gets, no_place.

On PostgreSQL the statements are the body of the function `sgb_take_booking`, which a migration
creates (and a later migration replaces when the statements change: tests/migrations checks that
the newest migration's text is `function_sql()`); nothing is created at run time."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from app.bookings.places import has_place, take_place_sql
from app.bookings.records import ACTIVE_HELD, LEAD_OF_SETTING, active_bookings_of
from app.db import current_engine, sqlite_in_one_hop
from app.mail.outbox import wake_senders
from app.sql import for_piccolo, for_plpgsql, for_sqlite
from app.settings_register.services import find_or_add_setting
from app.tables.bookings import Booking


#: The booking's statements in order. Markers: the values given ({name}, {email}, {now}, {event},
#: {urn} or {name_key}, {cap} (absent: no cap), …) and what an earlier statement returned:
#: {person} and {booking}.
def _booking(setting_found_by: str) -> str:
    """The booking row, its setting found by `setting_found_by` in the same statement."""
    return (
        "INSERT INTO booking (event, person, setting, role, lead, name_given, status, reference, manage_token,"
        " calendar_uid, calendar_sequence, source, checkin_token, over_capacity, cancel_reason, created_at, updated_at)"
        " SELECT {event}, {person}, COALESCE(s.merged_into, s.id), {role}, " + LEAD_OF_SETTING + ","
        " {name}, {status}, {reference},"
        " {manage_token}, {calendar_uid}, 0, {source}, {checkin_token}, {over_capacity}, '', {now}, {now}"
        " FROM setting s WHERE " + setting_found_by +
        # The cap, counted before the row is added (so fewer than the cap, not at most it). Exact on
        # both engines: SQLite has one writer; on PostgreSQL the person statement above waited for
        # any other booking by this address to finish, and this statement sees what it committed.
        " AND (CAST({cap} AS INTEGER) IS NULL OR (" + ACTIVE_HELD + ") < CAST({cap} AS INTEGER))"
        " ORDER BY s.on_register DESC, s.id LIMIT 1 RETURNING id")


STATEMENTS = {
    "person": "INSERT INTO person (name, email, created_at, updated_at) VALUES ({name}, {email}, {now}, {now})"
              " ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id",
    "booking_by_urn": _booking("s.urn = {urn}"),
    "booking_by_name": _booking("s.name_key = {name_key}"),
    # The confirmation, and in the same statement a copy to the setting's contact where it asked
    # for copies (its own email: one recipient each).
    "outbox": "INSERT INTO outbox_message (kind, recipient, subject, message_id, raw, booking, event, status, attempts,"
              " next_attempt_at, claimed_by, last_error, created_at) SELECT 'confirmation', {email}, '', {message_id},"
              " '', {booking}, {event}, 'pending', 0, {now}, '', '', {now}"
              # The copy's times are the booking's (its created_at is {now}): a typed column, so that
              # PostgreSQL gives the UNION's parameters the column's type rather than text.
              " UNION ALL SELECT 'copy_confirmation', s.contact_email, '', {copy_message_id}, '', b.id, b.event,"
              " 'pending', 0, b.created_at, '', '', b.created_at FROM booking b JOIN setting s ON s.id = b.setting"
              " WHERE b.id = {booking} AND s.copies_to_contact = true AND s.contact_email <> ''",
    "audit": "INSERT INTO audit_record (action, actor, event, booking, person, detail, created_at)"
             " VALUES ({action}, {actor}, {event}, {booking}, {person}, {detail}, {now})",
    "place": take_place_sql(),
    # A walk-in's place: the event need only be scheduled (they arrive once it has started).
    "walk_in_place": take_place_sql(walk_in=True),
}


class Refused(Exception):
    """Why no booking was made: no_place (full, closed or no such event), cap (the address holds
    its most active bookings) or no_setting (not on file, or not known: the caller books the
    longer way, which adds the setting and checks everything again)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def book_in_one_call(values: dict[str, Any]) -> int | None:
    """The booking's id; None if it cannot be made in one go here (the caller books the longer
    way). Raises Refused, or the database's unique-index error for a second active booking."""
    engine = current_engine()
    if engine.transaction_exists():
        return None
    try:
        if isinstance(engine, PostgresEngine):
            booking_id = await _on_postgres(values)
        elif isinstance(engine, SQLiteEngine):
            booking_id = await sqlite_in_one_hop(engine, lambda connection: _on_sqlite(connection, values))
        else:
            return None
    except Refused as refused:
        if refused.reason == "no_booking":  # the cap, or no setting on file: which one is read only now
            if not await has_place(values["event"], values["now"]):
                raise Refused("no_place") from None
            # "cap" only when the count shows it; anything else (a setting another booking has
            # added meanwhile, say) goes the longer way, which checks everything again.
            if "cap" in values and await active_bookings_of(values["email"], values["now"]) >= values["cap"]:
                raise Refused("cap") from None
            raise Refused("no_setting") from None
        raise
    except (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError):
        # A second active booking (the unique index), or no such event (the foreign key).
        if not await has_place(values["event"], values["now"]):
            raise Refused("no_place") from None
        raise
    if booking_id is not None:
        wake_senders()  # committed: its confirmation is in the outbox
    return booking_id


# The longer way: the same statements through Piccolo, inside the caller's write transaction.

async def book_in_transaction(values: dict[str, Any], *, place: str | None, outbox: bool) -> int:
    """The booking's statements one by one, inside the caller's `write_transaction` (which may go
    on to do more: a walk-in's attendance mark, the cap counted, a waiting-list email): for what
    the one call cannot do. `place` names the counter's statement ("place", "walk_in_place") or
    is None (a waiting-list entry, a walk-in over capacity); `outbox`: queue the confirmation.
    A setting not on file is added here. Raises Refused("no_place") when the counter gives none."""
    bound = {"urn": None, "name_key": None, **values, "cap": None}  # the caller counts the cap

    async def run(key: str) -> list[dict[str, Any]]:
        sql, args = for_piccolo(STATEMENTS[key], **bound)
        return await Booking.raw(sql, *args)

    bound["person"] = (await run("person"))[0]["id"]
    if place is not None and not await run(place):
        raise Refused("no_place")
    key = "booking_by_urn" if values.get("urn") else "booking_by_name"
    rows = await run(key)
    if not rows:  # a setting not on file yet (rare): added, then the same statement again
        await find_or_add_setting(name=values["setting_name"], urn=values.get("urn"))
        rows = await run(key)
    bound["booking"] = rows[0]["id"]
    if outbox:
        await run("outbox")
    await run("audit")
    return bound["booking"]


# SQLite: the statements one after the other on the writing connection, in one worker-thread call.

_SQLITE = {key: for_sqlite(statement) for key, statement in STATEMENTS.items()}


def _on_sqlite(connection: sqlite3.Connection, values: dict[str, Any]) -> int:
    """Run inside BEGIN IMMEDIATE (`sqlite_in_one_hop`); raising rolls everything back."""
    bound = {"cap": None, "urn": None, "name_key": None, **values}

    def one(key: str) -> int | None:
        row = connection.execute(_SQLITE[key], bound).fetchone()
        return row[0] if row else None

    bound["person"] = one("person")
    if (booking := one("booking_by_urn" if values.get("urn") else "booking_by_name")) is None:
        raise Refused("no_booking")
    bound["booking"] = booking
    one("outbox")
    one("audit")
    if one("place") is None:
        raise Refused("no_place")
    return booking


# PostgreSQL: the statements as the body of a function, called in one round trip.

_PG_MARKERS = {"now": "v_now", "person": "v_person", "booking": "v_booking",
               "event": "(p->>'event')::integer", "cap": "(p->>'cap')::integer", "detail": "(p->>'detail')::json",
               "over_capacity": "(p->>'over_capacity')::boolean"}

_PG_BODY = """
DECLARE
    v_now timestamptz := (p->>'now')::timestamptz;
    v_person integer;
    v_place integer;
    v_booking integer;
BEGIN
    {person} INTO v_person;
    IF p ? 'urn' THEN
        {booking_by_urn} INTO v_booking;
    ELSE
        {booking_by_name} INTO v_booking;
    END IF;
    IF v_booking IS NULL THEN
        RAISE EXCEPTION 'sgb:no_booking';
    END IF;
    {outbox};
    {audit};
    {place} INTO v_place;
    IF v_place IS NULL THEN
        RAISE EXCEPTION 'sgb:no_place';
    END IF;
    RETURN v_booking;
END
"""


#: The function's name: fixed, so a migration can create and later replace it.
FUNCTION = "sgb_take_booking"


def function_sql() -> str:
    """The CREATE statement of the function, as the statements above write it today."""
    body = _PG_BODY.format(**{key: for_plpgsql(statement, _PG_MARKERS) for key, statement in STATEMENTS.items()})
    return f"CREATE OR REPLACE FUNCTION {FUNCTION}(p jsonb) RETURNS integer LANGUAGE plpgsql AS $fn${body}$fn$"


async def _on_postgres(values: dict[str, Any]) -> int:
    try:
        [row] = await Booking.raw(f"SELECT {FUNCTION}({{}}::jsonb) AS booking", json.dumps(values, default=str))
    except Exception as exc:
        text = str(exc)
        if text.startswith("sgb:"):
            raise Refused(text.removeprefix("sgb:").split()[0]) from None
        raise
    return row["booking"]
