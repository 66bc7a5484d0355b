"""`make bench`: the service beside the bare-stack reference (`../shared/bench-ceiling`), driven by
the same `wrk` load in one run, every figure printed with its ratio to the reference's, and the
server CPU a request read from /proc (utime + stime of the server's processes, before and after).

    .venv/bin/python -m tests.bench.wrk_bench [--seconds 20] [--connections 16] [--engines postgres,sqlite]

PostgreSQL: the reference and the service each with 2 web workers; the service's email goes to a
`send-mail` worker of its own (web processes started with --no-sender), and the bench reports how
long that worker takes to drain the outbox after the burst. SQLite: one process each, the
service's sender in-process as the embedded default runs it, delivering to an SMTP sink ("sqlite")
or, as the README's first command runs it with no SMTP server, writing .eml files ("sqlite-files"). After each run: no event over
capacity, the counter equal to the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT
from tests.support import PG_ADMIN_URL, SmtpSink, free_port, run_cli

CEILING = PROJECT_ROOT.parent / "shared" / "bench-ceiling"
LOAD = CEILING / "load.lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root_pid: int) -> float:
    """utime + stime of a process and its descendants, from /proc."""
    total, pids = 0.0, [root_pid]
    while pids:
        pid = pids.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        pids += [int(c) for c in children]
    return total


def wrk(url: str, path: str, mode: str, tag: str, *, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(LOAD), url, "--", path, mode, tag],
                         capture_output=True, text=True, timeout=seconds + 60)
    line = next(line for line in out.stdout.splitlines() if line.startswith("{"))
    return json.loads(line)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def measure(server_pid: int, url: str, path: str, mode: str, tag: str, args: argparse.Namespace) -> dict:
    before = cpu_seconds(server_pid)
    result = wrk(url, path, mode, tag, seconds=args.seconds, connections=args.connections)
    result["cpu_ms"] = (cpu_seconds(server_pid) - before) * 1000 / max(result["requests"], 1)
    return result


def reference(engine: str, args: argparse.Namespace) -> dict[str, dict]:
    env = {**os.environ}
    if engine == "postgres":
        dsn = PG_ADMIN_URL.rsplit("/", 1)[0] + "/ceiling"
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "DROP DATABASE IF EXISTS ceiling WITH (FORCE)", "-c", "CREATE DATABASE ceiling"],
                       check=True, capture_output=True)
        env.update(VARIANT="piccolo_pg", PG_DSN=dsn)
        subprocess.run([sys.executable, str(CEILING / "db.py"), "reset", "pg"], env=env, check=True, capture_output=True)
        workers = "2"
    else:
        env.update(VARIANT="piccolo_sqlite", SQLITE_PATH=str(Path(tempfile.mkdtemp()) / "ceiling.sqlite"))
        subprocess.run([sys.executable, str(CEILING / "db.py"), "reset", "sqlite"], env=env, check=True, capture_output=True)
        workers = "1"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(CEILING), "--workers", workers,
                               "--port", str(port), "--no-access-log", "--log-level", "warning"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/events", server)
        results = {"booking": measure(server.pid, url, "/events/1/bookings", "ceiling", f"ref{engine}", args)}
        if engine == "sqlite":  # the SQLite target also asks for no errors at c=64
            results["booking64"] = measure(server.pid, url, "/events/1/bookings", "ceiling", f"ref{engine}64",
                                           argparse.Namespace(seconds=args.seconds, connections=64))
        return {**results,
                "list": measure(server.pid, url, "/events", "get", "x", args)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def service_database(engine: str) -> str:
    if engine == "postgres":
        from tests.support import create_postgres_database

        url = create_postgres_database()
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite'}"
    run_cli(url, "migrate")
    run_cli(url, "seed", "--demo")
    return url


#: SQLite as the embedded default runs it: the in-process sender writing each email as an .eml file.
FILES = "sqlite-files"

#: The settings the wrk script books for ("Bench School 0" … "Bench School 499").
BENCH_SETTINGS = 500


def open_event(url: str) -> int:
    """The first demo event, made big enough for a whole run of bookings, and the settings the
    load books for put on the register, as a council's imported register holds its settings (a
    setting not on file is the rare, longer way, not the one measured)."""
    import asyncio
    import datetime as dt

    from app.db import bind_tables, make_engine
    from app.settings_register.services import name_key
    from app.tables.programme import Event
    from app.tables.register import Setting

    async def widen() -> int:
        bind_tables(make_engine(url))
        now = dt.datetime.now(dt.timezone.utc)
        await Setting.insert(*[Setting(name=f"Bench School {n}", name_key=name_key(f"Bench School {n}"),
                                       on_register=True, created_at=now) for n in range(BENCH_SETTINGS)])
        row = await Event.select(Event.id).where(Event.online == True).order_by(Event.starts_at).first()  # noqa: E712
        await Event.update({Event.capacity: 10_000_000, Event.booking_opens_at: None,
                            Event.booking_closes_at: None}).where(Event.id == row["id"])
        return row["id"]

    return asyncio.run(widen())


def capacity_holds(url: str) -> str:
    import asyncio

    from app.bookings.records import count_active_bookings
    from app.db import bind_tables, make_engine
    from app.tables.programme import Event

    async def check() -> str:
        bind_tables(make_engine(url))
        problems = []
        for event in await Event.select(Event.id, Event.capacity, Event.places_taken):
            rows = await count_active_bookings(event["id"])
            if event["places_taken"] > event["capacity"] or rows != event["places_taken"]:
                problems.append(f"event {event['id']}: {event['places_taken']} taken, {rows} rows, {event['capacity']} places")
        return "capacity held, counters equal rows" if not problems else "; ".join(problems)

    return asyncio.run(check())


def outbox_pending(url: str) -> int:
    import asyncio

    from app.db import bind_tables, make_engine
    from app.mail.outbox import count_by_status

    async def count() -> int:
        bind_tables(make_engine(url))
        counts = await count_by_status()
        return counts["pending"] + counts["sending"]

    return asyncio.run(count())


def service(engine: str, args: argparse.Namespace) -> dict[str, dict]:
    files = engine == FILES  # the embedded default as the README's first command runs it: no SMTP server
    url = service_database("sqlite" if files else engine)
    event_id = open_event(url)
    sink = SmtpSink().start()
    mail_dir = Path(tempfile.mkdtemp()) / "outbox"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "BASE_URL": f"http://127.0.0.1:{port}",
           "SECRET_KEY": "bench", "DB_POOL_SIZE": "10", "RATE_LIMITS": "off",
           **({"MAIL_DIR": str(mail_dir)} if files else sink.settings_env()),
           # As deployed: metrics on (one registry per worker) and the request log written.
           "METRICS": "on", "METRICS_TOKEN": METRICS_TOKEN, "LOG_FORMAT": "json",
           # BENCH_OBSERVABILITY=off: neither metrics nor the request log, to see what they cost.
           **({"METRICS": "off", "LOG_LEVEL": "WARNING"} if os.environ.get("BENCH_OBSERVABILITY") == "off" else {})}
    postgres = engine == "postgres"
    command = [sys.executable, "-m", "app", "serve", "--workers", "2" if postgres else "1"]  # sqlite(-files): one
    if postgres:
        command.append("--no-sender")
    log = tempfile.TemporaryFile("w+")  # not a pipe: the request log would fill it and stop the server
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict] = {}
    try:
        wait_until_up(base + "/api/events", server)
        results["booking"] = measure(server.pid, base, f"/api/events/{event_id}/bookings", "app", f"svc{engine}", args)
        if not postgres:
            results["booking64"] = measure(server.pid, base, f"/api/events/{event_id}/bookings", "app", f"svc{engine}64",
                                           argparse.Namespace(seconds=args.seconds, connections=64))
        results["list"] = measure(server.pid, base, "/api/events", "get", "x", args)
        results["programme"] = measure(server.pid, base, "/", "get", "x", args)
        queued = outbox_pending(url)
        started = time.monotonic()
        if postgres:  # the sender in its own process, as in production
            sender = subprocess.Popen([sys.executable, "-m", "app", "send-mail"], cwd=PROJECT_ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while outbox_pending(url) and time.monotonic() - started < 600:
            time.sleep(0.5)
        drained = time.monotonic() - started
        if postgres:
            sender.terminate()
            sender.wait(timeout=30)
        results["outbox"] = {"queued": queued, "drain_s": drained, "rate": queued / drained if drained else 0.0,
                             "delivered": len(list(mail_dir.glob("*.eml"))) if files else len(sink.messages)}
        results["check"] = {"capacity": capacity_holds(url)}
        results["readyz"] = httpx.get(base + "/readyz").text
        scrape = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text \
            if env["METRICS"] == "on" else ""
        results["metrics"] = [line for line in scrape.splitlines() if line.startswith(SCRAPED)]
    finally:
        server.terminate()
        server.wait(timeout=30)
        sink.stop()
    return results


METRICS_TOKEN = "bench-metrics-token-0123456789"
SCRAPED = ("bookings_total", "http_requests_total", "outbox_", "mail_delivery_attempts_total", "scheduled_job_runs_total",
           "http_request_duration_seconds_count")


def report(engine: str, ref: dict[str, dict], svc: dict[str, dict]) -> None:
    print(f"\n== {engine}: the service against the bare stack (same wrk load, one run)")
    print(f"{'':28}{'service':>12}{'reference':>12}{'ratio':>8}")

    def row(label: str, mine: float, theirs: float | None, unit: str = "") -> None:
        ratio = f"{mine / theirs:7.0%}" if theirs else "      -"
        print(f"{label:28}{mine:>11.1f}{unit}{(theirs if theirs is not None else float('nan')):>12.1f} {ratio}")

    b, rb = svc["booking"], ref["booking"]
    row("bookings/s", b["rps"], rb["rps"])
    row("booking p99 ms", b["p99_ms"], rb["p99_ms"])
    row("server CPU ms a booking", b["cpu_ms"], rb["cpu_ms"])
    print(f"{'booking errors':28}{b['non2xx'] + b['socket_errors']:>12}{rb['non2xx'] + rb['socket_errors']:>12}")
    if "booking64" in svc:
        b, rb = svc["booking64"], ref["booking64"]
        row("bookings/s at c=64", b["rps"], rb["rps"])
        row("booking p99 ms at c=64", b["p99_ms"], rb["p99_ms"])
        print(f"{'booking errors at c=64':28}{b['non2xx'] + b['socket_errors']:>12}{rb['non2xx'] + rb['socket_errors']:>12}")
    row("GET list /s", svc["list"]["rps"], ref["list"]["rps"])
    row("GET list CPU ms", svc["list"]["cpu_ms"], ref["list"]["cpu_ms"])
    row("programme page /s", svc["programme"]["rps"], ref["list"]["rps"])
    row("programme page CPU ms", svc["programme"]["cpu_ms"], None)
    o = svc["outbox"]
    print(f"outbox after the burst: {o['queued']} queued, drained in {o['drain_s']:.1f} s "
          f"({o['rate']:.0f} messages/s, {'one send-mail worker' if engine == 'postgres' else 'the in-process sender'}), "
          f"{o['delivered']} {'written as .eml files' if engine == FILES else 'delivered to the local SMTP server'}")
    print(f"check: {svc['check']['capacity']}")
    print(f"GET /readyz: {svc['readyz']}")
    print("GET /metrics (one worker's registry; the outbox and job lines are the database's):")
    for line in svc["metrics"]:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--engines", default=f"postgres,sqlite,{FILES}",
                        help=f"postgres, sqlite (email to an SMTP server) and {FILES} (SQLite writing .eml files)")
    parser.add_argument("--no-scale", action="store_true", help="skip the county-scale pages (tests/bench/county_scale.py)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench installs it)")
    if not LOAD.exists():
        raise SystemExit(f"the reference is missing: {CEILING}")
    for engine in args.engines.split(","):
        ref = reference("sqlite" if engine == FILES else engine, args)
        svc = service(engine, args)
        report(engine, ref, svc)
    if not args.no_scale:
        from tests.bench.county_scale import county_scale

        for engine in args.engines.split(","):
            if engine != FILES:
                county_scale(engine, repeats=3)


if __name__ == "__main__":
    main()
