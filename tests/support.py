"""Shared test helpers: test databases on both engines, factories, a free port, a server."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from app.config import PROJECT_ROOT

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _delete_order() -> tuple[list[str], list[tuple[str, str]]]:
    """Tables in an order that deletes referencing rows before the rows they reference, derived
    from the tables' foreign keys (so a new table needs no edit here), and the self-references
    to clear first."""
    from piccolo.columns import ForeignKey
    from piccolo.table import sort_table_classes

    from app.piccolo_app import APP_CONFIG

    tables = sort_table_classes(list(APP_CONFIG.table_classes))
    self_refs = [(table._meta.tablename, column._meta.db_column_name) for table in tables
                 for column in table._meta.columns
                 if isinstance(column, ForeignKey) and column._foreign_key_meta.resolved_references is table]
    return [table._meta.tablename for table in reversed(tables)], self_refs


TABLES_IN_DELETE_ORDER, SELF_REFERENCES = _delete_order()


def postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}"


def redis_reachable() -> str | None:
    """None if the Redis at 127.0.0.1:6379 answers, else why not."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            if not conn.recv(16).startswith(b"+PONG"):
                return "127.0.0.1:6379 did not answer PING"
    except OSError as exc:
        return f"127.0.0.1:6379: {exc}"
    return None


def create_postgres_database(template: str | None = None) -> str:
    """A new, empty PostgreSQL database (or a copy of `template`, a database nobody is connected to)."""
    import asyncpg

    name = f"sgb_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        for _ in range(50):  # the template's last session may still be closing (a migrate just ended)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
                break
            except asyncpg.ObjectInUseError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"template database {template} stayed in use")
        await conn.close()

    asyncio.run(create())
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(drop())


def run_cli(database_url: str, *args: str, check: bool = True, env: dict[str, str] | None = None,
            input: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m app …` as an operator would, against the given database: a process of its
    own (forked from one with the service imported, `tests.processes`)."""
    return run_app(list(args), {**os.environ, "DATABASE_URL": database_url, **(env or {})}, check=check,
                   input=input, timeout=timeout)


def run_app(args: list[str], env: dict[str, str], *, check: bool = True, input: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` with exactly the environment `env`."""
    from tests.processes import AppProcess

    process = AppProcess(args, env, cwd=PROJECT_ROOT, stdin=input)
    try:
        try:
            code = process.wait(timeout)
        except TimeoutError:
            process.kill()
            raise
        out, err = process.output()
    finally:
        process.remove_files()
    result = subprocess.CompletedProcess(["python", "-m", "app", *args], code, out, err)
    if check and result.returncode != 0:
        raise AssertionError(f"python -m app {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


#: A database migrated by `python -m app migrate` once per engine and test process, copied for
#: every fresh database after the first (running every migration again is slow on SQLite; the
#: tests of migrating itself run `migrate` on their own databases).
_MIGRATED: dict[str, str] = {}


def new_database(engine_name: str, tmp_dir: Path) -> str:
    """A fresh, migrated database of the given kind; returns its URL."""
    if engine_name not in _MIGRATED:
        if engine_name == "sqlite":
            template = f"sqlite:///{Path(tempfile.mkdtemp(prefix='sgb-migrated-')) / 'migrated.sqlite'}"
        else:
            template = create_postgres_database()
        run_cli(template, "migrate")
        _MIGRATED[engine_name] = template
    template = _MIGRATED[engine_name]
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.sqlite'}"
        with sqlite3.connect(template.removeprefix("sqlite:///")) as source, \
                sqlite3.connect(url.removeprefix("sqlite:///")) as copy:
            source.backup(copy)
        return url
    return create_postgres_database(template=template.rsplit("/", 1)[1])


def drop_migrated_templates() -> None:
    """At the end of the run: the PostgreSQL templates (a SQLite one is a temporary file)."""
    for engine_name, url in list(_MIGRATED.items()):
        if engine_name == "postgres":
            drop_postgres_database(url)
        _MIGRATED.pop(engine_name)


async def empty_database(url: str, pool: Any = None) -> None:
    """Delete every row, keeping the schema, and start ids at 1 again: a clean slate for the next
    test. One round trip; on PostgreSQL DELETE and setval take a tenth of the time of TRUNCATE on
    tables this small (measured: 77 ms against 530 ms), through the test's pool when it has one
    (a connection of its own cost a connect every test). On SQLite one script on a plain
    connection: aiosqlite's thread cost more than the deletes."""
    clear = [f'UPDATE "{table}" SET "{column}" = NULL' for table, column in SELF_REFERENCES]
    delete = [f'DELETE FROM "{table}"' for table in TABLES_IN_DELETE_ORDER]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            conn.executescript(";".join(["BEGIN", *clear, *delete, "COMMIT"]))
        finally:
            conn.close()
        return
    restart = [f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), 1, false)"
               for table in TABLES_IN_DELETE_ORDER]
    script = ";".join(clear + delete + restart)
    if pool is not None:
        async with pool.acquire() as conn:
            await conn.execute(script)
        return
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(script)
    finally:
        await conn.close()


