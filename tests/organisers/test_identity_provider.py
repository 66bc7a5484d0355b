"""Organisers sign in with the council's identity provider: a real OpenID Connect provider
(oidc-provider, run by Node.js on loopback by these tests), its own login form, and the service's
checks of what comes back. Every test runs on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.config import Config
from app.main import create_app
from app.organisers import identity_provider
from app.organisers.identity_provider import ProviderSignInRefused, checked_id_token
from app.organisers.services import create_organiser, deactivate_organiser
from app.tables.audit import AuditRecord
from app.tables.mail import OutboxMessage
from app.tables.organisers import Organiser, OrganiserRole, OrganiserSession
from app.web.auth import SESSION_COOKIE
from tests import identity_provider as op
from tests.conftest import ORGANISER_PASSWORD
from tests.support import app_client, csrf_token, new_database, plain_text, run_cli

BASE = "http://testserver.local"
CALLBACK = BASE + identity_provider.CALLBACK_PATH
ACCOUNTS = {
    "ann": {"email": "ann.lee@essex.gov.uk", "email_verified": True, "name": "Ann Lee", "groups": ["Forum-Admins"]},
    "sam": {"email": "sam.cole@essex.gov.uk", "name": "Sam Cole", "groups": ["forum-organisers"]},
    "outsider": {"email": "pat.out@essex.gov.uk", "name": "Pat Out", "groups": ["finance"]},
    "elsewhere": {"email": "kim@example.org", "name": "Kim", "groups": ["forum-organisers"]},
    # Entra ID: the same person in another app has another subject, the same tenant and object ids.
    "entra": {"email": "lou.ray@essex.gov.uk", "name": "Lou Ray", "tid": "7d3a1c52-tenant", "oid": "0b9e-object",
              "groups": ["forum-organisers"]},
    # Entra ID's answer for someone in too many groups: a pointer to Microsoft Graph instead.
    "overflow": {"email": "max.many@essex.gov.uk", "name": "Max Many",
                 "_claim_names": {"groups": "src1"},
                 "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}},
    # Another subject claiming Ann's address.
    "impostor": {"email": "ann.lee@essex.gov.uk", "name": "Not Ann", "groups": ["forum-admins"]},
}
GROUPS = {"oidc_allowed_groups": ("forum-admins", "forum-organisers"), "oidc_administrator_groups": ("forum-admins",),
          "oidc_organiser_groups": ("forum-organisers",)}


@pytest.fixture(scope="module")
def provider():
    reason = op.unavailable()
    if reason:
        pytest.fail(f"the identity provider cannot run: {reason}")
    running = op.Provider([CALLBACK], ACCOUNTS).start()
    yield running
    running.stop()


class Browser:
    """One browser at the service, with the provider's login form in between."""

    def __init__(self, provider: op.Provider, client: Any, app: Any):
        self.provider, self.client, self.app = provider, client, app

    async def start(self, next_path: str = "/organisers") -> str:
        started = await self.client.get("/organisers/sign-in/provider", params={"next": next_path},
                                        follow_redirects=False)
        assert started.status_code == 303, started.text
        return started.headers["location"]

    async def sign_in(self, login: str, next_path: str = "/organisers"):
        back = self.provider.log_in(await self.start(next_path), login, CALLBACK)
        return await self.callback(back)

    async def callback(self, back: str):
        parts = urlsplit(back)
        return await self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


_APPS: dict[str, Any] = {}


def app_with(db: str, provider: op.Provider, **settings: Any):
    """The service with these settings (made once: building an app takes a good part of a second)."""
    key = f"{db} {provider.issuer} {sorted(settings.items())}"
    if key not in _APPS:
        _APPS[key] = create_app(Config(database_url=db, base_url=BASE, secret_key="test-secret",
                                       password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False,
                                       **provider.settings(**settings)))
    return _APPS[key]


async def browser(db, provider, **settings):
    """A new browser at the service with these settings."""
    from app.web.limits import Limiter

    app = app_with(db, provider, **settings)
    app.state["limiter"] = Limiter(app.state["config"])  # each test's counters from zero
    return app, app_client(app, BASE)


