"""Organiser accounts: sign in and out, throttling, invitations, and the guard on every route."""

import datetime as dt
import json
import re

import pytest
from litestar.routes import HTTPRoute

from app.config import Config
from app.main import create_app
from app.organisers.services import InvitationInvalid, SignInRefused, sign_in
from app.tables.audit import AuditRecord
from app.tables.mail import OutboxMessage
from app.tables.organisers import Organiser
from app.web.auth import SESSION_COOKIE, organiser_required
from tests.conftest import ORGANISER_PASSWORD
from tests.support import csrf_token

#: The service's throttle, with its delays in hundredths of a second (the rule is the same).
FAST = Config(sign_in_delay_seconds=0.01)

#: Routes anyone may use. Every other route must refuse anonymous requests: a new route is
#: protected, or it is added here on purpose.
PUBLIC_PATHS = re.compile(
    r"^/$|^/events/|^/bookings/|^/calendar/|^/api/events|^/api/bookings/|^/api/settings$|^/api/areas$|^/api/certificates/|^/schema|^/assets"
    r"|^/organisers/sign-in$|^/organisers/sign-in/link/|^/organisers/sign-in/provider(/callback)?$|^/organisers/sign-out$|^/organisers/invitations/|^/organisers/password-reset(/|$)"
    r"|^/questionnaire/"  # a setting's secret link: no account, the token is the key
    r"|^/privacy$|^/accessibility$|^/quadrant$|^/brand\.css$|^/logo\.svg$"  # "Which quadrant am I in?" answers only a quadrant
    r"|^/documents/cp-file-review-record\.pdf$"  # a blank form from the briefing
    r"|^/feedback/|^/my-record(/|$)|^/certificates/verify$"  # a person's own record and feedback, by secret link
    r"|^/settings/copies(/|$)"  # a setting's contact asks for a link to its own address, and chooses by it
    r"|^/reminders/"  # a lead stops the reminders of their dates, by the secret link in each
    r"|^/packs/"  # a forum's slides and notes, by each person's own secret link
    r"|^/settings/evidence(/|$)|^/evidence/"  # a setting's contact shares its evidence with an inspector, by secret links
    r"|^/healthz$|^/readyz$|^/metrics$"  # probes; /metrics needs its own bearer token (tests/operations)
)


async def sign_in_through_form(client, email, password, next_path="/organisers"):
    page = await client.get("/organisers/sign-in", params={"next": next_path})
    token = csrf_token(page.text)
    return await client.post("/organisers/sign-in", follow_redirects=False,
                             data={"email": email, "password": password, "next": next_path, "_csrf_token": token})


def every_route(app):
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    yield route.path, method, handler


def test_every_route_is_public_on_purpose_or_behind_the_organiser_guard(db):
    app = create_app(Config(database_url=db, secret_key="x", password_profile="cheapest", mail_sender_in_process=False))
    protected = 0
    for path, method, handler in every_route(app):
        guarded = organiser_required in handler.resolve_guards()
        if PUBLIC_PATHS.search(path):
            assert not guarded or path.startswith("/organisers"), path
        else:
            assert guarded, f"{method} {path} is neither public nor behind the organiser guard"
            protected += 1
    assert protected >= 3


async def test_anonymous_requests_to_every_organiser_route_are_refused(client, db):
    app = client.app
    checked = 0
    for path, method, handler in every_route(app):
        if PUBLIC_PATHS.search(path):
            continue
        url = re.sub(r"\{[^}:]+:int\}", "1", path)
        url = re.sub(r"\{[^}]+\}", "x", url)
        response = await client.request(method, url, follow_redirects=False)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), f"{method} {url}: {response.status_code}"
        else:
            # Pages redirect to sign-in; unsafe methods may be stopped first by CSRF (403).
            assert response.status_code in (303, 403), f"{method} {url}: {response.status_code}"
            if response.status_code == 303:
                assert response.headers["location"].startswith("/organisers/sign-in?next=")
        checked += 1
    assert checked >= 3


