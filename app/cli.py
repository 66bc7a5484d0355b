"""Command line: `python -m app migrate | status | seed | serve | send-mail | outbox | event | venue`.

Each command imports what it needs when it runs (the top floor may import any other): a command
starts in a fraction of the time it would take to import the whole service first."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from app.areas import use_council
from app.config import UnsafeConfig, get_config
from app.logs import configure as configure_logging
from app.tables.mail import MessageStatus


def _engine():  # type: ignore[no-untyped-def]
    from app.db import bind_tables, make_engine

    engine = make_engine(get_config().database_url)
    bind_tables(engine)
    return engine


def migrate() -> int:
    """Apply pending migrations with Piccolo's own migration command."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from app.db import refresh_statistics

    engine = _engine()
    try:
        result = asyncio.run(run_forwards("all"))
    except Exception as exc:  # noqa: BLE001 - an operator needs the reason, not a traceback
        print(f"Migrations failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if not result.success:
        print(f"Migrations failed: {result.message}", file=sys.stderr)
        return 1
    asyncio.run(refresh_statistics(engine))
    return _first_clocks()


def _first_clocks() -> int:
    """Data from before the leads' clocks (the first migrate after upgrading): every clock worked
    out once, so the dates show at once."""
    from app.clocks.dates import refresh_every_clock
    from app.tables.register import Person
    from app.tables.training import LeadClock

    async def go() -> int:
        if await LeadClock.count() == 0 and await Person.count() > 0:
            count = await refresh_every_clock(now=_now(), config=get_config())
            print(f"Safeguarding dates worked out for {count} people")
        return 0

    return _run(go)


def status() -> int:
    from app.db import DatabaseNotReady, pending_migrations

    engine = _engine()
    try:
        pending = asyncio.run(pending_migrations(engine))
    except DatabaseNotReady as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{len(pending)} migration(s) pending" + (f": {', '.join(pending)}" if pending else ""))
    return 1 if pending else 0


def seed(demo: bool) -> int:
    from app.db import DatabaseNotReady, ensure_migrated
    from app.programme.seeding import seed_programme

    engine = _engine()

    async def run() -> list[str]:
        from app.programme.dated_notices import seed_notices
        from app.questionnaire.seeding import seed_questionnaire

        await ensure_migrated(engine)
        report = await seed_programme(demo=demo, now=dt.datetime.now(dt.timezone.utc))
        # The demo's questionnaire and dated notices move with its events, as one: every date the
        # demo moves moves by the same whole weeks.
        shift = dt.timedelta(weeks=report.shift_weeks) if demo else dt.timedelta(0)
        q = await seed_questionnaire(shift=shift)
        added, unchanged = await seed_notices(demo=demo, shift=shift)
        return report.lines() + [f"questionnaire {q.academic_year} version {q.number}: {q.outcome} "
                                 f"({q.questions} questions)", f"dated notices: {added} added, {unchanged} unchanged"]

    try:
        lines = asyncio.run(run())
    except DatabaseNotReady as exc:
        print(exc, file=sys.stderr)
        return 1
    print(("Demo programme" if demo else "2023/24 programme") + " loaded:")
    for line in lines:
        print(f"  {line}")
    return 0


def serve(workers: int, no_sender: bool = False) -> int:
    import uvicorn

    from app.db import DatabaseNotReady, ensure_migrated

    if no_sender:
        # The web processes leave email (and the timed jobs) to `python -m app send-mail` workers.
        os.environ["MAIL_SENDER_IN_PROCESS"] = "false"
        get_config.cache_clear()
    config = get_config()
    try:
        asyncio.run(ensure_migrated(_engine()))
    except DatabaseNotReady as exc:
        print(f"Not starting: {exc}", file=sys.stderr)
        return 1
    if workers > 1 and not config.is_postgres:
        print("Several workers need PostgreSQL (SQLite is for one process); starting one.", file=sys.stderr)
        workers = 1
    print(f"Serving on {config.base_url}  (database: {config.database_url.split('@')[-1]})")
    uvicorn.run("app.main:create_app_from_env", factory=True, host=config.host, port=config.port,
                workers=workers, log_level="warning", access_log=False, log_config=None)
    return 0


def _run(coro_factory):  # type: ignore[no-untyped-def]
    """Run a coroutine against the configured, migrated database."""
    from app.db import DatabaseNotReady, ensure_migrated, pooled

    engine = _engine()

    async def run():  # type: ignore[no-untyped-def]
        await ensure_migrated(engine)
        async with pooled(engine, get_config().db_pool_size):
            return await coro_factory()

    try:
        return asyncio.run(run())
    except DatabaseNotReady as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def send_mail(once: bool) -> int:
    from app.jobs import deliver_due, run_sender, run_timed_jobs
    from app.mail.sender import transport_for

    config = get_config()

    async def go() -> None:
        if once:
            jobs = await run_timed_jobs(config=config, now=_now())
            report = await deliver_due(transport_for(config), config=config, now=_now)
            print(f"offers lapsed: {jobs.offers_lapsed}; reminders queued: {jobs.reminders_queued}; "
                  f"sent: {report.sent}, to retry: {report.retrying}, failed: {report.failed}")
            for error in report.errors[:5]:
                print(f"  {error}")
            return
        stop = asyncio.Event()
        # A service manager stops a worker with SIGTERM: the batch in hand is sent and recorded
        # before the worker leaves, so a stop never strands claims (which would go again, twice,
        # once their lease ran out).
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"Sending email via {config.smtp_host or config.mail_dir} (Ctrl+C to stop)")
        await run_sender(config, now=_now, stop=stop)
        print("Sender stopped: every batch it claimed is recorded")

    try:
        _run(go)
    except KeyboardInterrupt:
        pass
    return 0


