"""Findings for the summer forums: what settings told us, per question and per quadrant, from the
questionnaires they submitted. Counts of each answer, the settings not compliant (for organisers
only), and the commonest action points. Two queries whatever the number of responses."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.areas import QUADRANT_LABELS, Quadrant
from app.questionnaire.seeding import list_questions
from app.tables.questionnaire import Response, ResponseStatus

NO_QUADRANT = "No quadrant recorded"


@dataclass
class QuestionFindings:
    number: int
    text: str
    #: quadrant label -> {"yes": n, "no": n, "unanswered": n}
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
    """(responses submitted, findings per question) for the year."""
    questions = await list_questions()
    rows = await Response.select(
        Response.answers, Response.setting.name.as_alias("setting_name"),
        Response.setting.quadrant.as_alias("quadrant")).where(
        (Response.academic_year == academic_year) & (Response.status == ResponseStatus.submitted.value)
    ).order_by(Response.setting.name).output(load_json=True)
    labels = [label for label in QUADRANT_LABELS.values()] + [NO_QUADRANT]
    out = []
    for q in questions:
        found = QuestionFindings(q["number"], q["text"], {label: Counter() for label in labels})
        themes: Counter = Counter()
        wording: dict[str, str] = {}
        for r in rows:
            answer: dict[str, Any] = (r["answers"] or {}).get(str(q["number"]), {})
            label = QUADRANT_LABELS[Quadrant(r["quadrant"])] if r["quadrant"] else NO_QUADRANT
            compliant = answer.get("compliant") or "unanswered"
            found.by_quadrant[label][compliant] += 1
            if compliant == "no":
                found.not_compliant.append({"setting": r["setting_name"], "quadrant": label,
                                            "action_points": answer.get("action_points", ""),
                                            "when_who": answer.get("when_who", "")})
            point = (answer.get("action_points") or "").strip()
            if point:
                key = _theme(point)
                themes[key] += 1
                wording.setdefault(key, point)
        found.action_points = [(wording[key], n) for key, n in themes.most_common(top)]
        out.append(found)
    return len(rows), out


def findings_table(results: list[QuestionFindings]) -> tuple[list[str], list[list[str]]]:
    """One row per question and quadrant, for CSV and Excel (cells made safe by the writer)."""
    header = ["Question", "Text", "Quadrant", "Yes", "No", "Unanswered", "Commonest action points"]
    rows = []
    for f in results:
        common = "; ".join(f"{text} ({n})" for text, n in f.action_points)
        for label, counts in [*f.by_quadrant.items(), ("All quadrants", f.totals)]:
            rows.append([f"Q{f.number}", f.text, label, str(counts["yes"]), str(counts["no"]),
                         str(counts["unanswered"]), common if label == "All quadrants" else ""])
    return header, rows
