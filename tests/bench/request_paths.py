"""The paths of two requests through the house, for issue 23's closing note: a public booking (the
JSON API) and an organiser marking attendance (the register's form). For each, on each engine:
the statements the database ran, the app's modules the request passed through (in the order first
entered), and the calls that went back up to a higher layer (a lower module calling a function
of a higher one: a callback). Run against any checkout with `--repo DIR` (its own `app`, this
script's counting), so a commit from before a change can be measured beside today's.

    .venv/bin/python -m tests.bench.request_paths [--repo DIR] [--engines sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sqlite3
import sys
import tempfile
import tomllib
from pathlib import Path

COUNTS = {"statements": 0}
PASSWORD = "correct horse battery staple"


def _count_sqlite() -> None:
    """Every SQLite connection made from here on reports each statement it runs."""
    connect = sqlite3.connect

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: COUNTS.__setitem__("statements", COUNTS["statements"] + 1))
        return conn

    sqlite3.connect = counting  # type: ignore[assignment]


def _count_postgres() -> None:
    """Every round trip asyncpg makes for a statement (BEGIN and COMMIT included)."""
    import asyncpg.connection

    cls = asyncpg.connection.Connection
    for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
        original = getattr(cls, name)

        def wrapped(self, *args, __original=original, **kwargs):  # type: ignore[no-untyped-def]
            COUNTS["statements"] += 1
            return __original(self, *args, **kwargs)

        setattr(cls, name, wrapped)


def _layers(repo: Path) -> list[list[str]]:
    with (repo / "pyproject.toml").open("rb") as f:
        contract = tomllib.load(f)["tool"]["importlinter"]["contracts"][0]
    return [[part.strip() for part in layer.split("|")] for layer in contract["layers"]]


class Path_:
    """The app modules a request enters, and the calls back up a layer, from a profile hook."""

    def __init__(self, layers: list[list[str]]) -> None:
        self.layers = layers
        self.entered: list[str] = []
        self.up: list[str] = []

    def layer(self, module: str) -> int | None:
        for n, names in enumerate(self.layers):
            if any(module == name or module.startswith(name + ".") for name in names):
                return n
        return None

    def __call__(self, frame, event, arg):  # type: ignore[no-untyped-def]
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("app"):
            return
        if module not in self.entered:
            self.entered.append(module)
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        if caller.startswith("app") and caller != module:
            mine, theirs = self.layer(module), self.layer(caller)
            if mine is not None and theirs is not None and mine < theirs:  # a lower layer calling up
                self.up.append(f"{caller} -> {module}.{frame.f_code.co_name}")


def _database(engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp()) / 'paths.sqlite'}"
    import asyncpg

    async def make() -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        await conn.execute("DROP DATABASE IF EXISTS request_paths WITH (FORCE)")
        await conn.execute("CREATE DATABASE request_paths")
        await conn.close()

    asyncio.run(make())
    return "postgresql://postgres@127.0.0.1:5432/request_paths"


def measure(repo: Path, engine: str) -> dict[str, dict]:
    import subprocess

    url = _database(engine)
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)}
    for command in (["migrate"], ["seed", "--demo"],
                    ["organiser", "create", "--email", "paths@essex.gov.uk", "--name", "Paths", "--password-stdin"]):
        done = subprocess.run([sys.executable, "-m", "app", *command], cwd=repo, env=env, capture_output=True, text=True,
                              input=PASSWORD + "\n")
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)}: {done.stdout}{done.stderr}")
    sys.path.insert(0, str(repo))
    _count_sqlite() if engine == "sqlite" else _count_postgres()
    return asyncio.run(_requests(repo, url))


async def _requests(repo: Path, url: str) -> dict[str, dict]:
    import httpx
    from asgi_lifespan import LifespanManager

    from app.config import Config
    from app.main import create_app

    config = Config(database_url=url, base_url="http://testserver", secret_key="paths", db_pool_size=0,
                    mail_sender_in_process=False, rate_limits=False)
    app = create_app(config)
    out: dict[str, dict] = {}
    async with LifespanManager(app):  # the raw app below, as tests.support.app_client: the wrapper shares one state dict between requests
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver") as client:
            events = (await client.get("/api/events")).json()
            event = next(e for e in events if e["bookable"])
            body = {"name": "Jo Barclay", "email": "jo.barclay@oak.example.org", "role": "dsl",
                    "setting": {"name": "Oak Primary", "urn": None}}
            await client.post(f"/api/events/{event['id']}/bookings", json={**body, "email": "warm@oak.example.org"})
            out["public booking"] = await _traced(repo, lambda: client.post(f"/api/events/{event['id']}/bookings", json=body))
            # Attendance: the event moved to have started, the organiser signs in, the mark is posted.
            from app.tables.programme import Event

            now = dt.datetime.now(dt.timezone.utc)
            await Event.update({Event.starts_at: now - dt.timedelta(minutes=30),
                                Event.ends_at: now + dt.timedelta(hours=1)}).where(Event.id == event["id"])
            page = await client.get("/organisers/sign-in")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            await client.post("/organisers/sign-in", data={"email": "paths@essex.gov.uk", "next": "/organisers",
                                                           "password": PASSWORD, "_csrf_token": token})
            register = await client.get(f"/organisers/events/{event['id']}/attendance")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', register.text).group(1)
            bookings = re.findall(rf"/organisers/events/{event['id']}/attendance/(\d+)", register.text)
            booking_id = bookings[-1]
            out["marking attendance"] = await _traced(repo, lambda: client.post(
                f"/organisers/events/{event['id']}/attendance/{booking_id}",
                data={"outcome": "attended", "_csrf_token": token}))
    return out


async def _traced(repo: Path, request) -> dict:  # type: ignore[no-untyped-def]
    path = Path_(_layers(repo))
    COUNTS["statements"] = 0
    sys.setprofile(path)
    try:
        answer = await request()
    finally:
        sys.setprofile(None)
    return {"status": answer.status_code, "statements": COUNTS["statements"], "modules": path.entered,
            "up": sorted(set(path.up))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    engines = args.engines.split(",")
    if len(engines) > 1:  # each engine in a process of its own: the counting hooks are per process
        import subprocess

        for engine in engines:
            subprocess.run([sys.executable, __file__, "--repo", str(repo), "--engines", engine], check=True)
        return
    for name, seen in measure(repo, engines[0]).items():
        modules = [m for m in seen["modules"] if not m.endswith("__init__")]
        print(f"== {repo.name} {engines[0]}: {name}: HTTP {seen['status']}, {seen['statements']} statements, "
              f"{len(modules)} app modules, {len(seen['up'])} calls back up a layer")
        print("   modules: " + " > ".join(m.removeprefix("app.") for m in modules))
        for call in seen["up"]:
            print(f"   up: {call}")


if __name__ == "__main__":
    main()
