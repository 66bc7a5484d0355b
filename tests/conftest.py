"""Fixtures: every database test runs on SQLite and on PostgreSQL.

Without PostgreSQL or Chromium the affected tests are skipped locally with a loud summary, and
the run fails under CI (CI=true), so a green CI always means both databases and the browser ran.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import httpx

from app import main as app_main
from app.config import Config
from app.db import bind_tables, make_engine, pooled
from app.main import create_app
from app.organisers.services import use_password_profile
from tests import support

# Password hashing at argon2's cheapest parameters, here and in every server and command the tests
# start: the recommended ones cost tenths of a second a hash, and the tests hash hundreds.
os.environ["PASSWORD_PROFILE"] = "cheapest"
use_password_profile("cheapest")
# Apps the tests build from a bare Config() would switch this process back to the service's
# parameters (a tenth of a second a hash, for every test after them): they keep the cheapest.
app_main.use_password_profile = lambda name: None

ENGINES = ["sqlite", "postgres"]
_missing: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    reason = support.postgres_reachable()
    if reason:
        _missing["PostgreSQL"] = reason
    reason = support.redis_reachable()
    if reason:
        _missing["Redis"] = reason
    if not Path(CHROMIUM).exists():
        _missing["Chromium"] = f"{CHROMIUM} not found (apt-get install -y chromium)"
    if _missing and support.IN_CI:
        raise pytest.UsageError(
            "CI must run every test, but these are unavailable: "
            + "; ".join(f"{k}: {v}" for k, v in _missing.items())
        )


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _missing:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        for what, why in _missing.items():
            terminalreporter.write_line(f"!! {what} TESTS WERE SKIPPED: {why}", red=True, bold=True)
        terminalreporter.write_line("!! This run does not prove the service; CI fails in this state.", red=True, bold=True)
        terminalreporter.write_line(bar, red=True, bold=True)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per engine for the whole run (made lazily)."""
    urls: dict[str, str] = {}
    yield urls
    for name, url in urls.items():
        if name.endswith("postgres"):
            support.drop_postgres_database(url)
    support.drop_migrated_templates()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, database_urls: dict[str, str],
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    name = request.param
    if name == "postgres" and "PostgreSQL" in _missing:
        pytest.skip(f"PostgreSQL unavailable: {_missing['PostgreSQL']}")
    if name not in database_urls:
        database_urls[name] = support.new_database(name, tmp_path_factory.mktemp(name))
    return database_urls[name]


@pytest.fixture
async def db(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[str]:
    """An empty, migrated database with the service's tables bound to it; for an async test on
    PostgreSQL through a small pool of connections on the test's loop (without one, every query
    opened a connection). A plain test that runs its own loops (asyncio.run) gets no pool: pooled
    connections belong to the loop that made them."""
    engine = make_engine(database_url)
    bind_tables(engine)
    async with pooled(engine, 4 if inspect.iscoroutinefunction(request.function) else 0):
        await support.empty_database(database_url, getattr(engine, "pool", None))
        yield database_url


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.fixture
def chromium_path() -> str:
    if "Chromium" in _missing:
        pytest.skip(_missing["Chromium"])
    return CHROMIUM


@pytest.fixture
def smtp_server() -> Iterator[support.SmtpSink]:
    sink = support.SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_config(smtp_server: support.SmtpSink):
    """Service settings that send to the test SMTP server."""
    from tests.factories import CONFIG

    return CONFIG.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_starttls=False)


# HTTP through Litestar's test client, anonymous and signed in as an organiser.
#: One app per test database, made once: building a Litestar app with every route costs a tenth
#: of a second, and hundreds of tests use one. Each test still gets its own client, lifespan and
#: abuse-limit counters; the app holds nothing else between requests.
_APPS: dict[str, Any] = {}


def _app_for(database_url: str) -> Any:
    from app.web.limits import Limiter
    from app.web.page_cache import STORE, page_store

    app = _APPS.get(database_url)
    if app is None:
        # No pool of its own: the app uses the test's (the `db` fixture's), on the same loop.
        config = Config(database_url=database_url, base_url="http://testserver.local", secret_key="test-secret",
                        password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False,
                        sign_in_delay_seconds=0.01)
        app = _APPS[database_url] = create_app(config)
    # Counters from zero for every test, on a clock held still: a fixed window that ended during a
    # test (a run at 16:59:59) would count some hits in the next hour's window.
    held = time.time()
    app.state["limiter"] = Limiter(app.state["config"], clock=lambda: held)
    app.stores.register(STORE, page_store(), allow_override=True)  # and no page from the last test
    return app


@pytest.fixture
async def client(db: str) -> AsyncIterator[httpx.AsyncClient]:
    async with support.app_client(_app_for(db)) as client:
        yield client


ORGANISER_PASSWORD = "correct horse battery staple"


@pytest.fixture
async def organiser(db: str, now):
    from app.organisers.services import create_organiser
    from app.tables.organisers import OrganiserRole

    return await create_organiser(email="jo.barclay@essex.gov.uk", name="Jo Barclay",
                                  password=ORGANISER_PASSWORD, now=now, role=OrganiserRole.administrator)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, organiser, now) -> httpx.AsyncClient:
    """The test client, signed in as an organiser (with a CSRF cookie for forms)."""
    from app.organisers.services import sign_in
    from app.web.auth import SESSION_COOKIE

    token = await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now)
    client.cookies.set(SESSION_COOKIE, token)
    await client.get("/organisers/sign-in")  # sets the CSRF cookie
    return client