def outbox(status: str | None, retry_failed: bool) -> int:
    from app.mail.outbox import count_by_status, list_messages
    from app.mail.outbox import retry_failed as retry

    async def go() -> None:
        if retry_failed:
            print(f"{await retry(_now())} failed message(s) queued again")
        counts = await count_by_status()
        print(", ".join(f"{name}: {n}" for name, n in counts.items()))
        for m in await list_messages(status):
            sent = f"sent {m['sent_at']:%Y-%m-%d %H:%M}" if m["sent_at"] else f"attempts {m['attempts']}"
            error = f"  last error: {m['last_error']}" if m["last_error"] else ""
            print(f"#{m['id']:<6} {m['status']:8} {m['kind']:13} {m['recipient']:35} {sent}{error}")

    _run(go)
    return 0


def event_command(args: argparse.Namespace) -> int:
    from app.areas import LONDON
    from app.formats import long_date, time_range
    from app.event_changes.events import (
        EventChange,
        EventChangeRefused,
        cancel_event,
        change_event,
    )
    from app.programme.services import EventFilters, EventNotFound, list_events

    config = get_config()

    def moment(text: str | None) -> dt.datetime | None:
        if not text:
            return None
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)

    async def go() -> int:
        if args.action == "list":
            for e in await list_events(EventFilters(), _now()):
                print(f"#{e.id:<4} {e.title:45} {long_date(e.starts_at):28} {time_range(e.starts_at, e.ends_at):17} "
                      f"{e.status:9} {e.availability.places_left}/{e.availability.capacity} left")
            return 0
        try:
            if args.action == "change":
                starts = moment(args.starts)
                if starts is not None and starts < _now() and not args.allow_past:
                    from app.tables.bookings import ACTIVE_STATUSES, Booking

                    told = await Booking.count().where((Booking.event == args.id) & Booking.status.is_in(
                        [s.value for s in ACTIVE_STATUSES]))
                    print(f"Not changed: {long_date(starts)} {starts:%H:%M} is in the past; {told} booker(s) would be "
                          f"emailed about it. Add --allow-past to move it there on purpose.", file=sys.stderr)
                    return 1
                changes = await change_event(args.id, EventChange(
                    starts_at=moment(args.starts), ends_at=moment(args.ends), venue_id=args.venue,
                    join_url=args.join_url), actor="cli", now=_now(), config=config)
                print("\n".join(changes) if changes else "Nothing changed.")
            else:
                told = await cancel_event(args.id, reason=args.reason, actor="cli", now=_now(), config=config)
                print(f"Event cancelled; {told} booker(s) will be told.")
        except EventNotFound:
            print(f"No event with id {args.id}", file=sys.stderr)
            return 1
        except EventChangeRefused as exc:
            print(f"Not changed: {exc}", file=sys.stderr)
            return 1
        return 0

    return _run(go)


def venue_command(args: argparse.Namespace) -> int:
    """List venues, or add one through the same rule as the organisers' page (audited, "cli")."""
    from app.event_changes.manage import list_venues, save_venue

    async def go() -> int:
        if args.action == "add":
            fields = {"name": args.name.strip(), "address": args.address.strip(), "postcode": args.postcode.strip()}
            missing = [name for name, value in fields.items() if not value]
            if missing:
                print(f"Not added: give the venue's {' and '.join(missing)}", file=sys.stderr)
                return 1
            venue_id = await save_venue(None, **fields, actor="cli", now=_now(), config=get_config())
            print(f"Venue #{venue_id} added")
        for v in await list_venues():
            print(f"#{v['id']:<4} {v['name']}, {v['address']}, {v['postcode']}")
        return 0

    return _run(go)


