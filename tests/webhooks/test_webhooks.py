"""Other systems hear what happens: webhooks queued by the audit trail's trigger in the same
transaction, delivered in order per endpoint, signed (checked here with the Standard Webhooks
library), retried through an outage and received once each, to HTTPS on loopback with the tests'
own CA (WEBHOOK_ALLOW_PRIVATE). Both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from standardwebhooks.webhooks import Webhook

from app.bookings.services import book_place, cancel_booking, move_bookers, move_place
from app.db import write_transaction
from app.jobs import run_sender
from app.organisers.services import OrganiserView, create_organiser
from app.tables.attendance import Outcome
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from app.tables.organisers import OrganiserRole
from app.tables.webhooks import WebhookDelivery, WebhookEndpoint, WebhookMessage
from app.attendance.services import record_mark
from app.retention.services import MAIL_AFTER, purge
from app.webhooks.addresses import refusal
from app.webhooks.delivery import TURNED_OFF_AFTER, deliver_webhooks
from app.webhooks.endpoints import register_endpoint, set_enabled
from app.errors import InvalidInput
from tests import factories as f
from tests.conftest import ORGANISER_PASSWORD
from tests.webhooks.receiver import Receiver, make_certificates


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("webhook-ca"))


@pytest.fixture
def receiver(certificates):
    running = Receiver(certificates[1], certificates[2]).start()
    yield running
    running.stop()


@pytest.fixture
def config(certificates):
    return f.CONFIG.with_overrides(webhook_allow_private=True, webhook_ca_file=certificates[0])


async def admin(now) -> OrganiserView:
    return await create_organiser(email="jo.barclay@essex.gov.uk", name="Jo Barclay", password=ORGANISER_PASSWORD,
                                  now=now, role=OrganiserRole.administrator)


def verified(receiver: Receiver, secret: str) -> list[dict]:
    """Every message received, its signature checked by the Standard Webhooks library."""
    hook = Webhook(secret)
    return [{"id": r.headers["webhook-id"], **hook.verify(r.body, r.headers)} for r in receiver.received]


async def test_a_bookings_events_arrive_in_order_signed_and_once_each_after_an_outage(db, receiver, config, now):
    jo = await admin(now)
    endpoint_id = await register_endpoint(url=receiver.url, description="CRM", personal_data=False, by=jo,
                                          config=config, now=now)
    secret = (await WebhookEndpoint.select(WebhookEndpoint.secret).first())["secret"]
    event_id = await f.event(now=now)
    made = await book_place(event_id, f.request(1), source=BookingSource.web, actor="public", now=now, config=config)
    await cancel_booking(made.manage_token, actor="public", reason="Ill", now=now, config=config)
    again = await book_place(event_id, f.request(2), source=BookingSource.web, actor="public", now=now, config=config)
    assert await WebhookMessage.count() == 3  # queued with what they report, before any delivery

    receiver.status = 503  # the receiver is down
    down = await deliver_webhooks(config, now=now, sender="test")
    assert (down.delivered, down.failed) == (0, 1)  # the first message failed; the later ones wait behind it
    assert len(receiver.received) == 1
    soon = now + dt.timedelta(seconds=2)
    assert (await deliver_webhooks(config, now=soon, sender="test")).failed == 0  # not yet due again
    receiver.status = 204
    later = now + dt.timedelta(seconds=10)
    up = await deliver_webhooks(config, now=later, sender="test")
    assert (up.delivered, up.failed) == (3, 0)
    assert (await deliver_webhooks(config, now=later + dt.timedelta(minutes=5), sender="test")).delivered == 0

    messages = verified(receiver, secret)
    assert [m["type"] for m in messages] == ["booking.made", "booking.made", "booking.cancelled", "booking.made"]
    first_try, *delivered = messages
    assert first_try == delivered[0]  # the retry is the same message: same id, same body
    assert len({m["id"] for m in delivered}) == 3
    assert [(m["data"]["booking"]["id"], m["data"]["booking"]["sequence"]) for m in delivered] == [
        (made.id, 1), (made.id, 2), (again.id, 1)]
    assert delivered[1]["data"]["apology"] is True and delivered[1]["data"]["event"]["id"] == event_id
    assert "reason" not in delivered[1]["data"]  # the booker's words ("Ill") are personal data
    assert all("person" not in m["data"] for m in messages)  # this endpoint may not have personal data
    assert "person1@school.example.org" not in b"".join(r.body for r in receiver.received).decode()
    for m in messages:
        assert dt.datetime.fromisoformat(m["timestamp"]) <= later
    log = await WebhookDelivery.select(WebhookDelivery.status_code).where(
        WebhookDelivery.endpoint == endpoint_id).order_by(WebhookDelivery.id)
    assert [r["status_code"] for r in log] == [503, 204, 204, 204]


async def test_personal_data_only_where_allowed_and_the_privacy_notice_names_the_recipient(db, receiver, config,
                                                                                          client, now):
    jo = await admin(now)
    await register_endpoint(url=receiver.url, description="County CRM (Dynamics)", personal_data=True, by=jo,
                            config=config, now=now)
    event_id = await f.event(now=now, starts_in=dt.timedelta(hours=-3))
    made = await book_place(event_id, f.request(1), source=BookingSource.organiser, actor=jo.email,
                            now=now - dt.timedelta(days=1), config=config)
    async with write_transaction():
        await record_mark(made.id, Outcome.attended, organiser=jo, now=now, config=config)
    # (the audit trail dates its records by the clock on the wall, a moment after the test's `now`)
    assert (await deliver_webhooks(config, now=now + dt.timedelta(seconds=5), sender="test")).delivered == 3
    types = [json.loads(r.body)["type"] for r in receiver.received]
    assert types == ["booking.made", "attendance.recorded", "certificate.issued"]
    booked, attended, _ = (json.loads(r.body)["data"] for r in receiver.received)
    assert booked["person"] == {"name": "Person 1", "email": "person1@school.example.org", "role": "dsl"}
    assert attended["outcome"] == "attended"
    privacy = (await client.get("/privacy")).text
    assert "County CRM (Dynamics) (127.0.0.1)" in privacy
    # Kept as long as an email is: then the bodies go, the rows (and the numbering) stay.
    report = await purge(now=now + MAIL_AFTER + dt.timedelta(days=1))
    assert report.webhook_payloads_emptied == 3
    assert {r["payload"] for r in await WebhookMessage.select(WebhookMessage.payload)} == {""}


async def test_private_addresses_plain_http_redirects_and_slow_receivers_are_refused(db, receiver, config, now):
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.10", "169.254.169.254", "100.64.0.1",
                    "224.0.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1",
                    "::ffff:10.0.0.1", "2002:7f00:1::1"):
        assert refusal(address) is not None, address
    assert refusal("8.8.8.8") is None and refusal("2a00:1450:4009:81e::200e") is None
    jo = await admin(now)
    strict = config.with_overrides(webhook_allow_private=False)
    with pytest.raises(InvalidInput) as private:
        await register_endpoint(url=receiver.url, description="CRM", personal_data=False, by=jo, config=strict, now=now)
    assert "127.0.0.1 is a loopback address" in private.value.errors["url"]
    with pytest.raises(InvalidInput) as plain:
        await register_endpoint(url=receiver.url.replace("https", "http"), description="CRM", personal_data=False,
                                by=jo, config=config, now=now)
    assert "never sent over plain http" in plain.value.errors["url"]
    with pytest.raises(InvalidInput) as organiser_only:
        await register_endpoint(url="https://user:pw@example.org/", description="", personal_data=False, by=jo,
                                config=config, now=now)
    assert set(organiser_only.value.errors) == {"url", "description"}

    # Registered while allowed; at delivery the address is checked again, under today's settings.
    await register_endpoint(url=receiver.url, description="CRM", personal_data=False, by=jo, config=config, now=now)
    await book_place(await f.event(now=now), f.request(1), source=BookingSource.web, actor="public", now=now,
                     config=config)
    assert (await deliver_webhooks(strict, now=now, sender="test")).failed == 1
    assert receiver.received == []  # nothing was sent there
    receiver.status, receiver.location = 302, "https://127.0.0.1:1/elsewhere"
    receiver.body = b"x" * 5000
    await deliver_webhooks(config, now=now + dt.timedelta(seconds=10), sender="test")
    receiver.status, receiver.location, receiver.delay = 204, "", 1.0
    await deliver_webhooks(config, now=now + dt.timedelta(minutes=2), sender="test", timeout=0.3)
    log = await WebhookDelivery.select().order_by(WebhookDelivery.id)
    assert "loopback address" in log[0]["error"] and log[0]["status_code"] is None
    assert log[1]["status_code"] == 302 and "redirects are not followed" in log[1]["error"]
    assert len(log[1]["response"]) == 1024  # the answer's body, cut to 1 KB
    assert log[2]["error"] == "no answer within 0.3 seconds"
    assert await WebhookMessage.count().where(WebhookMessage.status == "pending") == 1  # still waiting, not lost


async def test_an_endpoint_failing_for_a_day_is_turned_off_and_its_owner_told(db, receiver, config, now):
    jo = await admin(now)
    endpoint_id = await register_endpoint(url=receiver.url, description="CRM", personal_data=False, by=jo,
                                          config=config, now=now)
    await book_place(await f.event(now=now), f.request(1), source=BookingSource.web, actor="public", now=now,
                     config=config)
    receiver.status = 500
    await deliver_webhooks(config, now=now, sender="test")
    almost = now + TURNED_OFF_AFTER - dt.timedelta(minutes=1)
    await deliver_webhooks(config, now=almost, sender="test")
    assert (await WebhookEndpoint.select(WebhookEndpoint.enabled).first())["enabled"] is True
    report = await deliver_webhooks(config, now=now + TURNED_OFF_AFTER + dt.timedelta(hours=6), sender="test")
    assert report.turned_off == [receiver.url]
    told = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.subject).where(
        OutboxMessage.kind == "webhook_off")
    assert told == [{"recipient": "jo.barclay@essex.gov.uk", "subject": "A webhook has been turned off"}]
    tried = len(receiver.received)
    assert (await deliver_webhooks(config, now=now + dt.timedelta(days=3), sender="test")).delivered == 0
    assert len(receiver.received) == tried  # off: nothing is sent
    receiver.status = 204
    await set_enabled(endpoint_id, True, by=jo, now=now + dt.timedelta(days=3))
    assert (await deliver_webhooks(config, now=now + dt.timedelta(days=3), sender="test")).delivered == 1


async def test_only_administrators_register_webhooks(signed_in, organiser, db, now, receiver, config):
    made = await register_endpoint(url=receiver.url, description="County CRM", personal_data=False, by=organiser,
                                   config=config, now=now)
    secret = (await WebhookEndpoint.select(WebhookEndpoint.secret).first())["secret"]
    shown = (await signed_in.get(f"/organisers/webhooks/{made}")).text
    assert secret in shown and "&lt;" not in shown  # the secret for the administrator, as text
    page = await signed_in.get("/organisers/webhooks/")
    assert page.status_code == 200 and "Register a webhook" in page.text
    from tests.support import csrf_token

    # The test app does not trust the tests' CA nor allow loopback: the address is refused, on the page.
    refused = await signed_in.post("/organisers/webhooks/", data={
        "url": receiver.url, "description": "CRM", "_csrf_token": csrf_token(page.text)})
    assert refused.status_code == 400 and "loopback address" in refused.text and "govuk-error-summary" in refused.text
    sam = await create_organiser(email="sam@essex.gov.uk", name="Sam", password=ORGANISER_PASSWORD, now=now)
    with pytest.raises(Exception, match="Only an administrator"):
        await register_endpoint(url="https://example.org/", description="CRM", personal_data=False, by=sam,
                                config=f.CONFIG, now=now)


async def test_a_move_by_the_booker_or_by_organisers_says_who_moved_it(db, receiver, config, now):
    jo = await admin(now)
    await register_endpoint(url=receiver.url, description="CRM", personal_data=False, by=jo, config=config, now=now)
    first, second, third = [await f.event(now=now, starts_in=dt.timedelta(days=d)) for d in (7, 14, 21)]
    made = await book_place(first, f.request(1), source=BookingSource.web, actor="public", now=now, config=config)
    moved = await move_place(made.manage_token, second, now=now, config=config)
    await move_bookers(second, third, actor=jo.email, now=now, config=config)
    assert (await deliver_webhooks(config, now=now + dt.timedelta(seconds=5), sender="test")).delivered == 5
    said = [(m["type"], m["data"]["booking"]["id"], m["data"].get("moved_by"), m["data"].get("moved_from_booking"))
            for m in (json.loads(r.body) for r in receiver.received)]
    third_booking = said[3][1]
    assert said == [("booking.made", made.id, None, None),
                    ("booking.moved", moved.id, "booker", made.id), ("booking.cancelled", made.id, None, None),
                    ("booking.moved", third_booking, "organiser", moved.id),
                    ("booking.cancelled", moved.id, None, None)]


async def test_the_sender_loop_delivers_webhooks_as_it_sends_email(db, receiver, config, now, tmp_path):
    jo = await admin(now)
    await register_endpoint(url=receiver.url, description="CRM", personal_data=False, by=jo, config=config, now=now)
    stop = asyncio.Event()
    loop = asyncio.create_task(run_sender(config.with_overrides(mail_dir=tmp_path), now=lambda: dt.datetime.now(
        dt.timezone.utc), stop=stop, poll_seconds=0.1))
    try:
        await book_place(await f.event(now=now), f.request(1), source=BookingSource.web, actor="public", now=now,
                         config=config)
        for _ in range(100):
            if receiver.received:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["booking.made"]


async def test_the_waiting_list_is_heard_of_a_place_waited_for_then_offered(db, receiver, config, now):
    jo = await admin(now)
    await register_endpoint(url=receiver.url, description="CRM", personal_data=False, by=jo, config=config, now=now)
    event_id = await f.event(now=now, capacity=1, starts_in=dt.timedelta(days=10))
    first = await book_place(event_id, f.request(1), source=BookingSource.web, actor="public", now=now, config=config)
    waiting = await book_place(event_id, f.request(2).model_copy(update={"waitlist": True}), source=BookingSource.web,
                               actor="public", now=now, config=config)
    await cancel_booking(first.manage_token, actor="public", reason="Cannot come", now=now, config=config)
    assert (await deliver_webhooks(config, now=now + dt.timedelta(seconds=5), sender="test")).delivered == 4
    said = [(m["type"], m["data"]["booking"]["id"], m["data"]["booking"]["sequence"])
            for m in (json.loads(r.body) for r in receiver.received)]
    # One transaction frees the place and offers it; its records (so its messages) in the order written.
    assert said == [("booking.made", first.id, 1), ("booking.waitlisted", waiting.id, 1),
                    ("booking.offered", waiting.id, 2), ("booking.cancelled", first.id, 2)]
    offered = json.loads(receiver.received[2].body)["data"]
    assert dt.datetime.fromisoformat(offered["expires_at"]) > now
