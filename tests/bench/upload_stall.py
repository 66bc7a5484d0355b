"""Does a Teams upload stall the service? (issue 22 point 4; part of `make bench`)

The app in this process (SQLite, as the embedded default runs it), with a canary coroutine on its
event loop that sleeps 5 ms at a time and records how late it wakes, and `/healthz` asked one
request after another. Measured for a few seconds with nothing else, then while an organiser
uploads a report of the largest size taken (2 MB, 17,000 participants) onto a forum with 200
bookings. Prints the canary's longest gap and `/healthz`'s p50/p99 in each phase.

    .venv/bin/python -m tests.bench.upload_stall
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from app.attendance.teams_report import MAX_REPORT_BYTES
from app.bookings.services import book_place
from app.config import Config
from app.db import bind_tables, make_engine
from app.main import create_app
from app.organisers.services import create_organiser, sign_in
from app.tables.bookings import BookingSource
from app.tables.programme import Event
from app.web.auth import SESSION_COOKIE
from tests import factories as f
from tests.support import app_client, csrf_token, new_database

PASSWORD = "correct horse battery staple"


def big_report(participants: int) -> bytes:
    day = "16/03/26"
    rows = [["1. Summary"], ["Meeting title", "Online Safeguarding Forum"], ["Start time", f"{day}, 17:58:12"],
            ["End time", f"{day}, 19:31:40"], [], ["2. Participants"],
            ["Name", "First join", "Last leave", "In-meeting duration", "Email", "Participant ID (UPN)", "Role"]]
    rows += [[f"Person {n}", f"{day}, 18:00:00", f"{day}, 19:30:00", "1h 30m 0s", f"person{n}@school.example.org",
              "", "Attendee"] for n in range(participants)]
    return "\n".join("\t".join(r) for r in rows).encode("utf-8")


class Canary:
    def __init__(self) -> None:
        self.longest = 0.0
        self._stop = False

    async def run(self) -> None:
        while not self._stop:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            self.longest = max(self.longest, time.perf_counter() - start - 0.005)

    def stop(self) -> None:
        self._stop = True


async def healthz_until(client, done: asyncio.Event) -> list[float]:
    times = []
    while not done.is_set():
        start = time.perf_counter()
        assert (await client.get("/healthz")).status_code == 200
        times.append(time.perf_counter() - start)
        await asyncio.sleep(0.002)  # in-process, a request that never waits on I/O never yields
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else values[0] * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = new_database("sqlite", Path(tmp))
        bind_tables(make_engine(url))
        now = dt.datetime.now(dt.timezone.utc)
        config = Config(database_url=url, secret_key="bench", password_profile="cheapest", db_pool_size=0,
                        mail_sender_in_process=False, rate_limits=False)
        event_id = await f.event(now=now, quadrant=None, capacity=300, title="Online Safeguarding Forum")
        for n in range(200):
            await book_place(event_id, f.request(n, email=f"person{n}@school.example.org"), source=BookingSource.web,
                             actor="public", now=now, config=config)
        day = dt.datetime(2026, 3, 16, 18, 0, tzinfo=dt.timezone.utc)
        await Event.update({Event.starts_at: day, Event.ends_at: day + dt.timedelta(hours=2)}).where(Event.id == event_id)
        await create_organiser(email="bench@essex.gov.uk", name="Bench", password=PASSWORD, now=now)
        report = big_report(17_000)
        assert len(report) <= MAX_REPORT_BYTES
        async with app_client(create_app(config)) as client:
            client.cookies.set(SESSION_COOKIE, await sign_in(email="bench@essex.gov.uk", password=PASSWORD, now=now))
            form = await client.get(f"/organisers/events/{event_id}/teams-import/")
            csrf = csrf_token(form.text)
            figures = {}
            for phase in ("idle", "upload"):
                canary, done = Canary(), asyncio.Event()
                canary_task = asyncio.create_task(canary.run())
                polling = asyncio.create_task(healthz_until(client, done))
                started = time.perf_counter()
                if phase == "idle":
                    await asyncio.sleep(3)
                else:
                    answer = await client.post(f"/organisers/events/{event_id}/teams-import/", follow_redirects=False,
                                               data={"minimum": "30", "_csrf_token": csrf, "other_day": "yes"},
                                               files={"report": ("report.csv", report, "text/csv")})
                    assert answer.status_code == 303, answer.text[:500]
                took = time.perf_counter() - started
                done.set()
                times = await polling
                canary.stop()
                await canary_task
                figures[phase] = (took, canary.longest * 1000, p(times, 50), p(times, 99), len(times))
        print(f"upload stall: a {len(report) / 1e6:.1f} MB Teams report, 17,000 participants, onto 200 bookings")
        for phase, (took, gap, p50, p99, n) in figures.items():
            print(f"  {phase:7} {took:5.2f} s   canary's longest gap {gap:7.1f} ms   "
                  f"/healthz p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  ({n} requests)")


if __name__ == "__main__":
    asyncio.run(main())