def organiser_command(args: argparse.Namespace) -> int:
    """Organiser accounts from the command line: create (the first one, an administrator, is made
    this way), list, deactivate, reactivate, role, set-password. Every change is audited ("cli")."""
    import getpass

    from app.errors import DomainError
    from app.organisers.services import (
        OrganiserExists,
        create_organiser,
        deactivate_organiser,
        list_organisers,
        reactivate_organiser,
        set_password,
        set_role,
        use_password_profile,
    )
    from app.tables.organisers import OrganiserRole

    password = ""
    if args.action in ("create", "set-password"):
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    use_password_profile(get_config().password_profile)

    async def go() -> int:
        try:
            if args.action == "create":
                made = await create_organiser(email=args.email, name=args.name, password=password, now=_now(),
                                              role=OrganiserRole(args.role))
                print(f"Organiser {made.name} <{made.email}> ({made.role}) created: sign in at "
                      f"{get_config().base_url}/organisers")
            elif args.action == "list":
                for row in await list_organisers():
                    state = "active" if row["active"] else "deactivated"
                    print(f"{row['email']:<40} {row['name']:<30} {row['role']:<14} {state}")
            elif args.action == "deactivate":
                await deactivate_organiser(args.email, by=None)
                print(f"{args.email} deactivated: it cannot sign in, and its sessions have ended")
            elif args.action == "reactivate":
                await reactivate_organiser(args.email, by=None)
                print(f"{args.email} reactivated")
            elif args.action == "role":
                await set_role(args.email, OrganiserRole(args.role), by=None)
                print(f"{args.email} is now an {args.role}")
            elif args.action == "set-password":
                await set_password(args.email, password)
                print(f"Password set for {args.email}; its sessions have ended")
        except OrganiserExists:
            print(f"Not created: there is already an organiser with the email {args.email}", file=sys.stderr)
            return 1
        except DomainError as exc:
            print(f"Not done: {exc.message}", file=sys.stderr)
            return 1
        return 0

    return _run(go)


def purge_command(args: argparse.Namespace) -> int:
    from app.retention.services import MAIL_AFTER, PEOPLE_AFTER, purge

    async def go() -> int:
        report = await purge(now=_now(), dry_run=args.dry_run, mail_dir=get_config().mail_dir,
                             people_after=dt.timedelta(days=args.people_after_days) if args.people_after_days else PEOPLE_AFTER,
                             mail_after=dt.timedelta(days=args.mail_after_days) if args.mail_after_days else MAIL_AFTER)
        print(("Would remove (dry run):" if args.dry_run else "Removed:"))
        for line in report.lines():
            print(f"  {line}")
        return 0

    return _run(go)


def person_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.retention.people import (
        PersonNotFound,
        as_csv,
        as_json,
        erase_person,
        export_person,
    )

    async def go() -> int:
        try:
            if args.action == "export":
                held = await export_person(args.email, actor="cli")
                out = Path(args.out)
                out.mkdir(parents=True, exist_ok=True)
                name = f"person-{held['person'][0]['id']}"
                (out / f"{name}.json").write_text(as_json(held), encoding="utf-8")
                (out / f"{name}.csv").write_text(as_csv(held), encoding="utf-8")
                counts = ", ".join(f"{section}: {len(rows)}" for section, rows in held.items())
                print(f"Wrote {out / name}.json and .csv ({counts})")
                return 0
            if not args.yes:
                print("Erasing cannot be undone: run again with --yes", file=sys.stderr)
                return 2
            done = await erase_person(args.email, actor="cli", now=_now(), config=get_config())
            print(f"Erased person #{done.person_id}: {done.bookings_cancelled} booking(s) for events to come cancelled, "
                  f"{done.bookings_kept_anonymous} kept without their name (attendance stays as evidence), "
                  f"{done.emails_removed} email(s) removed, {done.responses_removed} questionnaire address(es) and "
                  f"{done.declarations_removed} training declaration(s) removed")
            return 0
        except PersonNotFound as exc:
            print(exc.message, file=sys.stderr)
            return 1

    return _run(go)