async def test_a_sign_in_through_the_providers_form_binds_the_account_and_lasts_ten_hours(db, provider, now):
    await create_organiser(email="ann.lee@essex.gov.uk", name="Ann Lee", password=ORGANISER_PASSWORD, now=now)
    app, made = await browser(db, provider)
    async with made as client:
        page = await client.get("/organisers/sign-in")
        assert "Sign in with your council account" in page.text and 'name="password"' in page.text
        back = await Browser(provider, client, app).sign_in("ann", next_path="/organisers/events")
        assert back.status_code == 303 and back.headers["location"] == "/organisers/events"
        cookie = back.headers["set-cookie"]
        assert "Max-Age=36000" in cookie and "HttpOnly" in cookie
        assert (await client.get("/organisers")).status_code == 200
    row = await Organiser.select().where(Organiser.email == "ann.lee@essex.gov.uk").first()
    assert row["identity"] == f"{provider.issuer} ann"
    session = await OrganiserSession.select().first()
    assert dt.timedelta(hours=9, minutes=59) < session["expires_at"] - session["created_at"] <= dt.timedelta(hours=10)
    audited = await AuditRecord.select(AuditRecord.action, AuditRecord.detail).where(
        AuditRecord.action.like("organiser.%"))
    assert {"organiser.bound_to_provider", "organiser.signed_in"} <= {r["action"] for r in audited}

    # Never matched by email again: another subject with Ann's address is refused.
    _, made = await browser(db, provider)
    async with made as client:
        refused = await Browser(provider, client, app).sign_in("impostor")
        assert refused.status_code == 403 and "bound to another identity" not in refused.text
        assert "There is no organiser account for you" in refused.text
        assert (await client.get("/organisers", follow_redirects=False)).status_code == 303
    assert await Organiser.count() == 1


async def test_a_replayed_or_foreign_answer_is_refused(db, provider, now):
    await create_organiser(email="ann.lee@essex.gov.uk", name="Ann Lee", password=ORGANISER_PASSWORD, now=now)
    app, made = await browser(db, provider)
    async with made as client:
        you = Browser(provider, client, app)
        back = provider.log_in(await you.start(), "ann", CALLBACK)
        assert (await you.callback(back)).status_code == 303
        await client.post("/organisers/sign-out", data={"_csrf_token": csrf_token(
            (await client.get("/organisers/account")).text)})
        again = await you.callback(back)  # the same answer a second time
        assert again.status_code == 403 and "already been used" in again.text
    # An answer to a sign-in started in another browser (login CSRF): this one has no state cookie.
    _, made = await browser(db, provider)
    async with made as theirs:
        back = provider.log_in(await Browser(provider, theirs, app).start(), "ann", CALLBACK)
    _, made = await browser(db, provider)
    async with made as mine:
        refused = await Browser(provider, mine, app).callback(back)
        assert refused.status_code == 403 and "not started in this browser" in refused.text
        assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    reasons = [r["detail"]["reason"] for r in await AuditRecord.select(AuditRecord.detail).where(
        AuditRecord.action == "organiser.provider_sign_in_refused").output(load_json=True)]
    assert sorted(reasons) == ["state_mismatch", "state_mismatch"]  # the replay came without its cookie too


async def test_a_token_for_another_audience_an_expired_one_or_another_nonce_is_refused(db, provider, now):
    config = Config(base_url=BASE, **provider.settings())
    document = await identity_provider.discovery(config)
    theirs = op.id_token_for(provider, op.OTHER_CLIENT_ID, "ann", CALLBACK)
    with pytest.raises(ProviderSignInRefused) as wrong_audience:
        await checked_id_token(theirs["id_token"], config=config, document=document, nonce=theirs["nonce"], now=now)
    assert wrong_audience.value.reason == "id_token_invalid_claim aud"
    ours = op.id_token_for(provider, op.CLIENT_ID, "ann", CALLBACK)
    claims = await checked_id_token(ours["id_token"], config=config, document=document, nonce=ours["nonce"],
                                    now=dt.datetime.now(dt.timezone.utc))
    assert claims["email"] == "ann.lee@essex.gov.uk" and claims["aud"] == op.CLIENT_ID
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1, minutes=2)  # its hour and the minute's leeway
    with pytest.raises(ProviderSignInRefused) as expired:
        await checked_id_token(ours["id_token"], config=config, document=document, nonce=ours["nonce"], now=later)
    assert expired.value.reason == "id_token_expired_token exp"
    with pytest.raises(ProviderSignInRefused) as replayed:
        await checked_id_token(ours["id_token"], config=config, document=document, nonce="another", now=now)
    assert replayed.value.reason == "id_token_invalid_claim nonce"
    forged = ours["id_token"].rsplit(".", 1)[0] + "." + "A" * 342
    with pytest.raises(ProviderSignInRefused) as bad_signature:
        await checked_id_token(forged, config=config, document=document, nonce=ours["nonce"], now=now)
    assert bad_signature.value.reason == "id_token_bad_signature"


