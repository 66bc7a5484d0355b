"""Completing the questionnaire in steps: a task list of sections, a page per question, each page
saved when continued, a check of every answer, then submitting (and, until the deadline, asking to
change an answer).

Each page saves only its own answers into the response (one guarded UPDATE that applies only to
the revision it read, tried again when another save came in between), so two people on one
setting's link never overwrite each other's pages. A page carries the marks (`fingerprint`) of
the answers it showed: when a save finds an answer changed by someone else since the page was
opened, and different from what this page sends, nothing of that answer is saved and both are
shown for the person to choose which to keep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.areas import local
from app.audit.services import record
from app.errors import DomainError
from app.questionnaire.answers import (
    ABOUT,
    LEAD_QUESTIONS,
    Shape,
    answered,
    clean_facts,
    clean_one,
    facts_of,
    facts_problems,
    fingerprint,
    page_problems,
    shape,
    with_facts,
)
from app.questionnaire.seeding import version_for
from app.tables.questionnaire import QuestionnaireVersion, Response, ResponseStatus

#: The task list's first section: the facts every later answer depends on.
ABOUT_SECTION = "Your setting"
#: Saves retried when other saves keep coming in between (each retry re-reads the answers).
SAVE_TRIES = 5


class ResponseSubmitted(DomainError):
    code = "submitted"
    message = "This questionnaire has been submitted: ask to change an answer to reopen it"


class CannotReopen(DomainError):
    code = "past_deadline"
    message = "The deadline has passed, so the questionnaire cannot be reopened: contact the team"


@dataclass(frozen=True)
class Page:
    """One page of the questionnaire: the facts page ("about") or a question's ("3")."""

    key: str
    section: str
    question: Shape | None = None

    @property
    def number(self) -> int | None:
        return self.question.number if self.question else None


def pages(questions: list[Mapping[str, Any]]) -> list[Page]:
    """Every page in the order the flow takes them."""
    out = [Page(ABOUT, ABOUT_SECTION)]
    for q in sorted((shape(q) for q in questions), key=lambda s: s.number):
        out.append(Page(str(q.number), q.section or "Questions", q))
    return out


def page_for(key: str, questions: list[Mapping[str, Any]]) -> Page | None:
    return next((p for p in pages(questions) if p.key == key), None)


@dataclass(frozen=True)
class Task:
    section: str
    status: str  # "Not started" | "In progress" | "Completed" | "Cannot start yet"
    first: str  # the page it starts at
    numbers: tuple[int, ...]


def page_done(page: Page, answers: Mapping[str, Any]) -> bool:
    facts = facts_of(answers)
    if page.question is None:
        return not facts_problems(facts)
    return answered(answers.get(page.key), page.question, facts)


def _page_started(page: Page, answers: Mapping[str, Any]) -> bool:
    if page.question is None:
        return any(facts_of(answers).values())
    entry = answers.get(page.key) or {}
    return bool(entry) and page.question.applies(facts_of(answers))


def tasks(questions: list[Mapping[str, Any]], answers: Mapping[str, Any]) -> list[Task]:
    """The task list: each section with its state, worked out from the answers."""
    by_section: dict[str, list[Page]] = {}
    for page in pages(questions):
        by_section.setdefault(page.section, []).append(page)
    facts_known = not facts_problems(facts_of(answers))
    out = []
    for section, in_section in by_section.items():
        if section != ABOUT_SECTION and not facts_known:
            status = "Cannot start yet"
        elif all(page_done(p, answers) for p in in_section):
            status = "Completed"
        elif any(_page_started(p, answers) for p in in_section):
            status = "In progress"
        else:
            status = "Not started"
        first = next((p.key for p in in_section if not page_done(p, answers)), in_section[0].key)
        out.append(Task(section, status, first, tuple(p.number for p in in_section if p.number)))
    return out


def next_page(key: str, questions: list[Mapping[str, Any]], answers: Mapping[str, Any]) -> str | None:
    """The page after `key` that asks something (a question that does not apply is skipped);
    None after the last."""
    facts = facts_of(answers)
    ordered = pages(questions)
    keys = [p.key for p in ordered]
    for page in ordered[keys.index(key) + 1:]:
        if page.question is None or page.question.applies(facts):
            return page.key
    return None


def previous_page(key: str, questions: list[Mapping[str, Any]], answers: Mapping[str, Any]) -> str | None:
    facts = facts_of(answers)
    ordered = pages(questions)
    keys = [p.key for p in ordered]
    for page in reversed(ordered[:keys.index(key)]):
        if page.question is None or page.question.applies(facts):
            return page.key
    return None


def refers_to_old_rule(entry: Mapping[str, Any] | None, q: Shape, facts: Mapping[str, str]) -> bool:
    """An answer of "not applicable" kept from an earlier wording, where this one needs an answer."""
    entry = entry or {}
    if not q.applies(facts):
        return False
    if q.kind == "items":
        return any(v == "na" and q.item_applies(letter, facts) for letter, v in (entry.get("items") or {}).items())
    return entry.get("compliant") == "na" and not entry.get("na_from_facts")


