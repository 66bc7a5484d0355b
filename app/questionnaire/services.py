"""Sending the questionnaire to a setting, saving and submitting its answers, and what organisers
see of the responses. Q13 is pre-filled from the evidence; a setting may answer differently with
a note, and organisers see every setting whose answer differs from the record."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    model_validator,
)

from app.areas import academic_year_of, council, local
from app.programme.recovery import next_forum
from app.spreadsheets import Table
from app.audit.services import record
from app.clocks.dates import refresh_clocks
from app.config import Config
from app.db import read_in_slices, write_transaction
from app.errors import InvalidInput, NotFound
from app.formats import long_date
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.questionnaire.answers import (
    LEAD_QUESTIONS,
    Shape,
    decoded,
    given,
    given_details,
    problems,
    shape,
)
from app.questionnaire.evidence import Q13Evidence, q13_evidence, term_label
from app.questionnaire.seeding import list_questions, version_for
from app.questionnaire.steps import lead_problems
from app.settings_register.services import record_lead
from app.tables.questionnaire import (
    DeclarationKind,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    TrainingDeclaration,
)
from app.tables.register import LeadSource, Setting, SettingType
from app.validation import EmailAddress, Messages, validate, work_email


class ResponseNotFound(NotFound):
    message = "No such questionnaire"


class AnswersIncomplete(InvalidInput):
    message = "Some answers are missing"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_year(now: dt.datetime) -> str:
    return academic_year_of(local(now).date())


def chosen_year(text: str | None, now: dt.datetime) -> str:
    """The academic year asked for in a URL ("2023/24"), or this one if none or not a real one."""
    if text:
        match = re.fullmatch(r"\s*(\d{4})\s*/\s*(\d{2})\s*", text)
        if match and (int(match[1]) + 1) % 100 == int(match[2]):
            return f"{match[1]}/{match[2]}"
    return current_year(now)


async def send_questionnaire(setting_id: int, email: str, *, actor: str, now: dt.datetime, config: Config) -> str:
    """Email the setting's DSL a secret link (a new one each time: only its hash is kept). The
    response row, the email and the audit record are written together or not at all."""
    async with write_transaction():
        setting = await Setting.select(Setting.name).where(Setting.id == setting_id).first()
        if setting is None:
            raise NotFound("No such setting")
        return await issue_link(setting_id, setting["name"], email, actor=actor, now=now, config=config)


async def issue_link(setting_id: int, setting_name: str, email: str, *, actor: str, now: dt.datetime,
                     config: Config) -> str:
    """A new secret link for the setting's response this year, emailed to `email` (inside the
    caller's transaction). Returns the token."""
    token = secrets.token_urlsafe(32)
    year = current_year(now)
    version = await version_for(year, load=True)
    assert version is not None
    existing = await Response.select(Response.id).where(
        (Response.setting == setting_id) & (Response.academic_year == year)
        & (Response.questionnaire == version["code"])).first()
    if existing:
        # A response keeps the version it was first sent with.
        await Response.update({Response.token_hash: _hash(token), Response.respondent_email: email.lower(),
                               Response.sent_at: now}).where(Response.id == existing["id"])
    else:
        await Response.insert(Response(setting=setting_id, questionnaire=version["code"], version=version["id"],
                                       academic_year=year, token_hash=_hash(token), respondent_email=email.lower(),
                                       sent_at=now, updated_at=now))
    deadline = version["deadline"]
    await queue_email(compose_email("questionnaire_link", recipient=email, config=config,
                                    subject="Early Years Safeguarding Questionnaire", setting_name=setting_name,
                                    deadline=f"{deadline:%-d %B %Y}" if deadline else "",
                                    link=f"{config.base_url}/questionnaire/{token}"),
                      kind="questionnaire", config=config, now=now)
    await record("questionnaire.sent", actor, setting=setting_id, to=email.lower())
    return token


@dataclass
class ResponseView:
    id: int
    setting_id: int
    setting_name: str
    quadrant: str | None
    academic_year: str
    status: ResponseStatus
    answers: dict[str, dict[str, Any]]
    submitted_at: dt.datetime | None
    version_id: int | None
    version_number: int | None
    deadline: dt.date | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ResponseView":
        """From a row of `_response_columns()`."""
        return cls(id=row["id"], setting_id=row["setting"], setting_name=row["setting_name"], quadrant=row["quadrant"],
                   academic_year=row["academic_year"], status=ResponseStatus(row["status"]),
                   answers=row["answers"] or {}, submitted_at=row["submitted_at"], version_id=row["version"],
                   version_number=row["version_number"], deadline=row["deadline"])

    async def questions(self) -> list[dict[str, Any]]:
        """The questions as this response was asked them (its version)."""
        return await list_questions(self.version_id)


