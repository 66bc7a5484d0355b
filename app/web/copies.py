"""A setting's contact chooses whether it gets copies of its staff's confirmations, cancellations
and certificates: asks for a link (emailed to the contact address only), then a POST on the page it
opens."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import DomainError
from app.settings_register.copies import choose_copies, contact_settings, request_contact_link
from app.web.dependencies import ConfigDep, Now
from app.web.errors import error_summary, field_errors
from app.web.forms import RecordLinkForm, read
from app.web.limits import limit_email
from app.web.templating import FormData


class CopiesPages(Controller):
    path = "/settings/copies"
    include_in_schema = False

    @get("/", name="copies_request")
    async def request_form(self) -> Template:
        return Template("settings/copies_request.html", context={"form": {}, "field_errors": {}, "sent": False})

    @post("/", name="copies_request_submit", opt={"limit": "copies_link"})
    async def request_link(self, data: FormData, now: Now, config: ConfigDep,
                           request: Request[Any, Any, Any]) -> Template:
        return await contact_link_requested(request, data, purpose="copies", template="settings/copies_request.html",
                                            now=now, config=config)

    @get("/{token:str}", name="copies_choose_form", opt={"limit": "token"})
    async def choose_form(self, token: FromPath[str], now: Now) -> Template:
        """The choice as it stands, and a button: following the link alone changes nothing."""
        return Template("settings/copies.html", context={"contact": await contact_settings(token, now),
                                                         "token": token, "saved": False})

    @post("/{token:str}", name="copies_choose", opt={"limit": "token"})
    async def choose(self, token: FromPath[str], data: FormData, now: Now) -> Template | Redirect:
        contact = await choose_copies(token, data.get("copies") == "yes", now=now)
        return Template("settings/copies.html", context={"contact": contact, "token": token, "saved": True})


async def contact_link_requested(request: Request[Any, Any, Any], data: dict[str, str], *, purpose: str,
                                 template: str, now: Any, config: Any) -> Template:
    """A setting's contact asks for a link (copies or evidence) to its own address: limited per
    client and per address; the same answer whether or not the address is a setting's contact."""
    try:
        form = read(RecordLinkForm, data)
        await limit_email(request, "copies_link", str(form.email))
        await request_contact_link(str(form.email), purpose=purpose, config=config, now=now)
    except DomainError as exc:
        errors = field_errors(exc, default_field="email")
        return Template(template, status_code=400, context={
            "form": {"email": str(data.get("email", "")).strip()}, "field_errors": errors,
            "errors": error_summary(errors), "sent": False})
    return Template(template, context={"form": {}, "field_errors": {}, "sent": True})
