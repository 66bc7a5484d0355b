"""Delivering webhook messages: each endpoint's oldest first (a later message waits until the one
before it is delivered), signed with the endpoint's secret (the Standard Webhooks library), to the
address checked at this delivery (`app.webhooks.addresses`), no redirect followed, 5 seconds at
most. A failure is retried later and later; an endpoint failing for a day is turned off and its
owner told. Every attempt is logged (its answer cut to 1 KB), the last 50 kept per endpoint.

Any number of processes may run this: an endpoint is claimed for a minute by the one delivering
its messages, so they go one at a time, in order."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.outgoing import tls_context
from app.tables.organisers import Organiser
from app.tables.webhooks import WebhookDelivery, WebhookEndpoint, WebhookMessage, WebhookStatus
from app.webhooks.addresses import AddressRefused, resolve
from app.webhooks.payloads import message_id, payload

log = logging.getLogger("app.webhooks")
TIMEOUT_SECONDS = 5.0
#: After the first failure, the next attempt waits this long, then each next step (the last repeats).
BACKOFF = (dt.timedelta(seconds=5), dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30),
           dt.timedelta(hours=2), dt.timedelta(hours=5))
TURNED_OFF_AFTER = dt.timedelta(days=1)
CLAIM_FOR = dt.timedelta(minutes=1)
KEEP_DELIVERIES = 50
RESPONSE_KEPT = 1024
USER_AGENT = "safeguarding-bookings-webhooks/1"


@dataclass
class WebhookReport:
    delivered: int = 0
    failed: int = 0
    turned_off: list[str] = field(default_factory=list)


@lru_cache(maxsize=4)
def _context(ca_file: Path | None) -> ssl.SSLContext:
    if ca_file is None:
        return tls_context()
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(ca_file))
    return context


def _backoff(attempts: int) -> dt.timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


async def deliver_webhooks(config: Config, *, now: dt.datetime, sender: str, limit: int = 100,
                           timeout: float = TIMEOUT_SECONDS) -> WebhookReport:
    """One pass: each enabled endpoint with a message due, claimed, its messages in order."""
    report = WebhookReport()
    due = await WebhookEndpoint.raw(
        "SELECT e.id FROM webhook_endpoint e WHERE e.enabled AND (e.claimed_until IS NULL OR e.claimed_until < {}) "
        "AND EXISTS (SELECT 1 FROM webhook_message m WHERE m.endpoint = e.id AND m.status = 'pending' "
        "AND m.next_attempt_at <= {}) ORDER BY e.id", now, now)
    for row in due:
        claimed = await WebhookEndpoint.update({WebhookEndpoint.claimed_by: sender,
                                                WebhookEndpoint.claimed_until: now + CLAIM_FOR}).where(
            (WebhookEndpoint.id == row["id"]) & (WebhookEndpoint.enabled == True)  # noqa: E712
            & (WebhookEndpoint.claimed_until.is_null() | (WebhookEndpoint.claimed_until < now))).returning(
            *WebhookEndpoint.all_columns())
        if not claimed:
            continue  # another process has it
        try:
            await _deliver_endpoint(claimed[0], config, now=now, limit=limit, timeout=timeout, report=report)
        finally:
            await WebhookEndpoint.update({WebhookEndpoint.claimed_by: "", WebhookEndpoint.claimed_until: None}).where(
                (WebhookEndpoint.id == row["id"]) & (WebhookEndpoint.claimed_by == sender))
    return report


async def _deliver_endpoint(endpoint: dict[str, Any], config: Config, *, now: dt.datetime, limit: int,
                            timeout: float, report: WebhookReport) -> None:
    waiting = await WebhookMessage.select().where(
        (WebhookMessage.endpoint == endpoint["id"]) & (WebhookMessage.status == WebhookStatus.pending.value)
    ).order_by(WebhookMessage.id).limit(limit)
    for message in waiting:  # the oldest first (one query for the pass, not one per message)
        if message["next_attempt_at"] > now:
            return  # the oldest waits for its retry: the rest wait behind it
        if not message["payload"]:
            message["payload"] = await payload(message, personal_data=endpoint["personal_data"])
            await WebhookMessage.update({WebhookMessage.payload: message["payload"]}).where(
                WebhookMessage.id == message["id"])
        ok = await _attempt(endpoint, message, config, now=now, timeout=timeout)
        if ok:
            report.delivered += 1
            await WebhookMessage.update({WebhookMessage.status: WebhookStatus.delivered.value,
                                         WebhookMessage.attempts: message["attempts"] + 1,
                                         WebhookMessage.delivered_at: now}).where(WebhookMessage.id == message["id"])
            if endpoint["failing_since"] is not None:
                endpoint["failing_since"] = None
                await WebhookEndpoint.update({WebhookEndpoint.failing_since: None}).where(
                    WebhookEndpoint.id == endpoint["id"])
            continue
        report.failed += 1
        attempts = message["attempts"] + 1
        await WebhookMessage.update({WebhookMessage.attempts: attempts,
                                     WebhookMessage.next_attempt_at: now + _backoff(attempts)}).where(
            WebhookMessage.id == message["id"])
        since = endpoint["failing_since"] or now
        if endpoint["failing_since"] is None:
            await WebhookEndpoint.update({WebhookEndpoint.failing_since: now}).where(WebhookEndpoint.id == endpoint["id"])
        if now - since >= TURNED_OFF_AFTER:
            await _turn_off(endpoint, config, now=now)
            report.turned_off.append(endpoint["url"])
        return


async def _attempt(endpoint: dict[str, Any], message: dict[str, Any], config: Config, *, now: dt.datetime,
                   timeout: float) -> bool:
    """One delivery, logged; True when the endpoint answered 2xx."""
    import httpx  # here, not at the start of every process: most passes deliver nothing
    from standardwebhooks.webhooks import Webhook

    started = time.perf_counter()
    status: int | None = None
    body, error = "", ""
    try:
        target = await resolve(endpoint["url"], allow_private=config.webhook_allow_private)
        msg_id = message_id(message["audit_record"])
        signature = Webhook(endpoint["secret"]).sign(msg_id, now, message["payload"])
        address = f"[{target.address}]" if ":" in target.address else target.address
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": signature, "content-type": "application/json", "user-agent": USER_AGENT,
                   "host": target.host if target.port == 443 else f"{target.host}:{target.port}"}
        async with httpx.AsyncClient(verify=_context(config.webhook_ca_file), timeout=httpx.Timeout(timeout),
                                     follow_redirects=False, trust_env=False) as client:
            # To the address just checked (never a second look-up), the name kept for TLS.
            response = await client.post(f"https://{address}:{target.port}{target.path}", headers=headers,
                                         content=message["payload"].encode(),
                                         extensions={"sni_hostname": target.host})
        status = response.status_code
        body = response.text[:RESPONSE_KEPT]
        if 300 <= status < 400:
            error = "redirects are not followed: register the address it redirects to"
    except AddressRefused as exc:
        error = str(exc)
    except httpx.TimeoutException:
        error = f"no answer within {timeout:g} seconds"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    milliseconds = int((time.perf_counter() - started) * 1000)
    async with write_transaction():
        await WebhookDelivery.insert(WebhookDelivery(
            endpoint=endpoint["id"], message=message["id"], attempted_at=now, status_code=status, response=body,
            error=error[:300], milliseconds=milliseconds))
        kept = await WebhookDelivery.select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint == endpoint["id"]).order_by(WebhookDelivery.id, ascending=False).offset(
            KEEP_DELIVERIES).limit(1).first()
        if kept is not None:
            await WebhookDelivery.delete().where((WebhookDelivery.endpoint == endpoint["id"])
                                                 & (WebhookDelivery.id <= kept["id"]))
    return status is not None and 200 <= status < 300


async def _turn_off(endpoint: dict[str, Any], config: Config, *, now: dt.datetime) -> None:
    reason = f"Every delivery failed for a day (since {endpoint['failing_since'] or now:%d %B %Y %H:%M} UTC)"
    async with write_transaction():
        await WebhookEndpoint.update({WebhookEndpoint.enabled: False, WebhookEndpoint.disabled_reason: reason}).where(
            WebhookEndpoint.id == endpoint["id"])
        owner = await Organiser.select(Organiser.email, Organiser.name).where(
            Organiser.id == endpoint["owner"]).first() if endpoint["owner"] else None
        recipient = owner["email"] if owner else config.organiser_mailbox
        await queue_email(compose_email(
            "webhook_off", recipient=recipient, config=config, subject="A webhook has been turned off",
            name=owner["name"] if owner else "organisers", url=endpoint["url"], description=endpoint["description"],
            reason=reason, link=f"{config.base_url}/organisers/webhooks/{endpoint['id']}"),
            kind="webhook_off", config=config, now=now, dedupe_key=f"webhook-off:{endpoint['id']}:{now:%Y%m%d%H%M}")
        await record("webhook.turned_off", "service", url=endpoint["url"], reason=reason)
    log.warning("Webhook to %s turned off: %s", endpoint["url"], reason)
