"""Requests an attacker or a broken client sends, each answered with a clear 4xx (or a 503 when
the database is away), never a 500; and what a person not confirmed can download."""

import asyncio
import datetime as dt
import pytest
from tests.support import app_client
from piccolo.engine.sqlite import SQLiteEngine

from app.config import Config
from app.db import bind_tables, make_engine
from app.main import create_app
from app.tables.bookings import Booking
from tests import factories as f


async def test_bodies_that_are_not_json_as_the_api_takes_it_are_4xx(client, now):
    event_id = await f.event(now=now)
    url = f"/api/events/{event_id}/bookings"
    cases = {
        "deep arrays": (b"[" * 5000 + b"]" * 5000, "application/json", 400, "too_deep"),
        "deep objects": (b'{"a":' * 2000 + b"1" + b"}" * 2000, "application/json", 400, "too_deep"),
        "not UTF-8": (b'{"name": "\xff\xfe"}', "application/json", 400, "not_utf8"),
        "not JSON": (b"{", "application/json", 400, "malformed_json"),
        "text/plain (a cross-site form can send it without asking)": (b'{"name": "x"}', "text/plain", 415,
                                                                      "unsupported_media_type"),
        "a form": (b"name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        "huge": (b'{"name": "' + b"x" * 40000 + b'"}', "application/json", 413, "body_too_large"),
    }
    for what, (body, media_type, status, code) in cases.items():
        answer = await client.post(url, content=body, headers={"content-type": media_type})
        assert (answer.status_code, answer.json()["code"]) == (status, code), what
    ok = await client.post(url, json=f.api_body(1), headers={"content-type": "application/json; charset=utf-8"})
    assert ok.status_code == 201
    assert await Booking.count() == 1


async def test_the_organiser_api_refuses_a_deep_body_too(signed_in, now):
    csrf = signed_in.cookies.get("csrftoken")
    answer = await signed_in.post("/api/organiser/bookings/1/attendance", content=b"[" * 3000 + b"]" * 3000,
                                  headers={"content-type": "application/json", "x-csrftoken": csrf})
    assert answer.status_code == 400 and answer.json()["code"] == "too_deep"


async def test_head_works_wherever_get_does(client, now):
    event_id = await f.event(now=now)
    for path in ("/", f"/events/{event_id}", f"/events/{event_id}/book", "/api/events", "/calendar/programme.ics",
                 "/organisers/sign-in", "/assets/council.css"):
        get, head = await client.get(path), await client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"], path
    assert (await client.head("/no-such-page")).status_code == 404


@pytest.mark.parametrize("broken", ["sqlite", "postgres"])
async def test_a_database_outage_answers_503_with_retry_after(db, broken):
    app = create_app(Config(database_url=db, secret_key="x", db_pool_size=0, mail_sender_in_process=False))
    async with app_client(app) as client:
        # The database goes away under the running service.
        bind_tables(SQLiteEngine(path="/proc/no-such-directory/bookings.sqlite") if broken == "sqlite"
                    else make_engine("postgresql://postgres@127.0.0.1:1/test"))
        try:
            page, api = await client.get("/"), await client.get("/api/events")
        finally:
            bind_tables(make_engine(db))
    assert page.status_code == api.status_code == 503
    assert page.headers["retry-after"] == api.headers["retry-after"] == "30"
    assert "Try again in a minute" in page.text and api.json()["code"] == "unavailable"


async def test_only_a_confirmed_booker_can_download_the_meeting_request(client, now):
    full = await f.event(now=now, capacity=1, quadrant=None)
    confirmed = (await client.post(f"/api/events/{full}/bookings", json=f.api_body(1))).json()
    waiting = (await client.post(f"/api/events/{full}/bookings", json=f.api_body(2, waitlist=True))).json()
    assert waiting["status"] == "waitlisted"
    assert (await client.get(f"/bookings/{confirmed['manage_token']}/invite.ics")).status_code == 200
    answer = await client.get(f"/bookings/{waiting['manage_token']}/invite.ics")
    assert answer.status_code == 404 and "BEGIN:VCALENDAR" not in answer.text
    manage = await client.get(f"/bookings/{waiting['manage_token']}")
    assert "invite.ics" not in manage.text and "teams.microsoft.com" not in manage.text


def test_logs_never_show_a_token():
    from app.main import loggable_path

    assert loggable_path("/bookings/Zq3-secret_Token/cancel") == "/bookings/…/cancel"
    assert loggable_path("/api/bookings/abc123") == "/api/bookings/…"
    assert loggable_path("/organisers/password-reset/abc") == "/organisers/password-reset/…"
    assert loggable_path("/questionnaire/tok/training") == "/questionnaire/…/training"
    assert loggable_path("/events/12/book") == "/events/12/book"


async def test_a_database_outage_is_logged_without_the_token(db):
    import io
    import logging

    app = create_app(Config(database_url=db, secret_key="x", db_pool_size=0, mail_sender_in_process=False))
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    logging.getLogger("app").addHandler(handler)  # Litestar configures the root logger's handlers
    async with app_client(app) as client:
        bind_tables(SQLiteEngine(path="/proc/no-such-directory/bookings.sqlite"))
        try:
            answer = await client.get("/bookings/a-secret-manage-token")
        finally:
            bind_tables(make_engine(db))
        logging.getLogger("app").removeHandler(handler)
    assert answer.status_code == 503
    assert "a-secret-manage-token" not in logged.getvalue() and "/bookings/…" in logged.getvalue()


async def test_the_api_takes_waitlist_only_as_a_boolean(client, now):
    """Issue 22: `"waitlist": 0` was taken where the OpenAPI says boolean."""
    from tests import factories as f

    event_id = await f.event(now=now, capacity=5)
    for value in (0, 1, "true", "yes", None):
        answer = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1, waitlist=value))
        assert answer.status_code == 422, (value, answer.text)
        assert answer.json()["errors"] == [{"field": "waitlist", "message": "waitlist must be true or false"}]
    assert (await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1, waitlist=False))).status_code == 201


