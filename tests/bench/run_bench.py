"""Benchmark: the booking API and the programme page at concurrency 1, 16 and 64, on SQLite and
PostgreSQL, through a running server. Prints requests/s, p50 and p99 latency, and checks that no
event is over capacity afterwards; then the email sender's throughput for 1,000 confirmations to a
local SMTP server; then, on 2,500 settings, 10,000 people and 100,000 bookings, the Q13 evidence
for every setting and the dashboard. Not a test: figures depend on the machine; compare within
a run. `--only scale` runs the last part alone.

    .venv/bin/python -m tests.bench.run_bench [--requests 400] [--engines sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from app.db import bind_tables, make_engine
from tests import factories as f
from tests import support

LEVELS = (1, 16, 64)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def drive(base_url: str, concurrency: int, total: int, make_request) -> tuple[float, list[float], dict[int, int]]:
    """Send `total` requests with `concurrency` in flight; return (seconds, latencies, status counts)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        async def worker() -> None:
            for n in counter:
                started = time.perf_counter()
                response = await make_request(client, n)
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, statuses


async def over_capacity_events(url: str) -> list[str]:
    from app.bookings.records import count_active_bookings
    from app.tables.programme import Event

    bind_tables(make_engine(url))
    problems = []
    for event in await Event.select(Event.id, Event.capacity, Event.places_taken):
        active = await count_active_bookings(event["id"])
        if active > event["capacity"] or active != event["places_taken"]:
            problems.append(f"event {event['id']}: capacity {event['capacity']}, counter "
                            f"{event['places_taken']}, active rows {active}")
    return problems


async def bench_engine(engine: str, url: str, total: int) -> list[str]:
    support.run_cli(url, "seed", "--demo")
    bind_tables(make_engine(url))
    now = dt.datetime.now(dt.timezone.utc)
    # Room for every booking of the run, plus one small event to fill up under load.
    big = await f.event(now=now, capacity=total * len(LEVELS) + 10, title="Benchmark forum")
    lines = []
    with support.RunningServer(url, workers=1, extra_env=support.LOAD_TEST) as server:
        for level in LEVELS:
            async def book(client: httpx.AsyncClient, n: int, level: int = level) -> httpx.Response:
                return await client.post(f"/api/events/{big}/bookings", json=f.api_body(f"c{level}-{n}"))

            seconds, lat, statuses = await drive(server.base_url, level, total, book)
            lines.append(f"{engine:8} booking API   c={level:<3} {total / seconds:8.1f} req/s  "
                         f"p50 {statistics.median(lat) * 1000:7.1f} ms  p99 {percentile(lat, 99) * 1000:7.1f} ms  "
                         f"statuses {statuses}")
        small = await f.event(now=now, capacity=25, title="Small benchmark forum")

        async def book_small(client: httpx.AsyncClient, n: int) -> httpx.Response:
            return await client.post(f"/api/events/{small}/bookings", json=f.api_body(f"s-{n}"))

        _, _, statuses = await drive(server.base_url, 64, 300, book_small)
        lines.append(f"{engine:8} 300 attempts at 64 in flight for 25 places: statuses {statuses}")
        for level in LEVELS:
            async def programme(client: httpx.AsyncClient, n: int) -> httpx.Response:
                return await client.get("/")

            seconds, lat, statuses = await drive(server.base_url, level, total, programme)
            lines.append(f"{engine:8} programme page c={level:<3} {total / seconds:8.1f} req/s  "
                         f"p50 {statistics.median(lat) * 1000:7.1f} ms  p99 {percentile(lat, 99) * 1000:7.1f} ms  "
                         f"statuses {statuses}")
    problems = await over_capacity_events(url)
    lines.append(f"{engine:8} capacity check: " + ("OK, no event over capacity and every counter "
                                                   "equals its rows" if not problems else "; ".join(problems)))
    return lines


