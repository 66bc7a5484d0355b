"""Organiser pages for settings: the register, one setting's whole record, merging; and the
public look-up behind the booking form's setting autocomplete."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.areas import council
from app.clocks.reminders import record_lead_and_welcome
from app.errors import InvalidInput
from app.organisers.services import OrganiserView
from app.setting_overview import setting_overview
from app.questionnaire.evidence import term_label
from app.questionnaire.services import chosen_year
from app.settings_register.services import (
    end_lead,
    merge_setting,
    search_settings,
    set_contact_email,
)
from app.tables.bookings import ROLE_LABELS
from app.config import Config
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.errors import error_summary, field_errors
from app.web.forms import ContactEmailForm, LeadForm, MergeForm, read
from app.web.templating import FormData

LEAD_ROLES = {"dsl": "DSL / Lead Practitioner", "deputy_dsl": "Deputy DSL"}


def quadrant_label(value: str | None) -> str:
    return council().label(value, "Not recorded")


class SettingsAdmin(Controller):
    path = "/organisers/settings"
    include_in_schema = False

    @get("/", name="organiser_settings")
    async def index(self, organiser: Organiser, q: FromQuery[str | None] = None) -> Template:
        return Template("organisers/settings.html", context={
            "organiser": organiser, "q": q or "", "settings": await search_settings(q or ""),
            "quadrant_label": quadrant_label})

    @get("/{setting_id:int}", name="organiser_setting")
    async def show(self, organiser: Organiser, setting_id: FromPath[int], now: Now, config: ConfigDep,
                   year: FromQuery[str | None] = None, sent: FromQuery[bool] = False,
                   send_error: FromQuery[bool] = False, saved: FromQuery[str | None] = None) -> Template:
        return await _setting_page(organiser, setting_id, now, config, year=year, sent=sent, send_error=send_error,
                                   saved=saved)

    @post("/{setting_id:int}/leads", name="organiser_setting_lead")
    async def add_lead(self, organiser: Organiser, setting_id: FromPath[int], data: FormData,
                       now: Now, config: ConfigDep) -> Redirect | Template:
        try:
            form = read(LeadForm, data)
        except InvalidInput as exc:
            errors = field_errors(exc, ids=LeadForm.field_ids)
            return await _setting_page(organiser, setting_id, now, config, lead_form=dict(data), lead_errors=errors,
                                       status_code=400)
        await record_lead_and_welcome(setting_id, role=form.role, name=form.name, email=form.email, since=form.since,
                                      actor=organiser.email, now=now, config=config)
        return Redirect(f"/organisers/settings/{setting_id}?saved=lead#leads", status_code=303)

    @post("/{setting_id:int}/leads/{lead_id:int}/end", name="organiser_setting_lead_end")
    async def end_lead(self, organiser: Organiser, setting_id: FromPath[int], lead_id: FromPath[int],
                       now: Now) -> Redirect:
        await end_lead(setting_id, lead_id, actor=organiser.email, now=now)
        return Redirect(f"/organisers/settings/{setting_id}?saved=lead#leads", status_code=303)

    @post("/{setting_id:int}/contact", name="organiser_setting_contact")
    async def set_contact(self, organiser: Organiser, setting_id: FromPath[int], data: FormData,
                          now: Now, config: ConfigDep) -> Redirect | Template:
        try:
            form = read(ContactEmailForm, data)
        except InvalidInput as exc:
            return await _setting_page(organiser, setting_id, now, config, contact_form=dict(data),
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
        await merge_setting(setting_id, target, actor=organiser.email)
        return Redirect(f"/organisers/settings/{target}", status_code=303)


async def _setting_page(organiser: OrganiserView, setting_id: int, now: dt.datetime, config: Config, *,
                        year: str | None = None,
                        sent: bool = False, send_error: bool = False, saved: str | None = None,
                        lead_form: dict | None = None, lead_errors: dict[str, str] | None = None,
                        contact_form: dict | None = None, contact_errors: dict[str, str] | None = None,
                        status_code: int = 200) -> Template:
    """The setting page, shown or with a form's errors: the facts from one call, rendered."""
    overview = await setting_overview(setting_id, chosen_year(year, now), now, config)  # a 404 for no such setting
    lead_errors, contact_errors = lead_errors or {}, contact_errors or {}
    return Template("organisers/setting.html", status_code=status_code, context={
        "errors": error_summary({**lead_errors, **contact_errors}), "lead_form": lead_form or {},
        "lead_errors": lead_errors, "contact_form": contact_form or {}, "contact_errors": contact_errors,
        "leads": overview.leads, "saved": saved, "lead_roles": LEAD_ROLES,
        "organiser": organiser, "setting": overview.setting, "year": overview.academic_year,
        "bookings": overview.bookings, "people": overview.people, "no_shows": overview.no_shows,
        "q13": overview.q13, "q6": overview.q6, "q7": overview.q7,
        "today": now.date(), "response": overview.response, "dsl_email": overview.dsl_email, "sent": sent,
        "send_error": send_error, "roles": ROLE_LABELS, "term_label": term_label, "quadrant_label": quadrant_label,
        "merge_targets": overview.merge_targets, "questions": overview.questions,
        "clocks": overview.clocks})