@asynccontextmanager
async def app_client(app: Any, base_url: str = "http://testserver.local") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `app`, run on the test's own event loop with its lifespan (startup and
    shutdown, as a server runs them). Litestar's AsyncTestClient runs the app on another thread's
    loop and blocks the test's loop for each request: every query then paid a thread hop both ways,
    and the test's pooled connections could not be shared with the app."""
    from asgi_lifespan import LifespanManager

    from app.db import bind_tables, current_engine

    engine = current_engine()
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        bind_tables(engine)  # the app binds its own engine when made: the test's (pooled) one stays
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("testclient", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url, follow_redirects=True) as client:
            client.app = app  # type: ignore[attr-defined]  # as Litestar's test client has it
            yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: A load test's server: the abuse limits lifted (`RATE_LIMITS=off`), as for benchmarks. Servers
#: shared by many tests take it too, or one test's requests would count against the next's;
#: tests/web/test_abuse_limits.py tests the limits themselves.
LOAD_TEST = {"RATE_LIMITS": "off"}


def _accepts_connections(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RunningServer:
    """`python -m app serve` in a process of its own, as deployed (forked from one with the service
    imported, `tests.processes`); stopped on exit."""

    def __init__(self, database_url: str, workers: int = 1, extra_env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(self.port),
                    "HOST": "127.0.0.1", "BASE_URL": self.base_url,
                    "SECRET_KEY": "test-secret-shared-by-all-workers", "DB_POOL_SIZE": "20",
                    "MAIL_DIR": tempfile.mkdtemp(prefix="sgb-mail-"), **(extra_env or {})}
        self.workers = workers
        self.extra_args = extra_args
        self.process: Any = None

    def log(self) -> str:
        """What the server printed (its log goes to a file, not a pipe nobody reads: a request log
        fills a pipe and stops the server)."""
        return self.process.output()[0] if self.process else ""

    def __enter__(self) -> "RunningServer":
        from tests.processes import AppProcess

        self.process = AppProcess(["serve", "--workers", str(self.workers), *self.extra_args], self.env,
                                  cwd=PROJECT_ROOT, merge_output=True)
        deadline = time.monotonic() + 60
        # One client for the whole wait: each `httpx.get` makes a client, and with it a TLS
        # context read from the CA bundle, CPU taken from the server that is starting.
        with httpx.Client(timeout=2) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log()}")
                if _accepts_connections(self.port):
                    try:
                        if http.get(f"{self.base_url}/api/events").status_code == 200:
                            return self
                    except httpx.HTTPError:
                        pass
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("server did not start within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except TimeoutError:
                self.process.kill()
        if self.process:
            self.process.remove_files()


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a loopback port, keeping what it receives."""

    def __init__(self, port: int | None = None, *, seconds_a_message: float = 0):
        """`seconds_a_message`: a slow server, which takes that long to accept each message."""
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.messages: list[dict[str, object]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: ANN001 - aiosmtpd's API
                if seconds_a_message:
                    await asyncio.sleep(seconds_a_message)
                sink.messages.append({"from": envelope.mail_from, "rcpt": list(envelope.rcpt_tos),
                                      "data": envelope.content})
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def parsed(self) -> list["email.message.EmailMessage"]:
        import email
        import email.policy

        return [email.message_from_bytes(m["data"], policy=email.policy.default) for m in self.messages]

    def message_ids(self) -> list[str]:
        """Each message's Message-ID, from its headers alone (a whole message is much slower to
        parse, and a load test receives thousands)."""
        from email.parser import BytesHeaderParser

        parser = BytesHeaderParser()
        return [parser.parsebytes(m["data"])["Message-ID"] for m in self.messages]

    def wait_for(self, count: int, timeout: float = 30) -> list["email.message.EmailMessage"]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.parsed()

    def settings_env(self) -> dict[str, str]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_STARTTLS": "false"}


def calendar_parts(message: "email.message.EmailMessage") -> list[tuple[str, bytes]]:
    """(content type with method, payload) of each calendar part of a received email."""
    found = []
    for part in message.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            found.append((f"{part.get_content_type()}; method={part.get_param('method')}",
                          part.get_payload(decode=True)))
    return found


def plain_text(raw: str) -> str:
    """An email's plain-text body as its reader sees it (quoted-printable decoded)."""
    from email import message_from_string, policy

    return message_from_string(raw, policy=policy.default).get_body(("plain",)).get_content()


