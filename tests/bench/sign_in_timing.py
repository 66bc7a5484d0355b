"""A wrong password and an unknown address: the same answer in the same time (issue 22 point 1).

Twenty sign-ins of each, with the service's own password parameters (not the test suite's
cheapest), each from a client of its own (so no throttle delay is in the figures); prints the
median and 90th percentile of each and the answer given.

    .venv/bin/python -m tests.bench.sign_in_timing
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from app.db import bind_tables, make_engine
from app.organisers.services import SignInRefused, create_organiser, prepare_hashing, sign_in, use_password_profile
from tests.support import new_database


async def main() -> None:
    url = new_database("sqlite", Path(tempfile.mkdtemp()))
    bind_tables(make_engine(url))
    use_password_profile("rfc_9106_low_memory")  # Config.password_profile's default
    now = dt.datetime.now(dt.timezone.utc)
    await create_organiser(email="jo@essex.gov.uk", name="Jo", password="correct horse battery", now=now)
    await prepare_hashing()
    times: dict[str, list[float]] = {"wrong password": [], "unknown address": []}
    answers: dict[str, tuple[str, str]] = {}
    for n in range(20):
        for label, email in (("wrong password", "jo@essex.gov.uk"), ("unknown address", f"nobody{n}@essex.gov.uk")):
            started = time.perf_counter()
            try:
                await sign_in(email=email, password="wrong guess!!", now=now, client=f"203.0.113.{n}")
            except SignInRefused as refused:
                answers[label] = (type(refused).__name__, refused.message)
            times[label].append((time.perf_counter() - started) * 1000)
    for label, taken in times.items():
        print(f"{label:16} median {statistics.median(taken):6.1f} ms  p90 {sorted(taken)[17]:6.1f} ms  "
              f"answer {answers[label]}")


if __name__ == "__main__":
    asyncio.run(main())
