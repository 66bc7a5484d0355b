"""Answers as the questionnaire asks them, and the one home of their rules.

Three shapes of question (seeds/questionnaire.toml):
- yes/no: "Compliant Y/N", as the Action Plan asks;
- items (Q3 a-c, Q7 a-b, Q9 a-b, Q15 a-c, Q19 a-b): each item answered yes or no; the question is
  Compliant "yes" when every item that applies is yes, "no" when any is no;
- choices (Q10 "How are all staff provided with Level 2 training?" a-d): any of the options, "Other"
  with how, and a Compliant Y/N like every question.

"Not applicable" is never a setting's answer: it follows from two facts the questionnaire asks
first (`FACTS`): with no deputy Lead Practitioner / DSL, Q5 does not apply; with nobody but the
Lead Practitioner working with children, the questions and items about staff do not (each
question's `applies` in the seed file says which). Those are recorded as not applicable with the
reason, and nothing else ever is. An answer of "na" kept from an earlier wording of the
questionnaire, where the question no longer allows it, is shown as needing an answer again.

Every question has the Action Plan's columns (action points, when/who), asked when Compliant is
not yes; a follow-up question ("Is this repeated annually for all staff?") has its own yes/no.

An answer is kept as given: {"compliant", "items", "choices", "other", "na_reason", "follow_up",
"action_points", "when_who", "note", "lead_name", "lead_email"}, with only the keys its shape uses;
the facts are kept under "about". These are the setting's own answers; what the service works out
from records (Q13) is elsewhere."""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass, field
from typing import Any, Mapping

YES_NO = ("yes", "no")
WORDS = {"yes": "Yes", "no": "No", "na": "Not applicable", "": "Not answered"}
TEXT_LIMIT = 2000
#: Questions that name a person: Q4 the Lead Practitioner / DSL, Q5 the deputy.
LEAD_QUESTIONS = {"4": "dsl", "5": "deputy_dsl"}
#: Where the facts about the setting are kept among the answers.
ABOUT = "about"

#: The facts asked before the questions, and what each one's "no" makes not applicable.
FACTS = {
    "has_deputy": "Does your setting have a deputy Lead Practitioner / DSL?",
    "has_staff": "Does anyone other than the Lead Practitioner work with children?",
}
#: What a question's `applies` names, the fact it needs, and the reason recorded when it is "no".
NEEDS = {
    "deputy": ("has_deputy", "The setting has no deputy Lead Practitioner / DSL."),
    "staff": ("has_staff", "No one other than the Lead Practitioner works with children at the setting."),
}


@dataclass(frozen=True)
class Shape:
    number: int
    text: str
    kind: str  # yes_no | items | choices
    items: tuple[str, ...]
    follow_up: str
    #: What the question needs to apply at all ("deputy", "staff" or ""), per item, and for its
    #: follow-up; and whether it names the deputy (asked of the Lead Practitioner only without one).
    needs: str = ""
    item_needs: Mapping[str, str] = field(default_factory=dict)
    follow_up_needs: str = ""
    names_deputy: bool = False
    section: str = ""

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(string.ascii_lowercase[: len(self.items)])

    @property
    def options(self) -> list[tuple[str, str]]:
        """(letter, "a. text") for each option or item."""
        return [(letter, f"{letter}. {item}") for letter, item in zip(self.letters, self.items)]

    @property
    def other_letter(self) -> str | None:
        """The option that asks for words ("Other"), if the question offers one."""
        for letter, item in zip(self.letters, self.items):
            if item.strip().rstrip(".").casefold() == "other":
                return letter
        return None

    @property
    def answers_possible(self) -> tuple[str, ...]:
        """What findings count the question as, in the order they show them."""
        return (*YES_NO, "na") if self.needs or self.item_needs else YES_NO

    def applies(self, facts: Mapping[str, str]) -> bool:
        return _met(self.needs, facts)

    def item_applies(self, letter: str, facts: Mapping[str, str]) -> bool:
        return _met(self.item_needs.get(letter, ""), facts)

    def follow_up_applies(self, facts: Mapping[str, str]) -> bool:
        return bool(self.follow_up) and _met(self.follow_up_needs, facts)

    def na_reason(self, facts: Mapping[str, str]) -> str:
        """Why the question (or the items of it that do not apply) is not applicable."""
        needs = [self.needs] if not self.applies(facts) else [
            n for letter, n in self.item_needs.items() if not self.item_applies(letter, facts)]
        return " ".join(NEEDS[n][1] for n in dict.fromkeys(needs) if n)

    def lead_only(self, facts: Mapping[str, str]) -> bool:
        """Asked of the Lead Practitioner only: it names the deputy, and there is none."""
        return self.names_deputy and facts.get("has_deputy") == "no"


