"""Abuse limits, tried as an attacker would: one script booking from one address, one email
address booking everything, a bot filling every field, a flood of sign-ins; and the counters
themselves counting every hit when they arrive at once, in memory, in each database and in Redis."""

import asyncio
import datetime as dt
import re
import types

import pytest
from tests.support import app_client, csrf_token, redis_reachable

from app.bookings.services import EventFull, TooManyBookings, book_place
from app.config import Config
from app.main import create_app
from app.tables.bookings import Booking, BookingSource
from app.tables.limits import RateLimitHit
from app.tables.register import Person
from app.web.limits import LIMITS, DatabaseCounter, Limiter, MemoryCounter, RedisCounter
from tests import factories as f
from tests.conftest import ORGANISER_PASSWORD


async def csrf(client, path: str) -> str:
    page = await client.get(path)
    return csrf_token(page.text)


async def test_two_hundred_bookings_from_one_address_meet_429s(client, now):
    event_id = await f.event(now=now, capacity=500)
    answers = [await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(n)) for n in range(200)]
    made = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 429]
    assert len(made) == LIMITS["booking"]["address"].hits == 30 and len(refused) == 170
    assert refused[0].json()["code"] == "too_many_requests"
    assert 0 < int(refused[0].headers["retry-after"]) <= 3600
    assert await Booking.count() == 30  # the refused ones saved nothing


async def test_the_limits_are_lifted_by_rate_limits_off(db, now):
    config = Config(database_url=db, base_url="http://testserver.local", secret_key="s", db_pool_size=0,
                    mail_sender_in_process=False, rate_limits=False)
    event_id = await f.event(now=now, capacity=100)
    async with app_client(create_app(config), "http://testserver.local") as client:
        answers = [await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(n)) for n in range(40)]
    assert {a.status_code for a in answers} == {201}


async def test_one_email_address_is_limited_on_the_form_with_a_govuk_page(client, now):
    events = [await f.event(now=now, capacity=10) for _ in range(8)]
    statuses = []
    for event_id in events:
        token = await csrf(client, f"/events/{event_id}/book")
        answer = await client.post(f"/events/{event_id}/book", data={
            "_csrf_token": token, "name": "Sam Taylor", "email": "sam.taylor@school.example.org", "role": "dsl",
            "setting_name": "Oak Primary", "setting_urn": ""}, follow_redirects=False)
        statuses.append(answer.status_code)
    assert statuses == [303] * 6 + [429] * 2
    assert "Too many attempts" in answer.text and "govuk-heading-l" in answer.text
    assert int(answer.headers["retry-after"]) > 0
    assert await Booking.count() == 6


async def test_an_address_past_its_cap_is_refused_but_an_organiser_can_book_past_it(db, now):
    config = f.CONFIG.with_overrides(max_active_bookings=3)
    events = [await f.event(now=now, capacity=10) for _ in range(5)]
    ended = await f.event(now=now, starts_in=-dt.timedelta(days=3))
    await f.past_booking(ended, await f.person("Cap", "cap@school.example.org", now=now), await _setting(), now=now)
    request = f.request(email="cap@school.example.org")
    for event_id in events[:3]:
        await book_place(event_id, request, source=BookingSource.web, actor="public", now=now, config=config)
    with pytest.raises(TooManyBookings) as refused:
        await book_place(events[3], request, source=BookingSource.api, actor="api", now=now, config=config)
    assert "already has 3 bookings" in refused.value.message
    # Capacity answers first: on a full event the address at its cap is told what anyone is told.
    full = await f.event(now=now, capacity=1)
    await book_place(full, f.request(9), source=BookingSource.api, actor="api", now=now, config=config)
    with pytest.raises(EventFull):
        await book_place(full, request, source=BookingSource.api, actor="api", now=now, config=config)
    made = await book_place(events[3], request, source=BookingSource.organiser, actor="jo@essex.gov.uk", now=now,
                            config=config)
    assert made.status.value == "confirmed"  # organisers can book past the cap; a past event never counted


async def _setting() -> int:

    return await f.setting("Oak", on_register=False)


