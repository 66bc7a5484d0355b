"""Answers as the form asks them, and the one home of their rules.

Three shapes of question (seeds/questionnaire.toml):
- yes/no: "Compliant Y/N", as the Action Plan asks;
- items (Q3 a-c, Q7 a-b, Q15 a-c, Q19 a-b): each item answered yes or no; the question is
  Compliant "yes" when every applicable item is yes, "no" when any is no (not-applicable items
  left out), "na" when none applies;
- choice (Q10 "How are all staff provided with Level 2 training?" a-d): one option, "Other" with
  words; it has no Compliant answer, the choice is shown as given.
A question marked `not_applicable` may be answered "not applicable" (or per item) with a reason;
every question has the Action Plan's columns (action points, when/who), and a follow-up question
("Is this repeated annually for all staff?") its own yes/no.

An answer is kept as given: {"compliant", "items", "choice", "other", "na_reason", "follow_up",
"action_points", "when_who", "note", "lead_name", "lead_email"}, with only the keys its shape uses.
These are the setting's own answers; what the service works out from records (Q13) is elsewhere."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from typing import Any, Mapping

YES_NO = ("yes", "no")
WORDS = {"yes": "Yes", "no": "No", "na": "Not applicable", "": "Not answered"}
TEXT_LIMIT = 2000
#: Questions that name a person: Q4 the Lead Practitioner / DSL, Q5 the deputy.
LEAD_QUESTIONS = {"4": "dsl", "5": "deputy_dsl"}


@dataclass(frozen=True)
class Shape:
    number: int
    text: str
    kind: str  # yes_no | items | choice
    items: tuple[str, ...]
    not_applicable: bool
    follow_up: str

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(string.ascii_lowercase[: len(self.items)])

    @property
    def other_letter(self) -> str | None:
        """The choice that asks for words ("Other."), if the question offers one."""
        for letter, item in zip(self.letters, self.items):
            if item.strip().rstrip(".").casefold() == "other":
                return letter
        return None

    @property
    def has_compliant(self) -> bool:
        return self.kind != "choice"

    @property
    def answers_possible(self) -> tuple[str, ...]:
        """What a yes/no or items question can be counted as, in the order findings show them."""
        if self.kind == "choice":
            return self.letters
        return (*YES_NO, "na") if self.not_applicable else YES_NO


def shape(question: Mapping[str, Any] | Shape) -> Shape:
    if isinstance(question, Shape):
        return question
    items = tuple(question.get("items") or ())
    kind = question.get("kind") or ("items" if items else "yes_no")
    return Shape(int(question["number"]), question["text"], kind, items,
                 bool(question.get("not_applicable")), question.get("follow_up") or "")


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name, "") or "").strip()[:TEXT_LIMIT]


def derived_compliant(item_answers: Mapping[str, str], q: Shape) -> str:
    """Compliant for a question with items: 'no' if any item is no; 'yes' if every applicable
    item is yes; 'na' if none applies; '' while an item is unanswered."""
    values = [item_answers.get(letter, "") for letter in q.letters]
    if "no" in values:
        return "no"
    if "" in values:
        return ""
    if all(v == "na" for v in values):
        return "na"
    return "yes"


def clean_one(form: Mapping[str, Any], q: Shape) -> dict[str, Any]:
    """One question's answer from the form's fields (q{n}-...), as given, values kept to what the
    question allows."""
    n = q.number
    allowed = (*YES_NO, "na") if q.not_applicable else YES_NO
    entry: dict[str, Any] = {"action_points": _text(form, f"q{n}-action_points"),
                             "when_who": _text(form, f"q{n}-when_who"), "note": _text(form, f"q{n}-note")}
    if q.kind == "items":
        entry["items"] = {letter: v if (v := _text(form, f"q{n}-item-{letter}")) in allowed else ""
                          for letter in q.letters}
        entry["compliant"] = derived_compliant(entry["items"], q)
    elif q.kind == "choice":
        choice = _text(form, f"q{n}-choice")
        entry["choice"] = choice if choice in q.letters else ""
        entry["other"] = _text(form, f"q{n}-other") if entry["choice"] and entry["choice"] == q.other_letter else ""
    else:
        value = _text(form, f"q{n}-compliant")
        entry["compliant"] = value if value in allowed else ""
    if q.not_applicable:
        entry["na_reason"] = _text(form, f"q{n}-na_reason") if _uses_na(entry) else ""
    if q.follow_up:
        value = _text(form, f"q{n}-follow_up")
        entry["follow_up"] = value if value in YES_NO else ""
    if str(n) in LEAD_QUESTIONS:
        entry["lead_name"] = _text(form, f"q{n}-lead_name")[:200]
        entry["lead_email"] = _text(form, f"q{n}-lead_email")[:254]
    return entry


def _uses_na(entry: Mapping[str, Any]) -> bool:
    return entry.get("compliant") == "na" or "na" in (entry.get("items") or {}).values()


def clean(form: Mapping[str, Any], questions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(q["number"]): clean_one(form, shape(q)) for q in questions}


def problems(answers: Mapping[str, Mapping[str, Any]], questions: list[Mapping[str, Any]]) -> dict[str, str]:
    """What stops a submit, as field id -> message (the error summary's links)."""
    errors: dict[str, str] = {}
    for question in questions:
        q = shape(question)
        n, a = q.number, answers.get(str(q.number), {})
        options = "yes, no or not applicable" if q.not_applicable else "yes or no"
        if q.kind == "items":
            for letter in q.letters:
                if not (a.get("items") or {}).get(letter):
                    errors[f"q{n}-item-{letter}"] = f"Answer question {n}{letter}: {options}"
        elif q.kind == "choice":
            if not a.get("choice"):
                errors[f"q{n}-choice"] = f"Answer question {n}: choose how, or Other"
            elif a["choice"] == q.other_letter and not a.get("other"):
                errors[f"q{n}-other"] = f"Say how, for question {n} (Other)"
        elif not a.get("compliant"):
            errors[f"q{n}-compliant"] = f"Answer question {n}: {options}"
        if q.not_applicable and _uses_na(a) and not a.get("na_reason"):
            errors[f"q{n}-na_reason"] = f"Say why question {n} does not apply to your setting"
        if q.follow_up and not a.get("follow_up"):
            errors[f"q{n}-follow_up"] = f"Answer question {n}'s follow-up: {q.follow_up}"
    return errors


def given(answer: Mapping[str, Any] | None, question: Mapping[str, Any] | Shape) -> str:
    """The answer as the setting gave it, in words (pages, the emailed copy, exports)."""
    q, a = shape(question), answer or {}
    if q.kind == "choice":
        choice = a.get("choice", "")
        if not choice:
            return WORDS[""]
        text = q.items[q.letters.index(choice)].rstrip(";.")
        return f"{choice}. {text}" + (f": {a['other']}" if a.get("other") else "")
    if q.kind == "items":
        items = a.get("items") or {}
        parts = [f"{letter}. {WORDS[items.get(letter, '')]}" for letter in q.letters]
        return f"{WORDS[a.get('compliant', '')]} ({'; '.join(parts)})"
    return WORDS[a.get("compliant", "")]


def given_details(answer: Mapping[str, Any] | None, question: Mapping[str, Any] | Shape) -> list[str]:
    """Lines beside the answer: why not applicable, the follow-up's answer, who is the lead."""
    q, a, lines = shape(question), answer or {}, []
    if a.get("na_reason"):
        lines.append(f"Why not applicable: {a['na_reason']}")
    if q.follow_up and a.get("follow_up"):
        lines.append(f"{q.follow_up} {WORDS[a['follow_up']]}")
    if a.get("lead_name"):
        lines.append(f"Named: {a['lead_name']}" + (f" ({a['lead_email']})" if a.get("lead_email") else ""))
    return lines


def counted_as(answer: Mapping[str, Any] | None, question: Mapping[str, Any] | Shape) -> str:
    """What findings count this answer as: yes/no/na (a choice question: its letter), or ''."""
    q, a = shape(question), answer or {}
    return (a.get("choice") if q.kind == "choice" else a.get("compliant")) or ""


def decoded(answers: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A response's answers as read: a JSON text (read without decoding, to decode off the event
    loop) or decoded already."""
    if isinstance(answers, str):
        return json.loads(answers) if answers else {}
    return dict(answers or {})
