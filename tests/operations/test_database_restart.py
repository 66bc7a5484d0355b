"""Issue 22, points 7 and 8: a PostgreSQL of the test's own (its own data folder and port, never
the shared one) restarted under a booking load, as an operator's bad day does it: a fast restart,
then a crash (`-m immediate`). Two web workers and a `send-mail` worker keep running throughout.

Asserted: no answer is a 5xx other than 503 with Retry-After; every 201 is stored; no Message-ID
is delivered twice; and every confirmation is delivered within 60 s of the database's return
(polled: the test ends as soon as they are)."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
import time

import httpx
import pytest

from app.db import bind_tables, make_engine
from app.tables.bookings import Booking
from app.tables.mail import OutboxMessage
from tests import factories as f
from tests.processes import AppProcess
from tests.support import PROJECT_ROOT, RunningServer, free_port, run_cli

pytestmark = pytest.mark.concurrency


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses root: run it, and pg_ctl, as the postgres user when the suite runs as root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class OwnPostgres:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            pytest.fail("PostgreSQL's initdb and pg_ctl are needed for the restart test (apt install postgresql)")
        self.folder = tempfile.mkdtemp(prefix="sgb-pg-", dir="/tmp")
        self.data = os.path.join(self.folder, "data")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(_as_postgres([self.initdb, "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"]),
                       check=True, capture_output=True)

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        subprocess.run(_as_postgres([self.pg_ctl, "-D", self.data, "-l", os.path.join(self.folder, "log"), "-o", options,
                                     "-w", *args]), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.ctl("start")

    def stop(self, mode: str) -> None:
        self.ctl("stop", "-m", mode)

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgres():
    pg = OwnPostgres()
    pg.start()
    try:
        run_cli(pg.url, "migrate")
        yield pg
    finally:
        pg.remove()


async def test_a_postgresql_restart_under_load_costs_no_error_no_lost_booking_and_no_duplicate_email(
        own_postgres, now, smtp_server):
    pg = own_postgres
    bind_tables(make_engine(pg.url))
    event_id = await f.event(now=now, capacity=5000, title="South Safeguarding Forum")
    env = {"RATE_LIMITS": "off", "DB_POOL_SIZE": "5", **smtp_server.settings_env()}
    answers: list[tuple[int, str | None, str | None]] = []
    made: list[str] = []
    stop = asyncio.Event()

    async def booker(client: httpx.AsyncClient, base_url: str, who: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                answer = await client.post(f"{base_url}/api/events/{event_id}/bookings",
                                           json=f.api_body(f"{who}-{n}"))
            except httpx.HTTPError:
                await asyncio.sleep(0.05)  # a worker busy reconnecting: the client tries again
                continue
            answers.append((answer.status_code, answer.headers.get("retry-after"), answer.text[:200]))
            if answer.status_code == 201:
                made.append(answer.json()["reference"])
            await asyncio.sleep(0.1 if answer.status_code == 503 else 0.02)  # people booking, not a flood

    with RunningServer(pg.url, workers=2, extra_env=env, extra_args=("--no-sender",)) as web:
        sender = AppProcess(["send-mail"], {**os.environ, **web.env, "PORT": "1"}, cwd=PROJECT_ROOT, merge_output=True)
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                load = [asyncio.create_task(booker(client, web.base_url, who)) for who in range(6)]
                await asyncio.sleep(1)
                await asyncio.to_thread(pg.stop, "fast")
                await asyncio.sleep(0.5)
                await asyncio.to_thread(pg.start)
                await asyncio.sleep(1.2)  # bookings go through again before the second stop
                await asyncio.to_thread(pg.stop, "immediate")
                await asyncio.sleep(0.5)
                await asyncio.to_thread(pg.start)
                back = time.monotonic()
                await asyncio.sleep(1.2)  # and after it
                stop.set()
                await asyncio.gather(*load)
            # Every confirmation delivered within 60 s of the database's return.
            while time.monotonic() < back + 60 and len(smtp_server.messages) < len(made):
                await asyncio.sleep(0.25)
            delivered_in = time.monotonic() - back
        finally:
            sender.terminate()
            sender.wait(timeout=30)
            sender_log = sender.output()[0]
            sender.remove_files()
        web_log = web.log()
    statuses = [s for s, _, _ in answers]
    errors = [a for a in answers if a[0] >= 500 and a[0] != 503]
    assert not errors, (errors[:5], web_log[-3000:])
    assert all(retry for s, retry, _ in answers if s == 503)
    assert statuses.count(201) == len(made) >= 50, statuses
    stored = set(await Booking.select(Booking.reference).where(Booking.event == event_id).output(as_list=True))
    assert set(made) <= stored
    ids = smtp_server.message_ids()
    assert len(ids) == len(set(ids)), "a message was delivered twice"
    assert len(ids) >= len(made) and delivered_in < 60, (len(ids), len(made), sender_log[-3000:])
    assert await OutboxMessage.count().where(OutboxMessage.status == "sending") == 0
    print(f"restart test: {len(answers)} answers, {statuses.count(201)} booked, {statuses.count(503)} answered 503, "
          f"{len(ids)} emails each delivered once, all within {delivered_in:.1f} s of the return")
