"""The organiser workspace's home and the organisers' own accounts page."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post
from litestar.response import Redirect, Template

from app.config import Settings
from app.organisers.services import (
    OrganiserExists,
    OrganiserView,
    invite_organiser,
    list_organisers,
)
from app.programme.services import EventFilters, list_events
from app.web.errors import error_summary
from app.web.templating import FormData


class OrganiserHome(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/", name="organiser_home")
    async def home(self, organiser: OrganiserView, now: dt.datetime) -> Template:
        events = await list_events(EventFilters(), now)
        upcoming = [e for e in events if e.ends_at >= now]
        past = [e for e in events if e.ends_at < now]
        past.reverse()
        return Template("organisers/home.html", context={
            "organiser": organiser, "upcoming": upcoming, "past": past[:20], "now": now})

    @get("/accounts", name="organiser_accounts")
    async def accounts(self, organiser: OrganiserView, invited: bool = False) -> Template:
        return Template("organisers/accounts.html", context={
            "organiser": organiser, "organisers": await list_organisers(), "form": {}, "field_errors": {},
            "invited": invited})

    @post("/accounts", name="organiser_invite")
    async def invite(self, organiser: OrganiserView, data: FormData, now: dt.datetime,
                     settings: Settings) -> Template | Redirect:
        name, email = data.get("name", "").strip(), data.get("email", "").strip()
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = "Enter their full name"
        if "@" not in email or len(email) > 254 or " " in email:
            errors["email"] = "Enter an email address in the correct format, like name@example.com"
        if not errors:
            try:
                await invite_organiser(email=email, name=name, invited_by=organiser, settings=settings, now=now)
                return Redirect("/organisers/accounts?invited=true", status_code=303)
            except OrganiserExists:
                errors["email"] = "There is already an organiser with this email address"
        return Template("organisers/accounts.html", status_code=400, context={
            "organiser": organiser, "organisers": await list_organisers(), "form": data,
            "field_errors": errors, "errors": error_summary(errors), "invited": False})
