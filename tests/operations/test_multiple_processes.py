"""Issue 13, point 6: the layout for more than one machine, as deploy/ runs it: two web processes
(`serve --no-sender`) and two senders (`send-mail`) against one PostgreSQL database. Bookings go
through both web processes at once; capacity holds, each email is sent once, each job runs once."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest

from app.db import bind_tables, make_engine
from app.tables.bookings import Booking
from app.tables.jobs import ScheduledJob
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from tests import factories as f
from tests import support
from tests.processes import AppProcess
from tests.support import PROJECT_ROOT, RunningServer

pytestmark = pytest.mark.concurrency
TOKEN = "scrape-token-for-the-layout-test"


@pytest.fixture
async def postgres_db(database_urls, tmp_path_factory):
    url = database_urls.get("postgres") or await asyncio.to_thread(
        support.new_database, "postgres", tmp_path_factory.mktemp("postgres"))  # it runs an event loop of its own
    database_urls["postgres"] = url
    await support.empty_database(url)
    bind_tables(make_engine(url))
    return url


async def test_two_web_processes_and_two_senders_on_one_postgresql(postgres_db, now, smtp_server):
    event_id = await f.event(now=now, capacity=40, title="North East Safeguarding Forum")
    env = {"RATE_LIMITS": "off", "METRICS": "on", "METRICS_TOKEN": TOKEN, "LOG_FORMAT": "json",
           **smtp_server.settings_env()}
    with RunningServer(postgres_db, extra_env=env, extra_args=("--no-sender",)) as one, \
            RunningServer(postgres_db, extra_env=env, extra_args=("--no-sender",)) as two:
        senders = [AppProcess(["send-mail"], {**os.environ, **one.env, "PORT": "1"}, cwd=PROJECT_ROOT,
                              merge_output=True) for _ in range(2)]
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                answers = await asyncio.gather(*(
                    client.post(f"{(one, two)[n % 2].base_url}/api/events/{event_id}/bookings", json=f.api_body(n))
                    for n in range(100)))
            codes = [a.status_code for a in answers]
            assert codes.count(201) == 40 and codes.count(409) == 60, codes
            assert {a.json()["code"] for a in answers if a.status_code == 409} == {"event_full"}
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and (
                    await OutboxMessage.count().where(OutboxMessage.status != "sent") or len(smtp_server.messages) < 40):
                await asyncio.sleep(0.5)
            ready = [httpx.get(f"{web.base_url}/readyz").status_code for web in (one, two)]
            scrape = httpx.get(f"{one.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        finally:
            for sender in senders:
                sender.terminate()
            for sender in senders:
                sender.wait(timeout=30)
                sender.remove_files()
    event = await Event.select(Event.places_taken, Event.capacity).where(Event.id == event_id).first()
    confirmed = await Booking.count().where((Booking.event == event_id) & (Booking.status == "confirmed"))
    assert event["places_taken"] == confirmed == 40 == event["capacity"]
    received = smtp_server.parsed()
    assert len(received) == 40 and len({m["Message-ID"] for m in received}) == 40
    assert len({m["To"] for m in received}) == 40  # one confirmation per booker, each sent once
    runs = {r["name"]: r["runs"] for r in await ScheduledJob.select(ScheduledJob.name, ScheduledJob.runs)}
    assert runs["retention_purge"] == 1 and runs["questionnaire_reminders"] == 1 and runs["rate_limit_counters"] == 1
    assert ready == [200, 200]
    assert 'outbox_messages{status="sent"} 40.0' in scrape and 'scheduled_job_runs_total{job="retention_purge"} 1.0' in scrape
