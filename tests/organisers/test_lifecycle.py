"""Organiser accounts that can be ended: roles, deactivation that ends every session at once,
changing a password, a one-time reset link, one's own sessions; and the command line's
equivalents. Every change is in the audit trail."""

import datetime as dt
import re

from tests.support import app_client, csrf_token as csrf

from app.config import Config
from app.main import create_app
from app.organisers.services import create_organiser, organiser_for_session, sign_in
from app.tables.audit import AuditRecord
from app.tables.mail import OutboxMessage
from app.tables.organisers import Organiser, OrganiserRole
from app.web.auth import SESSION_COOKIE
from tests import support
from tests.conftest import ORGANISER_PASSWORD


async def post(client, path: str, data: dict, page: str = "/organisers/account"):
    token = csrf((await client.get(page)).text)
    return await client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


async def another_client(db):
    app = create_app(Config(database_url=db, base_url="http://testserver.local", secret_key="test-secret",
                            password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False))
    return app_client(app, "http://testserver.local")


async def test_deactivating_an_account_ends_its_sessions_at_once(signed_in, db, now):
    sam = await create_organiser(email="sam@essex.gov.uk", name="Sam", password=ORGANISER_PASSWORD, now=now)
    async with await another_client(db) as sams_browser:
        sams_browser.cookies.set(SESSION_COOKIE, await sign_in(email=sam.email, password=ORGANISER_PASSWORD, now=now))
        assert (await sams_browser.get("/organisers")).status_code == 200
        done = await post(signed_in, "/organisers/accounts/deactivate", {"email": "sam@essex.gov.uk"}, "/organisers/accounts")
        assert done.status_code == 303
        assert (await sams_browser.get("/organisers", follow_redirects=False)).status_code == 303  # signed out
    page = await signed_in.get("/organisers/accounts?changed=deactivate")
    assert "Account deactivated" in page.text and "Deactivated" in page.text
    assert await AuditRecord.count().where(AuditRecord.action == "organiser.deactivated") == 1
    refused = await post(signed_in, "/organisers/accounts/deactivate", {"email": "jo.barclay@essex.gov.uk"},
                         "/organisers/accounts")
    assert refused.status_code == 403 and "cannot deactivate your own account" in refused.text
    last = await post(signed_in, "/organisers/accounts/role", {"email": "jo.barclay@essex.gov.uk", "role": "organiser"},
                      "/organisers/accounts")
    assert last.status_code == 403 and "last administrator" in last.text


async def test_only_an_administrator_manages_accounts(db, now):
    await create_organiser(email="ann@essex.gov.uk", name="Ann", password=ORGANISER_PASSWORD, now=now,
                           role=OrganiserRole.administrator)
    await create_organiser(email="sam@essex.gov.uk", name="Sam", password=ORGANISER_PASSWORD, now=now)
    async with await another_client(db) as client:
        client.cookies.set(SESSION_COOKIE, await sign_in(email="sam@essex.gov.uk", password=ORGANISER_PASSWORD, now=now))
        await client.get("/organisers/accounts")
        page = (await client.get("/organisers/accounts")).text
        assert "Only an administrator can invite" in page and "Send invitation" not in page
        for path, data in (("/organisers/accounts/deactivate", {"email": "ann@essex.gov.uk"}),
                           ("/organisers/accounts/role", {"email": "sam@essex.gov.uk", "role": "administrator"}),
                           ("/organisers/accounts", {"email": "new@essex.gov.uk", "name": "New"})):
            answer = await post(client, path, data, "/organisers/accounts")
            assert answer.status_code in (400, 403) and "administrator" in answer.text, path
    assert (await Organiser.select(Organiser.role).where(Organiser.email == "sam@essex.gov.uk").first())["role"] == "organiser"
    assert await Organiser.count() == 2