def answered_form(answer: str = "yes", **overrides: object) -> dict[str, object]:
    """Every question of the seeded questionnaire answered as a setting fills its pages in: a
    deputy and staff, each yes/no and each sub-item `answer`, Q10's first option, every
    follow-up yes (one dict of every page's fields)."""
    from app.questionnaire.answers import shape
    from app.questionnaire.seeding import load_questionnaire

    form: dict[str, object] = {"about-has_deputy": "yes", "about-has_staff": "yes"}
    for question in load_questionnaire()["questions"]:
        q = shape(question)
        if q.kind == "items":
            form.update({f"q{q.number}-item-{letter}": answer for letter in q.letters})
        else:
            form[f"q{q.number}-compliant"] = answer
        if q.kind == "choices":
            form[f"q{q.number}-choices"] = [q.letters[0]]
        if q.follow_up:
            form[f"q{q.number}-follow_up"] = "yes"
    form.update(overrides)
    return form


async def fill_questionnaire(token: str, form: dict[str, object], *, now: "dt.datetime") -> None:
    """Save every page of the questionnaire behind `token` from `form` (`answered_form`), as a
    setting continuing from page to page does (the facts page first)."""
    from app.questionnaire.services import response_for_token
    from app.questionnaire.steps import pages, save_page

    response = await response_for_token(token)
    questions = await response.questions()
    for page in pages(questions):
        await save_page(response.id, page, form, questions, now=now)


async def submit_answers(token: str, form: dict[str, object], *, now: "dt.datetime", config: Any = None) -> Any:
    """`fill_questionnaire`, then submit (AnswersIncomplete if something is missing)."""
    from app.questionnaire.services import submit_response

    await fill_questionnaire(token, form, now=now)
    return await submit_response(token, now=now, config=config)


def app_routes_of_kind(kind: str) -> set[str]:
    """The app's route paths of one kind: "page" for the GET routes answered with a page for
    people (not the API, assets, feeds or downloads)."""
    from app.config import Config as _Config
    from app.main import create_app as _create_app

    assert kind == "page"
    app = _create_app(_Config(database_url="sqlite:///:memory:", base_url="http://testserver.local", secret_key="s",
                              mail_sender_in_process=False))
    downloads = ("csv", "xlsx", "pdf", "ics", "png", "json", "txt", "xml", "css", "svg")
    return {route.path for route in app.routes for handler in getattr(route, "route_handlers", [])
            if "GET" in (handler.http_methods or ()) and not route.path.startswith(("/api", "/assets", "/schema", "/calendar"))
            and route.path.rsplit(".", 1)[-1] not in downloads}


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form on a page, as a browser would post it back."""
    import re

    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


class Answer:
    """An HTTP answer as a burst test reads it: the status and the JSON body."""

    def __init__(self, status_code: int, body: bytes):
        self.status_code = status_code
        self.content = body

    def json(self) -> Any:
        import json

        return json.loads(self.content)


async def post_on_new_connection(base_url: str, path: str, body: object = None) -> Answer:
    """POST (JSON) on a connection of its own, closed after the answer: what a burst of separate
    clients sends. Plain HTTP/1.1 on asyncio streams: httpx's pool, with hundreds of connections
    open at once, spent more CPU choosing a connection than the server spent answering."""
    import json

    host, port = base_url.removeprefix("http://").split(":")
    payload = b"" if body is None else json.dumps(body).encode()
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write((f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode() + payload)
        await writer.drain()
        raw = await reader.read()  # to the end: the server closes the connection after answering
    finally:
        writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    if headers.get("transfer-encoding") == "chunked":
        body_bytes = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            body_bytes, rest = body_bytes + rest[:size], rest[size + 2:]
    else:
        body_bytes = rest[:int(headers.get("content-length", len(rest)))]
    return Answer(int(status_line.split()[1]), body_bytes)
