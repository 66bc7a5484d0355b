"""The organiser workspace's home and the organisers' own accounts page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.organisers.services import (
    change_password,
    deactivate_organiser,
    end_session,
    invite_organiser,
    list_organisers,
    clear_extra_check,
    reactivate_organiser,
    sessions_of,
    set_role,
)
from app.attendance.services import events_with_attendance_unrecorded
from app.programme.low_numbers import below_minimum
from app.programme.services import EventFilters, list_events
from app.web.auth import session_cookie_name
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import error_summary, field_errors
from app.web.forms import AccountForm, ChangePasswordForm, InviteOrganiserForm, read
from app.web.templating import FormData

_CHANGED = {"deactivate": "Account deactivated: it can no longer sign in, and its sessions have ended",
            "reactivate": "Account reactivated", "role": "Role changed",
            "clear-check": "Extra sign-in check ended: the password alone signs in again"}


class OrganiserHome(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/", name="organiser_home")
    async def home(self, organiser: Organiser, now: Now, config: ConfigDep) -> Template:
        events = await list_events(EventFilters(), now)
        upcoming = [e for e in events if e.ends_at >= now]
        past = [e for e in events if e.ends_at < now]
        past.reverse()
        return Template("organisers/home.html", context={
            "organiser": organiser, "upcoming": upcoming, "past": past[:20], "now": now,
            "unrecorded": await events_with_attendance_unrecorded(now),
            "assumed": sum(e.capacity_assumed for e in upcoming),
            "below_minimum": await below_minimum(now, config), "minimum_days": config.minimum_warning_days})

    @get("/accounts", name="organiser_accounts")
    async def accounts(self, organiser: Organiser, now: Now, invited: FromQuery[bool] = False,
                       changed: FromQuery[str | None] = None) -> Template:
        return Template("organisers/accounts.html", context={
            "organiser": organiser, "organisers": await list_organisers(), "form": {}, "field_errors": {},
            "invited": invited, "changed": _CHANGED.get(changed or ""), "now": now})

    @post("/accounts/{change:str}", name="organiser_account_change")
    async def change_account(self, organiser: Organiser, change: FromPath[str], data: FormData, now: Now) -> Template | Redirect:
        """An administrator deactivates (ending every session at once), reactivates, or changes
        the role of an account; refusals (not an administrator, oneself, the last administrator)
        are said on the page."""
        try:
            form = read(AccountForm, data)
            if change == "deactivate":
                await deactivate_organiser(str(form.email), by=organiser)
            elif change == "reactivate":
                await reactivate_organiser(str(form.email), by=organiser)
            elif change == "clear-check":
                await clear_extra_check(str(form.email), by=organiser)
            elif change == "role" and form.role is not None:
                await set_role(str(form.email), form.role, by=organiser)
            else:
                raise NotFoundException()
            return Redirect(f"/organisers/accounts?changed={change}", status_code=303)
        except DomainError as exc:
            errors = field_errors(exc, default_field="email")
            status = exc.status if exc.status in (403, 404) else 400
        return Template("organisers/accounts.html", status_code=status,
                        context={"organiser": organiser, "organisers": await list_organisers(), "form": {},
                                 "field_errors": {}, "errors": error_summary(errors), "invited": False, "now": now})

    @get("/account", name="organiser_my_account")
    async def my_account(self, organiser: Organiser, request: Request[Any, Any, Any], config: ConfigDep,
                         changed: FromQuery[bool] = False) -> Template:
        return Template("organisers/my_account.html", context={
            "organiser": organiser, "field_errors": {}, "changed": changed,
            "sessions": await sessions_of(organiser, request.cookies.get(session_cookie_name(config)))})

    @post("/account/password", name="organiser_change_password")
    async def change_password(self, organiser: Organiser, data: FormData, request: Request[Any, Any, Any],
                              config: ConfigDep) -> Template | Redirect:
        if not config.password_sign_in:
            raise NotFoundException()
        current = request.cookies.get(session_cookie_name(config))
        try:
            form = read(ChangePasswordForm, data)
            await change_password(organiser, current=form.current, new=form.password, keep=current)
            return Redirect("/organisers/account?changed=true", status_code=303)
        except DomainError as exc:
            errors = field_errors(exc, default_field="password")
        return Template("organisers/my_account.html", status_code=400, context={
            "organiser": organiser, "field_errors": errors, "errors": error_summary(errors), "changed": False,
            "sessions": await sessions_of(organiser, current)})

    @post("/account/sessions/{session_id:int}/end", name="organiser_end_session")
    async def end_session(self, organiser: Organiser, session_id: FromPath[int]) -> Redirect:
        await end_session(organiser, session_id)
        return Redirect("/organisers/account", status_code=303)

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
            "field_errors": errors, "errors": error_summary(errors), "invited": False, "now": now})