def _met(needs: str, facts: Mapping[str, str]) -> bool:
    return not needs or facts.get(NEEDS[needs][0]) != "no"


def shape(question: Mapping[str, Any] | Shape) -> Shape:
    if isinstance(question, Shape):
        return question
    items = tuple(question.get("items") or ())
    kind = question.get("kind") or ("items" if items else "yes_no")
    applies = question.get("applies") or {}
    return Shape(int(question["number"]), question["text"], kind, items, question.get("follow_up") or "",
                 needs=applies.get("needs", ""), item_needs=dict(applies.get("items") or {}),
                 follow_up_needs=applies.get("follow_up", ""), names_deputy=bool(applies.get("names_deputy")),
                 section=question.get("section") or "")


def facts_of(answers: Mapping[str, Any]) -> dict[str, str]:
    """The facts about the setting the questionnaire asked first ({} until answered)."""
    return dict(answers.get(ABOUT) or {})


def facts_words(facts: Mapping[str, str]) -> str:
    """The facts as a person reads them."""
    return "; ".join(f"{question} {WORDS.get(facts.get(name, ''), WORDS[''])}" for name, question in FACTS.items())


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name, "") or "").strip()[:TEXT_LIMIT]


def _values(form: Any, name: str) -> list[str]:
    """Every value of a field sent more than once (checkboxes)."""
    if hasattr(form, "getall"):
        return [str(v) for v in form.getall(name, [])]
    value = form.get(name)
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)] if value else []


def clean_facts(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: value if (value := _text(form, f"about-{name}")) in YES_NO else "" for name in FACTS}


def derived_compliant(item_answers: Mapping[str, str], q: Shape) -> str:
    """Compliant for a question with items: 'no' if any item is no; 'yes' if every item that
    applies is yes; 'na' if none applies; '' while an item is unanswered."""
    values = [item_answers.get(letter, "") for letter in q.letters]
    if "no" in values:
        return "no"
    if "" in values:
        return ""
    if all(v == "na" for v in values):
        return "na"
    return "yes"


def clean_one(form: Mapping[str, Any], q: Shape, facts: Mapping[str, str]) -> dict[str, Any]:
    """One question's answer from its page's fields (q{n}-...), as given, values kept to what the
    question allows; what does not apply recorded so, with the reason."""
    n = q.number
    if not q.applies(facts):
        return {"compliant": "na", "na_reason": q.na_reason(facts), "na_from_facts": True}
    entry: dict[str, Any] = {}
    if q.kind == "items":
        entry["items"] = {letter: (v if (v := _text(form, f"q{n}-item-{letter}")) in YES_NO else "")
                          if q.item_applies(letter, facts) else "na" for letter in q.letters}
        entry["compliant"] = derived_compliant(entry["items"], q)
        if "na" in entry["items"].values():
            entry.update(na_reason=q.na_reason(facts), na_from_facts=True)
    else:
        entry["compliant"] = value if (value := _text(form, f"q{n}-compliant")) in YES_NO else ""
    if q.kind == "choices":
        chosen = set(_values(form, f"q{n}-choices"))
        entry["choices"] = [letter for letter in q.letters if letter in chosen]
        entry["other"] = _text(form, f"q{n}-other") if q.other_letter in entry["choices"] else ""
    if q.follow_up:
        if q.follow_up_applies(facts):
            entry["follow_up"] = value if (value := _text(form, f"q{n}-follow_up")) in YES_NO else ""
        else:
            entry["follow_up"] = "na"
    if entry.get("compliant") == "no":  # the Action Plan's columns, asked when Compliant is not yes
        entry["action_points"] = _text(form, f"q{n}-action_points")
        entry["when_who"] = _text(form, f"q{n}-when_who")
    if n == 13:
        entry["note"] = _text(form, "q13-note")
    if str(n) in LEAD_QUESTIONS and entry.get("compliant") == "yes":
        entry["lead_name"] = _text(form, f"q{n}-lead_name")[:200]
        entry["lead_email"] = _text(form, f"q{n}-lead_email")[:254]
    return entry