async def test_signing_in_and_out(client, organiser):
    assert (await client.get("/organisers", follow_redirects=False)).headers["location"] == "/organisers/sign-in?next=/organisers"
    response = await sign_in_through_form(client, "JO.BARCLAY@essex.gov.uk", ORGANISER_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/organisers"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    home = await client.get("/organisers")
    assert home.status_code == 200 and "Signed in as Jo Barclay" in home.text
    token = csrf_token(home.text)
    out = await client.post("/organisers/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert (await client.get("/organisers", follow_redirects=False)).status_code == 303


async def test_a_session_works_in_another_app_process(db, organiser, now):
    """Sessions live in the database, so any process behind the load balancer knows them."""
    from tests.support import app_client

    token = await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now)
    other = create_app(Config(database_url=db, secret_key="x", password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False))
    async with app_client(other) as second:
        second.cookies.set(SESSION_COOKIE, token)
        assert (await second.get("/organisers")).status_code == 200


async def test_a_device_that_fails_five_times_is_refused_for_a_while_whether_or_not_the_account_exists(client, organiser):
    """The fifth failure from one client for one address refuses that client for 15 minutes,
    with the same words and status for an address that has no account."""
    for email in (organiser.email, "nobody@essex.gov.uk"):
        for _ in range(4):
            response = await sign_in_through_form(client, email, "wrong password!!")
            assert response.status_code == 400 and "Enter a correct email address and password" in response.text
        refused = await sign_in_through_form(client, email, "wrong password!!")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 14 * 60
        assert re.search(r"Too many attempts from this device\. Try again after \d{1,2}(:\d\d)?[ap]m", refused.text)
        assert "locked" not in refused.text
    # Even the right password is refused from this client (it is what a guesser would try next).
    still = await sign_in_through_form(client, organiser.email, ORGANISER_PASSWORD)
    assert still.status_code == 429


async def test_the_owner_signs_in_from_another_client_while_a_stranger_is_refused(organiser, now):
    from app.organisers.services import SignInThrottled

    for n in range(5):
        with pytest.raises(SignInRefused):
            await sign_in(email=organiser.email, password=f"guess {n}", now=now, client="203.0.113.9", config=FAST)
    with pytest.raises(SignInThrottled):
        await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, client="203.0.113.9", config=FAST)
    assert await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, client="198.51.100.7")
    # Fifteen minutes on, the stranger's client may try again.
    later = now + dt.timedelta(minutes=16)
    with pytest.raises(SignInRefused) as again:
        await sign_in(email=organiser.email, password="guess 6", now=later, client="203.0.113.9", config=FAST)
    assert type(again.value) is SignInRefused
    actions = [r["action"] for r in await AuditRecord.select(AuditRecord.action).order_by(AuditRecord.id)]
    assert actions.count("sign_in.throttle_started") == 1 and actions.count("sign_in.throttle_ended") == 1


async def test_a_wrong_password_and_an_unknown_address_run_the_same_hash_and_the_same_delays(organiser, now, monkeypatch):
    """The answer, the work and the waits are the same: the hash runs for an unknown address,
    both are counted, and the third and fourth failures from a device wait 1 then 2 units."""
    from app.organisers import services

    config = Config(sign_in_delay_seconds=0.01)
    hashed, slept = [], []
    original_verify, original_sleep = services._verify, services.asyncio.sleep
    monkeypatch.setattr(services, "_verify", lambda h, p: hashed.append(1) or original_verify(h, p))

    async def sleeping(seconds):
        slept.append(seconds)
        await original_sleep(0)

    monkeypatch.setattr(services.asyncio, "sleep", sleeping)
    answers = {}
    for email in (organiser.email, "nobody@essex.gov.uk"):
        hashed.clear(), slept.clear()
        messages = []
        for n in range(4):
            with pytest.raises(SignInRefused) as refused:
                await sign_in(email=email, password=f"guess {n}", now=now, client="203.0.113.9", config=config)
            messages.append((type(refused.value), refused.value.message))
        answers[email] = (messages, len(hashed), list(slept))
    assert answers[organiser.email] == answers["nobody@essex.gov.uk"]
    assert answers[organiser.email][1] == 4 and answers[organiser.email][2] == [0.01, 0.02]


async def test_fifty_failures_in_an_hour_tell_the_owner_and_ask_for_an_emailed_link_as_well(client, organiser, now):
    """Never a silent lock: the owner is emailed, the right password then sends a one-time link
    (from any client), the link signs in once, and an administrator can end the check."""
    from app.organisers.services import clear_extra_check, finish_sign_in

    for n in range(50):
        with pytest.raises(SignInRefused):
            await sign_in(email=organiser.email, password=f"guess {n}", now=now, client=f"203.0.113.{n}")
    alarm = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.raw).where(
        OutboxMessage.kind == "organiser_sign_in_alarm")
    assert [m["recipient"] for m in alarm] == [organiser.email]
    assert await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, client="198.51.100.7") is None
    [link_mail] = await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "organiser_sign_in_link")
    link = re.search(r"https?://[^/\s]+(/organisers/sign-in/link/[\w-]+)", _plain(link_mail["raw"])).group(1)
    page = await client.get(link)
    assert page.status_code == 200 and "Finish signing in" in page.text
    csrf = csrf_token(page.text)
    done = await client.post(link, data={"_csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and (await client.get("/organisers")).status_code == 200
    with pytest.raises(InvitationInvalid):  # once only
        await finish_sign_in(link.rsplit("/", 1)[1], now=now)
    await clear_extra_check(organiser.email, by=None)
    assert await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, client="198.51.100.7")
    actions = {r["action"] for r in await AuditRecord.select(AuditRecord.action)}
    assert {"organiser.extra_check_started", "organiser.sign_in_link_sent", "organiser.signed_in_by_link",
            "organiser.extra_check_cleared"} <= actions


async def test_the_extra_check_ends_by_itself_after_a_day(organiser, now):
    from app.jobs import run_timed_jobs

    for n in range(50):
        with pytest.raises(SignInRefused):
            await sign_in(email=organiser.email, password=f"guess {n}", now=now, client=f"203.0.113.{n}")
    assert await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, client="198.51.100.7") is None
    report = await run_timed_jobs(config=Config(), now=now + dt.timedelta(hours=25))
    assert report.sign_in_throttles_ended >= 1
    assert await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now + dt.timedelta(hours=25),
                         client="198.51.100.7")
    assert await AuditRecord.count().where(AuditRecord.action == "organiser.extra_check_ended") == 1


