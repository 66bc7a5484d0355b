"""Signing organisers in and out, and the guard that every organiser route carries."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.config import Config
from app.errors import DomainError
from app.organisers import identity_provider
from app.organisers.services import (
    InvitationInvalid,
    OrganiserView,
    ResetLinkEnded,
    SignInLinkEnded,
    SignInThrottled,
    accept_invitation,
    finish_sign_in,
    invitation_exists,
    organiser_for_session,
    request_password_reset,
    reset_link_valid,
    reset_password,
    sign_in,
    sign_in_link_valid,
    sign_out,
)
from app.validation import normal_email
from app.web.dependencies import ConfigDep, Now
from app.web.errors import error_summary, field_errors
from app.web.forms import ResetRequestForm, SetPasswordForm, SignInForm, read
from app.web.limits import limit_email, limiter_of
from app.web.templating import FormData

SESSION_COOKIE = "sgb_organiser"
#: Over https the cookie's name carries the __Host- prefix: the browser then accepts it only from
#: this host, over https, for the whole site, so a sibling domain cannot plant or overwrite it.
SECURE_SESSION_COOKIE = "__Host-sgb_organiser"


def session_cookie_name(config: Config) -> str:
    return SECURE_SESSION_COOKIE if config.base_url.startswith("https://") else SESSION_COOKIE


async def organiser_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the request must come from a signed-in organiser (pages redirect to sign-in; the
    API answers 401)."""
    clock, config = connection.app.state["clock"], connection.app.state["config"]
    organiser = await organiser_for_session(connection.cookies.get(session_cookie_name(config)), clock())
    if organiser is None:
        raise NotAuthorizedException("Sign in as an organiser")
    connection.state.organiser = organiser


def provide_organiser(request: Request[Any, Any, Any]) -> OrganiserView:
    return request.state.organiser


def sign_in_redirect(path: str) -> Redirect:
    return Redirect(f"/organisers/sign-in?next={quote(path)}", status_code=303)


def _safe_next(target: str | None) -> str:
    # Only paths inside the organiser workspace: never an open redirect to another site.
    if target and target.startswith("/organisers") and not target.startswith("//"):
        return target
    return "/organisers"


def _session_cookie(token: str, config: Config, hours: int = 12) -> dict[str, Any]:
    return {"key": session_cookie_name(config), "value": token, "httponly": True, "samesite": "lax", "path": "/",
            "secure": config.base_url.startswith("https://"), "max_age": hours * 3600}


#: The state of a sign-in sent to the identity provider, in this browser: the answer must come back
#: to the browser that asked (a sign-in started elsewhere and finished here is refused). Lax, so
#: the provider's redirect back (a top-level GET) carries it.
STATE_COOKIE = "sgb_provider_state"


def _state_cookie_name(config: Config) -> str:
    return f"__Host-{STATE_COOKIE}" if config.base_url.startswith("https://") else STATE_COOKIE


def _passwords_on(config: Config) -> None:
    if not config.password_sign_in:
        raise NotFoundException()