def clean(form: Mapping[str, Any], questions: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Every answer from one form holding them all (the facts as `about-…` fields): for data made
    in bulk (the county-scale generator); settings answer page by page."""
    facts = clean_facts(form)
    return {ABOUT: facts, **{str(q["number"]): clean_one(form, shape(q), facts) for q in questions}}


def with_facts(entry: Mapping[str, Any] | None, q: Shape, facts: Mapping[str, str]) -> dict[str, Any] | None:
    """An answer after the facts changed: what no longer applies recorded so (with the reason,
    marked `na_from_facts`), what applies again asked again. A "not applicable" kept from an
    earlier wording is left for the setting to see and answer. None: nothing to keep."""
    if not q.applies(facts):
        return {"compliant": "na", "na_reason": q.na_reason(facts), "na_from_facts": True}
    entry = dict(entry or {})
    by_facts = entry.pop("na_from_facts", False)
    if by_facts:
        entry.pop("na_reason", None)
    if entry.get("compliant") == "na" and not entry.get("items") and by_facts:
        return None  # it applies again: asked again
    if q.kind == "items" and entry.get("items"):
        entry["items"] = {letter: "na" if not q.item_applies(letter, facts)
                          else ("" if v == "na" and by_facts else v)
                          for letter, v in ((letter, entry["items"].get(letter, "")) for letter in q.letters)}
        entry["compliant"] = derived_compliant(entry["items"], q)
        if any(not q.item_applies(letter, facts) for letter in q.letters):
            entry.update(na_reason=q.na_reason(facts), na_from_facts=True)
    if q.follow_up:
        if not q.follow_up_applies(facts):
            entry["follow_up"] = "na"
        elif entry.get("follow_up") == "na":
            entry["follow_up"] = ""
    return entry or None


def page_problems(entry: Mapping[str, Any], q: Shape, facts: Mapping[str, str]) -> dict[str, str]:
    """What one question's answer lacks, as field id -> message (its page's error summary)."""
    n, a, errors = q.number, entry, {}
    if not q.applies(facts):
        return {}
    if q.kind == "items":
        for letter in q.letters:
            value = (a.get("items") or {}).get(letter, "")
            if not q.item_applies(letter, facts):
                continue
            if value == "na":
                errors[f"q{n}-item-{letter}"] = f"Question {n}{letter} now needs an answer: answer yes or no"
            elif not value:
                errors[f"q{n}-item-{letter}"] = f"Answer question {n}{letter}: yes or no"
    else:
        if a.get("compliant") == "na":
            errors[f"q{n}-compliant"] = f"Question {n} now needs an answer: answer yes or no"
        elif not a.get("compliant"):
            errors[f"q{n}-compliant"] = f"Answer question {n}: yes or no"
    if q.kind == "choices":
        if not a.get("choices"):
            errors[f"q{n}-choices"] = f"Answer question {n}: choose how, or Other"
        elif q.other_letter in a["choices"] and not a.get("other"):
            errors[f"q{n}-other"] = f"Say how, for question {n} (Other)"
    if q.follow_up_applies(facts) and a.get("follow_up") not in YES_NO:
        errors[f"q{n}-follow_up"] = f"Answer question {n}'s follow-up: {q.follow_up}"
    return errors


def facts_problems(facts: Mapping[str, str]) -> dict[str, str]:
    return {f"about-{name}": f"Answer: {question}" for name, question in FACTS.items() if facts.get(name) not in YES_NO}


def problems(answers: Mapping[str, Any], questions: list[Mapping[str, Any]]) -> dict[str, str]:
    """What stops a submit, as field id -> message."""
    facts = facts_of(answers)
    errors = facts_problems(facts)
    for question in questions:
        q = shape(question)
        errors.update(page_problems(answers.get(str(q.number), {}), q, facts))
    return errors


def answered(entry: Mapping[str, Any] | None, q: Shape, facts: Mapping[str, str]) -> bool:
    """Whether a question has an answer of the kind it now asks for."""
    return not page_problems(entry or {}, q, facts) and (bool(entry) or not q.applies(facts))


def fingerprint(entry: Any) -> str:
    """A short mark of an answer as stored: a page carries the marks of what it showed, so a save
    can tell whether someone changed the answer meanwhile."""
    return hashlib.sha256(json.dumps(entry or {}, sort_keys=True).encode()).hexdigest()[:16]


def given(answer: Mapping[str, Any] | None, question: Mapping[str, Any] | Shape) -> str:
    """The answer as the setting gave it, in words (pages, the emailed copy, exports)."""
    q, a = shape(question), answer or {}
    if a.get("compliant") == "na" and not a.get("items"):
        return WORDS["na"]
    if q.kind == "items":
        items = a.get("items") or {}
        parts = [f"{letter}. {WORDS[items.get(letter, '')]}" for letter in q.letters]
        return f"{WORDS[a.get('compliant', '')]} ({'; '.join(parts)})"
    if q.kind == "choices":
        chosen = [letter for letter in a.get("choices") or [] if letter in q.letters]
        how = "; ".join(f"{letter}. {q.items[q.letters.index(letter)].rstrip(';.')}"
                        + (f": {a['other']}" if letter == q.other_letter and a.get("other") else "") for letter in chosen)
        return f"{WORDS[a.get('compliant', '')]} ({how or 'no option chosen'})"
    # A single choice kept from the first wording of Q10.
    if a.get("choice") and q.items:
        letter = a["choice"]
        text = q.items[q.letters.index(letter)].rstrip(";.") if letter in q.letters else letter
        return f"{letter}. {text}" + (f": {a['other']}" if a.get("other") else "")
    return WORDS.get(a.get("compliant", ""), WORDS[""])


def given_details(answer: Mapping[str, Any] | None, question: Mapping[str, Any] | Shape) -> list[str]:
    """Lines beside the answer: why not applicable, the follow-up's answer, who is the lead."""
    q, a, lines = shape(question), answer or {}, []
    if a.get("na_reason"):
        lines.append(f"Why not applicable: {a['na_reason']}")
    if q.follow_up and a.get("follow_up"):
        lines.append(f"{q.follow_up} {WORDS.get(a['follow_up'], a['follow_up'])}")
    if a.get("lead_name"):
        lines.append(f"Named: {a['lead_name']}" + (f" ({a['lead_email']})" if a.get("lead_email") else ""))
    return lines


def counted_as(answer: Mapping[str, Any] | None, question: Mapping[str, Any] | Shape) -> list[str]:
    """What findings count this answer as: its Compliant (yes/no/na), and for a question with
    options each option chosen; [] when unanswered."""
    q, a = shape(question), answer or {}
    counted = [a["compliant"]] if a.get("compliant") else []
    if q.kind == "choices":
        counted += [letter for letter in a.get("choices") or [] if letter in q.letters]
    elif a.get("choice"):
        counted.append(a["choice"])
    return counted


def decoded(answers: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A response's answers as read: a JSON text (read without decoding, to decode off the event
    loop) or decoded already."""
    if isinstance(answers, str):
        return json.loads(answers) if answers else {}
    return dict(answers or {})
