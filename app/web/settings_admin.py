"""Organiser pages for settings: the register, one setting's whole record, merging; and the
public look-up behind the booking form's setting autocomplete."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.areas import QUADRANT_LABELS, Quadrant
from app.attendance.services import setting_bookings, tally_people
from app.errors import InvalidInput
from app.organisers.services import OrganiserView
from app.questionnaire.evidence import q13_evidence, term_label, training_evidence
from app.questionnaire.seeding import list_questions
from app.questionnaire.services import chosen_year
from app.settings_register.services import (
    MergeRefused,
    end_lead,
    leads_for,
    merge_setting,
    record_lead,
    search_settings,
    set_contact_email,
)
from app.tables.bookings import ROLE_LABELS, Role
from app.tables.questionnaire import Response
from app.tables.register import Setting
from app.web.dependencies import Now, Organiser
from app.web.errors import error_summary, field_errors
from app.web.forms import ContactEmailForm, LeadForm, MergeForm, read
from app.web.templating import FormData

LEAD_ROLES = {"dsl": "DSL / Lead Practitioner", "deputy_dsl": "Deputy DSL"}


def quadrant_label(value: str | None) -> str:
    return QUADRANT_LABELS[Quadrant(value)] if value else "Not recorded"


class SettingsAdmin(Controller):
    path = "/organisers/settings"
    include_in_schema = False

    @get("/", name="organiser_settings")
    async def index(self, organiser: Organiser, q: FromQuery[str | None] = None) -> Template:
        return Template("organisers/settings.html", context={
            "organiser": organiser, "q": q or "", "settings": await search_settings(q or ""),
            "quadrant_label": quadrant_label})

    @get("/{setting_id:int}", name="organiser_setting")
    async def show(self, organiser: Organiser, setting_id: FromPath[int], now: Now,
                   year: FromQuery[str | None] = None, sent: FromQuery[bool] = False,
                   send_error: FromQuery[bool] = False, saved: FromQuery[str | None] = None) -> Template:
        return await _setting_page(organiser, setting_id, now, year=year, sent=sent, send_error=send_error,
                                   saved=saved)

    @post("/{setting_id:int}/leads", name="organiser_setting_lead")
    async def add_lead(self, organiser: Organiser, setting_id: FromPath[int], data: FormData,
                       now: Now) -> Redirect | Template:
        try:
            form = read(LeadForm, data)
        except InvalidInput as exc:
            errors = field_errors(exc, ids=LeadForm.field_ids)
            return await _setting_page(organiser, setting_id, now, lead_form=dict(data), lead_errors=errors,
                                       status_code=400)
        await record_lead(setting_id, role=form.role, name=form.name, email=form.email, since=form.since,
                          actor=organiser.email, now=now)
        return Redirect(f"/organisers/settings/{setting_id}?saved=lead#leads", status_code=303)

    @post("/{setting_id:int}/leads/{lead_id:int}/end", name="organiser_setting_lead_end")
    async def end_lead(self, organiser: Organiser, setting_id: FromPath[int], lead_id: FromPath[int],
                       now: Now) -> Redirect:
        await end_lead(setting_id, lead_id, actor=organiser.email, now=now)
        return Redirect(f"/organisers/settings/{setting_id}?saved=lead#leads", status_code=303)

    @post("/{setting_id:int}/contact", name="organiser_setting_contact")
    async def set_contact(self, organiser: Organiser, setting_id: FromPath[int], data: FormData,
                          now: Now) -> Redirect | Template:
        try:
            form = read(ContactEmailForm, data)
        except InvalidInput as exc:
            return await _setting_page(organiser, setting_id, now, contact_form=dict(data),
                                       contact_errors=field_errors(exc, ids={"email": "contact_email"}),
                                       status_code=400)
        await set_contact_email(setting_id, form.email, actor=organiser.email)
        return Redirect(f"/organisers/settings/{setting_id}?saved=contact#contact", status_code=303)

    @post("/{setting_id:int}/merge", name="organiser_setting_merge")
    async def merge(self, organiser: Organiser, setting_id: FromPath[int], data: FormData) -> Redirect | Template:
        try:
            target = read(MergeForm, data).target
        except InvalidInput:
            return Redirect(f"/organisers/settings/{setting_id}?merge_error=true#merge", status_code=303)
        try:
            await merge_setting(setting_id, target, actor=organiser.email)
        except MergeRefused as exc:
            return Template("errors/message.html", status_code=409, context={
                "heading": "These settings cannot be merged", "paragraphs": [exc.message]})
        return Redirect(f"/organisers/settings/{target}", status_code=303)


async def _setting_page(organiser: OrganiserView, setting_id: int, now: dt.datetime, *, year: str | None = None,
                        sent: bool = False, send_error: bool = False, saved: str | None = None,
                        lead_form: dict | None = None, lead_errors: dict[str, str] | None = None,
                        contact_form: dict | None = None, contact_errors: dict[str, str] | None = None,
                        status_code: int = 200) -> Template:
    """The setting page's context, built in one place for showing it and for a form's errors."""
    setting = await Setting.select().where(Setting.id == setting_id).first()
    if setting is None:
        raise NotFoundException()
    year = chosen_year(year, now)
    bookings = await setting_bookings(setting_id, now)
    people = tally_people(bookings, {r.value: label for r, label in ROLE_LABELS.items()})
    no_shows = sum(b.no_show for b in bookings)
    dsl_email = next((b.email for b in bookings if b.role == Role.dsl.value), "")
    response = await Response.select(Response.id, Response.status, Response.respondent_email, Response.answers,
                                     Response.version).where(
        (Response.setting == setting_id) & (Response.academic_year == year)).output(load_json=True).first()
    questions = await list_questions(response["version"]) if response else []
    merge_targets = [] if setting["on_register"] else [
        s for s in await search_settings(setting["name"].split()[0] if setting["name"] else "", limit=20)
        if s["on_register"] and s["id"] != setting_id]
    lead_errors, contact_errors = lead_errors or {}, contact_errors or {}
    leads = await leads_for(setting_id)
    current_dsl = next((lead["email"] for lead in leads if lead["role"] == "dsl" and lead["until"] is None), "")
    dsl_email = current_dsl or setting["contact_email"] or dsl_email
    return Template("organisers/setting.html", status_code=status_code, context={
        "errors": error_summary({**lead_errors, **contact_errors}), "lead_form": lead_form or {},
        "lead_errors": lead_errors, "contact_form": contact_form or {}, "contact_errors": contact_errors,
        "leads": await leads_for(setting_id), "saved": saved, "lead_roles": LEAD_ROLES,
        "organiser": organiser, "setting": setting, "year": year, "bookings": bookings, "people": people,
        "no_shows": no_shows, "q13": (await q13_evidence([setting_id], year, now))[setting_id],
        "q6": await training_evidence(6, setting_id), "q7": await training_evidence(7, setting_id),
        "today": now.date(), "response": response, "dsl_email": dsl_email, "sent": sent, "send_error": send_error,
        "roles": ROLE_LABELS, "term_label": term_label, "quadrant_label": quadrant_label,
        "merge_targets": merge_targets, "questions": questions})

