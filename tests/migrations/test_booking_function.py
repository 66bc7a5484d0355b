"""Issue 23, point 1: the booking's PostgreSQL function is made by a migration under a fixed
name, never at run time; the newest migration that writes it writes what the code's statements
are today."""

import importlib
import re

from app.bookings.one_call import FUNCTION, function_sql
from app.config import PROJECT_ROOT
from app.tables.bookings import Booking


def _migrations_writing_the_function() -> list[str]:
    names = sorted(p.stem for p in (PROJECT_ROOT / "migrations").glob("bookings_service_*.py"))
    return [name for name in names if hasattr(importlib.import_module(f"migrations.{name}"), "FUNCTION_SQL")]


def test_the_newest_migration_writes_the_function_as_the_code_has_it():
    writers = _migrations_writing_the_function()
    assert writers, "no migration creates the booking function"
    newest = importlib.import_module(f"migrations.{writers[-1]}")
    assert newest.FUNCTION_SQL == function_sql(), (
        f"app.bookings.one_call's statements changed: add a migration that runs CREATE OR REPLACE FUNCTION "
        f"{FUNCTION} with function_sql() (as {writers[-1]} does)")
    assert newest.FUNCTION_SQL.startswith(f"CREATE OR REPLACE FUNCTION {FUNCTION}(p jsonb)")


def test_a_change_to_the_statements_is_caught(monkeypatch):
    """The check above can fail: a statement changed without a migration is a different text."""
    from app.bookings import one_call

    changed = one_call.STATEMENTS["audit"].replace("{action}", "'booking.made'")
    assert changed != one_call.STATEMENTS["audit"]
    monkeypatch.setitem(one_call.STATEMENTS, "audit", changed)
    newest = importlib.import_module(f"migrations.{_migrations_writing_the_function()[-1]}")
    assert newest.FUNCTION_SQL != function_sql()


async def test_migrate_leaves_one_booking_function_of_that_name_and_books_through_it(db, now):
    """On PostgreSQL exactly the migration's function; SQLite runs the same statements from the
    code (it has no functions, and the migration adds nothing there)."""
    if db.startswith("postgresql"):
        functions = await Booking.raw("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'sgb%'")
        assert [f["proname"] for f in functions] == [FUNCTION]
        assert re.sub(r"\s+", " ", functions[0]["prosrc"]).strip() in re.sub(r"\s+", " ", function_sql())
    else:
        assert await Booking.raw("SELECT name FROM sqlite_master WHERE name LIKE 'sgb%'") == []
    from app.bookings.services import book_place
    from app.tables.bookings import BookingSource
    from tests import factories as f

    event_id = await f.event(now=now, capacity=1)
    made = await book_place(event_id, f.request(1), source=BookingSource.web, actor="public", now=now,
                            config=f.CONFIG)
    assert made.id and await Booking.count().where(Booking.event == event_id) == 1