def jobs_command() -> int:
    from app.jobs import job_runs

    async def go() -> int:
        runs = await job_runs()
        if not runs:
            print("No scheduled job has run yet")
        for run in runs:
            started = run["last_started_at"].isoformat(timespec="seconds") if run["last_started_at"] else "never"
            print(f"{run['name']:<22} last started {started}: {run['last_result'] or '-'}")
        return 0

    return _run(go)


def settings_import(path: str) -> int:
    from pathlib import Path

    from app.settings_register.importer import UnreadableFile, import_settings

    async def go() -> int:
        try:
            report = await import_settings(Path(path).read_bytes())
        except (OSError, UnreadableFile) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"Cannot import {path}: {reason}", file=sys.stderr)
            return 1
        print("\n".join(report.lines()))
        return 0

    return _run(go)


def generate_scale(args: argparse.Namespace) -> int:
    import time

    from app.db import refresh_statistics

    try:  # benchmark data: made by the tests' own module, never shipped as part of the app
        from tests.scale_data import generate
    except ModuleNotFoundError:
        print("generate-scale makes benchmark data from a checkout of the project (tests/scale_data.py "
              "is not here)", file=sys.stderr)
        return 1

    async def go() -> int:
        started = time.perf_counter()
        report = await generate(settings=args.settings, people=args.people, bookings=args.bookings, now=_now())
        await refresh_statistics()
        print(f"Generated {report.settings} settings, {report.people} people, {report.events} events, "
              f"{report.bookings} bookings, {report.attendance} attendance marks, {report.responses} questionnaire responses in {time.perf_counter() - started:.1f} s")
        return 0

    return _run(go)


def refresh_clocks_command() -> int:
    from app.clocks.dates import refresh_every_clock

    async def go() -> int:
        count = await refresh_every_clock(now=_now(), config=get_config())
        print(f"Safeguarding dates worked out again for {count} people")
        return 0

    return _run(go)


def check_command() -> int:
    """Every setting as it is in force (secrets hidden), then whether the database is ready."""
    from app.config import effective

    config = get_config()
    width = max(len(name) for name, _ in effective(config))
    for name, shown in effective(config):
        print(f"{name.ljust(width)}  {shown}")

    async def ready() -> str:
        from app.db import DatabaseNotReady, ensure_migrated

        try:
            await ensure_migrated(_engine())
        except DatabaseNotReady as exc:
            return f"database: not ready: {exc}"
        return "database: reachable, every migration applied"

    line = asyncio.run(ready())
    print(line)
    return 0 if line.endswith("applied") else 1


def backup_command(path: str) -> int:
    from app.backup import BackupFailed, backup

    try:
        size = backup(get_config().database_url, Path(path))
    except BackupFailed as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up to {path} ({size:,} bytes)")
    return 0


