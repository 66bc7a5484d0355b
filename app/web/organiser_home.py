"""The organiser workspace's home and the organisers' own accounts page."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.organisers.services import (
    invite_organiser,
    list_organisers,
)
from app.programme.services import EventFilters, list_events
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import error_summary, field_errors
from app.web.forms import InviteOrganiserForm, read
from app.web.templating import FormData


class OrganiserHome(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/", name="organiser_home")
    async def home(self, organiser: Organiser, now: Now) -> Template:
        events = await list_events(EventFilters(), now)
        upcoming = [e for e in events if e.ends_at >= now]
        past = [e for e in events if e.ends_at < now]
        past.reverse()
        return Template("organisers/home.html", context={
            "organiser": organiser, "upcoming": upcoming, "past": past[:20], "now": now})

    @get("/accounts", name="organiser_accounts")
    async def accounts(self, organiser: Organiser, invited: FromQuery[bool] = False) -> Template:
        return Template("organisers/accounts.html", context={
            "organiser": organiser, "organisers": await list_organisers(), "form": {}, "field_errors": {},
            "invited": invited})

    @post("/accounts", name="organiser_invite")
    async def invite(self, organiser: Organiser, data: FormData, now: Now,
                     config: ConfigDep) -> Template | Redirect:
        try:
            form = read(InviteOrganiserForm, data)
            await invite_organiser(email=str(form.email), name=form.name, invited_by=organiser, config=config,
                                   now=now)
            return Redirect("/organisers/accounts?invited=true", status_code=303)
        except DomainError as exc:
            errors = field_errors(exc, default_field="email")
        return Template("organisers/accounts.html", status_code=400, context={
            "organiser": organiser, "organisers": await list_organisers(), "form": data,
            "field_errors": errors, "errors": error_summary(errors), "invited": False})
