"""Headless Debian Chromium driven by Playwright (never a downloaded browser), plus axe-core."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from app.config import PROJECT_ROOT
from app.db import bind_tables, make_engine
from app.programme.seeding import seed_programme
from app.questionnaire.seeding import seed_questionnaire
from app.tables.mail import MessageStatus, OutboxMessage
from tests import support
from tests.conftest import CHROMIUM, ENGINES, _missing
from tests.support import LOAD_TEST, RunningServer, SmtpSink

AXE_JS = PROJECT_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE_JS.read_text() if AXE_JS.exists() else ""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_browser() -> AsyncIterator[Browser]:
    """One Chromium per test process, started when first needed: starting Playwright's driver and
    the browser cost half a second a test. Each test gets fresh contexts (no cookies, no storage
    shared); the browser tests run on the session's event loop (their modules' `pytestmark`)."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


#: Run in every page before its own scripts: records what the Content-Security-Policy blocked.
WATCH_CSP = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`));"""


class WatchedBrowser:
    """The shared browser, whose every context records Content-Security-Policy violations (read
    by `axe_violations`, so every page checked for accessibility is checked for them too)."""

    def __init__(self, browser: Browser):
        self._browser = browser

    def __getattr__(self, name: str):
        return getattr(self._browser, name)

    async def new_context(self, **options):
        context = await self._browser.new_context(**options)
        await context.add_init_script(WATCH_CSP)
        return context

    async def new_page(self, **options) -> Page:
        return await (await self.new_context(**options)).new_page()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium_path: str, session_browser: Browser) -> AsyncIterator[Browser]:
    # chromium_path first: without Chromium the test is skipped before one is started.
    shared = session_browser
    yield WatchedBrowser(shared)  # type: ignore[misc]
    for context in shared.contexts:  # what the test opened, closed before the next test
        await context.close()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, database_urls: dict[str, str],
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    """The browser tests' own database per engine: the server they share keeps running (and
    sending email) after them, so it must never see the other tests' rows."""
    name = request.param
    if name == "postgres" and "PostgreSQL" in _missing:
        pytest.skip(f"PostgreSQL unavailable: {_missing['PostgreSQL']}")
    key = f"browser-{name}"
    if key not in database_urls:
        database_urls[key] = support.new_database(name, tmp_path_factory.mktemp(key))
    return database_urls[key]


@pytest_asyncio.fixture(loop_scope="session")
async def db(database_url: str) -> AsyncIterator[str]:
    """The emptied database, for tests on the session's event loop: no pool (a pool belongs to
    the loop that made it, and the browser tests' fixtures and bodies run on the session's)."""
    await support.empty_database(database_url)
    bind_tables(make_engine(database_url))
    yield database_url


@pytest.fixture(scope="session")
def running_servers() -> Iterator[dict[str, tuple[RunningServer, SmtpSink]]]:
    """One server (and the SMTP server it sends to) per test database, started when a browser test
    first needs it and kept for the run: the server holds nothing between requests, so each test
    starts from its emptied database, and starting a server per test cost seconds each time."""
    servers: dict[str, tuple[RunningServer, SmtpSink]] = {}
    yield servers
    for running, sink in servers.values():
        running.__exit__(None, None, None)
        sink.stop()


@pytest.fixture(autouse=True)
def previous_mail_delivered(request: pytest.FixtureRequest, running_servers) -> None:
    """Before the database is emptied for the next test: the running server has finished sending
    the last test's email, so none of it reaches this test's SMTP server."""
    if "db" not in request.fixturenames:
        return
    database_url = request.getfixturevalue("database_url")
    if database_url in running_servers:
        asyncio.run(_outbox_drained(database_url))


async def _outbox_drained(database_url: str, timeout: float = 15) -> None:
    bind_tables(make_engine(database_url))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and await OutboxMessage.exists().where(
            OutboxMessage.status.is_in([MessageStatus.pending.value, MessageStatus.sending.value])):
        await asyncio.sleep(0.1)


@pytest.fixture
def smtp_server(db: str, running_servers) -> SmtpSink:
    """The SMTP server this database's running server sends to, emptied for the test."""
    if db not in running_servers:
        sink = SmtpSink().start()
        running_servers[db] = (RunningServer(db, extra_env={**sink.settings_env(), **LOAD_TEST}).__enter__(), sink)
    sink = running_servers[db][1]
    sink.messages.clear()
    return sink


@pytest.fixture
async def server(db: str, smtp_server: SmtpSink, running_servers, now) -> RunningServer:
    """The app on the test database with the demo programme, as the README's first command runs
    it (`python -m app serve`), sending its email (in-process sender) to the test SMTP server.
    The programme is seeded here rather than by `python -m app seed --demo` (the CLI tests run
    that): the same functions, without starting another interpreter for every test."""
    await seed_programme(demo=True, now=now)
    await seed_questionnaire()
    _checked_engine["accessibility"] = db.startswith("sqlite")
    return running_servers[db][0]


#: Whether this test's pages are checked with axe-core: on the SQLite run of each journey (the
#: README's first command), not again on PostgreSQL. The pages are the same templates with the
#: same data on either engine; axe's colour-contrast rule alone costs 0.6 s a page on these
#: machines, and checking every page twice cost a quarter of the suite. The PostgreSQL run still
#: walks every step and asserts what the user sees.
_checked_engine = {"accessibility": True}


@pytest.fixture(autouse=True)
def _accessibility_checked_unless_told() -> None:
    _checked_engine["accessibility"] = True


async def axe_violations(page: Page) -> list[dict]:
    """Serious and critical axe-core violations (WCAG 2.0-2.2 A and AA rules) on the page (on
    the SQLite run of a journey; see `_checked_engine`)."""
    assert AXE_JS.exists(), f"axe-core missing at {AXE_JS}: run the setup (npm ci in frontend/)"
    blocked = await page.evaluate("window.__cspViolations || []")
    assert blocked == [], f"the Content-Security-Policy blocked: {blocked}"
    if not _checked_engine["accessibility"]:
        return []
    # Evaluated by the test harness, not added as an inline <script> (which the policy blocks).
    # resultTypes: only violations are listed in full (axe's documented speed-up: a quarter less
    # time a page; passes are not reported here anyway).
    await page.wait_for_load_state("load")  # a page still arriving has no document for axe to read
    await page.evaluate(AXE_SOURCE)
    result = await page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
             resultTypes: ['violations']})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


async def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot into `$SCREENSHOTS` when set (for an issue's closing note), else nothing."""
    import os

    folder = os.environ.get("SCREENSHOTS")
    if folder:
        await page.screenshot(path=f"{folder}/{name}.png", full_page=True)