def restore_command(path: str) -> int:
    from app.backup import BackupFailed, restore

    try:
        restore(get_config().database_url, Path(path))
    except BackupFailed as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"Restored from {path}. Run `python -m app migrate` if the backup is older than this code.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="print the configuration in force (secrets hidden) and whether the database is ready")
    backup_parser = sub.add_parser("backup", help="write a consistent backup of the database to PATH, while serving")
    backup_parser.add_argument("path")
    restore_parser = sub.add_parser("restore", help="replace the database's contents with the backup at PATH")
    restore_parser.add_argument("path")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("status", help="say whether migrations are pending")
    seed_parser = sub.add_parser("seed", help="load the 2023/24 programme from seeds/ (idempotent)")
    seed_parser.add_argument("--demo", action="store_true",
                             help="load it moved forward by whole weeks so every event is in the future")
    serve_parser = sub.add_parser("serve", help="run the web app")
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.add_argument("--no-sender", action="store_true",
                              help="send no email from these processes: run `send-mail` workers instead")
    mail_parser = sub.add_parser("send-mail", help="deliver the outbox (and queue due reminders)")
    mail_parser.add_argument("--once", action="store_true", help="one pass, then exit")
    outbox_parser = sub.add_parser("outbox", help="list the outbox; retry failed messages")
    outbox_parser.add_argument("--status", choices=[s.value for s in MessageStatus])
    outbox_parser.add_argument("--retry-failed", action="store_true")
    event_parser = sub.add_parser("event", help="list, change or cancel events")
    event_sub = event_parser.add_subparsers(dest="action", required=True)
    event_sub.add_parser("list")
    change = event_sub.add_parser("change", help="bookers get an updated invite and an email")
    change.add_argument("id", type=int)
    change.add_argument("--starts", help='London time, "YYYY-MM-DD HH:MM"')
    change.add_argument("--ends", help='London time, "YYYY-MM-DD HH:MM"')
    change.add_argument("--venue", type=int, help="venue id (see: venue list)")
    change.add_argument("--join-url", help="Teams join link (online events)")
    change.add_argument("--allow-past", action="store_true",
                        help="move the event to a time already past (refused otherwise: every booker is emailed)")
    cancel = event_sub.add_parser("cancel", help="bookers get a cancellation")
    cancel.add_argument("id", type=int)
    cancel.add_argument("--reason", default="")
    venue_parser = sub.add_parser("venue", help="list or add venues")
    venue_sub = venue_parser.add_subparsers(dest="action", required=True)
    venue_sub.add_parser("list")
    add = venue_sub.add_parser("add")
    add.add_argument("--name", required=True)
    add.add_argument("--address", required=True)
    add.add_argument("--postcode", required=True)
    organiser_parser = sub.add_parser("organiser", help="organiser accounts: create, list, deactivate, role, …")
    organiser_sub = organiser_parser.add_subparsers(dest="action", required=True)
    create = organiser_sub.add_parser("create")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["administrator", "organiser"], default="administrator")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    organiser_sub.add_parser("list")
    for action in ("deactivate", "reactivate"):
        organiser_sub.add_parser(action).add_argument("email")
    role = organiser_sub.add_parser("role")
    role.add_argument("email")
    role.add_argument("role", choices=["administrator", "organiser"])
    set_pw = organiser_sub.add_parser("set-password", help="a new password (every session of the account ends)")
    set_pw.add_argument("email")
    set_pw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    purge_parser = sub.add_parser("purge", help="remove personal data past its retention period")
    purge_parser.add_argument("--dry-run", action="store_true")
    purge_parser.add_argument("--people-after-days", type=int, help="default 2190 (six years after their last event)")
    purge_parser.add_argument("--mail-after-days", type=int, help="default 90")
    person_parser = sub.add_parser("person", help="one person's data: export it, or erase it (UK GDPR requests)")
    person_sub = person_parser.add_subparsers(dest="action", required=True)
    export_parser = person_sub.add_parser("export", help="write everything held about EMAIL as JSON and CSV")
    export_parser.add_argument("email")
    export_parser.add_argument("--out", default=".", help="folder for person-<id>.json and .csv")
    erase_parser = person_sub.add_parser("erase", help="erase EMAIL, keeping attendance as anonymous facts")
    erase_parser.add_argument("email")
    erase_parser.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")
    sub.add_parser("jobs", help="when each scheduled job last ran, and what it did")
    sub.add_parser("refresh-clocks", help="work out every lead's safeguarding dates again (after PREVENT_RENEW_YEARS changes)")
    import_parser = sub.add_parser("import-settings", help="import settings from a GIAS extract or early-years CSV")
    import_parser.add_argument("path")
    scale_parser = sub.add_parser("generate-scale", help="fictional data at county scale, for benchmarks (never live)")
    scale_parser.add_argument("--settings", type=int, default=2500)
    scale_parser.add_argument("--people", type=int, default=10000)
    scale_parser.add_argument("--bookings", type=int, default=100000)
    args = parser.parse_args(argv)
    try:
        config = get_config()  # every setting checked before any command runs
    except UnsafeConfig as exc:
        for line in str(exc).splitlines():  # one line for each bad setting
            print(f"Configuration error: {line}", file=sys.stderr)
        return 2
    configure_logging(config.log_format, config.log_level)
    use_council(config.council_areas)
    if args.command == "check":
        return check_command()
    if args.command == "backup":
        return backup_command(args.path)
    if args.command == "restore":
        return restore_command(args.path)
    if args.command == "generate-scale":
        return generate_scale(args)
    if args.command == "import-settings":
        return settings_import(args.path)
    if args.command == "purge":
        return purge_command(args)
    if args.command == "person":
        return person_command(args)
    if args.command == "jobs":
        return jobs_command()
    if args.command == "refresh-clocks":
        return refresh_clocks_command()
    if args.command == "organiser":
        return organiser_command(args)
    if args.command == "send-mail":
        return send_mail(args.once)
    if args.command == "outbox":
        return outbox(args.status, args.retry_failed)
    if args.command == "event":
        return event_command(args)
    if args.command == "venue":
        return venue_command(args)
    if args.command == "migrate":
        return migrate()
    if args.command == "status":
        return status()
    if args.command == "seed":
        return seed(args.demo)
    return serve(args.workers, args.no_sender)