async def bench_sender(engine: str, url: str, count: int = 1000) -> list[str]:
    """Queue `count` confirmation emails (by booking), then time one sender delivering them to a
    local SMTP server (aiosmtpd, in this process) over batches of one connection each."""
    from app.bookings.services import book_place
    from app.jobs import deliver_due
    from app.mail.outbox import count_by_status
    from app.mail.sender import SmtpTransport
    from app.tables.bookings import BookingSource

    engine_ = make_engine(url)
    bind_tables(engine_)
    if url.startswith("postgresql"):
        await engine_.start_connection_pool(min_size=1, max_size=5)  # as the app does
    now = dt.datetime.now(dt.timezone.utc)
    sink = support.SmtpSink().start()
    try:
        config = f.CONFIG.with_overrides(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=False)
        event_id = await f.event(now=now, capacity=count + 10, title="Sender benchmark")
        started = time.perf_counter()
        for n in range(count):
            await book_place(event_id, f.request(f"mail{n}"), source=BookingSource.api, actor="bench", now=now,
                             config=config)
        queued = time.perf_counter() - started
        started = time.perf_counter()
        report = await deliver_due(SmtpTransport(config), config=config, now=lambda: dt.datetime.now(dt.timezone.utc))
        sending = time.perf_counter() - started
        counts = await count_by_status()
    finally:
        sink.stop()
        if url.startswith("postgresql"):
            await engine_.close_connection_pool()
    ids = set(sink.message_ids())
    return [
        f"{engine:8} queue {count} confirmations (booking + email in one transaction, sequential): "
        f"{count / queued:7.1f} bookings/s",
        f"{engine:8} sender: {report.sent} sent in {sending:5.2f} s = {report.sent / sending:7.1f} messages/s; "
        f"received {len(sink.messages)}, distinct Message-IDs {len(ids)}; outbox {counts}",
    ]


async def bench_scale(engine: str, url: str, repeats: int = 7) -> list[str]:
    """Issue 5's scale: 2,500 settings, 10,000 people, 100,000 bookings over three academic years;
    then the Q13 evidence for every setting and the dashboard, rendered by a running server."""
    from app.organisers.services import create_organiser, sign_in
    from app.web.auth import SESSION_COOKIE

    started = time.perf_counter()
    generated = support.run_cli(url, "generate-scale").stdout.strip().splitlines()[-1]
    generate_seconds = time.perf_counter() - started
    bind_tables(make_engine(url))
    now = dt.datetime.now(dt.timezone.utc)
    await create_organiser(email="bench@essex.gov.uk", name="Bench", password="correct horse battery", now=now)
    token = await sign_in(email="bench@essex.gov.uk", password="correct horse battery", now=now)
    lines = [f"{engine:8} {generated} (command took {generate_seconds:.1f} s)"]
    with support.RunningServer(url, workers=1, extra_env=support.LOAD_TEST) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120, cookies={SESSION_COOKIE: token}) as client:
            for label, path in [("Q13 evidence, every setting (CSV)", "/organisers/evidence/q13.csv?year=2024/25"),
                                ("dashboard page", "/organisers/dashboard/?year=2024/25"),
                                ("one setting's page", "/organisers/settings/1?year=2024/25")]:
                times = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    response = await client.get(path)
                    times.append(time.perf_counter() - t)
                    assert response.status_code == 200, (path, response.status_code)
                lines.append(f"{engine:8} {label:36} median {statistics.median(times) * 1000:6.0f} ms  "
                             f"max {max(times) * 1000:6.0f} ms  ({len(response.content):,} bytes)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--emails", type=int, default=1000, help="confirmations for the sender benchmark")
    parser.add_argument("--only", choices=["http", "scale"], help="run one part only")
    args = parser.parse_args()
    print(f"Benchmark: {args.requests} requests per level; one server process; client on the same machine")
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines.split(","):
            url = support.new_database(engine, Path(tmp))
            try:
                if args.only != "scale":
                    for line in asyncio.run(bench_engine(engine, url, args.requests)):
                        print(line, flush=True)
                    for line in asyncio.run(bench_sender(engine, url, args.emails)):
                        print(line, flush=True)
                if args.only != "http":
                    for line in asyncio.run(bench_scale(engine, url)):
                        print(line, flush=True)
            finally:
                if engine == "postgres":
                    support.drop_postgres_database(url)


if __name__ == "__main__":
    main()
