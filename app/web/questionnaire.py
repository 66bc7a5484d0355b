"""The questionnaire as a setting completes it (secret link), and as organisers follow it up."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.areas import council
from app.attendance.figures import latest_year_with_attendance, no_show_rates
from app.spreadsheets import Table
from app.errors import InvalidInput
from app.formats import qr_png
from app.pdf import identity, pdf_apart
from app.questionnaire.answers import facts_of, fingerprint, problems
from app.questionnaire.dashboard import chart_rows, dashboard
from app.questionnaire.evidence import q13_table, training_evidence
from app.questionnaire.findings import findings, findings_table
from app.questionnaire.guidance import addresses, guidance_names, save_address
from app.questionnaire.reach import find_for_start, found_but_not_early_years, request_link, send_in_bulk
from app.questionnaire.seeding import version_for
from app.questionnaire.services import (
    AnswersIncomplete,
    ResponseView,
    action_plan,
    answers_table,
    chosen_year,
    current_year,
    declare_training,
    differing_from_record,
    list_responses,
    progress_by_quadrant,
    q13_prefill,
    response_by_id,
    key_documents,
    response_for_token,
    send_questionnaire,
    submit_response,
)
from app.questionnaire.steps import (
    CannotReopen,
    Page,
    ResponseSubmitted,
    adopt_latest_version,
    can_reopen,
    next_page,
    page_for,
    previous_page,
    refers_to_old_rule,
    reopen,
    save_page,
    tasks,
)
from app.tables.questionnaire import ResponseStatus
from app.tables.register import Setting
from app.programme.services import list_academic_years
from app.web.dependencies import ConfigDep, Now, Organiser
from app.web.downloads import table_download
from app.web.errors import error_summary, field_errors
from app.web.forms import BulkSendForm, SendQuestionnaireForm, StartLinkForm, read
from app.web.limits import limit_email
from app.web.paging import paginate
from app.web.templating import FormData


async def _open(token: str, now: dt.datetime) -> tuple[ResponseView, list[dict[str, Any]]]:
    """The response behind a secret link (404 if none), on the latest wording of its year while
    it is not submitted, and its questions."""
    response = await response_for_token(token)  # ResponseNotFound: the 404 page
    version = await adopt_latest_version(response.id, response.version_id, response.academic_year, response.status)
    if version != response.version_id:
        response = await response_for_token(token)
    return response, await response.questions()


def _base(token: str, response: ResponseView, questions: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
    return {"token": token, "response": response, "questions": questions, "facts": facts_of(response.answers),
            "deadline": response.deadline, **context}


def _choose(form: Any, key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


async def _question_page(token: str, response: ResponseView, questions: list[dict[str, Any]], page: Page,
                         now: dt.datetime, *, form_entry: dict[str, Any] | None = None,
                         errors: dict[str, str] | None = None, conflict: tuple[dict, dict] | None = None,
                         back_to_check: bool = False, status_code: int = 200) -> Template:
    answers = response.answers
    facts = facts_of(answers)
    stored = answers.get(page.key) or {}
    shown = form_entry if form_entry is not None else stored
    context = _base(token, response, questions, page=page, entry=shown, field_errors=errors or {},
                    errors=error_summary(errors or {}), seen=fingerprint(stored), conflict=conflict,
                    back_to_check=back_to_check,
                    previous=previous_page(page.key, questions, answers))
    if page.question is None:
        return Template("questionnaire/about.html", status_code=status_code, context=context)
    q = page.question
    context.update(q=q, question=next(x for x in questions if x["number"] == q.number), links=await addresses(),
                   old_rule=refers_to_old_rule(stored, q, facts), lead_only=q.lead_only(facts))
    if q.number == 13:
        evidence, suggestion, upcoming = await q13_prefill(response, now)
        if not shown:
            context["entry"] = {k: v for k, v in suggestion.items() if v}
        context.update(evidence=evidence, suggestion=suggestion, upcoming=upcoming)
    elif q.number in (6, 7):
        context.update(training=await training_evidence(q.number, response.setting_id), today=now.date())
    return Template("questionnaire/question.html", status_code=status_code, context=context)


class QuestionnairePages(Controller):
    """The questionnaire as a setting completes it, by its secret link: a task list, a page per
    question (each saved when continued), a check of the answers, submitting, and the copy."""

    path = "/questionnaire"
    include_in_schema = False
    opt = {"limit": "questionnaire"}

    @get("/start", name="questionnaire_start")
    async def start(self, config: ConfigDep, now: Now, q: FromQuery[str | None] = None) -> Template:
        """Where a setting finds itself (by name, URN or Ofsted number) to be sent its link."""
        query = (q or "").strip()[:200]
        version = await version_for(current_year(now))
        found = await find_for_start(query) if query else []
        return Template("questionnaire/start.html", context={
            "q": query, "found": found, "searched": bool(query),
            "not_early_years": await found_but_not_early_years(query) if query and not found else None,
            "too_short": bool(query) and len(query) < 3, "team_mailbox": config.safeguarding_mailbox,
            "deadline": version["deadline"] if version else None,
            "key_documents": await key_documents(version["id"] if version else None), "links": await addresses()})

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
            "outcome": outcome, "team_mailbox": config.safeguarding_mailbox})

    @get("/start/qr.png", name="questionnaire_start_qr", cache_control=CacheControlHeader(max_age=86400, public=True))
    async def start_qr(self, config: ConfigDep) -> Response[bytes]:
        """The start link as a QR code, for the briefing and the forums' slides."""
        return Response(qr_png(f"{config.base_url}/questionnaire/start", scale=8), media_type="image/png")

    @get("/{token:str}", name="questionnaire")
    async def task_list(self, token: FromPath[str], now: Now) -> Template | Redirect:
        response, questions = await _open(token, now)
        if response.status == ResponseStatus.submitted.value:
            return Redirect(f"/questionnaire/{token}/submitted", status_code=303)
        return Template("questionnaire/task_list.html", context=_base(
            token, response, questions, tasks=tasks(questions, response.answers),
            ready=not problems(response.answers, questions)))

    @get("/{token:str}/questions/{key:str}", name="questionnaire_page")
    async def page(self, token: FromPath[str], key: FromPath[str], now: Now,
                   check: FromQuery[bool] = False) -> Template | Redirect:
        response, questions = await _open(token, now)
        if response.status == ResponseStatus.submitted.value:
            return Redirect(f"/questionnaire/{token}/submitted", status_code=303)
        page = page_for(key, questions)
        if page is None:
            raise NotFoundException()
        return await _question_page(token, response, questions, page, now, back_to_check=check)

    @post("/{token:str}/questions/{key:str}", name="questionnaire_page_save")
    async def save(self, token: FromPath[str], key: FromPath[str], request: Request, now: Now) -> Template | Redirect:
        """Save the page's answers, whatever button was pressed (nothing typed is lost), then go
        where it asked: on (the page's errors shown first), the task list, or the training form."""
        response, questions = await _open(token, now)
        page = page_for(key, questions)
        if page is None:
            raise NotFoundException()
        form = await request.form()
        action = _choose(form, "action")
        back_to_check = _choose(form, "check") == "true"
        try:
            saved = await save_page(response.id, page, form, questions, now=now)
        except ResponseSubmitted:
            return Redirect(f"/questionnaire/{token}/submitted", status_code=303)
        if action == "autosave":
            return Response(b"", status_code=204)
        response = await response_for_token(token)
        if saved.conflicts:
            theirs, mine = saved.conflicts[page.key]
            return await _question_page(token, response, questions, page, now, form_entry=mine,
                                        conflict=(theirs, mine), back_to_check=back_to_check, status_code=409)
        if action == "training" and page.number in (6, 7):
            return Redirect(f"/questionnaire/{token}/training?back={page.key}", status_code=303)
        if action == "tasks":
            return Redirect(f"/questionnaire/{token}", status_code=303)
        if saved.problems:
            return await _question_page(token, response, questions, page, now, errors=saved.problems,
                                        back_to_check=back_to_check, status_code=400)
        if back_to_check:
            return Redirect(f"/questionnaire/{token}/check", status_code=303)
        following = next_page(page.key, questions, saved.answers)
        target = f"/questionnaire/{token}/questions/{following}" if following else f"/questionnaire/{token}/check"
        return Redirect(target, status_code=303)

    @get("/{token:str}/training", name="questionnaire_training_form")
    async def training_form(self, token: FromPath[str], now: Now, back: FromQuery[str] = "6") -> Template:
        response, questions = await _open(token, now)
        return Template("questionnaire/training.html", context=_base(
            token, response, questions, back=back if back in ("6", "7") else "6", declare={"kind": {"7": "prevent"}.get(back, "level3")},
            field_errors={}, errors=[]))

    @post("/{token:str}/training", name="questionnaire_training")
    async def training(self, token: FromPath[str], data: FormData, now: Now,
                       config: ConfigDep) -> Template | Redirect:
        response, questions = await _open(token, now)
        back = data.get("back") if data.get("back") in ("6", "7") else "6"
        try:
            await declare_training(token, data, now=now, config=config)
        except AnswersIncomplete as exc:
            errors = field_errors(exc, ids={"completed": "completed-day"})
            return Template("questionnaire/training.html", status_code=400, context=_base(
                token, response, questions, back=back, declare=data, field_errors=errors, errors=error_summary(errors)))
        return Redirect(f"/questionnaire/{token}/questions/{back}?declared=true", status_code=303)

    @get("/{token:str}/check", name="questionnaire_check")
    async def check(self, token: FromPath[str], now: Now) -> Template | Redirect:
        response, questions = await _open(token, now)
        if response.status == ResponseStatus.submitted.value:
            return Redirect(f"/questionnaire/{token}/submitted", status_code=303)
        return _check_page(token, response, questions, {})

    @post("/{token:str}/check", name="questionnaire_submit")
    async def submit(self, token: FromPath[str], now: Now, config: ConfigDep) -> Template | Redirect:
        response, questions = await _open(token, now)
        try:
            await submit_response(token, now=now, config=config)
        except AnswersIncomplete as exc:
            return _check_page(token, response, questions, exc.errors, status_code=400)
        return Redirect(f"/questionnaire/{token}/submitted", status_code=303)

    @get("/{token:str}/submitted", name="questionnaire_submitted")
    async def submitted(self, token: FromPath[str], now: Now) -> Template | Redirect:
        response, questions = await _open(token, now)
        if response.status != ResponseStatus.submitted.value:
            return Redirect(f"/questionnaire/{token}", status_code=303)
        return Template("questionnaire/submitted.html", context=_base(
            token, response, questions, rows=action_plan(response.answers, questions),
            can_reopen=can_reopen(response.deadline, now)))

    @get("/{token:str}/copy.pdf", name="questionnaire_copy_pdf")
    async def copy_pdf(self, token: FromPath[str], now: Now, config: ConfigDep) -> Response[bytes]:
        response, questions = await _open(token, now)
        pdf = await pdf_apart("questionnaire.html", response=response, rows=action_plan(response.answers, questions),
                              **identity(config), key_documents=await key_documents(response.version_id),
                              links=await addresses())
        name = f"questionnaire-{response.academic_year.replace('/', '-')}.pdf"
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @post("/{token:str}/reopen", name="questionnaire_reopen")
    async def reopen_response(self, token: FromPath[str], now: Now) -> Template | Redirect:
        response, questions = await _open(token, now)
        try:
            await reopen(response.id, deadline=response.deadline, setting_name=response.setting_name,
                         setting_id=response.setting_id, now=now)
        except CannotReopen as exc:
            return Template("questionnaire/submitted.html", status_code=409, context=_base(
                token, response, questions, rows=action_plan(response.answers, questions), can_reopen=False,
                errors=error_summary({"reopen": exc.message}), field_errors={"reopen": exc.message}))
        return Redirect(f"/questionnaire/{token}", status_code=303)