async def test_reset_requests_have_their_own_limit_and_never_keep_the_owner_from_signing_in(client, organiser):
    page = await client.get("/organisers/password-reset")
    csrf = csrf_token(page.text)
    answers = [await client.post("/organisers/password-reset", data={"email": organiser.email, "_csrf_token": csrf})
               for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert (await sign_in_through_form(client, organiser.email, ORGANISER_PASSWORD)).status_code == 303


async def test_the_reset_page_answers_the_same_whether_or_not_an_account_exists(client, organiser):
    page = await client.get("/organisers/password-reset")
    csrf = csrf_token(page.text)
    known = await client.post("/organisers/password-reset", data={"email": organiser.email, "_csrf_token": csrf})
    unknown = await client.post("/organisers/password-reset", data={"email": "nobody@essex.gov.uk", "_csrf_token": csrf})
    assert known.status_code == unknown.status_code == 200 and known.text == unknown.text


def _plain(raw: str) -> str:
    import email as email_lib
    from email import policy

    return email_lib.message_from_string(raw, policy=policy.default).get_body(("plain",)).get_content()


async def test_an_unknown_email_gets_the_same_answer(client, organiser):
    response = await sign_in_through_form(client, "nobody@essex.gov.uk", ORGANISER_PASSWORD)
    assert response.status_code == 400 and "Enter a correct email address and password" in response.text


async def test_passwords_are_stored_as_argon2_hashes(organiser):
    row = await Organiser.select(Organiser.password_hash).where(Organiser.id == organiser.id).first()
    assert row["password_hash"].startswith("$argon2id$") and ORGANISER_PASSWORD not in row["password_hash"]


async def test_after_sign_in_you_return_where_you_were_going_but_never_off_site(client, organiser):
    ok = await sign_in_through_form(client, organiser.email, ORGANISER_PASSWORD, "/organisers/accounts")
    assert ok.headers["location"] == "/organisers/accounts"
    client.cookies.clear()
    evil = await sign_in_through_form(client, organiser.email, ORGANISER_PASSWORD, "https://evil.example/")
    assert evil.headers["location"] == "/organisers"


async def test_an_organiser_invites_another_who_sets_a_password(signed_in, now):
    page = await signed_in.get("/organisers/accounts")
    token = csrf_token(page.text)
    bad = await signed_in.post("/organisers/accounts", data={"name": "", "email": "nope", "_csrf_token": token})
    assert bad.status_code == 400 and "Enter their full name" in bad.text
    sent = await signed_in.post("/organisers/accounts", follow_redirects=False,
                                data={"name": "Sam Patel", "email": "sam.patel@essex.gov.uk", "_csrf_token": token})
    assert sent.status_code == 303
    message = await OutboxMessage.select(OutboxMessage.raw, OutboxMessage.recipient).where(
        OutboxMessage.kind == "organiser_invite").first()
    assert message["recipient"] == "sam.patel@essex.gov.uk"
    import email as email_lib
    from email import policy

    body = email_lib.message_from_string(message["raw"], policy=policy.default).get_body(("plain",)).get_content()
    link = re.search(r"http://testserver\.local(/organisers/invitations/\S+)", body).group(1)
    signed_in.cookies.delete(SESSION_COOKIE)
    form = await signed_in.get(link)
    assert "Set your password" in form.text
    token = csrf_token(form.text)
    short = await signed_in.post(link, data={"password": "short", "confirm_password": "short", "_csrf_token": token})
    assert short.status_code == 400 and "12 characters or more" in short.text
    good = "four random words here"
    done = await signed_in.post(link, follow_redirects=False,
                                data={"password": good, "confirm_password": good, "_csrf_token": token})
    assert done.status_code == 303
    assert (await sign_in_through_form(signed_in, "sam.patel@essex.gov.uk", good)).status_code == 303
    assert (await signed_in.get(link)).status_code == 404  # used once only


async def test_the_organiser_api_needs_a_session_and_a_csrf_token(signed_in, client, now):
    from tests import factories as f

    event_id = await f.event(now=now, starts_in=dt.timedelta(minutes=10))
    booked = (await signed_in.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))).json()
    register = await signed_in.get(f"/api/organiser/events/{event_id}/register")
    assert register.status_code == 200
    [entry] = register.json()["bookings"]
    assert entry["reference"] == booked["reference"] and entry["attendance"] is None
    url = f"/api/organiser/bookings/{entry['booking_id']}/attendance"
    assert (await signed_in.post(url, json={"outcome": "attended"})).status_code == 403  # no CSRF header
    csrf = signed_in.cookies.get("csrftoken")
    ok = await signed_in.post(url, json={"outcome": "attended"}, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 200 and ok.json() == {"booking_id": entry["booking_id"], "attendance": "attended", "was": None}
    bad = await signed_in.post(url, json={"outcome": "maybe"}, headers={"X-CSRFToken": csrf})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "outcome"
    signed_in.cookies.delete(SESSION_COOKIE)
    anonymous = await signed_in.get(f"/api/organiser/events/{event_id}/register")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_signed_in"


async def test_twenty_wrong_passwords_at_once_from_one_client_are_all_counted_and_refuse_it_once(
        organiser, now, monkeypatch):
    """Guesses sent in parallel, every one past the door before any is counted: every one is
    counted (atomic increments), the refusal starts once (one audit record), the right password is
    refused from that client and taken from another."""
    import asyncio

    from app.organisers import throttle
    from app.organisers.services import SignInThrottled
    from app.tables.organisers import SignInThrottle

    # Held at the door until all twenty are through it: otherwise a guess that reaches the door
    # after the fifth failure is refused there, uncounted (as it should be), and the count is 19.
    door, through = throttle.refused_until, asyncio.Barrier(20)

    async def all_at_once(*args, **kwargs):
        answer = await door(*args, **kwargs)
        await asyncio.wait_for(through.wait(), 10)
        return answer

    monkeypatch.setattr(throttle, "refused_until", all_at_once)
    results = await asyncio.gather(*(sign_in(email=organiser.email, password=f"guess number {n}", now=now,
                                             client="203.0.113.9", config=FAST) for n in range(20)), return_exceptions=True)
    assert all(isinstance(r, SignInRefused) for r in results)
    assert sum(isinstance(r, SignInThrottled) for r in results) >= 15
    [device] = await SignInThrottle.select(SignInThrottle.failures).where(SignInThrottle.key.like("device:%"))
    assert device["failures"] == 20
    started = await AuditRecord.select(AuditRecord.detail).where(AuditRecord.action == "sign_in.throttle_started")
    scopes = sorted((json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"])["scope"] for r in started)
    assert scopes == ["client", "device"]  # the fifth failure refused the device, the twentieth the client
    monkeypatch.setattr(throttle, "refused_until", door)
    with pytest.raises(SignInThrottled):
        await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, client="203.0.113.9", config=FAST)
    assert await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, client="198.51.100.7")


async def test_password_hashing_runs_off_the_event_loop(organiser, now, monkeypatch):
    import threading

    from app.organisers import services

    threads = []
    original = services._verify

    def spying(hashed, password):
        threads.append(threading.current_thread().name)
        return original(hashed, password)

    monkeypatch.setattr(services, "_verify", spying)
    await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now)
    with pytest.raises(services.SignInRefused):
        await services.sign_in(email="nobody@essex.gov.uk", password="wrong password!!", now=now)
    assert threads and all(name.startswith("password-hash") for name in threads)


async def test_signing_in_again_ends_the_previous_session(organiser, now):
    from app.organisers.services import organiser_for_session

    first = await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now)
    second = await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now, previous=first)
    assert await organiser_for_session(first, now) is None
    assert (await organiser_for_session(second, now)).email == organiser.email


async def test_over_https_the_cookies_carry_the_host_prefix(db, organiser):
    from tests.support import app_client

    app = create_app(Config(database_url=db, base_url="https://bookings.example.gov.uk", secret_key="x",
                            password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False))
    async with app_client(app, "https://bookings.example.gov.uk") as client:
        response = await sign_in_through_form(client, organiser.email, ORGANISER_PASSWORD)
        assert response.status_code == 303
        cookies = response.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("__Host-sgb_organiser="))
        assert "Secure" in session and "Path=/" in session and "Domain" not in session
        assert client.cookies.get("__Host-csrftoken")
        assert (await client.get("/organisers")).status_code == 200
