"""Public booking pages: the booking form, confirmation, and the manage link's pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.certificates.services import certificate_for_booking
from app.bookings.colleague import passed_on
from app.bookings.moving import moved_from, sessions_to_move_to
from app.bookings.notices import booking_calendar_item, booking_invite
from app.bookings.records import BookingClosed, BookingNotFound
from app.bookings.services import (
    BookingError,
    BookingView,
    EventFull,
    NotMovable,
    book_place,
    move_back,
    cancel_booking,
    get_booking,
    move_place,
    take_offered_place,
)
from app.bookings.validation import FORM_FIELD_IDS, InvalidBooking, booking_from_form
from app.bookings.waiting_list import waiting_position
from app.calendar.links import google_calendar_url, outlook_calendar_url
from app.config import Config
from app.formats import long_date
from app.programme.availability import Unbookable
from app.programme.services import EventView, get_event
from app.tables.bookings import LEAD_ANSWER_LABELS, ROLE_LABELS, BookingSource, BookingStatus
from app.web.forms import radio_items
from app.web.dependencies import ConfigDep, Now
from app.web.errors import error_summary, field_errors
from app.web.limits import limit_email
from app.web.templating import FormData


def _form_page(event: EventView, form: dict[str, str], field_errors: dict[str, str],
               status_code: int = 200) -> Template:
    return Template("bookings/form.html", status_code=status_code, context={
        "event": event, "form": form, "field_errors": field_errors,
        "errors": error_summary(field_errors), "role_items": radio_items(ROLE_LABELS, form.get("role")),
        "lead_items": radio_items(LEAD_ANSWER_LABELS, form.get("lead")),
        "demo_data": event.is_demo, "honeypot": HONEYPOT,
    })


async def _calendar_links(booking: BookingView, config: Config) -> dict[str, str]:
    if booking.status is not BookingStatus.confirmed:
        return {}
    item = await booking_calendar_item(booking, config)
    return {"invite_url": f"/bookings/{booking.manage_token}/invite.ics",
            "google_url": google_calendar_url(item), "outlook_url": outlook_calendar_url(item)}


#: A form field hidden from people (and from assistive technology): only programs fill it in.
HONEYPOT = "organisation_website"



async def _booking_or_passed_on(token: str, now: dt.datetime) -> BookingView | Template:
    """The booking behind a manage link; for an old link whose place went to a colleague, the
    page saying who has it now (410); else BookingNotFound (404)."""
    try:
        return await get_booking(token, now)
    except BookingNotFound:
        passed = await passed_on(token)
        if passed is None:
            raise
        return Template("bookings/passed_on.html", status_code=410, context={"passed": passed})

class BookingPages(Controller):
    include_in_schema = False

    @get("/events/{event_id:int}/book", name="booking_form")
    async def form(self, event_id: FromPath[int], now: Now, waitlist: FromQuery[bool] = False) -> Template:
        event = await get_event(event_id, now)
        joining = waitlist and event.availability.reason is Unbookable.full
        if joining:
            return _form_page(event, {"waitlist": "true"}, {})
        if not event.availability.bookable:
            raise BookingClosed(event.availability.reason, event=f"{event.title}, {long_date(event.starts_at)}")
        return _form_page(event, {}, {})

    @post("/events/{event_id:int}/book", name="book", opt={"limit": "booking"})
    async def book(self, event_id: FromPath[int], data: FormData, now: Now, config: ConfigDep,
                   request: Request[Any, Any, Any]) -> Template | Redirect:
        event = await get_event(event_id, now)
        form = {k: v for k, v in data.items() if k not in ("_csrf_token", HONEYPOT)}
        try:
            wanted = booking_from_form(form)
            await limit_email(request, "booking", wanted.email)
            if data.get(HONEYPOT):
                # Only a program fills the field people never see: it is told what a refused
                # booking is told, and nothing is saved.
                raise EventFull()
            booking = await book_place(event_id, wanted, source=BookingSource.web, actor="public", now=now,
                                       config=config)
        except InvalidBooking as exc:
            return _form_page(event, form, field_errors(exc, ids=FORM_FIELD_IDS, default_field="name", only_ids=True), 400)
        except BookingError as exc:
            event = await get_event(event_id, now)
            return _form_page(event, form, field_errors(exc, ids=FORM_FIELD_IDS, default_field="name", only_ids=True), 409)
        return Redirect(f"/bookings/{booking.manage_token}/confirmation", status_code=303)

    @get("/bookings/{token:str}/accept", name="accept_offer_form", opt={"limit": "token"})
    async def accept_form(self, token: FromPath[str], now: Now) -> Template | Redirect:
        booking = await get_booking(token, now)
        if booking.status is not BookingStatus.offered:
            return Redirect(f"/bookings/{token}", status_code=303)
        return Template("bookings/accept.html", context={"booking": booking, "demo_data": booking.event.is_demo})

    @post("/bookings/{token:str}/accept", name="accept_offer", opt={"limit": "booking"})
    async def accept(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template | Redirect:
        await take_offered_place(token, now=now, config=config)
        return Redirect(f"/bookings/{token}/confirmation", status_code=303)

    @get("/bookings/{token:str}/confirmation", name="booking_confirmation", opt={"limit": "token"})
    async def confirmation(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template:
        booking = await _booking_or_passed_on(token, now)
        if isinstance(booking, Template):
            return booking
        position = await waiting_position(booking.event.id, booking.id, now) if booking.status is BookingStatus.waitlisted else 0
        return Template("bookings/confirmed.html", context={
            "booking": booking, "manage_url": f"{config.base_url}/bookings/{booking.manage_token}",
            "demo_data": booking.event.is_demo, "position": position, **await _calendar_links(booking, config),
        })

    @get("/bookings/{token:str}", name="manage_booking", opt={"limit": "token"})
    async def manage(self, token: FromPath[str], now: Now, config: ConfigDep,
                     cancelled: FromQuery[bool] = False) -> Template:
        booking = await _booking_or_passed_on(token, now)
        if isinstance(booking, Template):
            return booking
        position = await waiting_position(booking.event.id, booking.id, now) if booking.status is BookingStatus.waitlisted else 0
        return Template("bookings/manage.html", context={
            "position": position,
            "booking": booking, "role_label": ROLE_LABELS[booking.role],
            "not_started": not booking.has_started(now), "just_cancelled": cancelled,
            "certificate": await certificate_for_booking(booking.id) if booking.has_started(now) else None,
            "demo_data": booking.event.is_demo, **await _calendar_links(booking, config),
        })

    @get("/bookings/{token:str}/invite.ics", name="booking_invite", opt={"limit": "token"})
    async def invite(self, token: FromPath[str], now: Now, config: ConfigDep) -> Response[bytes]:
        """The same invite as the email's: same UID and SEQUENCE, so importing it twice is harmless.
        A meeting request (and an online event's Teams link) only for a confirmed place; after a
        cancellation, the CANCEL that takes it out of the calendar; nothing while waiting or offered."""
        booking = await get_booking(token, now)
        if booking.status in (BookingStatus.waitlisted, BookingStatus.offered):
            raise NotFoundException()
        return Response(await booking_invite(booking, config, now), media_type="text/calendar",
                        headers={"Content-Disposition": 'attachment; filename="invite.ics"',
                                 "Cache-Control": "no-store"})

    @get("/bookings/{token:str}/cancel", name="cancel_booking_form", opt={"limit": "token"})
    async def cancel_form(self, token: FromPath[str], now: Now) -> Template | Redirect:
        booking = await get_booking(token, now)
        if not booking.can_cancel(now):
            return Redirect(f"/bookings/{token}", status_code=303)
        return Template("bookings/cancel.html", context={"booking": booking, "demo_data": booking.event.is_demo})

    @post("/bookings/{token:str}/cancel", name="cancel_booking", opt={"limit": "token"})
    async def cancel(self, token: FromPath[str], now: Now, config: ConfigDep) -> Redirect | Template:
        await cancel_booking(token, actor="public", reason="Cancelled by the booker", now=now, config=config)
        return Redirect(f"/bookings/{token}?cancelled=true", status_code=303)


class MovePages(Controller):
    """A booker moves their place to another session of the same kind (from the manage link)."""

    include_in_schema = False

    @get("/bookings/{token:str}/move", name="move_booking_form", opt={"limit": "token"})
    async def form(self, token: FromPath[str], now: Now) -> Template | Redirect:
        booking = await get_booking(token, now)
        if not booking.can_pass_on(now):
            return Redirect(f"/bookings/{token}", status_code=303)
        return Template("bookings/move.html", context={
            "booking": booking, "sessions": await sessions_to_move_to(booking, now), "field_errors": {}})

    @post("/bookings/{token:str}/move", name="move_booking", opt={"limit": "booking"})
    async def move(self, token: FromPath[str], data: FormData, now: Now, config: ConfigDep) -> Template | Redirect:
        booking = await get_booking(token, now)
        chosen = str(data.get("event", ""))
        try:
            if not chosen.isdigit():
                raise NotMovable("Select the session to move to")
            made = await move_place(token, int(chosen), now=now, config=config)
        except BookingError as exc:
            errors = field_errors(exc, default_field="event", ids={"event": "event"}, only_ids=True)
            return Template("bookings/move.html", status_code=409 if not isinstance(exc, NotMovable) else 400, context={
                "booking": booking, "sessions": await sessions_to_move_to(booking, now),
                "field_errors": errors, "errors": error_summary(errors)})
        return Redirect(f"/bookings/{made.manage_token}/confirmation", status_code=303)

    @get("/bookings/{token:str}/move-back", name="move_back_form", opt={"limit": "token"})
    async def move_back_form(self, token: FromPath[str], now: Now) -> Template | Redirect:
        """A button, never a move on GET: mail scanners follow links."""
        booking = await get_booking(token, now)
        was = await moved_from(booking.id, now)
        if was is None or not booking.can_pass_on(now):
            return Redirect(f"/bookings/{token}", status_code=303)
        return Template("bookings/move_back.html", context={"booking": booking, "was": was})

    @post("/bookings/{token:str}/move-back", name="move_back", opt={"limit": "booking"})
    async def move_back(self, token: FromPath[str], now: Now, config: ConfigDep) -> Redirect:
        made = await move_back(token, now=now, config=config)
        return Redirect(f"/bookings/{made.manage_token}/confirmation", status_code=303)
