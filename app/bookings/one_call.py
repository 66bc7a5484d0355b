"""A booking in one round trip on PostgreSQL: a server-side function doing what the one-statement
booking and the cap check did, in one call outside an explicit transaction (it is its own).

Why: the guarded counter locks the event's row until COMMIT, so every booking for an event waits
for the one before. With BEGIN, the booking statement, the cap check and COMMIT sent one by one,
that lock was held across two network round trips and two turns of a busy worker's event loop;
inside a function it is held for the function's own few statements only.

The function is made from the same SQL as everywhere else (`places.take_place_sql`, the booking
row's columns) and named after a hash of its text, so changed SQL makes a new function and no two
versions of the code disagree; it is created when first needed (any process may race to create
it: one wins, the others find it)."""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from typing import Any

from app.bookings.places import take_place_sql
from app.tables.bookings import ACTIVE_STATUSES, Booking

log = logging.getLogger("app.bookings")

_BODY = """
DECLARE
    v_now timestamptz := (p->>'now')::timestamptz;
    v_person integer;
    v_place integer;
    v_setting integer;
    v_booking integer;
    v_held integer;
BEGIN
    INSERT INTO person (name, email, created_at, updated_at) VALUES (p->>'name', p->>'email', v_now, v_now)
    ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id INTO v_person;
    %(take_place)s INTO v_place;
    IF v_place IS NULL THEN
        RAISE EXCEPTION 'sgb:no_place';
    END IF;
    IF p ? 'urn' THEN
        SELECT COALESCE(s.merged_into, s.id) INTO v_setting FROM setting s WHERE s.urn = p->>'urn'
        ORDER BY s.on_register DESC, s.id LIMIT 1;
    ELSE
        SELECT COALESCE(s.merged_into, s.id) INTO v_setting FROM setting s WHERE s.name_key = p->>'name_key'
        ORDER BY s.on_register DESC, s.id LIMIT 1;
    END IF;
    IF v_setting IS NULL THEN
        RAISE EXCEPTION 'sgb:no_setting';
    END IF;
    INSERT INTO booking (event, person, setting, role, name_given, status, reference, manage_token, calendar_uid,
        calendar_sequence, source, checkin_token, over_capacity, cancel_reason, created_at, updated_at)
    VALUES (v_place, v_person, v_setting, p->>'role', p->>'name', 'confirmed', p->>'reference', p->>'manage_token',
        p->>'calendar_uid', 0, p->>'source', p->>'checkin_token', false, '', v_now, v_now)
    RETURNING id INTO v_booking;
    INSERT INTO outbox_message (kind, recipient, subject, message_id, raw, booking, event, status, attempts,
        next_attempt_at, claimed_by, last_error, created_at)
    VALUES ('confirmation', p->>'email', '', p->>'message_id', '', v_booking, v_place, 'pending', 0, v_now, '', '',
        v_now);
    INSERT INTO audit_record (action, actor, event, booking, person, detail, created_at)
    VALUES ('booking.confirmed', p->>'actor', v_place, v_booking, v_person, (p->>'detail')::json, v_now);
    IF p ? 'cap' THEN
        -- A statement of its own: it sees a booking another call for the same address committed
        -- while this one waited for the person's row.
        SELECT count(*) INTO v_held FROM booking b JOIN event e ON e.id = b.event
        WHERE b.person = v_person AND b.status IN (%(active)s) AND e.ends_at > v_now;
        IF v_held > (p->>'cap')::integer THEN
            RAISE EXCEPTION 'sgb:cap';
        END IF;
    END IF;
    RETURN v_booking;
END
"""


@lru_cache(maxsize=1)
def _function() -> tuple[str, str]:
    """(name, CREATE statement) for the function as this code writes it."""
    take_place = take_place_sql().replace("{now}", "v_now").replace("{event}", "(p->>'event')::integer")
    body = _BODY % {"take_place": take_place,
                    "active": ", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES)}
    name = "sgb_book_" + hashlib.sha256(body.encode()).hexdigest()[:12]
    return name, f"CREATE FUNCTION {name}(p jsonb) RETURNS integer LANGUAGE plpgsql AS $fn${body}$fn$"


_ready: set[str] = set()
_unavailable: set[str] = set()


async def _ensure(name: str, create: str) -> bool:
    if name in _ready:
        return True
    if name in _unavailable:  # not allowed to create it: asked once per process, not per booking
        return False
    try:
        if not await Booking.raw("SELECT 1 AS found FROM pg_proc WHERE proname = {}", name):
            await Booking.raw(create)
    except Exception as exc:  # noqa: BLE001 - made by another process meanwhile, or not allowed
        if not await Booking.raw("SELECT 1 AS found FROM pg_proc WHERE proname = {}", name):
            log.warning("booking in one call unavailable (%s): booking in one transaction instead",
                        type(exc).__name__)
            _unavailable.add(name)
            return False
    _ready.add(name)
    return True


class Refused(Exception):
    """What the function said instead of booking: no_place, no_setting or cap."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def book_in_one_call(values: dict[str, Any]) -> int | None:
    """The booking's id; None if the function cannot be used here (the caller books the longer
    way). Raises Refused, or the database's unique-index error for a second active booking."""
    name, create = _function()
    if not await _ensure(name, create):
        return None
    try:
        [row] = await Booking.raw(f"SELECT {name}({{}}::jsonb) AS booking", json.dumps(values, default=str))
    except Exception as exc:
        text = str(exc)
        if text.startswith("sgb:"):
            raise Refused(text.removeprefix("sgb:").split()[0]) from None
        raise
    return row["booking"]