def _with_facts(answers: dict[str, Any], facts: dict[str, str], questions: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The answers after the facts changed (`answers.with_facts`, question by question)."""
    out = {**answers, ABOUT: facts}
    for question in questions:
        q = shape(question)
        entry = with_facts(out.get(str(q.number)), q, facts)
        if entry is None:
            out.pop(str(q.number), None)
        else:
            out[str(q.number)] = entry
    return out


@dataclass
class Saved:
    """What a page's save did: the answers now, those changed elsewhere since the page was
    opened (question key -> (theirs, mine)), and what the page's answers still lack."""

    answers: dict[str, Any]
    conflicts: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def _page_entries(page: Page, form: Mapping[str, Any], facts: Mapping[str, str]) -> dict[str, Any]:
    if page.question is None:
        return clean_facts(form)
    return clean_one(form, page.question, facts)


async def save_page(response_id: int, page: Page, form: Mapping[str, Any], questions: list[Mapping[str, Any]], *,
                    now: dt.datetime) -> Saved:
    """Save one page's answers. Returns what was saved, any answer changed elsewhere meanwhile
    (not saved: the person chooses), and what the page still lacks (saved all the same: nothing
    typed is lost)."""
    for _ in range(SAVE_TRIES):
        row = await Response.select(Response.answers, Response.revision, Response.status).where(
            Response.id == response_id).output(load_json=True).first()
        if row["status"] == ResponseStatus.submitted.value:
            raise ResponseSubmitted()
        answers: dict[str, Any] = dict(row["answers"] or {})
        stored = answers.get(page.key) or {}
        facts = facts_of(answers)
        mine = _page_entries(page, form, facts)
        seen = str(form.get(f"seen-{page.key}", ""))
        keep = str(form.get(f"keep-{page.key}", ""))
        if keep == "theirs":
            mine = stored
        elif keep != "mine" and seen and seen != fingerprint(stored) and mine != stored:
            return Saved(answers, conflicts={page.key: (stored, mine)})
        if page.question is None:
            updated = _with_facts(answers, mine, questions)
        else:
            updated = {**answers, page.key: mine}
        if updated == answers and row["status"] != ResponseStatus.sent.value:
            break
        changed = await Response.update({
            Response.answers: updated, Response.status: ResponseStatus.draft.value, Response.updated_at: now,
            Response.revision: Response.revision + 1,
        }).where((Response.id == response_id) & (Response.revision == row["revision"])
                 & (Response.status != ResponseStatus.submitted.value)).returning(Response.id)
        if changed:
            answers = updated
            break
    else:
        raise RuntimeError("the questionnaire kept changing while this page was saved")  # pragma: no cover
    facts = facts_of(answers)
    if page.question is None:
        problems = facts_problems(facts)
    else:
        problems = page_problems(answers.get(page.key, {}), page.question, facts)
        entry = answers.get(page.key, {})
        if str(page.number) in LEAD_QUESTIONS and entry.get("compliant") == "yes":
            problems.update(lead_problems(page.question, entry))
    return Saved(answers, problems=problems)


def lead_problems(q: Shape, entry: Mapping[str, Any]) -> dict[str, str]:
    """Q4 and Q5 answered yes name the person, with a work email."""
    from app.validation import work_email

    who = {"4": "Lead Practitioner / DSL", "5": "deputy"}[str(q.number)]
    errors = {}
    if not entry.get("lead_name"):
        errors[f"q{q.number}-lead_name"] = f"Enter the name of your {who}"
    if work_email(entry.get("lead_email", "")) is None:
        errors[f"q{q.number}-lead_email"] = f"Enter the work email of your {who}, like name@example.com"
    return errors


async def adopt_latest_version(response_id: int, version_id: int | None, academic_year: str, status: str) -> int | None:
    """A response not yet submitted answers the latest wording of its year (a submitted one is
    never rewritten: it keeps the wording it answered until it is reopened). Answers are kept;
    any the new wording no longer allows are shown as needing an answer. Returns the version."""
    if status == ResponseStatus.submitted.value:
        return version_id
    latest = await version_for(academic_year)
    if latest is None or latest["id"] == version_id or latest["academic_year"] != academic_year:
        return version_id
    if version_id is not None:
        current = await QuestionnaireVersion.select(QuestionnaireVersion.code, QuestionnaireVersion.number).where(
            QuestionnaireVersion.id == version_id).first()
        if current is None or current["code"] != latest["code"] or current["number"] > latest["number"]:
            return version_id
    await Response.update({Response.version: latest["id"]}).where(
        (Response.id == response_id) & (Response.status != ResponseStatus.submitted.value))
    await record("questionnaire.version_adopted", "questionnaire", response=response_id, version=latest["id"])
    return latest["id"]


def can_reopen(deadline: dt.date | None, now: dt.datetime) -> bool:
    return deadline is None or local(now).date() <= deadline


async def reopen(response_id: int, *, deadline: dt.date | None, setting_name: str, setting_id: int,
                 now: dt.datetime) -> None:
    """A submitted response opened again to change an answer (until the deadline), audited."""
    if not can_reopen(deadline, now):
        raise CannotReopen()
    changed = await Response.update({Response.status: ResponseStatus.draft.value, Response.reopened_at: now,
                                     Response.updated_at: now, Response.revision: Response.revision + 1}).where(
        (Response.id == response_id) & (Response.status == ResponseStatus.submitted.value)).returning(Response.id)
    if changed:
        await record("questionnaire.reopened", setting_name, setting=setting_id)