class SignInPages(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/sign-in", name="organiser_sign_in")
    async def form(self, config: ConfigDep, next: FromQuery[str | None] = None) -> Template:
        return Template("organisers/sign_in.html", context={"form": {}, "field_errors": {}, "next": _safe_next(next)})

    @get("/sign-in/provider", name="organiser_provider_sign_in", opt={"limit": "sign_in"})
    async def provider(self, config: ConfigDep, now: Now, next: FromQuery[str | None] = None) -> Redirect:
        """To the identity provider's login (a link, not a form: nothing here changes until it answers)."""
        if not config.provider_sign_in:
            raise NotFoundException()
        url, state = await identity_provider.start_sign_in(config, now, _safe_next(next))
        response = Redirect(url, status_code=303)
        response.set_cookie(key=_state_cookie_name(config), value=state, httponly=True, samesite="lax", path="/",
                            secure=config.base_url.startswith("https://"),
                            max_age=int(identity_provider.REQUEST_VALID_FOR.total_seconds()))
        return response

    @get(identity_provider.CALLBACK_PATH.removeprefix("/organisers"), name="organiser_provider_callback",
         opt={"limit": "sign_in"})
    async def provider_callback(self, config: ConfigDep, now: Now, request: Request[Any, Any, Any]) -> Redirect:
        if not config.provider_sign_in:
            raise NotFoundException()
        params = {k: str(v)[:2000] for k, v in request.query_params.items()}
        token, next_path = await identity_provider.finish_sign_in(
            params, browser_state=request.cookies.get(_state_cookie_name(config)), config=config, now=now,
            previous=request.cookies.get(session_cookie_name(config)))
        response = Redirect(_safe_next(next_path), status_code=303)
        response.set_cookie(**_session_cookie(token, config, config.session_max_hours))
        response.delete_cookie(_state_cookie_name(config), path="/")
        return response

    @post("/sign-in", name="organiser_sign_in_submit", opt={"limit": "sign_in"})
    async def submit(self, data: FormData, now: Now, config: ConfigDep,
                     request: Request[Any, Any, Any]) -> Template | Redirect:
        _passwords_on(config)
        try:
            form = read(SignInForm, data)
            token = await sign_in(email=normal_email(form.email), password=form.password, now=now, config=config,
                                  client=limiter_of(request).client_address(request),
                                  previous=request.cookies.get(session_cookie_name(config)))
        except DomainError as exc:
            errors = field_errors(exc, default_field="email")
            throttled = isinstance(exc, SignInThrottled)
            return Template("organisers/sign_in.html", status_code=429 if throttled else 400, context={
                "form": {"email": str(data.get("email", "")).strip()}, "field_errors": errors,
                "errors": error_summary(errors), "next": _safe_next(data.get("next"))},
                headers={"Retry-After": str(exc.retry_after)} if throttled else None)
        if token is None:  # the account needs the emailed link too: it has been sent
            return Template("errors/message.html", context={
                "heading": "Check your email to finish signing in",
                "paragraphs": ["Many wrong passwords were tried on this account recently, so signing in also needs a "
                               "one-time link. We have emailed it to you: it works once, within 15 minutes."]})
        response = Redirect(_safe_next(form.next), status_code=303)
        response.set_cookie(**_session_cookie(token, config))
        return response

    @post("/sign-out", name="organiser_sign_out")
    async def sign_out(self, request: Request[Any, Any, Any], config: ConfigDep) -> Redirect:
        await sign_out(request.cookies.get(session_cookie_name(config)))
        response = Redirect("/organisers/sign-in?signed_out=true", status_code=303)
        response.delete_cookie(session_cookie_name(config), path="/")
        return response

    @get("/password-reset", name="organiser_reset_request")
    async def reset_form(self, config: ConfigDep) -> Template:
        _passwords_on(config)
        return Template("organisers/reset_request.html", context={"form": {}, "field_errors": {}, "sent": False})

    @get("/sign-in/link/{token:str}", name="organiser_sign_in_link", opt={"limit": "token"})
    async def link(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template:
        _passwords_on(config)
        # A button, not a sign-in on GET: mail scanners follow links, and must not use this one.
        if not await sign_in_link_valid(token, now):
            raise SignInLinkEnded()
        return Template("organisers/sign_in_link.html", context={"action": f"/organisers/sign-in/link/{token}"})

    @post("/sign-in/link/{token:str}", name="organiser_sign_in_link_submit", opt={"limit": "sign_in"})
    async def link_submit(self, token: FromPath[str], now: Now, config: ConfigDep,
                          request: Request[Any, Any, Any]) -> Template | Redirect:
        _passwords_on(config)
        session = await finish_sign_in(token, now=now, previous=request.cookies.get(session_cookie_name(config)))
        response = Redirect("/organisers", status_code=303)
        response.set_cookie(**_session_cookie(session, config))
        return response

    @post("/password-reset", name="organiser_reset_request_submit", opt={"limit": "password_reset"})
    async def reset_request(self, data: FormData, now: Now, config: ConfigDep,
                            request: Request[Any, Any, Any]) -> Template:
        _passwords_on(config)
        try:
            form = read(ResetRequestForm, data)
            await limit_email(request, "password_reset", str(form.email))
            await request_password_reset(str(form.email), config=config, now=now)
        except DomainError as exc:
            errors = field_errors(exc, default_field="email")
            return Template("organisers/reset_request.html", status_code=400, context={
                "form": {"email": str(data.get("email", "")).strip()}, "field_errors": errors,
                "errors": error_summary(errors), "sent": False})
        # The same answer whether or not an account has the address.
        return Template("organisers/reset_request.html", context={"form": {}, "field_errors": {}, "sent": True})

    @get("/password-reset/{token:str}", name="organiser_reset", opt={"limit": "token"})
    async def reset(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template:
        _passwords_on(config)
        if not await reset_link_valid(token, now):
            raise ResetLinkEnded()
        return Template("organisers/set_password.html", context={
            "token": token, "field_errors": {}, "heading": "Choose a new password",
            "action": f"/organisers/password-reset/{token}"})

    @post("/password-reset/{token:str}", name="organiser_reset_submit", opt={"limit": "password_reset"})
    async def reset_submit(self, token: FromPath[str], data: FormData, now: Now, config: ConfigDep) -> Template | Redirect:
        _passwords_on(config)
        try:
            form = read(SetPasswordForm, data)
            await reset_password(token, password=form.password, now=now)
            return Redirect("/organisers/sign-in?reset=true", status_code=303)
        except InvitationInvalid:
            raise
        except DomainError as exc:
            errors = field_errors(exc, default_field="password")
        return Template("organisers/set_password.html", status_code=400, context={
            "token": token, "field_errors": errors, "errors": error_summary(errors),
            "heading": "Choose a new password", "action": f"/organisers/password-reset/{token}"})

    @get("/invitations/{token:str}", name="organiser_invitation", opt={"limit": "token"})
    async def invitation(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template:
        _passwords_on(config)
        if not await invitation_exists(token, now):
            raise InvitationInvalid()
        return Template("organisers/set_password.html", context={"token": token, "field_errors": {}})

    @post("/invitations/{token:str}", name="organiser_invitation_accept", opt={"limit": "password_reset"})
    async def accept(self, token: FromPath[str], data: FormData, now: Now, config: ConfigDep) -> Template | Redirect:
        _passwords_on(config)
        try:
            form = read(SetPasswordForm, data)
            await accept_invitation(token, password=form.password, now=now)
            return Redirect("/organisers/sign-in?joined=true", status_code=303)
        except InvitationInvalid:
            raise
        except DomainError as exc:
            errors = field_errors(exc, default_field="password")
        return Template("organisers/set_password.html", status_code=400, context={
            "token": token, "field_errors": errors, "errors": error_summary(errors)})
