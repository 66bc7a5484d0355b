"""The service's one scheduler: a job due once a day runs once across any number of processes
sharing the database, and organisers can read when each last ran and what it did."""

import asyncio
import datetime as dt

from app.jobs import claim, job_runs, run_timed_jobs
from tests import factories as f


async def test_of_many_processes_asking_at_once_one_runs_a_daily_job(db, now):
    answers = await asyncio.gather(*(claim("retention_purge", now, dt.timedelta(days=1)) for _ in range(10)))
    assert answers.count(True) == 1
    assert not await claim("retention_purge", now + dt.timedelta(hours=23), dt.timedelta(days=1))
    assert await claim("retention_purge", now + dt.timedelta(days=1), dt.timedelta(days=1))


async def test_the_purge_runs_daily_inside_the_service_and_says_what_it_did(db, now, tmp_path):
    config = f.CONFIG.with_overrides(mail_dir=tmp_path)
    first = await run_timed_jobs(config=config, now=now)
    later_that_day = await run_timed_jobs(config=config, now=now + dt.timedelta(hours=3))
    next_day = await run_timed_jobs(config=config, now=now + dt.timedelta(days=1, minutes=1))
    assert first.purged is not None and later_that_day.purged is None and next_day.purged is not None
    runs = {r["name"]: r for r in await job_runs()}
    assert set(runs) == {"offers", "reminders", "questionnaire_reminders", "rate_limit_counters", "retention_purge",
                         "sign_in_throttles", "below_minimum", "clock_reminders"}
    assert runs["questionnaire_reminders"]["last_result"] == "questionnaire reminders queued: 0"
    assert "people anonymised: 0" in runs["retention_purge"]["last_result"]
    assert runs["retention_purge"]["last_started_at"] == now + dt.timedelta(days=1, minutes=1)
