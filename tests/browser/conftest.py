"""Headless Debian Chromium driven by Playwright (never a downloaded browser), plus axe-core."""

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from app.config import PROJECT_ROOT
from tests.support import RunningServer, run_cli

AXE_JS = PROJECT_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def server(db: str, smtp_server):
    """The app on the test database with the demo programme, as the README's first command runs
    it, sending its email (in-process sender) to the test SMTP server."""
    run_cli(db, "seed", "--demo")
    with RunningServer(db, extra_env=smtp_server.settings_env()) as running:
        yield running


async def axe_violations(page: Page) -> list[dict]:
    """Serious and critical axe-core violations (WCAG 2.0-2.2 A and AA rules) on the page."""
    assert AXE_JS.exists(), f"axe-core missing at {AXE_JS}: run the setup (npm ci in frontend/)"
    await page.add_script_tag(path=str(AXE_JS))
    result = await page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
