"""The questionnaire as a setting completes it (secret link), and as organisers follow it up."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.areas import QUADRANT_LABELS, Quadrant
from app.attendance.exports import Table, safe_cell
from app.errors import InvalidInput
from app.formats import qr_png
from app.questionnaire.answers import clean
from app.questionnaire.dashboard import (
    chart_rows,
    dashboard,
    latest_year_with_attendance,
    no_show_rates,
)
from app.questionnaire.evidence import q13_evidence, term_label, training_evidence
from app.questionnaire.findings import findings, findings_table
from app.questionnaire.reach import find_for_start, request_link, send_in_bulk
from app.questionnaire.seeding import version_for
from app.questionnaire.services import (
    AnswersIncomplete,
    ResponseNotFound,
    answers_table,
    chosen_year,
    current_year,
    declare_training,
    differing_from_record,
    list_responses,
    progress_by_quadrant,
    q13_prefill,
    response_by_id,
    response_for_token,
    save_answers,
    send_questionnaire,
)
from app.tables.register import Setting
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.downloads import table_download
from app.web.errors import error_summary, field_errors
from app.web.forms import BulkSendForm, SendQuestionnaireForm, StartLinkForm, read
from app.web.limits import limit_email
from app.web.paging import paginate
from app.web.templating import FormData


async def _questionnaire_page(token: str, now: dt.datetime, *, form_answers: dict[str, dict[str, str]] | None = None,
                              errors: dict[str, str] | None = None, status_code: int = 200, saved: bool = False,
                              declare_errors: dict[str, str] | None = None, declare_form: dict[str, str] | None = None) -> Template:
    response = await response_for_token(token)
    evidence, suggestion, upcoming = await q13_prefill(response, now)
    answers = form_answers if form_answers is not None else dict(response.answers)
    questions = await response.questions()
    if "13" not in answers or not any(answers["13"].values()):
        answers["13"] = {"compliant": suggestion.get("compliant", ""), "action_points": suggestion.get("action_points", ""),
                         "when_who": "", "note": ""}
    all_errors = {**(errors or {}), **(declare_errors or {})}
    return Template("questionnaire/complete.html", status_code=status_code, context={
        "token": token, "response": response, "questions": questions, "answers": answers,
        "evidence": evidence, "suggestion": suggestion, "upcoming": upcoming, "field_errors": all_errors,
        "errors": error_summary(all_errors), "saved": saved, "q6": await training_evidence(6, response.setting_id),
        "q7": await training_evidence(7, response.setting_id), "today": now.date(),
        "deadline": response.deadline, "declare": declare_form or {},
        "term_label": term_label})


class QuestionnairePages(Controller):
    path = "/questionnaire"
    include_in_schema = False
    opt = {"limit": "questionnaire"}

    @get("/start", name="questionnaire_start")
    async def start(self, config: ConfigDep, now: Now, q: FromQuery[str | None] = None) -> Template:
        """Where a setting finds itself (by name, URN or Ofsted number) to be sent its link."""
        query = (q or "").strip()[:200]
        version = await version_for(current_year(now))
        return Template("questionnaire/start.html", context={
            "q": query, "found": await find_for_start(query) if query else [], "searched": bool(query),
            "too_short": bool(query) and len(query) < 3, "team_mailbox": config.reply_to_safeguarding or config.organiser_mailbox,
            "deadline": version["deadline"] if version else None})

    @post("/start", name="questionnaire_start_send", opt={"limit": "questionnaire_start"})
    async def start_send(self, request: Request, data: FormData, now: Now, config: ConfigDep) -> Template:
        try:
            setting_id = read(StartLinkForm, data).setting
        except InvalidInput:
            raise NotFoundException() from None
        contact = await Setting.select(Setting.contact_email).where(Setting.id == setting_id).first()
        if contact and contact["contact_email"]:
            await limit_email(request, "questionnaire_start", contact["contact_email"])
        outcome = await request_link(setting_id, now=now, config=config)
        if outcome is None:
            raise NotFoundException()
        return Template("questionnaire/start_sent.html", context={
            "outcome": outcome, "team_mailbox": config.reply_to_safeguarding or config.organiser_mailbox})

    @get("/start/qr.png", name="questionnaire_start_qr", cache_control=CacheControlHeader(max_age=86400, public=True))
    async def start_qr(self, config: ConfigDep) -> Response[bytes]:
        """The start link as a QR code, for the briefing and the forums' slides."""
        return Response(qr_png(f"{config.base_url}/questionnaire/start", scale=8), media_type="image/png")

    @get("/{token:str}", name="questionnaire")
    async def show(self, token: FromPath[str], now: Now, saved: FromQuery[bool] = False) -> Template:
        try:
            return await _questionnaire_page(token, now, saved=saved)
        except ResponseNotFound:
            raise NotFoundException() from None

    @post("/{token:str}", name="questionnaire_save")
    async def save(self, token: FromPath[str], data: FormData, now: Now, config: ConfigDep) -> Template | Redirect:
        submit = data.get("action") == "submit"
        try:
            await save_answers(token, data, submit=submit, now=now, config=config)
        except ResponseNotFound:
            raise NotFoundException() from None
        except AnswersIncomplete as exc:
            questions = await (await response_for_token(token)).questions()
            return await _questionnaire_page(token, now, form_answers=clean(data, questions), errors=exc.errors,
                                             status_code=400)
        return Redirect(f"/questionnaire/{token}" + ("" if submit else "?saved=true"), status_code=303)

    @post("/{token:str}/training", name="questionnaire_training")
    async def training(self, token: FromPath[str], data: FormData, now: Now) -> Template | Redirect:
        try:
            await declare_training(token, data, now=now)
        except ResponseNotFound:
            raise NotFoundException() from None
        except AnswersIncomplete as exc:
            return await _questionnaire_page(token, now, declare_errors=field_errors(exc, ids={"completed": "completed-day"}),
                                             declare_form=data, status_code=400)
        return Redirect(f"/questionnaire/{token}#training", status_code=303)


