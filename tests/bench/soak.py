"""A soak (issue 22; part of `make bench`): minutes of mixed traffic against the deployed layout
on PostgreSQL (two web workers started with --no-sender, one `send-mail` worker), printing each
process's memory (RSS) and open files at the start and at the end. Flat within 10% is the bar:
a leak of connections, files or memory shows as growth.

    .venv/bin/python -m tests.bench.soak [--seconds 300] [--clients 8]

Traffic, per client in turn: the home page, the programme API, one event's page, a booking (the
public API), its manage page, and now and then its cancellation.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
from pathlib import Path

import httpx

from app.db import bind_tables, make_engine
from tests import factories as f
from tests.processes import AppProcess
from tests.support import PROJECT_ROOT, RunningServer, SmtpSink, create_postgres_database, drop_postgres_database, run_cli


def processes(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


def footprint(pid: int) -> tuple[float, int]:
    """(RSS in MB, open file descriptors)."""
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return rss / 1024, len(os.listdir(f"/proc/{pid}/fd"))


async def client_loop(client: httpx.AsyncClient, base: str, event_ids: list[int], who: int, until: float,
                      counts: dict[str, int]) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        event_id = event_ids[n % len(event_ids)]
        for path in ("/", "/api/events", f"/events/{event_id}"):
            counts[str((await client.get(f"{base}{path}")).status_code)] += 1
        booked = await client.post(f"{base}/api/events/{event_id}/bookings", json=f.api_body(f"{who}-{n}"))
        counts[str(booked.status_code)] += 1
        if booked.status_code == 201:
            token = booked.json()["manage_token"]
            counts[str((await client.get(f"{base}/bookings/{token}")).status_code)] += 1
            if n % 3 == 0:
                counts[str((await client.post(f"{base}/api/bookings/{token}/cancel")).status_code)] += 1


async def main(seconds: int, clients: int) -> None:
    url = await asyncio.to_thread(create_postgres_database)
    sink = SmtpSink().start()
    try:
        run_cli(url, "migrate")
        bind_tables(make_engine(url))
        now = dt.datetime.now(dt.timezone.utc)
        event_ids = [await f.event(now=now, capacity=100_000, title=f"Forum {n}") for n in range(5)]
        env = {"RATE_LIMITS": "off", "DB_POOL_SIZE": "10", **sink.settings_env()}
        with RunningServer(url, workers=2, extra_env=env, extra_args=("--no-sender",)) as web:
            sender = AppProcess(["send-mail"], {**os.environ, **web.env, "PORT": "1"}, cwd=PROJECT_ROOT,
                                merge_output=True)
            try:
                # Warm-up at full load: imports, caches and the connection pools (opened as the load
                # needs them, up to DB_POOL_SIZE) settle before the start is measured.
                async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as warm:
                    until = time.monotonic() + 15
                    await asyncio.gather(*(client_loop(warm, web.base_url, event_ids, 1000 + who, until, _counter())
                                           for who in range(clients)))
                watched = {f"web {pid}": pid for pid in processes(web.process.pid)[1:]}
                watched[f"sender {sender.pid}"] = sender.pid
                start = {name: footprint(pid) for name, pid in watched.items()}
                counts = _counter()
                async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as client:
                    until = time.monotonic() + seconds
                    await asyncio.gather(*(client_loop(client, web.base_url, event_ids, who, until, counts)
                                           for who in range(clients)))
                end = {name: footprint(pid) for name, pid in watched.items()}
            finally:
                sender.terminate()
                sender.wait(timeout=30)
                sender.remove_files()
    finally:
        sink.stop()
        await asyncio.to_thread(drop_postgres_database, url)
    total = sum(counts.values())
    print(f"soak: {seconds} s, {clients} clients, {total:,} requests ({total / seconds:.0f}/s); statuses "
          + ", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items()) if v))
    flat = True
    for name in watched:
        (rss0, fds0), (rss1, fds1) = start[name], end[name]
        grew = (rss1 - rss0) / rss0 * 100
        flat &= grew <= 10 and fds1 <= fds0 * 1.1 + 2
        print(f"  {name:14} memory {rss0:6.1f} -> {rss1:6.1f} MB ({grew:+.1f}%)   open files {fds0} -> {fds1}")
    print("  flat within 10%" if flat else "  NOT FLAT: memory or open files grew by more than 10%")


def _counter() -> dict[str, int]:
    from collections import defaultdict

    return defaultdict(int)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.clients))
