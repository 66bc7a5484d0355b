"""An organiser signs in through the council's identity provider's own login page and out again,
in a real browser: the service (`python -m app serve`, password sign-in off) and a real OpenID
Connect provider (oidc-provider on loopback), each page of the service checked with axe."""

import re

import pytest
from playwright.async_api import expect

from app.organisers.identity_provider import CALLBACK_PATH
from app.organisers.services import create_organiser
from app.tables.audit import AuditRecord
from app.tables.organisers import Organiser, OrganiserRole
from tests import identity_provider as op
from tests.browser.test_booking_journey import assert_accessible
from tests.conftest import ORGANISER_PASSWORD
from tests.support import LOAD_TEST, RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def provider_and_server(db):
    reason = op.unavailable()
    if reason:
        pytest.fail(f"the identity provider cannot run: {reason}")
    server = RunningServer(db, extra_env=LOAD_TEST)
    provider = op.Provider([server.base_url + CALLBACK_PATH], {
        "ann": {"email": "ann.lee@essex.gov.uk", "name": "Ann Lee", "groups": ["forum-organisers"]}}).start()
    server.env.update({"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": op.CLIENT_ID,
                       "OIDC_CLIENT_SECRET": op.CLIENT_SECRET, "OIDC_PROVIDER_NAME": "Essex County Council",
                       "OIDC_ALLOWED_GROUPS": "forum-organisers", "PASSWORD_SIGN_IN": "off"})
    try:
        with server:
            yield provider, server
    finally:
        provider.stop()


async def test_an_organiser_signs_in_at_the_providers_login_page_and_out_again(browser, provider_and_server, db, now):
    provider, server = provider_and_server
    await create_organiser(email="ann.lee@essex.gov.uk", name="Ann Lee", password=ORGANISER_PASSWORD, now=now,
                           role=OrganiserRole.administrator)
    page = await browser.new_page(viewport={"width": 320, "height": 700})
    await page.goto(server.base_url + "/organisers")
    await expect(page).to_have_url(re.compile(r"/organisers/sign-in\?next=/organisers$"))
    await expect(page.get_by_label("Password")).to_have_count(0)  # password sign-in is off
    await assert_accessible(page, "sign in with the provider")
    await page.get_by_role("button", name="Sign in with Essex County Council").click()

    # The provider's own page, on its own address.
    await expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    await page.get_by_placeholder("Enter any login").fill("ann")
    await page.get_by_placeholder("and password").fill("any")
    await page.get_by_role("button", name="Sign-in").click()

    await expect(page).to_have_url(server.base_url + "/organisers")
    await expect(page.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await assert_accessible(page, "signed in through the provider")
    assert (await Organiser.select(Organiser.identity).first())["identity"] == f"{provider.issuer} ann"

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/organisers/sign-in\?signed_out=true"))
    await page.goto(server.base_url + "/organisers")
    await expect(page).to_have_url(re.compile(r"/organisers/sign-in\?next="))  # the session has ended
    actions = [r["action"] for r in await AuditRecord.select(AuditRecord.action).where(
        AuditRecord.action.like("organiser.%")).order_by(AuditRecord.id)]
    assert actions[-2:] == ["organiser.bound_to_provider", "organiser.signed_in"]