class QuestionnaireAdmin(Controller):
    path = "/organisers"
    include_in_schema = False

    @get("/questionnaire", name="organiser_questionnaire")
    async def overview(self, organiser: Organiser, now: Now, config: ConfigDep, year: FromQuery[str | None] = None,
                       bulk_sent: FromQuery[int | None] = None, bulk_without: FromQuery[int | None] = None,
                       bulk_done: FromQuery[int | None] = None, page: FromQuery[int | None] = None) -> Template:
        year = chosen_year(year, now)
        version = await version_for(year)
        shown = paginate(await list_responses(year), page, path="/organisers/questionnaire", params={"year": year})
        return Template("organisers/questionnaire.html", context={"shown": shown,
            "start_url": f"{config.base_url}/questionnaire/start", "bulk_sent": bulk_sent,
            "bulk_without": bulk_without, "bulk_done": bulk_done,
            "organiser": organiser, "year": year, "progress": await progress_by_quadrant(year),
            "responses": shown.items, "differing": await differing_from_record(year, now),
            "deadline": version["deadline"] if version else None, "version": version, "quadrants": QUADRANT_LABELS,
            "quadrant_label": lambda q: QUADRANT_LABELS[Quadrant(q)] if q else "None"})

    @get("/questionnaire/responses/{response_id:int}", name="organiser_response")
    async def read(self, organiser: Organiser, response_id: FromPath[int]) -> Template:
        try:
            response = await response_by_id(response_id)
        except ResponseNotFound:
            raise NotFoundException() from None
        return Template("organisers/response.html", context={
            "organiser": organiser, "response": response, "questions": await response.questions()})

    @get(["/questionnaire/export.csv", "/questionnaire/export.xlsx"], name="organiser_questionnaire_export")
    async def export(self, organiser: Organiser, request: Request, now: Now,
                     year: FromQuery[str | None] = None) -> Response[bytes]:
        fmt = request.url.path.rsplit(".", 1)[-1]
        year = chosen_year(year, now)
        return await table_download(f"questionnaire-{year.replace('/', '-')}", fmt, await answers_table(year))

    @get(["/evidence/q13.csv", "/evidence/q13.xlsx"], name="organiser_q13_export")
    async def q13_export(self, organiser: Organiser, request: Request, now: Now,
                         year: FromQuery[str | None] = None) -> Response[bytes]:
        fmt = request.url.path.rsplit(".", 1)[-1]
        year = chosen_year(year, now)
        settings = await Setting.select(Setting.id, Setting.name, Setting.urn, Setting.quadrant).where(
            Setting.merged_into.is_null()).order_by(Setting.name)
        header = ["Setting", "URN", "Quadrant", "Academic year", "Whose attendance counts", "Autumn", "Spring",
                  "Summer", "Deputies attended in", "Record suggests", "Facts"]
        states = {"attended": "DSL attended", "not_attended": "No DSL attendance recorded",
                  "upcoming": "Not judged yet (forums to come)", "no_forum": "No forum open to the setting"}
        evidence = await q13_evidence(None, year, now)  # one set of queries: sliced, SQLite took 5 times longer
        rows = []
        for s in settings:
            e = evidence[s["id"]]
            rows.append([safe_cell(v) for v in (
                s["name"], s["urn"] or "", s["quadrant"] or "", year,
                "DSL on record" if e.basis == "on record" else "Booked as DSL",
                *(states[t.state.value] for t in e.terms),
                "; ".join(t.label for t in e.terms if t.deputies), e.answer or "Not judged yet",
                " | ".join(e.facts))])
        return await table_download(f"q13-evidence-{year.replace('/', '-')}", fmt, Table(header, rows))

    @get("/questionnaire/findings", name="organiser_findings")
    async def findings_page(self, organiser: Organiser, now: Now, year: FromQuery[str | None] = None) -> Template:
        """What settings told us, per question and quadrant: printable for the summer forums."""
        year = chosen_year(year, now)
        submitted, results = await findings(year)
        return Template("organisers/findings.html", context={
            "organiser": organiser, "year": year, "submitted": submitted, "results": results})

    @get(["/questionnaire/findings.csv", "/questionnaire/findings.xlsx"], name="organiser_findings_export")
    async def findings_export(self, organiser: Organiser, request: Request, now: Now,
                              year: FromQuery[str | None] = None) -> Response[bytes]:
        fmt = request.url.path.rsplit(".", 1)[-1]
        year = chosen_year(year, now)
        header, rows = findings_table((await findings(year))[1])
        return await table_download(f"questionnaire-findings-{year.replace('/', '-')}", fmt, Table(header, rows))

    @post("/questionnaire/send", name="organiser_questionnaire_bulk")
    async def send_all(self, organiser: Organiser, data: FormData, now: Now, config: ConfigDep) -> Redirect:
        """Send the questionnaire to every early-years setting with an address, in one quadrant or all."""
        quadrant = read(BulkSendForm, data).quadrant
        report = await send_in_bulk(None if quadrant == "all" else quadrant, actor=organiser.email, now=now,
                                    config=config)
        return Redirect(f"/organisers/questionnaire?bulk_sent={report.sent}&bulk_without={report.without_address}"
                        f"&bulk_done={report.submitted_already}#send", status_code=303)

    @post("/settings/{setting_id:int}/questionnaire", name="organiser_send_questionnaire")
    async def send(self, organiser: Organiser, setting_id: FromPath[int], data: FormData, now: Now,
                   config: ConfigDep) -> Redirect:
        try:
            email = str(read(SendQuestionnaireForm, data).email)
        except InvalidInput:
            return Redirect(f"/organisers/settings/{setting_id}?send_error=true#questionnaire", status_code=303)
        await send_questionnaire(setting_id, email, actor=organiser.email, now=now, config=config)
        return Redirect(f"/organisers/settings/{setting_id}?sent=true#questionnaire", status_code=303)


class DashboardPage(Controller):
    path = "/organisers/dashboard"
    include_in_schema = False

    @get("/", name="organiser_dashboard")
    async def show(self, organiser: Organiser, now: Now, year: FromQuery[str | None] = None) -> Template:
        current = chosen_year(None, now)
        # Opens on the latest year with attendance recorded (early in a year, the one before).
        year = chosen_year(year, now) if year else (await latest_year_with_attendance() or current)
        cells = await dashboard(year, now)
        return Template("organisers/dashboard.html", context={
            "organiser": organiser, "year": year, "current_year": current, "cells": cells, "chart": chart_rows(cells),
            "rates": await no_show_rates(year, now), "quadrants": QUADRANT_LABELS})