async def test_groups_decide_who_comes_in_and_the_role_is_read_at_every_sign_in(db, provider, now):
    app, made = await browser(db, provider, oidc_create_accounts=True, oidc_allowed_domains=("essex.gov.uk",), **GROUPS)
    async with made as client:
        you = Browser(provider, client, app)
        assert (await you.sign_in("ann")).status_code == 303
        assert (await you.sign_in("sam")).status_code == 303
        outside = await you.sign_in("outsider")
        assert outside.status_code == 403 and "not in a group allowed to sign in" in outside.text
        other_domain = await you.sign_in("elsewhere")
        assert other_domain.status_code == 403 and "cannot sign in to this service" in other_domain.text
        overflow = await you.sign_in("overflow")
        assert overflow.status_code == 403 and "too many groups" in overflow.text
        assert "app roles" in overflow.text and "OIDC_GROUPS_CLAIM=roles" in overflow.text
    roles = {r["email"]: r["role"] for r in await Organiser.select(Organiser.email, Organiser.role)}
    assert roles == {"ann.lee@essex.gov.uk": "administrator", "sam.cole@essex.gov.uk": "organiser"}
    # Made an organiser in the service: the provider's group makes Ann an administrator again.
    await Organiser.update({Organiser.role: "organiser"}).where(Organiser.email == "ann.lee@essex.gov.uk")
    _, made = await browser(db, provider, **GROUPS)
    async with made as client:
        assert (await Browser(provider, client, app).sign_in("ann")).status_code == 303
    assert await Organiser.select(Organiser.role).where(Organiser.email == "ann.lee@essex.gov.uk").first() == {
        "role": "administrator"}
    reasons = sorted(r["detail"]["reason"] for r in await AuditRecord.select(AuditRecord.detail).where(
        AuditRecord.action == "organiser.provider_sign_in_refused").output(load_json=True))
    assert reasons == ["domain_not_allowed", "group_not_allowed", "groups_overflow"]


async def test_entra_ids_tenant_and_object_ids_bind_and_a_deactivated_account_is_refused(db, provider, now):
    await create_organiser(email="lou.ray@essex.gov.uk", name="Lou Ray", password=ORGANISER_PASSWORD, now=now)
    await create_organiser(email="jo@essex.gov.uk", name="Jo", password=ORGANISER_PASSWORD, now=now,
                           role=OrganiserRole.administrator)
    app, made = await browser(db, provider)
    async with made as client:
        you = Browser(provider, client, app)
        assert (await you.sign_in("entra")).status_code == 303
        assert (await client.get("/organisers")).status_code == 200
        assert await Organiser.select(Organiser.identity).where(Organiser.email == "lou.ray@essex.gov.uk").first() == {
            "identity": "entra 7d3a1c52-tenant 0b9e-object"}
        await deactivate_organiser("lou.ray@essex.gov.uk", by=None)
        assert (await client.get("/organisers", follow_redirects=False)).status_code == 303  # its session ended
        refused = await you.sign_in("entra")  # a valid token all the same
        assert refused.status_code == 403 and "has been deactivated" in refused.text
    assert await OrganiserSession.count() == 0


async def test_a_new_person_is_refused_unless_accounts_are_made_at_first_sign_in(db, provider, now):
    app, made = await browser(db, provider)
    async with made as client:
        refused = await Browser(provider, client, app).sign_in("sam")
        assert refused.status_code == 403 and "Ask an administrator of this service to add you" in refused.text
    assert await Organiser.count() == 0
    app, made = await browser(db, provider, oidc_create_accounts=True)
    async with made as client:
        assert (await Browser(provider, client, app).sign_in("sam")).status_code == 303
    assert await Organiser.select(Organiser.email, Organiser.role, Organiser.password_hash).first() == {
        "email": "sam.cole@essex.gov.uk", "role": "organiser", "password_hash": ""}


async def test_a_rotated_key_is_fetched_when_a_token_names_it(db, provider, now):
    await create_organiser(email="ann.lee@essex.gov.uk", name="Ann Lee", password=ORGANISER_PASSWORD, now=now)
    app, made = await browser(db, provider)
    async with made as client:
        assert (await Browser(provider, client, app).sign_in("ann")).status_code == 303
    first_key = provider.key_id
    provider.restart()
    assert provider.key_id != first_key
    _, made = await browser(db, provider)
    async with made as client:
        assert (await Browser(provider, client, app).sign_in("ann")).status_code == 303
        assert (await client.get("/organisers")).status_code == 200


