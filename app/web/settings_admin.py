"""Organiser pages for settings: the register, one setting's whole record, merging; and the
public look-up behind the booking form's setting autocomplete."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.areas import QUADRANT_LABELS, Quadrant
from app.attendance.services import setting_bookings, tally_people
from app.errors import InvalidInput
from app.questionnaire.evidence import q13_evidence, term_label, training_evidence
from app.questionnaire.seeding import list_questions
from app.questionnaire.services import chosen_year
from app.register.services import MergeRefused, merge_setting, search_settings
from app.tables.bookings import ROLE_LABELS, Role
from app.tables.questionnaire import Response
from app.tables.register import Setting
from app.web.dependencies import Now, Organiser
from app.web.forms import MergeForm, read
from app.web.templating import FormData


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
                   send_error: FromQuery[bool] = False) -> Template:
        setting = await Setting.select().where(Setting.id == setting_id).first()
        if setting is None:
            raise NotFoundException()
        year = chosen_year(year, now)
        bookings = await setting_bookings(setting_id, now)
        people = tally_people(bookings, {r.value: label for r, label in ROLE_LABELS.items()})
        no_shows = sum(b.no_show for b in bookings)
        dsl_email = next((b.email for b in bookings if b.role == Role.dsl.value), "")
        response = await Response.select(Response.id, Response.status, Response.respondent_email, Response.answers).where(
            (Response.setting == setting_id) & (Response.academic_year == year)).output(load_json=True).first()
        questions = await list_questions() if response else []
        merge_targets = [] if setting["on_register"] else [
            s for s in await search_settings(setting["name"].split()[0] if setting["name"] else "", limit=20)
            if s["on_register"] and s["id"] != setting_id]
        return Template("organisers/setting.html", context={
            "organiser": organiser, "setting": setting, "year": year, "bookings": bookings, "people": people,
            "no_shows": no_shows, "q13": (await q13_evidence([setting_id], year, now))[setting_id],
            "q6": await training_evidence(6, setting_id), "q7": await training_evidence(7, setting_id),
            "today": now.date(), "response": response, "dsl_email": dsl_email, "sent": sent, "send_error": send_error,
            "roles": ROLE_LABELS, "term_label": term_label, "quadrant_label": quadrant_label,
            "merge_targets": merge_targets, "questions": questions})

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
