"""A setting's page of evidence (issue 25, point 5): for organisers; for the setting's contact,
through a link emailed to that address, with which they make and withdraw links for an inspector;
and for the inspector, by such a link: that page and nothing else, never indexed or cached, each
opening recorded. Printable, and as a PDF."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.config import Config
from app.errors import InvalidInput
from app.pdf import identity, pdf_apart
from app.setting_overview import SettingEvidence, SettingNotFound, setting_evidence
from app.settings_register.sharing import evidence_contact, make_share, open_share, shares_of, withdraw_share
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.copies import contact_link_requested
from app.web.errors import error_summary
from app.web.templating import FormData

#: An inspector's page: never in a search index, never kept by a cache (the service sends
#: no-store and no referrer on every answer).
UNLISTED = {"X-Robots-Tag": "noindex, nofollow, noarchive"}


async def _pdf(ev: SettingEvidence, config: Config) -> Response[bytes]:
    data = await pdf_apart("evidence.html", ev=ev, **identity(config))
    return Response(data, media_type="application/pdf", headers={
        **UNLISTED, "Content-Disposition": f'attachment; filename="safeguarding-evidence-{ev.setting["id"]}.pdf"'})


class EvidenceAdmin(Controller):
    path = "/organisers/settings/{setting_id:int}"
    include_in_schema = False

    @get("/evidence", name="organiser_evidence")
    async def page(self, organiser: Organiser, setting_id: FromPath[int], now: Now, config: ConfigDep) -> Template:
        return Template("organisers/evidence.html", context={
            "organiser": organiser, "ev": await setting_evidence(setting_id, now, config)})

    @get("/evidence.pdf", name="organiser_evidence_pdf")
    async def pdf(self, organiser: Organiser, setting_id: FromPath[int], now: Now, config: ConfigDep) -> Response[bytes]:
        return await _pdf(await setting_evidence(setting_id, now, config), config)


class EvidenceContactPages(Controller):
    """The setting's contact: asks for the link, sees the evidence, makes and withdraws links."""

    path = "/settings/evidence"
    include_in_schema = False

    @get("/", name="evidence_request")
    async def request_form(self) -> Template:
        return Template("settings/evidence_request.html", context={"form": {}, "field_errors": {}, "sent": False})

    @post("/", name="evidence_request_submit", opt={"limit": "copies_link"})
    async def request_link(self, data: FormData, now: Now, config: ConfigDep,
                           request: Request[Any, Any, Any]) -> Template:
        return await contact_link_requested(request, data, purpose="evidence",
                                            template="settings/evidence_request.html", now=now, config=config)

    async def _shares(self, token: str, now: Any, *, made: str = "", made_share: Any = None,
                      form: dict | None = None, errors: dict[str, str] | None = None,
                      base_url: str = "", status_code: int = 200) -> Template:
        contact = await evidence_contact(token, now)
        errors = errors or {}
        setting = (form or {}).get("setting", "")
        return Template("settings/evidence_shares.html", status_code=status_code, context={
            "contact": contact, "shares": await shares_of(contact), "token": token, "now": now,
            "made": f"{base_url}/evidence/{made}" if made else "", "made_share": made_share, "form": form or {},
            "field_errors": errors, "errors": error_summary({f"days-{setting}": m for m in errors.values()})})

    @get("/{token:str}", name="evidence_shares", opt={"limit": "token"})
    async def shares(self, token: FromPath[str], now: Now) -> Template:
        return await self._shares(token, now)

    @post("/{token:str}/shares", name="evidence_share_make", opt={"limit": "token"})
    async def make(self, token: FromPath[str], data: FormData, now: Now, config: ConfigDep) -> Template:
        setting = str(data.get("setting", ""))
        try:
            share, secret = await make_share(token, int(setting) if setting.isdigit() else 0, str(data.get("days", "")),
                                             now=now)
        except InvalidInput as exc:
            return await self._shares(token, now, form=dict(data), errors={"days": "; ".join(exc.errors.values())},
                                      status_code=400)
        return await self._shares(token, now, made=secret, made_share=share, base_url=config.base_url)

    @post("/{token:str}/shares/{share_id:int}/withdraw", name="evidence_share_withdraw", opt={"limit": "token"})
    async def withdraw(self, token: FromPath[str], share_id: FromPath[int], now: Now) -> Redirect:
        await withdraw_share(token, share_id, now=now)
        return Redirect(f"/settings/evidence/{token}", status_code=303)

    @get("/{token:str}/settings/{setting_id:int}", name="evidence_contact_view", opt={"limit": "token"})
    async def view(self, token: FromPath[str], setting_id: FromPath[int], now: Now, config: ConfigDep) -> Template:
        contact = await evidence_contact(token, now)
        if setting_id not in {s for s, _, _ in contact.settings}:
            raise SettingNotFound()
        return Template("settings/evidence.html", headers=UNLISTED, context={
            "ev": await setting_evidence(setting_id, now, config), "caption": "Your setting's evidence",
            "pdf_url": ""})


class InspectorPages(Controller):
    """An inspector's link: the setting's evidence page and its PDF, nothing else."""

    path = "/evidence"
    include_in_schema = False

    @get("/{secret:str}", name="evidence_shared", opt={"limit": "token"})
    async def page(self, secret: FromPath[str], now: Now, config: ConfigDep) -> Template:
        setting_id = await open_share(secret, now=now)
        return Template("settings/evidence.html", headers=UNLISTED, context={
            "ev": await setting_evidence(setting_id, now, config), "caption": "Shared by the setting",
            "pdf_url": f"/evidence/{secret}/evidence.pdf"})

    @get("/{secret:str}/evidence.pdf", name="evidence_shared_pdf", opt={"limit": "token"})
    async def pdf(self, secret: FromPath[str], now: Now, config: ConfigDep) -> Response[bytes]:
        setting_id = await open_share(secret, now=now)
        return await _pdf(await setting_evidence(setting_id, now, config), config)