async def test_changing_ones_password_ends_the_other_sessions(signed_in, organiser, now):
    other = await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now)
    wrong = await post(signed_in, "/organisers/account/password",
                       {"current": "not it", "password": "a new long password", "confirm_password": "a new long password"})
    assert wrong.status_code == 400 and "Your current password is not right" in wrong.text
    done = await post(signed_in, "/organisers/account/password", {
        "current": ORGANISER_PASSWORD, "password": "a new long password", "confirm_password": "a new long password"})
    assert done.status_code == 303
    assert await organiser_for_session(other, now) is None  # the other browser is signed out
    assert (await signed_in.get("/organisers/account")).status_code == 200  # this one is not
    await sign_in(email=organiser.email, password="a new long password", now=now)


async def test_one_can_see_and_end_ones_own_sessions(signed_in, organiser, now):
    other = await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now)
    page = (await signed_in.get("/organisers/account")).text
    assert "This browser" in page
    [session_id] = re.findall(r'/organisers/account/sessions/(\d+)/end', page)
    assert (await post(signed_in, f"/organisers/account/sessions/{session_id}/end", {})).status_code == 303
    assert await organiser_for_session(other, now) is None


async def test_a_forgotten_password_is_reset_by_a_one_time_link(client, organiser, now):
    async def ask(email):
        token = csrf((await client.get("/organisers/password-reset")).text)
        return await client.post("/organisers/password-reset", data={"email": email, "_csrf_token": token})

    unknown, known = await ask("nobody@essex.gov.uk"), await ask("Jo.Barclay@essex.gov.uk")
    assert unknown.status_code == known.status_code == 200
    assert "Check your email" in unknown.text and "Check your email" in known.text  # the same answer
    [message] = await OutboxMessage.select()
    assert message["recipient"] == organiser.email and message["kind"] == "organiser_reset"
    link = re.search(r"http://testserver\.local(/organisers/password-reset/[A-Za-z0-9_-]+)", support.plain_text(message["raw"])).group(1)
    form = await client.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.text
    done = await client.post(link, data={"password": "another long password", "confirm_password": "another long password",
                                         "_csrf_token": csrf(form.text)}, follow_redirects=False)
    assert done.status_code == 303
    assert (await client.get(link)).status_code == 404  # once only
    await sign_in(email=organiser.email, password="another long password", now=now)
    assert await AuditRecord.count().where(AuditRecord.action.is_in(["organiser.reset_requested",
                                                                     "organiser.password_reset"])) == 2


async def test_a_reset_link_expires_after_an_hour(client, organiser, now):
    from app.organisers.services import request_password_reset, reset_link_valid
    from tests.factories import CONFIG

    await request_password_reset(organiser.email, config=CONFIG, now=now - dt.timedelta(hours=2))
    [message] = await OutboxMessage.select(OutboxMessage.raw)
    token = re.search(r"/organisers/password-reset/([A-Za-z0-9_-]+)", support.plain_text(message["raw"])).group(1)
    assert not await reset_link_valid(token, now)


def test_the_command_line_ends_and_restores_accounts(db, now):
    import asyncio

    asyncio.run(create_organiser(email="ann@essex.gov.uk", name="Ann", password=ORGANISER_PASSWORD, now=now,
                                 role=OrganiserRole.administrator))
    asyncio.run(create_organiser(email="sam@essex.gov.uk", name="Sam", password=ORGANISER_PASSWORD, now=now))
    assert "sam@essex.gov.uk" in support.run_cli(db, "organiser", "deactivate", "sam@essex.gov.uk").stdout
    listed = support.run_cli(db, "organiser", "list").stdout
    assert re.search(r"sam@essex\.gov\.uk\s+Sam\s+organiser\s+deactivated", listed)
    assert "now an administrator" in support.run_cli(db, "organiser", "role", "sam@essex.gov.uk", "administrator").stdout
    last = support.run_cli(db, "organiser", "deactivate", "nobody@essex.gov.uk", check=False)
    assert last.returncode == 1 and "No organiser with this email address" in last.stderr