async def test_the_api_answers_the_cap_with_its_code_even_with_rate_limits_off(db, now):
    config = Config(database_url=db, base_url="http://testserver.local", secret_key="s", db_pool_size=0,
                    mail_sender_in_process=False, max_active_bookings=2, rate_limits=False)
    events = [await f.event(now=now, capacity=10) for _ in range(3)]
    async with app_client(create_app(config), "http://testserver.local") as client:
        answers = [await client.post(f"/api/events/{e}/bookings", json=f.api_body(1)) for e in events]
    assert [a.status_code for a in answers] == [201, 201, 409]
    body = answers[2].json()
    assert body["code"] == "too_many_bookings" and "already has 2 bookings" in body["detail"]


async def test_a_bot_filling_the_hidden_field_is_told_what_a_refused_booking_is_told(client, now):
    event_id = await f.event(now=now, capacity=10)
    full_id = await f.event(now=now, capacity=1, places_taken=1)
    token = await csrf(client, f"/events/{event_id}/book")
    form = {"_csrf_token": token, "name": "Bot", "email": "bot@school.example.org", "role": "dsl",
            "setting_name": "Oak Primary", "setting_urn": "", "waitlist": ""}
    page = await client.get(f"/events/{event_id}/book")
    assert re.search(r'<div hidden>\s*<label for="organisation_website">', page.text)
    trapped = await client.post(f"/events/{event_id}/book", data={**form, "organisation_website": "http://spam"})
    refused = await client.post(f"/events/{full_id}/book", data=form)
    assert trapped.status_code == refused.status_code == 409
    assert "This event is now fully booked" in trapped.text and "This event is now fully booked" in refused.text
    assert await Booking.count() == 0 and await Person.count() == 0


async def test_one_client_trying_many_addresses_is_refused_from_its_twentieth_failure(client, organiser):
    token = await csrf(client, "/organisers/sign-in")
    statuses = []
    for n in range(22):
        answer = await client.post("/organisers/sign-in", data={
            "_csrf_token": token, "email": f"guess{n}@essex.gov.uk", "password": "wrong"})
        statuses.append(answer.status_code)
    assert statuses[:19] == [400] * 19 and statuses[19:] == [429, 429, 429]
    assert "Too many attempts from this device" in answer.text
    # The owner is refused from this client too, but not from another (tests/organisers).
    answer = await client.post("/organisers/sign-in", data={
        "_csrf_token": token, "email": organiser.email, "password": ORGANISER_PASSWORD})
    assert answer.status_code == 429


async def test_a_public_booking_never_renames_the_person(client, now):
    first, second = await f.event(now=now), await f.event(now=now)
    assert (await client.post(f"/api/events/{first}/bookings",
                              json=f.api_body(1, name="Sam Taylor", email="sam@school.example.org"))).status_code == 201
    answer = await client.post(f"/api/events/{second}/bookings",
                               json=f.api_body(1, name="Someone Else", email="SAM@school.example.org"))
    assert answer.status_code == 201
    assert await Person.select(Person.name).output(as_list=True) == ["Sam Taylor"]
    # The booking keeps the name given (what its own emails say); the register keeps the person's.
    token = answer.json()["manage_token"]
    assert (await client.get(f"/api/bookings/{token}")).json()["name"] == "Someone Else"


async def test_a_full_width_address_is_the_same_person(client, now):
    event_id = await f.event(now=now)
    assert (await client.post(f"/api/events/{event_id}/bookings",
                              json=f.api_body(1, email="jo@school.example.org"))).status_code == 201
    again = await client.post(f"/api/events/{event_id}/bookings",
                              json=f.api_body(1, email="ｊｏ@school.example.org"))
    assert again.status_code == 409 and again.json()["code"] == "already_booked"
    assert await Person.count() == 1


@pytest.mark.parametrize("store", ["memory", "database", "redis"])
async def test_hits_that_arrive_at_once_are_each_counted(store, db):
    if store == "redis":
        reason = redis_reachable()
        if reason:
            pytest.skip(f"Redis unavailable: {reason}")
        counter = RedisCounter("redis://127.0.0.1:6379/15")
    else:
        counter = MemoryCounter() if store == "memory" else DatabaseCounter()
    key = f"test:{store}:{db[-12:]}:{asyncio.get_running_loop().time()}"
    counts = await asyncio.gather(*(counter.hit(key, 4102444800) for _ in range(50)))
    await counter.close()
    assert sorted(counts) == list(range(1, 51))
    if store == "database":
        assert await RateLimitHit.count() == 1


