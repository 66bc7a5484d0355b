"""Command line: `python -m app migrate | seed [--demo] | serve [--workers N] | status`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys

from app.config import get_settings


def _engine():  # type: ignore[no-untyped-def]
    from app.db import bind_tables, make_engine

    engine = make_engine(get_settings().database_url)
    bind_tables(engine)
    return engine


def migrate() -> int:
    """Apply pending migrations with Piccolo's own migration command."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    _engine()
    result = asyncio.run(run_forwards("all"))
    if not result.success:
        print(f"Migrations failed: {result.message}", file=sys.stderr)
        return 1
    return 0


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
        await ensure_migrated(engine)
        report = await seed_programme(demo=demo, now=dt.datetime.now(dt.timezone.utc))
        return report.lines()

    try:
        lines = asyncio.run(run())
    except DatabaseNotReady as exc:
        print(exc, file=sys.stderr)
        return 1
    print(("Demo programme" if demo else "2023/24 programme") + " loaded:")
    for line in lines:
        print(f"  {line}")
    return 0


def serve(workers: int) -> int:
    import uvicorn

    from app.db import DatabaseNotReady, ensure_migrated

    settings = get_settings()
    try:
        asyncio.run(ensure_migrated(_engine()))
    except DatabaseNotReady as exc:
        print(f"Not starting: {exc}", file=sys.stderr)
        return 1
    if workers > 1 and not settings.is_postgres:
        print("Several workers need PostgreSQL (SQLite is for one process); starting one.", file=sys.stderr)
        workers = 1
    print(f"Serving on {settings.base_url}  (database: {settings.database_url.split('@')[-1]})")
    uvicorn.run("app.main:create_app_from_env", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level="warning", access_log=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("piccolo").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("status", help="say whether migrations are pending")
    seed_parser = sub.add_parser("seed", help="load the 2023/24 programme from seeds/ (idempotent)")
    seed_parser.add_argument("--demo", action="store_true",
                             help="load it moved forward by whole weeks so every event is in the future")
    serve_parser = sub.add_parser("serve", help="run the web app")
    serve_parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return migrate()
    if args.command == "status":
        return status()
    if args.command == "seed":
        return seed(args.demo)
    return serve(args.workers)