async def test_with_password_sign_in_off_only_the_provider_signs_in(db, provider, now, tmp_path):
    await create_organiser(email="jo@essex.gov.uk", name="Jo", password=ORGANISER_PASSWORD, now=now,
                           role=OrganiserRole.administrator)
    app, made = await browser(db, provider, password_sign_in=False)
    async with made as client:
        page = await client.get("/organisers/sign-in")
        assert "Sign in with your council account" in page.text and 'name="password"' not in page.text
        assert "Forgotten your password?" not in page.text
        for path in ("/organisers/sign-in", "/organisers/password-reset"):
            answer = await client.post(path, data={"email": "jo@essex.gov.uk", "password": ORGANISER_PASSWORD},
                                       headers={"x-csrftoken": client.cookies["csrftoken"]}, follow_redirects=False)
            assert answer.status_code == 404, path
        assert (await client.get("/organisers/password-reset")).status_code == 404
        assert (await client.get("/organisers/invitations/anything")).status_code == 404
    # An administrator's invitation says to sign in with the provider, and carries no password link.
    from app.organisers.services import OrganiserView, invite_organiser

    jo = OrganiserView.from_row(await Organiser.select().where(Organiser.email == "jo@essex.gov.uk").first())
    await invite_organiser(email="sam.cole@essex.gov.uk", name="Sam Cole", invited_by=jo, config=app.state["config"],
                           now=now)
    invitation = plain_text((await OutboxMessage.select(OutboxMessage.raw).where(
        OutboxMessage.kind == "organiser_invite").first())["raw"]).replace("\r\n", "\n")
    assert "Sign in with your council account:\nhttp://testserver.local/organisers/sign-in" in invitation
    assert "/organisers/invitations/" not in invitation
    assert await Organiser.select(Organiser.invite_token_hash).where(Organiser.email == "sam.cole@essex.gov.uk").first() == {
        "invite_token_hash": None}
    async with app_client(app, BASE) as client:
        assert (await Browser(provider, client, app).sign_in("sam")).status_code == 303  # the invited account, bound


def test_the_administrators_command_line_works_with_password_sign_in_off(provider, tmp_path):
    # The setting, not the database, is under test (the command line's own tests run on both).
    db = new_database("sqlite", tmp_path)
    env = {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": op.CLIENT_ID, "OIDC_CLIENT_SECRET": op.CLIENT_SECRET,
           "PASSWORD_SIGN_IN": "off"}
    made = run_cli(db, "organiser", "create", "--email", "jo@essex.gov.uk", "--name", "Jo", "--password-stdin",
                   env=env, input=ORGANISER_PASSWORD + "\n")
    assert "Organiser Jo <jo@essex.gov.uk> (administrator) created" in made.stdout
    assert "jo@essex.gov.uk" in run_cli(db, "organiser", "list", env=env).stdout
    refused = run_cli(db, "organiser", "list", env={"PASSWORD_SIGN_IN": "off"}, check=False)
    assert refused.returncode == 2 and "PASSWORD_SIGN_IN can be off only with OIDC_ISSUER set" in refused.stderr


async def test_a_provider_that_does_not_answer_is_a_page_that_says_so(db, now):
    from tests.support import free_port

    config = Config(database_url=db, base_url=BASE, secret_key="test-secret", password_profile="cheapest",
                    db_pool_size=0, mail_sender_in_process=False, oidc_issuer=f"http://127.0.0.1:{free_port()}",
                    oidc_client_id=op.CLIENT_ID, oidc_client_secret=op.CLIENT_SECRET)
    async with app_client(create_app(config), BASE) as client:
        down = await client.get("/organisers/sign-in/provider", follow_redirects=False)
        assert down.status_code == 502 and "Signing in is not working at the moment" in down.text
        forged = await client.get(identity_provider.CALLBACK_PATH, params={"state": "x" * 5000, "code": "y"})
        assert forged.status_code == 403 and "not started in this browser" in forged.text
    async with app_client(create_app(config.with_overrides(oidc_issuer="", oidc_client_id="",
                                                            oidc_client_secret="")), BASE) as off:
        assert (await off.get("/organisers/sign-in/provider")).status_code == 404
        assert (await off.get(identity_provider.CALLBACK_PATH)).status_code == 404