async def response_for_token(token: str) -> ResponseView:
    row = await Response.select(*_response_columns()).where(
        Response.token_hash == _hash(token)).output(load_json=True).first()
    if row is None:
        raise ResponseNotFound()
    return _view(row)


def _view(row: dict[str, Any]) -> ResponseView:
    return ResponseView.from_row(row)


def _response_columns() -> list[Any]:
    return [*Response.all_columns(), Response.setting.name.as_alias("setting_name"),
            Response.setting.quadrant.as_alias("quadrant"), Response.version.number.as_alias("version_number"),
            Response.version.deadline.as_alias("deadline")]


async def key_documents(version_id: int | None) -> list[str]:
    """The questionnaire's key safeguarding documents, as its wording lists them."""
    if version_id is None:
        return []
    row = await QuestionnaireVersion.select(QuestionnaireVersion.key_documents).where(
        QuestionnaireVersion.id == version_id).output(load_json=True).first()
    return list(row["key_documents"] or []) if row else []


async def response_by_id(response_id: int) -> ResponseView:
    row = await Response.select(*_response_columns()).where(
        Response.id == response_id).output(load_json=True).first()
    if row is None:
        raise ResponseNotFound()
    return _view(row)


async def q13_prefill(response: ResponseView, now: dt.datetime) -> tuple[Q13Evidence, dict[str, str], Any]:
    """The evidence, the answer it suggests, and the next bookable forum for the setting."""
    evidence = (await q13_evidence([response.setting_id], response.academic_year, now))[response.setting_id]
    upcoming = await next_forum(response.quadrant, now)
    suggestion = {"compliant": {"Yes": "yes", "No": "no"}.get(evidence.answer or "", "")}
    if evidence.answer == "No":
        missing = ", ".join(term_label(t, response.academic_year) for t in evidence.missing_terms)
        action = f"No forum attendance recorded for the DSL / Lead Practitioner in {missing}."
        if upcoming:
            action += f" Book the {upcoming.term.label} forum in your quadrant."
        suggestion["action_points"] = action
    return evidence, suggestion, upcoming



async def submit_response(token: str, *, now: dt.datetime, config: Config | None = None) -> ResponseView:
    """Submit the answers saved page by page: every question answered as it now asks, Q4 and Q5
    naming who, and a Q13 answer that differs from the record with a note. On submitting, the
    leads named are kept on the setting's record and a copy goes to the setting."""
    response = await response_for_token(token)
    if response.status == ResponseStatus.submitted.value:
        return response
    questions = await response.questions()
    answers = response.answers
    errors = problems(answers, questions)
    _, suggestion, _ = await q13_prefill(response, now)
    q13 = answers.get("13", {})
    if suggestion["compliant"] and q13.get("compliant") and q13["compliant"] != suggestion["compliant"] \
            and not q13.get("note"):
        errors["q13-note"] = "Your answer to question 13 differs from the attendance we recorded: add a note saying why"
    for q in questions:
        entry = answers.get(str(q["number"]), {})
        if str(q["number"]) in LEAD_QUESTIONS and entry.get("compliant") == "yes":
            errors.update(lead_problems(shape(q), entry))
    if errors:
        raise AnswersIncomplete(errors)
    async with write_transaction():
        submitted = await Response.update({Response.status: ResponseStatus.submitted.value, Response.submitted_at: now,
                                           Response.revision: Response.revision + 1}).where(
            (Response.id == response.id) & (Response.status != ResponseStatus.submitted.value)).returning(
            Response.revision)
        if not submitted:
            return await response_for_token(token)
        await record("questionnaire.submitted", response.setting_name, setting=response.setting_id)
        for number, role in LEAD_QUESTIONS.items():
            entry = answers.get(number, {})
            if entry.get("compliant") == "yes":
                await record_lead(response.setting_id, role=role, name=entry["lead_name"],
                                  email=work_email(entry["lead_email"]) or "", since=None,
                                  actor=f"questionnaire: {response.setting_name}", now=now,
                                  source=LeadSource.questionnaire)
        if config is not None:
            row = await Response.select(Response.respondent_email).where(Response.id == response.id).first()
            await queue_copy(await response_for_token(token), row["respondent_email"], now=now, config=config,
                             revision=submitted[0]["revision"])
    return await response_for_token(token)