async def _guidance_page(organiser: Any, *, saved: str | None = None, failed: str = "", form: Any = None,
                         errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    names = await guidance_names()
    at = names.index(failed) if failed in names else 0
    # Each name's form has its own field ids: the error summary links to the one at fault.
    summary = {f"{key}-{at}": message for key, message in (errors or {}).items()}
    if "name" in (errors or {}):
        summary = {"names": errors["name"]}
    return Template("organisers/guidance.html", status_code=status_code, context={
        "organiser": organiser, "names": names, "links": await addresses(), "saved": saved if saved in names else None,
        "failed": failed, "form": form or {}, "field_errors": errors or {}, "errors": error_summary(summary)})


def _check_page(token: str, response: ResponseView, questions: list[dict[str, Any]], errors: dict[str, str],
                status_code: int = 200) -> Template:
    """Every answer with a link to change it; errors link to the page they belong to."""
    by_page = {}
    for field_id, message in errors.items():
        key = "about" if field_id.startswith("about-") else field_id[1:].split("-")[0]
        by_page[field_id] = (key, message)
    summary = [{"text": message, "href": f"/questionnaire/{token}/questions/{key}?check=true#{field_id}"}
               for field_id, (key, message) in by_page.items()]
    return Template("questionnaire/check.html", status_code=status_code, context=_base(
        token, response, questions, rows=action_plan(response.answers, questions), errors=summary,
        problem_pages={key for key, _ in by_page.values()}))


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
            "deadline": version["deadline"] if version else None, "version": version, "quadrants": council().labels,
            "quadrant_label": lambda q: council().label(q, "None")})

    @get("/questionnaire/guidance", name="organiser_guidance")
    async def guidance(self, organiser: Organiser, saved: FromQuery[str | None] = None) -> Template:
        return await _guidance_page(organiser, saved=saved)

    @post("/questionnaire/guidance", name="organiser_guidance_save")
    async def guidance_save(self, organiser: Organiser, data: FormData, now: Now) -> Template | Redirect:
        name = _choose(data, "name")
        try:
            await save_address(name, _choose(data, "url"), _choose(data, "edition"), actor=organiser.email, now=now)
        except InvalidInput as exc:
            return await _guidance_page(organiser, failed=name, form=data, errors=exc.errors, status_code=400)
        return Redirect(f"/organisers/questionnaire/guidance?saved={quote(name)}#saved", status_code=303)

    @get("/questionnaire/responses/{response_id:int}", name="organiser_response")
    async def read(self, organiser: Organiser, response_id: FromPath[int]) -> Template:
        response = await response_by_id(response_id)  # ResponseNotFound: the 404 page, as every not-found
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
        return await table_download(f"q13-evidence-{year.replace('/', '-')}", fmt, await q13_table(year, now))

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
        years = sorted(set(await list_academic_years()) | {current, year}, reverse=True)
        return Template("organisers/dashboard.html", context={
            "year_options": [{"value": y, "text": y, "selected": y == year} for y in years],
            "organiser": organiser, "year": year, "current_year": current, "cells": cells, "chart": chart_rows(cells),
            "rates": await no_show_rates(year, now), "quadrants": council().labels})