def test_the_client_address_comes_from_a_forwarding_header_only_behind_a_trusted_proxy():
    def connection(peer: str, forwarded: str):
        return types.SimpleNamespace(client=types.SimpleNamespace(host=peer), headers={"x-forwarded-for": forwarded})

    untrusting = Limiter(Config(), counter=MemoryCounter())
    trusting = Limiter(Config(trusted_proxies=("10.0.0.0/8",)), counter=MemoryCounter())
    assert untrusting.client_address(connection("10.0.0.5", "203.0.113.9")) == "10.0.0.5"
    assert trusting.client_address(connection("10.0.0.5", "198.51.100.1, 203.0.113.9")) == "203.0.113.9"
    assert trusting.client_address(connection("10.0.0.5", "203.0.113.9, 10.0.0.7")) == "203.0.113.9"
    # A client that is not the proxy cannot choose its own address by sending the header.
    assert trusting.client_address(connection("192.0.2.44", "203.0.113.9")) == "192.0.2.44"


async def test_a_full_event_answers_the_same_to_an_address_at_its_cap(db, now):
    """An attacker probing a full event learns nothing about an address: one with no bookings
    and one at its cap are both told event_full."""
    config = Config(database_url=db, base_url="http://testserver.local", secret_key="s", db_pool_size=0,
                    mail_sender_in_process=False, max_active_bookings=1)
    open_event, full = await f.event(now=now, capacity=10), await f.event(now=now, capacity=1, places_taken=1)
    async with app_client(create_app(config), "http://testserver.local") as client:
        assert (await client.post(f"/api/events/{open_event}/bookings", json=f.api_body(1))).status_code == 201
        at_cap = await client.post(f"/api/events/{full}/bookings", json=f.api_body(1))
        stranger = await client.post(f"/api/events/{full}/bookings", json=f.api_body(2))
    assert at_cap.json() == stranger.json() and at_cap.json()["code"] == "event_full"


def test_every_public_form_and_token_link_comes_under_a_limit(db):
    """Enumerated from the app: every public route that takes a POST, the setting look-up, and
    every page reached by a secret link (booking, questionnaire, reset) names its limit."""
    from tests.organisers.test_accounts import every_route

    app = create_app(Config(database_url=db, secret_key="s", db_pool_size=0, mail_sender_in_process=False))
    unlimited = []
    for path, method, handler in every_route(app):
        organiser_only = path.startswith(("/organisers", "/api/organiser")) and not path.startswith(
            ("/organisers/sign-in", "/organisers/invitations", "/organisers/password-reset"))
        if organiser_only or path in ("/organisers/sign-out",):
            continue
        secret_link = "{token" in path or "{manage_token" in path
        if method in ("OPTIONS", "HEAD"):  # answered by Litestar itself, no handler of ours
            continue
        if (method == "POST" or secret_link or path == "/api/settings") and not handler.opt.get("limit"):
            unlimited.append(f"{method} {path}")
    assert unlimited == []


@pytest.mark.parametrize("action", sorted(a for a, rules in LIMITS.items() if "email" in rules))
async def test_every_per_email_limit_counts_an_address_in_the_one_form_bookings_store(action):
    """However the address is typed (case, spaces, full-width letters), it is one count: the
    form `canonical_email` gives, which is the form a booking stores."""
    from app.validation import canonical_email
    from app.web.limits import RateLimited, limit_email

    limiter = Limiter(Config(), counter=MemoryCounter(), clock=lambda: 1_000_000.0)
    connection = types.SimpleNamespace(app=types.SimpleNamespace(state={"limiter": limiter}))
    spellings = ["sam@school.example.org", "SAM@School.Example.ORG", " ｓａｍ＠ｓｃｈｏｏｌ.example.org "]
    assert {canonical_email(s) for s in spellings} == {"sam@school.example.org"}
    for n in range(LIMITS[action]["email"].hits):
        await limit_email(connection, action, spellings[n % len(spellings)])
    with pytest.raises(RateLimited):
        await limit_email(connection, action, spellings[2])


def test_every_per_email_count_goes_through_limit_email():
    """No handler counts an address itself (it would count it as typed)."""
    from app.config import PROJECT_ROOT

    for path in (PROJECT_ROOT / "app").rglob("*.py"):
        if path.name != "limits.py":
            assert not re.search(r"\.check\([^)]*\"email\"", path.read_text()), path
