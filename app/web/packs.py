"""The pack after a forum: organisers attach and send it (issue 25, point 4); each person's link
opens a page with the download and the "I have read it" button."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from app.attendance.packs import (
    UPLOAD_BODY_BYTES,
    PackNotSendable,
    acknowledge_pack,
    attach_pack,
    pack_copy,
    pack_file,
    pack_state,
    send_pack,
)
from app.errors import InvalidInput
from app.programme.services import get_event
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import error_summary, field_errors


class PackAdmin(Controller):
    path = "/organisers/events/{event_id:int}/pack"
    include_in_schema = False

    async def _page(self, organiser: Any, event_id: int, now: Any, *, errors: dict[str, str] | None = None,
                    sent_now: int = 0, status_code: int = 200) -> Template:
        errors = errors or {}
        return Template("organisers/pack.html", status_code=status_code, context={
            "organiser": organiser, "event": await get_event(event_id, now), "pack": await pack_state(event_id),
            "field_errors": errors, "errors": error_summary(errors), "sent_now": sent_now})

    @get("/", name="organiser_pack")
    async def show(self, organiser: Organiser, event_id: FromPath[int], now: Now, sent: FromQuery[int] = 0) -> Template:
        return await self._page(organiser, event_id, now, sent_now=max(0, sent))

    @post("/", name="organiser_pack_attach", request_max_body_size=UPLOAD_BODY_BYTES)
    async def attach(self, organiser: Organiser, event_id: FromPath[int], now: Now,
                     data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template | Redirect:
        upload = data.get("pack")
        content = await upload.read() if upload is not None and hasattr(upload, "read") else b""
        try:
            await attach_pack(event_id, filename=getattr(upload, "filename", "") or "", content=content,
                              organiser=organiser, now=now)
        except (InvalidInput, PackNotSendable) as exc:
            return await self._page(organiser, event_id, now, errors=field_errors(exc, default_field="pack"),
                                    status_code=400 if isinstance(exc, InvalidInput) else 409)
        return Redirect(f"/organisers/events/{event_id}/pack", status_code=303)

    @post("/send", name="organiser_pack_send")
    async def send(self, organiser: Organiser, event_id: FromPath[int], now: Now, config: ConfigDep) -> Template | Redirect:
        try:
            count = await send_pack(event_id, organiser=organiser, now=now, config=config)
        except PackNotSendable as exc:
            return await self._page(organiser, event_id, now, errors={"send": exc.message}, status_code=409)
        return Redirect(f"/organisers/events/{event_id}/pack?sent={count}", status_code=303)


class PackPages(Controller):
    path = "/packs"
    include_in_schema = False

    @get("/{token:str}", name="pack_page", opt={"limit": "token"})
    async def page(self, token: FromPath[str]) -> Template:
        """The page a pack's link opens: following it (a mail scanner does) acknowledges nothing."""
        pack = await pack_copy(token)
        return Template("training/pack.html", context={"pack": pack, "token": token, "confirmed_now": False})

    @post("/{token:str}", name="pack_read", opt={"limit": "token"})
    async def read(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template:
        pack = await acknowledge_pack(token, now=now, config=config)
        return Template("training/pack.html", context={"pack": pack, "token": token, "confirmed_now": True})

    @get("/{token:str}/file.pdf", name="pack_file", opt={"limit": "token"})
    async def file(self, token: FromPath[str]) -> Response[bytes]:
        name, content = await pack_file(token)
        safe = name.replace('"', "").encode("ascii", "replace").decode("ascii")
        return Response(content, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{safe}"', "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store"})