async def test_a_body_that_trickles_in_too_slowly_is_refused_with_a_408(db):
    """uvicorn has no body-read timeout: the service's own middleware ends a request whose body
    has not arrived in BODY_READ_TIMEOUT seconds, saving nothing."""
    import asyncio
    import time as clock

    from app.config import Config
    from app.main import create_app
    from app.tables.bookings import Booking

    app = create_app(Config(database_url=db, secret_key="x", password_profile="cheapest", db_pool_size=0,
                            mail_sender_in_process=False, body_read_timeout_seconds=1))
    sent: list[dict] = []
    parts = [{"type": "http.request", "body": b'{"name": "Jo', "more_body": True}]

    async def receive():
        if parts:
            return parts.pop(0)
        await asyncio.sleep(3600)  # the rest never comes

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/events/1/bookings", "raw_path": b"/api/events/1/bookings", "query_string": b"",
             "root_path": "", "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                                          (b"content-length", b"500")],
             "client": ("203.0.113.9", 5000), "server": ("testserver", 80), "state": {}}
    started = clock.monotonic()
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    took = clock.monotonic() - started
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    assert start["status"] == 408 and 0.9 <= took < 5
    assert await Booking.count() == 0


def test_whatever_the_driver_raises_while_the_database_restarts_is_an_outage():
    """Issue 22 point 7: each of these answered 500 or could (seen during restarts)."""
    import sqlite3

    import asyncpg

    from app.db import is_outage

    seen = [asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation is in progress"),
            asyncpg.exceptions.InterfaceError("connection is closed"),
            asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
            asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
            asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
            asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
            asyncpg.exceptions.DiskFullError("could not extend file"),
            ConnectionResetError(), sqlite3.OperationalError("database or disk is full")]
    assert all(is_outage(e) for e in seen)
    wrapped = RuntimeError("query failed")
    wrapped.__cause__ = seen[0]
    assert is_outage(wrapped)
    assert not is_outage(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not is_outage(sqlite3.OperationalError("no such column: x"))


async def test_a_full_sqlite_database_answers_503_loses_nothing_and_serves_again(tmp_path, monkeypatch):
    """The same SQLITE_FULL a full disk gives (`PRAGMA max_page_count` on every connection the
    app opens): bookings answer 503 with Retry-After, every 201 before stays, and once there is
    room again the service books without a restart."""
    from app.config import Config
    from piccolo.engine.sqlite import SQLiteEngine

    from app.db import bind_tables, make_engine, sqlite_path, sqlite_writer
    from app.main import create_app
    from app.tables.bookings import Booking
    from tests import factories as f
    from tests.support import app_client, new_database

    url = new_database("sqlite", tmp_path)
    bind_tables(make_engine(url))
    now = dt.datetime.now(dt.timezone.utc)
    event_id = await f.event(now=now, capacity=5000)
    room = {"pages": 0}
    opened = SQLiteEngine.get_connection

    async def limited(self):
        connection = await opened(self)
        if room["pages"]:
            await connection.execute(f"PRAGMA max_page_count = {room['pages']}")
        return connection

    monkeypatch.setattr(SQLiteEngine, "get_connection", limited)
    writer = sqlite_writer(sqlite_path(url))
    [(pages,)] = writer.execute("PRAGMA page_count").fetchall()
    room["pages"] = pages + 2
    writer.execute(f"PRAGMA max_page_count = {room['pages']}")
    app = create_app(Config(database_url=url, secret_key="x", password_profile="cheapest", db_pool_size=0,
                            mail_sender_in_process=False, rate_limits=False))
    statuses, made = [], []
    async with app_client(app) as client:
        for n in range(400):
            answer = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(n, name="x" * 180))
            statuses.append(answer.status_code)
            if answer.status_code == 201:
                made.append(answer.json()["reference"])
            else:
                assert answer.status_code == 503 and answer.headers["retry-after"], answer.text
                break
        assert statuses[-1] == 503 and 500 not in statuses
        room["pages"] = 100_000
        writer.execute("PRAGMA max_page_count = 100000")
        again = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body("after"))
        assert again.status_code == 201
    stored = set(await Booking.select(Booking.reference).output(as_list=True))
    assert set(made) <= stored and len(stored) == len(made) + 1 and len(made) >= 1
    from app.tables.programme import Event

    [counter] = await Event.select(Event.places_taken).where(Event.id == event_id).output(as_list=True)
    assert counter == len(stored)  # the refused booking left no half-taken place


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_transaction_whose_connection_dies_leaves_the_task_able_to_go_on(db):
    """Piccolo's transaction, when its rollback fails on a dead connection, kept the task inside
    the dead transaction for good (the sender failed every pass after a restart) and leaked a pool
    slot. Ours gives the connection back and leaves the transaction, whatever happens."""
    from app.db import current_engine, write_transaction
    from app.tables.programme import Event

    engine = current_engine()
    for _ in range(6):  # more than the pool holds (4): a leaked slot would hang here
        with pytest.raises(Exception):
            async with write_transaction():
                await Event.count()
                engine.current_transaction.get().connection.terminate()  # the server went away
                await Event.count()
        assert not engine.transaction_exists()
    assert await asyncio.wait_for(Event.count(), timeout=10) == 0