def action_plan(answers: dict[str, Any], questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each question with the answer as given and the Action Plan's columns: the emailed copy, the
    printable copy and its PDF."""
    return [{"number": q["number"], "text": q["text"], "items": q["items"],
             "given": given(answers.get(str(q["number"])), q),
             "details": given_details(answers.get(str(q["number"])), q),
             **{k: v for k, v in (answers.get(str(q["number"])) or {}).items()
                if k in ("action_points", "when_who", "note")}}
            for q in questions]


async def queue_copy(response: ResponseView, recipient: str, *, now: dt.datetime, config: Config,
                     revision: int = 0) -> None:
    """On submitting: the setting's answers and Action Plan, as it gave them, to the address the
    link went to (inside the submitting transaction)."""
    rows = action_plan(response.answers, await response.questions())
    email = compose_email("questionnaire_copy", recipient=recipient, config=config,
                          subject=f"Your questionnaire answers: {response.setting_name}",
                          setting_name=response.setting_name, rows=rows,
                          submitted=long_date(now))
    await queue_email(email, kind="questionnaire_copy", config=config, now=now,
                      dedupe_key=f"questionnaire-copy:{response.id}:{revision}")




def _date_parts(data: Any) -> Any:
    if isinstance(data, dict) and "completed" not in data:
        data = dict(data)
        data["completed"] = "-".join(str(data.get(f"completed-{p}", "")).strip().zfill(2)
                                     for p in ("year", "month", "day"))
    return data


class TrainingDeclarationIn(BaseModel):
    """Level 3 or Prevent training a setting declares it took elsewhere (Q6, Q7)."""

    model_config = ConfigDict(extra="ignore")

    kind: DeclarationKind
    person_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailAddress
    role: Literal["dsl", "deputy_dsl"]
    course: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    provider: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    completed: dt.date

    _gather = model_validator(mode="before")(_date_parts)


DECLARATION_MESSAGES: Messages = {
    "kind": {"missing": "Select the training", "invalid": "Select the training"},
    "person_name": {"missing": "Enter who took the training", "long": "Name must be 200 characters or fewer"},
    "email": {"missing": "Enter their work email address",
              "invalid": "Enter their work email address in the correct format, like name@example.org",
              "long": "Email address must be 254 characters or fewer"},
    "role": {"missing": "Select their role", "invalid": "Select their role"},
    "course": {"missing": "Enter the course", "long": "Course must be 200 characters or fewer"},
    "provider": {"missing": "Enter the provider", "long": "Provider must be 200 characters or fewer"},
    "completed": {"missing": "Enter the date the training was completed, like 15 3 2024",
                  "invalid": "Enter the date the training was completed, like 15 3 2024"},
}


async def declare_training(token: str, form: dict[str, str], *, now: dt.datetime, config: Config) -> None:
    """A setting declares Level 3 or Prevent training taken elsewhere by its DSL or a deputy, named
    by work email: it counts on that person's clock at once."""
    response = await response_for_token(token)
    declared = validate(TrainingDeclarationIn, form, DECLARATION_MESSAGES, error=AnswersIncomplete)
    if declared.completed > local(now).date():
        raise AnswersIncomplete({"completed": "The date must be today or in the past"})
    async with write_transaction():
        await TrainingDeclaration.insert(TrainingDeclaration(
            setting=response.setting_id, kind=declared.kind.value, person_name=declared.person_name,
            email=declared.email, role=declared.role, course=declared.course, provider=declared.provider,
            completed_on=declared.completed, created_at=now))
        await refresh_clocks([declared.email], now=now, config=config)
        await record("training.declared", response.setting_name, setting=response.setting_id, kind=declared.kind.value)


#: The settings the questionnaire is for: it is the Early Years Safeguarding Questionnaire.
QUESTIONNAIRE_FOR = (SettingType.nursery.value, SettingType.childminder.value)


async def progress_by_quadrant(academic_year: str) -> list[dict[str, Any]]:
    """Per quadrant: early-years settings on the register (those the questionnaire is for), how
    many have no email address on the register, and questionnaires sent, started and submitted."""
    config = await Setting.select(Setting.id, Setting.quadrant, Setting.contact_email).where(
        (Setting.on_register == True) & Setting.merged_into.is_null()  # noqa: E712
        & Setting.setting_type.is_in(list(QUESTIONNAIRE_FOR)))
    responses = {r["setting"]: r["status"] for r in await Response.select(Response.setting, Response.status).where(
        Response.academic_year == academic_year)}
    rows = []
    for quadrant, label in [*council().labels.items(), (None, f"No {council().word} recorded")]:
        ids = [s["id"] for s in config if (s["quadrant"] or None) == quadrant]
        statuses = [responses.get(i) for i in ids]
        rows.append({"quadrant": label, "settings": len(ids), "sent": sum(s is not None for s in statuses),
                     "no_address": sum(not s["contact_email"] for s in config
                                       if (s["quadrant"] or None) == quadrant),
                     "draft": statuses.count(ResponseStatus.draft.value),
                     "submitted": statuses.count(ResponseStatus.submitted.value)})
    return rows


async def answers_table(academic_year: str) -> Table:
    """Every response of the year with its answers, as a spreadsheet's header and rows (values
    as given; the file's writer makes them safe for spreadsheets). One query; the answers
    (megabytes of JSON at county scale) are decoded and put into words where the file is built,
    off the event loop (`Table.make`)."""
    versions = await Response.select(Response.version).where(Response.academic_year == academic_year).distinct()
    by_version = {v["version"]: await list_questions(v["version"]) for v in versions if v["version"] is not None}
    questions = by_version[max(by_version)] if by_version else await list_questions()
    header = ["Setting", council().word.capitalize(), "Status", "Submitted", "Version"]
    for q in questions:
        header += [f"Q{q['number']} Answer", f"Q{q['number']} Details", f"Q{q['number']} Action points",
                   f"Q{q['number']} When/Who", f"Q{q['number']} Note"]
    shapes = {version: {q["number"]: shape(q) for q in asked} for version, asked in by_version.items()}
    shapes[None] = {q["number"]: shape(q) for q in questions}
    responses = await read_in_slices(lambda after, size: Response.select(
        Response.id, Response.status, Response.submitted_at, Response.answers, Response.version,
        Response.version.number.as_alias("version_number"), Response.setting.name.as_alias("setting_name"),
        Response.setting.quadrant.as_alias("quadrant")).where(
        (Response.academic_year == academic_year) & (Response.id > after)).order_by(Response.id).limit(size))
    return Table(header, make=answer_rows, args=(responses, [q["number"] for q in questions], shapes))


def answer_rows(responses: list[dict[str, Any]], numbers: list[int],
                shapes: dict[int | None, dict[int, Shape]]) -> list[list[str]]:
    """The export's rows: each response's answers (JSON as stored) in the words of the version it
    answered. CPU work: `answers_table`'s Table runs it where the file is built."""
    rows = []
    latest = shapes[None]
    for r in sorted(responses, key=lambda r: (r["setting_name"], r["id"])):
        asked = shapes.get(r["version"]) or latest
        answers = decoded(r["answers"])
        row = [r["setting_name"], r["quadrant"] or "", r["status"],
               r["submitted_at"].isoformat() if r["submitted_at"] else "", str(r["version_number"] or "")]
        for number in numbers:
            a = answers.get(str(number))
            if not a:
                row += ["", "", "", "", ""]
                continue
            q_asked = asked.get(number) or latest[number]
            row += [given(a, q_asked), "; ".join(given_details(a, q_asked)), a.get("action_points", ""),
                    a.get("when_who", ""), a.get("note", "")]
        rows.append(row)
    return rows


async def list_responses(academic_year: str) -> list[dict[str, Any]]:
    return await Response.select(Response.id, Response.status, Response.sent_at, Response.submitted_at,
                                 Response.respondent_email, Response.setting.id.as_alias("setting_id"),
                                 Response.setting.name.as_alias("setting_name"),
                                 Response.setting.quadrant.as_alias("quadrant")).where(
        Response.academic_year == academic_year).order_by(Response.setting.name)


#: Past this many settings, Q13's evidence is read for every setting (a few queries) rather than
#: for a list of them: no unbounded IN lists.
EVIDENCE_BY_LIST = 200


async def differing_from_record(academic_year: str, now: dt.datetime) -> list[dict[str, Any]]:
    """Submitted responses whose Q13 answer differs from what the attendance record suggests.
    The answers are read as stored and decoded in a worker thread (a county's are megabytes)."""
    rows = await read_in_slices(lambda after, size: Response.select(
        Response.id, Response.answers, Response.setting.id.as_alias("setting_id"),
        Response.setting.name.as_alias("setting_name")).where(
        (Response.academic_year == academic_year) & (Response.status == ResponseStatus.submitted.value)
        & (Response.id > after)).order_by(Response.id).limit(size))
    if not rows:
        return []
    ids = sorted({r["setting_id"] for r in rows})
    evidence = await q13_evidence(ids if len(ids) <= EVIDENCE_BY_LIST else None, academic_year, now)
    given = await asyncio.to_thread(_q13_answers, rows)
    out = []
    for r in rows:
        answer, found = given[r["id"]], evidence.get(r["setting_id"])
        recorded = {"Yes": "yes", "No": "no"}.get(found.answer or "", "") if found else ""
        if found and recorded and answer.get("compliant") and answer["compliant"] != recorded:
            out.append({"response_id": r["id"], "setting_id": r["setting_id"], "setting_name": r["setting_name"],
                        "answered": answer["compliant"], "recorded": recorded, "note": answer.get("note", ""),
                        "facts": found.facts})
    return out


def _q13_answers(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each response's answer to Q13, from its answers as stored."""
    return {r["id"]: decoded(r["answers"]).get("13", {}) for r in rows}
