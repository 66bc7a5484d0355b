"""Webhooks in the organiser workspace: administrators register, turn off and on, and remove the
endpoints other systems gave; every organiser sees them and their deliveries (the secrets only
administrators)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.webhooks.endpoints import endpoint, list_endpoints, register_endpoint, remove_endpoint, set_enabled
from app.webhooks.payloads import TYPES
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import error_summary, field_errors
from app.web.templating import FormData

_FIELDS = ("url", "description")
EVENT_TYPES = sorted(set(TYPES.values()) | {"booking.moved"})


class WebhooksAdmin(Controller):
    path = "/organisers/webhooks"
    include_in_schema = False

    @get("/", name="organiser_webhooks")
    async def index(self, organiser: Organiser) -> Template:
        return Template("organisers/webhooks.html", context={
            "organiser": organiser, "endpoints": await list_endpoints(), "form": {}, "field_errors": {},
            "types": EVENT_TYPES})

    @post("/", name="organiser_webhook_add")
    async def add(self, organiser: Organiser, data: FormData, config: ConfigDep, now: Now) -> Template | Redirect:
        form = {k: str(data.get(k, ""))[:2100] for k in _FIELDS}
        try:
            made = await register_endpoint(url=form["url"], description=form["description"],
                                           personal_data=data.get("personal_data") == "yes", by=organiser,
                                           config=config, now=now)
        except DomainError as exc:
            errors = field_errors(exc, default_field="url")
            ordered = {f: errors[f] for f in (*_FIELDS, *errors) if f in errors}
            return Template("organisers/webhooks.html", status_code=exc.status if exc.status == 403 else 400, context={
                "organiser": organiser, "endpoints": await list_endpoints(), "form": form, "field_errors": ordered,
                "errors": error_summary(ordered), "types": EVENT_TYPES})
        return Redirect(f"/organisers/webhooks/{made}?added=true", status_code=303)

    @get("/{endpoint_id:int}", name="organiser_webhook")
    async def show(self, organiser: Organiser, endpoint_id: FromPath[int], added: FromQuery[bool] = False) -> Template:
        return Template("organisers/webhook.html", context={
            "organiser": organiser, "endpoint": await endpoint(endpoint_id), "added": added})

    @post("/{endpoint_id:int}/{change:str}", name="organiser_webhook_change")
    async def change(self, organiser: Organiser, endpoint_id: FromPath[int], change: FromPath[str],
                     now: Now) -> Redirect:
        if change == "remove":
            await remove_endpoint(endpoint_id, by=organiser)
            return Redirect("/organisers/webhooks", status_code=303)
        if change not in ("on", "off"):
            raise NotFoundException()
        await set_enabled(endpoint_id, change == "on", by=organiser, now=now)
        return Redirect(f"/organisers/webhooks/{endpoint_id}", status_code=303)
