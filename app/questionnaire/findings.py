"""Findings for the summer forums: what settings told us, per question and per quadrant, from the
questionnaires they submitted. Counts of each answer, the settings not compliant (for organisers
only), and the commonest action points."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.areas import council
from app.db import read_in_slices
from app.questionnaire.answers import WORDS, counted_as, decoded, given, shape
from app.questionnaire.seeding import list_questions
from app.tables.questionnaire import Response, ResponseStatus

NO_QUADRANT = "No quadrant recorded"


@dataclass
class QuestionFindings:
    number: int
    text: str
    #: what an answer can be counted as, with the words shown for it (yes/no/N/A; a choice's options)
    columns: list[tuple[str, str]] = field(default_factory=list)
    #: quadrant label -> {"yes": n, "no": n, "na": n, "unanswered": n} (a choice question: per letter)
    by_quadrant: dict[str, Counter] = field(default_factory=dict)
    not_compliant: list[dict[str, str]] = field(default_factory=list)
    action_points: list[tuple[str, int]] = field(default_factory=list)

    @property
    def totals(self) -> Counter:
        total: Counter = Counter()
        for counts in self.by_quadrant.values():
            total.update(counts)
        return total


def _theme(text: str) -> str:
    """Action points compared as words: case, punctuation and spacing aside."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


async def findings(academic_year: str, *, top: int = 5) -> tuple[int, list[QuestionFindings]]:
    """(responses submitted, findings per question) for the year, with the questions as the
    year's latest version asks them (answers matched by question number). One query; the
    answers are decoded and counted in a worker thread, off the event loop."""
    rows = await read_in_slices(lambda after, size: Response.select(
        Response.id, Response.answers, Response.version, Response.setting.name.as_alias("setting_name"),
        Response.setting.quadrant.as_alias("quadrant")).where(
        (Response.academic_year == academic_year) & (Response.status == ResponseStatus.submitted.value)
        & (Response.id > after)).order_by(Response.id).limit(size))
    versions = [r["version"] for r in rows if r["version"] is not None]
    questions = await list_questions(max(versions) if versions else None)
    return len(rows), await asyncio.to_thread(_count, rows, questions, top)


def _count(rows: list[dict[str, Any]], questions: list[dict[str, Any]], top: int) -> list[QuestionFindings]:
    """The findings of each question from the responses as read (answers as JSON text). CPU work:
    run in a worker thread."""
    labels = [*council().labels.values(), NO_QUADRANT]
    rows = sorted(rows, key=lambda r: (r["setting_name"], r["id"]))
    answers_of = [decoded(r["answers"]) for r in rows]
    quadrants = [council().label(r["quadrant"], NO_QUADRANT) for r in rows]
    out = []
    for q in questions:
        s = shape(q)
        options = [(letter, f"{letter}. {item.rstrip(';.')}") for letter, item in zip(s.letters, s.items)]
        columns = ([(a, WORDS[a]) for a in s.answers_possible] if s.kind != "choice" else []) + (
            options if s.kind in ("choice", "choices") else [])
        found = QuestionFindings(q["number"], q["text"], columns + [("unanswered", "Unanswered")],
                                 {label: Counter() for label in labels})
        themes: Counter = Counter()
        wording: dict[str, str] = {}
        key = str(q["number"])
        for r, answers, label in zip(rows, answers_of, quadrants):
            answer: dict[str, Any] = answers.get(key, {})
            counted = counted_as(answer, s) or ["unanswered"]
            for key_counted in counted:
                found.by_quadrant[label][key_counted] += 1
            if "no" in counted:
                found.not_compliant.append({"setting": r["setting_name"], "quadrant": label, "answer": given(answer, s),
                                            "action_points": answer.get("action_points", ""),
                                            "when_who": answer.get("when_who", "")})
            point = (answer.get("action_points") or "").strip()
            if point:
                theme = _theme(point)
                themes[theme] += 1
                wording.setdefault(theme, point)
        found.action_points = [(wording[theme], n) for theme, n in themes.most_common(top)]
        out.append(found)
    return out


def findings_table(results: list[QuestionFindings]) -> tuple[list[str], list[list[str]]]:
    """One row per question and quadrant, for CSV and Excel (cells made safe by the writer)."""
    header = ["Question", "Text", council().word.capitalize(), "Answer", "Settings", "Commonest action points"]
    rows = []
    for f in results:
        common = "; ".join(f"{text} ({n})" for text, n in f.action_points)
        for label, counts in [*f.by_quadrant.items(), ("All quadrants", f.totals)]:
            for key, words in f.columns:
                rows.append([f"Q{f.number}", f.text, label, words, str(counts[key]),
                             common if label == "All quadrants" and key == f.columns[0][0] else ""])
    return header, rows
