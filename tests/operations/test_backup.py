"""Issue 13, point 5: a backup taken while bookings are being made, restored into a new database,
holds every booking made before it began, and its capacity counters agree with its rows."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg

from app.bookings.services import book_place
from app.tables.bookings import Booking, BookingSource
from tests import factories as f
from tests import support


async def _restored(url: str) -> tuple[set[str], int, int]:
    """(references, places taken, confirmed bookings) read straight from the restored database."""
    sql = ("SELECT reference FROM booking", "SELECT places_taken FROM event",
           "SELECT count(*) FROM booking WHERE status = 'confirmed'")
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            refs = {r[0] for r in conn.execute(sql[0])}
            return refs, conn.execute(sql[1]).fetchone()[0], conn.execute(sql[2]).fetchone()[0]
    conn = await asyncpg.connect(url)
    try:
        refs = {r[0] for r in await conn.fetch(sql[0])}
        return refs, await conn.fetchval(sql[1]), await conn.fetchval(sql[2])
    finally:
        await conn.close()


async def test_a_backup_under_load_restores_every_booking_made_before_it(db, now, tmp_path):
    event_id = await f.event(now=now, capacity=500)
    made: list[str] = []
    started_backup = asyncio.Event()

    async def load() -> None:
        for n in range(120):
            booking = await book_place(event_id, f.request(n), source=BookingSource.web, actor="public", now=now,
                                       config=f.CONFIG.with_overrides(max_active_bookings=1000))
            made.append(booking.reference)
            if n == 40:
                started_backup.set()
            await asyncio.sleep(0)

    async def back_up() -> tuple[set[str], str]:
        await started_backup.wait()
        before = set(made)
        path = tmp_path / "backup.dump"
        result = await asyncio.to_thread(support.run_cli, db, "backup", str(path))
        return before, result.stdout

    _, (before, said) = await asyncio.gather(load(), back_up())
    assert "Backed up to" in said and len(before) >= 41
    assert await Booking.count() == 120  # the load went on while the backup was taken
    engine = "sqlite" if db.startswith("sqlite") else "postgres"
    target = await asyncio.to_thread(support.new_database, engine, tmp_path)
    try:
        restored_said = support.run_cli(target, "restore", str(tmp_path / "backup.dump")).stdout
        assert "Restored from" in restored_said
        references, places_taken, confirmed = await _restored(target)
        assert before <= references <= set(made)  # every booking made before; nothing invented
        assert places_taken == confirmed == len(references)  # a consistent snapshot
        assert "0 migration(s) pending" in support.run_cli(target, "status").stdout
    finally:
        if engine == "postgres":
            await asyncio.to_thread(support.drop_postgres_database, target)


def test_restoring_something_that_is_not_a_backup_says_so(tmp_path):
    url = support.new_database("sqlite", tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    refused = support.run_cli(url, "restore", str(junk), check=False)
    assert refused.returncode == 1 and refused.stderr.startswith("Restore failed:")
    assert "Traceback" not in refused.stderr
