"""The endpoints administrators register: checked, given a signing secret, turned off and on,
removed; and what the privacy notice says of those allowed personal data."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlsplit

from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.errors import InvalidInput, NotFound
from app.organisers.services import NotAllowed, OrganiserView
from app.tables.webhooks import WebhookDelivery, WebhookEndpoint, WebhookMessage, WebhookStatus
from app.validation import has_unprintable
from app.webhooks.addresses import AddressRefused, resolve


class EndpointNotFound(NotFound):
    message = "No webhook with this number"


def _administrator(by: OrganiserView) -> None:
    if not by.is_administrator:
        raise NotAllowed("Only an administrator can register or change webhooks")


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def register_endpoint(*, url: str, description: str, personal_data: bool, by: OrganiserView, config: Config,
                            now: dt.datetime) -> int:
    """A new endpoint (administrators only), its address checked now as it will be at every delivery."""
    _administrator(by)
    errors: dict[str, str] = {}
    description = description.strip()
    if not description:
        errors["description"] = "Say whose system this is and what it does with the messages"
    elif len(description) > 200 or has_unprintable(description):
        errors["description"] = "Keep the description to 200 characters of plain text"
    try:
        await resolve(url, allow_private=config.webhook_allow_private)
    except AddressRefused as exc:
        errors["url"] = str(exc)
    if errors:
        raise InvalidInput(errors)
    async with write_transaction():
        rows = await WebhookEndpoint.insert(WebhookEndpoint(
            url=url.strip(), description=description, secret=new_secret(), personal_data=personal_data,
            owner=by.id, created_at=now)).returning(WebhookEndpoint.id)
        await record("webhook.registered", by.email, url=url.strip(), personal_data=personal_data)
    return rows[0]["id"]


async def list_endpoints() -> list[dict[str, Any]]:
    """Every endpoint with its count of messages waiting (one query)."""
    return await WebhookEndpoint.raw(
        "SELECT e.id, e.url, e.description, e.personal_data, e.enabled, e.disabled_reason, e.failing_since, "
        "(SELECT COUNT(*) FROM webhook_message m WHERE m.endpoint = e.id AND m.status = 'pending') AS waiting "
        "FROM webhook_endpoint e ORDER BY e.id")


async def endpoint(endpoint_id: int) -> dict[str, Any]:
    row = await WebhookEndpoint.select(WebhookEndpoint.all_columns(),
                                       WebhookEndpoint.owner.name.as_alias("owner_name")).where(
        WebhookEndpoint.id == endpoint_id).first()
    if row is None:
        raise EndpointNotFound()
    row["waiting"] = await WebhookMessage.count().where(
        (WebhookMessage.endpoint == endpoint_id) & (WebhookMessage.status == WebhookStatus.pending.value))
    row["deliveries"] = await WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint_id).order_by(
        WebhookDelivery.id, ascending=False).limit(50)
    return row


async def set_enabled(endpoint_id: int, enabled: bool, *, by: OrganiserView, now: dt.datetime) -> None:
    """Turn an endpoint off, or on again: then its waiting messages go at once, oldest first."""
    _administrator(by)
    async with write_transaction():
        changed = await WebhookEndpoint.update({
            WebhookEndpoint.enabled: enabled, WebhookEndpoint.failing_since: None,
            WebhookEndpoint.disabled_reason: "" if enabled else f"Turned off by {by.name}"}).where(
            WebhookEndpoint.id == endpoint_id).returning(WebhookEndpoint.url)
        if not changed:
            raise EndpointNotFound()
        if enabled:
            await WebhookMessage.update({WebhookMessage.next_attempt_at: now}).where(
                (WebhookMessage.endpoint == endpoint_id) & (WebhookMessage.status == WebhookStatus.pending.value)
                & (WebhookMessage.next_attempt_at > now))
        await record("webhook.turned_on" if enabled else "webhook.turned_off", by.email, url=changed[0]["url"])


async def remove_endpoint(endpoint_id: int, *, by: OrganiserView) -> None:
    """Remove an endpoint with its waiting messages and its log."""
    _administrator(by)
    async with write_transaction():
        removed = await WebhookEndpoint.delete().where(WebhookEndpoint.id == endpoint_id).returning(WebhookEndpoint.url)
        if not removed:
            raise EndpointNotFound()
        await record("webhook.removed", by.email, url=removed[0]["url"])


async def personal_data_recipients() -> list[dict[str, Any]]:
    """Who receives personal data by webhook, for the privacy notice: each such endpoint's
    description and host."""
    rows = await WebhookEndpoint.select(WebhookEndpoint.description, WebhookEndpoint.url).where(
        WebhookEndpoint.personal_data == True).order_by(WebhookEndpoint.id)  # noqa: E712
    return [{"description": r["description"], "host": urlsplit(r["url"]).hostname} for r in rows]

