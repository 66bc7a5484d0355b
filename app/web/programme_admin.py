"""Organiser pages for the programme: add, edit and cancel events; add and correct venues; the
briefing's dated notices (MACA nomination windows) for each year."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.areas import LONDON, council, local
from app.config import Config
from app.errors import DomainError
from app.organisers.services import OrganiserView
from app.event_changes.events import cancel_event
from app.event_changes.manage import (
    EventDetails,
    create_event,
    list_kind_options,
    list_venues,
    save_venue,
    update_event,
)
from app.programme.dated_notices import NoticeNotFound, get_notice, list_notices, save_notice
from app.programme.services import get_event, get_join_url
from app.tables.programme import Venue
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import error_summary, field_errors
from app.web.forms import CancelEventForm, EventForm, VenueForm, read
from app.web.templating import FormData


async def _event_form(organiser: OrganiserView, form: dict[str, str], errors: dict[str, str], *,
                      action: str, heading: str, status_code: int = 200, event: Any = None) -> Template:
    kinds = await list_kind_options()
    venues = await list_venues()
    return Template("organisers/event_form.html", status_code=status_code, context={
        "organiser": organiser, "form": form, "field_errors": errors, "errors": error_summary(errors),
        "action": action, "heading": heading, "event": event,
        "kind_items": [{"value": "", "text": "Choose a type"}] + [
            {"value": str(k["id"]), "text": k["name"], "selected": form.get("kind") == str(k["id"])} for k in kinds],
        "where_items": [{"value": q, "text": label, "checked": form.get("where") == q}
                        for q, label in council().labels.items()]
        + [{"value": "online", "text": "Online (Microsoft Teams)", "checked": form.get("where") == "online"}],
        "venue_items": [{"value": "", "text": "Choose a venue"}] + [
            {"value": str(v["id"]), "text": f"{v['name']}, {v['postcode']}", "selected": form.get("venue") == str(v["id"])}
            for v in venues],
    })


async def _read_event_form(data: dict[str, str]) -> EventDetails:
    known = {"kind_ids": {k["id"] for k in await list_kind_options()}, "venue_ids": {v["id"] for v in await list_venues()}}
    return read(EventForm, data, context=known).details()


class ProgrammeAdmin(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/events/new", name="organiser_event_new")
    async def new(self, organiser: Organiser) -> Template:
        return await _event_form(organiser, {}, {}, action="/organisers/events/new", heading="Add an event")

    @post("/events/new", name="organiser_event_create")
    async def create(self, organiser: Organiser, data: FormData, now: Now) -> Template | Redirect:
        try:
            details = await _read_event_form(data)
            event_id = await create_event(details, actor=organiser.email, now=now)
        except DomainError as exc:
            return await _event_form(organiser, data, field_errors(exc, ids=EventForm.field_ids),
                                     action="/organisers/events/new", heading="Add an event", status_code=400)
        return Redirect(f"/organisers/events/{event_id}?created=true", status_code=303)

    @get("/events/{event_id:int}/edit", name="organiser_event_edit")
    async def edit(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Template:
        event = await get_event(event_id, now)
        return await _event_form(organiser, form_from_event(event, await get_join_url(event_id)), {},
                                 action=f"/organisers/events/{event_id}/edit", heading="Change the event", event=event)

    @post("/events/{event_id:int}/edit", name="organiser_event_update")
    async def update(self, organiser: Organiser, event_id: FromPath[int], data: FormData, now: Now,
                     config: ConfigDep) -> Template | Redirect:
        event = await get_event(event_id, now)
        action = f"/organisers/events/{event_id}/edit"
        try:
            details = await _read_event_form(data)
            told = await update_event(event_id, details, actor=organiser.email, now=now, config=config)
        except DomainError as exc:
            return await _event_form(organiser, data, field_errors(exc, ids=EventForm.field_ids), action=action,
                                     heading="Change the event", status_code=400, event=event)
        return Redirect(f"/organisers/events/{event_id}?updated={len(told)}", status_code=303)

    @get("/events/{event_id:int}/cancel", name="organiser_event_cancel_form")
    async def cancel_form(self, organiser: Organiser, event_id: FromPath[int], now: Now) -> Template:
        return Template("organisers/event_cancel.html", context={
            "organiser": organiser, "event": await get_event(event_id, now), "field_errors": {}})

    @post("/events/{event_id:int}/cancel", name="organiser_event_cancel")
    async def cancel(self, organiser: Organiser, event_id: FromPath[int], data: FormData, now: Now,
                     config: ConfigDep) -> Redirect:
        form = read(CancelEventForm, data)
        await cancel_event(event_id, reason=form.reason, actor=organiser.email, now=now, config=config)
        return Redirect(f"/organisers/events/{event_id}", status_code=303)

    @get("/venues", name="organiser_venues")
    async def venues(self, organiser: Organiser) -> Template:
        return Template("organisers/venues.html", context={"organiser": organiser, "venues": await list_venues()})

    @get("/venues/new", name="organiser_venue_new")
    async def venue_new(self, organiser: Organiser) -> Template:
        return _venue_form(organiser, None, {}, {})

    @get("/venues/{venue_id:int}/edit", name="organiser_venue_edit")
    async def venue_edit(self, organiser: Organiser, venue_id: FromPath[int]) -> Template:
        venue = await Venue.select().where(Venue.id == venue_id).first()
        if venue is None:
            raise NotFoundException()
        return _venue_form(organiser, venue_id, {k: str(v) for k, v in venue.items()}, {})

    @get("/notices", name="organiser_notices")
    async def notices(self, organiser: Organiser, now: Now) -> Template:
        return Template("organisers/notices.html", context={
            "organiser": organiser, "notices": await list_notices(), "today": local(now).date()})

    @get("/notices/new", name="organiser_notice_new")
    async def notice_new(self, organiser: Organiser) -> Template:
        return _notice_form(organiser, None, {}, {})

    @get("/notices/{notice_id:int}/edit", name="organiser_notice_edit")
    async def notice_edit(self, organiser: Organiser, notice_id: FromPath[int]) -> Template:
        try:
            n = await get_notice(notice_id)
        except NoticeNotFound:
            raise NotFoundException() from None
        form = {"quadrant": n.quadrant, "title": n.title, "opens_on": n.opens_on.isoformat(),
                "closes_on": n.closes_on.isoformat(), "shown_until": n.shown_until.isoformat() if n.shown_until else "",
                "summary": n.summary, "criteria": "\n".join(n.criteria), "rule": n.rule, "contact": n.contact,
                "note": n.note}
        return _notice_form(organiser, notice_id, form, {})

    @post(["/notices/new", "/notices/{notice_id:int}/edit"], name="organiser_notice_save")
    async def notice_save(self, organiser: Organiser, data: FormData, now: Now,
                          notice_id: FromPath[int | None] = None) -> Template | Redirect:
        form = {k: v for k, v in data.items() if isinstance(v, str)}
        try:
            await save_notice(notice_id, form, actor=organiser.email, now=now)
        except NoticeNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return _notice_form(organiser, notice_id, form, field_errors(exc, default_field="title"), 400)
        return Redirect("/organisers/notices", status_code=303)

    @post("/venues/new", name="organiser_venue_create")
    async def venue_create(self, organiser: Organiser, data: FormData, now: Now,
                           config: ConfigDep) -> Template | Redirect:
        return await _save_venue(organiser, None, data, now, config)

    @post("/venues/{venue_id:int}/edit", name="organiser_venue_update")
    async def venue_update(self, organiser: Organiser, venue_id: FromPath[int], data: FormData, now: Now,
                           config: ConfigDep) -> Template | Redirect:
        return await _save_venue(organiser, venue_id, data, now, config)


#: The notice form's fields in its order, for the error summary.
_NOTICE_FIELDS = ["quadrant", "title", "opens_on", "closes_on", "shown_until", "summary", "criteria", "rule",
                  "contact", "note"]


def _notice_form(organiser: OrganiserView, notice_id: int | None, form: dict[str, str], errors: dict[str, str],
                 status_code: int = 200) -> Template:
    ordered = {f: errors[f] for f in _NOTICE_FIELDS if f in errors}
    return Template("organisers/notice_form.html", status_code=status_code, context={
        "organiser": organiser, "notice_id": notice_id, "form": form, "field_errors": ordered,
        "errors": error_summary(ordered), "quadrants": council().labels})


def _venue_form(organiser: OrganiserView, venue_id: int | None, form: dict[str, str], errors: dict[str, str],
                status_code: int = 200) -> Template:
    return Template("organisers/venue_form.html", status_code=status_code, context={
        "organiser": organiser, "venue_id": venue_id, "form": form, "field_errors": errors,
        "errors": error_summary(errors)})


async def _save_venue(organiser: OrganiserView, venue_id: int | None, data: dict[str, str], now: dt.datetime,
                      config: Config) -> Template | Redirect:
    try:
        form = read(VenueForm, data)
        await save_venue(venue_id, name=form.name, address=form.address, postcode=form.postcode,
                         actor=organiser.email, now=now, config=config)
    except DomainError as exc:
        return _venue_form(organiser, venue_id, data, field_errors(exc, default_field="name"), 400)
    return Redirect("/organisers/venues", status_code=303)


def form_from_event(event: Any, join_url: str) -> dict[str, str]:
    """The edit form filled from an event as it is."""
    start, end = event.local_start, event.local_end
    form = {"title": event.title, "kind": str(event.kind_id), "where": event.quadrant or "online",
            "venue": str(event.venue.id) if event.venue else "", "join_url": join_url,
            "note": event.note,
            "agenda": event.agenda, "trainer_name": event.trainer_name, "trainer_role": event.trainer_role,
            "date-day": str(start.day), "date-month": str(start.month), "date-year": str(start.year),
            "start_time": f"{start:%H:%M}", "end_time": f"{end:%H:%M}", "capacity": str(event.availability.capacity),
            "late_cancel_hours": str(event.late_cancel_hours), "waitlist_rule": event.waitlist_rule.value,
            "in_demand": "yes" if event.in_demand else "", "minimum": str(event.minimum or "")}
    for prefix, moment in (("opens", event.booking_opens_at), ("closes", event.booking_closes_at)):
        if moment:
            local_moment = moment.astimezone(LONDON)
            form.update({f"{prefix}-day": str(local_moment.day), f"{prefix}-month": str(local_moment.month),
                         f"{prefix}-year": str(local_moment.year)})
    return form
