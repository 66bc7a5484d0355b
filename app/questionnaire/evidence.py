"""The evidence the service holds for questionnaire questions, from seeds/evidence_rules.toml.

One evaluator reads the rules: which kinds of event attended, or of training declared, count
for which question, for which roles, over what period. Only recorded attendance counts. The
words are facts ("no forum attendance recorded in Spring 2024"), never judgements: the team
judges.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.areas import Term
from app.tables.attendance import Attendance, Outcome
from app.tables.programme import Event, EventStatus
from app.tables.questionnaire import TrainingDeclaration
from app.tables.register import Setting

RULES_FILE = Path(__file__).resolve().parent.parent.parent / "seeds" / "evidence_rules.toml"
TERM_ORDER = [Term.autumn, Term.spring, Term.summer]


@lru_cache(maxsize=1)
def rules() -> dict[int, dict[str, Any]]:
    with RULES_FILE.open("rb") as f:
        return {rule["question"]: rule for rule in tomllib.load(f)["rules"]}


def term_label(term: Term, academic_year: str) -> str:
    """"Spring 2024" for spring of 2023/24; "Autumn 2023" for its autumn."""
    start = int(academic_year[:4])
    return f"{term.label} {start if term is Term.autumn else start + 1}"


@dataclass(frozen=True)
class Attended:
    setting_id: int
    person_id: int
    person_name: str
    role: str
    kind: str
    term: Term
    academic_year: str
    starts_at: dt.datetime
    title: str


@dataclass
class Q13Evidence:
    setting_id: int
    academic_year: str
    terms_run: list[Term]
    dsl: dict[Term, list[Attended]] = field(default_factory=dict)
    deputies: dict[Term, list[Attended]] = field(default_factory=dict)

    @property
    def missing_terms(self) -> list[Term]:
        return [t for t in self.terms_run if not self.dsl.get(t)]

    @property
    def answer(self) -> str | None:
        """"Yes" if the DSL attended a forum in every term with forums so far; None before any."""
        if not self.terms_run:
            return None
        return "No" if self.missing_terms else "Yes"

    @property
    def facts(self) -> list[str]:
        out = []
        for term in self.terms_run:
            label = term_label(term, self.academic_year)
            if self.dsl.get(term):
                names = ", ".join(sorted({a.person_name for a in self.dsl[term]}))
                out.append(f"{label}: forum attendance recorded for the DSL / Lead Practitioner ({names})")
            else:
                out.append(f"{label}: no forum attendance recorded for the DSL / Lead Practitioner")
        return out


async def forum_terms_run(academic_year: str, now: dt.datetime) -> list[Term]:
    """Terms of the year in which at least one forum has taken place by now."""
    kinds = rules()[13]["attended_kinds"]
    rows = await Event.select(Event.term).where(
        (Event.academic_year == academic_year) & Event.kind.code.is_in(kinds) & (Event.status == EventStatus.scheduled.value)
        & (Event.ends_at <= now)).distinct()
    present = {Term(r["term"]) for r in rows}
    return [t for t in TERM_ORDER if t in present]


async def attended(academic_year: str | None, kinds: list[str], setting_ids: list[int] | None = None) -> list[Attended]:
    """Every recorded attendance at events of these kinds (one query, whatever the number of settings)."""
    booking = Attendance.booking
    query = Attendance.select(
        booking.setting.as_alias("setting_id"), booking.person.id.as_alias("person_id"),
        booking.person.name.as_alias("person_name"), booking.role.as_alias("role"),
        booking.event.kind.code.as_alias("kind"), booking.event.term.as_alias("term"),
        booking.event.academic_year.as_alias("academic_year"), booking.event.starts_at.as_alias("starts_at"),
        booking.event.title.as_alias("title"),
    ).where((Attendance.outcome == Outcome.attended.value) & booking.event.kind.code.is_in(kinds))
    if academic_year:
        query = query.where(booking.event.academic_year == academic_year)
    if setting_ids is not None:
        query = query.where(booking.setting.is_in(setting_ids or [-1]))
    return [Attended(r["setting_id"], r["person_id"], r["person_name"], r["role"], r["kind"], Term(r["term"]),
                     r["academic_year"], r["starts_at"], r["title"]) for r in await query]


def q13_from(records: list[Attended], setting_ids: list[int], academic_year: str,
             terms_run: list[Term]) -> dict[int, Q13Evidence]:
    """Pure: group attendance into each setting's term-by-term Q13 evidence."""
    rule = rules()[13]
    out = {sid: Q13Evidence(sid, academic_year, terms_run) for sid in setting_ids}
    for a in records:
        evidence = out.get(a.setting_id)
        if evidence is None or a.academic_year != academic_year:
            continue
        if a.role in rule["roles"]:
            evidence.dsl.setdefault(a.term, []).append(a)
        elif a.role in rule.get("shown_separately", []):
            evidence.deputies.setdefault(a.term, []).append(a)
    return out


async def q13_evidence(setting_ids: list[int] | None, academic_year: str, now: dt.datetime) -> dict[int, Q13Evidence]:
    """Q13 evidence for the given settings (None: every setting that has any)."""
    if setting_ids is None:
        setting_ids = [r["id"] for r in await Setting.select(Setting.id).where(Setting.merged_into.is_null())]
        records = await attended(academic_year, rules()[13]["attended_kinds"])
    else:
        records = await attended(academic_year, rules()[13]["attended_kinds"], setting_ids)
    return q13_from(records, setting_ids, academic_year, await forum_terms_run(academic_year, now))


@dataclass(frozen=True)
class TrainingFact:
    person_name: str
    role: str
    on: dt.date
    source: str  # "attended <title>" or "declared: <course>, <provider>"


@dataclass
class TrainingEvidence:
    question: int
    label: str
    people: dict[tuple[str, str], TrainingFact]  # (role, person name) -> latest
    valid_for_years: int | None

    def current(self, fact: TrainingFact, today: dt.date) -> bool:
        if self.valid_for_years is None:
            return True
        try:
            expires = fact.on.replace(year=fact.on.year + self.valid_for_years)
        except ValueError:  # 29 February
            expires = fact.on.replace(year=fact.on.year + self.valid_for_years, day=28)
        return today <= expires


async def training_evidence(question: int, setting_id: int) -> TrainingEvidence:
    """Q6 / Q7: each DSL's and deputy's latest relevant training, attended here or declared."""
    rule = rules()[question]
    latest: dict[tuple[str, str], TrainingFact] = {}

    def keep(fact: TrainingFact) -> None:
        key = (fact.role, fact.person_name.strip().casefold())
        if key not in latest or latest[key].on < fact.on:
            latest[key] = fact

    if rule.get("attended_kinds"):
        for a in await attended(None, rule["attended_kinds"], [setting_id]):
            if a.role in rule["roles"]:
                keep(TrainingFact(a.person_name, a.role, a.starts_at.date(), f"attended {a.title}"))
    if rule.get("declared_kinds"):
        rows = await TrainingDeclaration.select().where(
            (TrainingDeclaration.setting == setting_id) & TrainingDeclaration.kind.is_in(rule["declared_kinds"]))
        for d in rows:
            if d["role"] in rule["roles"]:
                keep(TrainingFact(d["person_name"], d["role"], d["completed_on"], f"declared: {d['course']}, {d['provider']}"))
    return TrainingEvidence(question, rule["label"], dict(sorted(latest.items())), rule.get("valid_for_years"))


def group_by_setting(records: list[Attended]) -> dict[int, list[Attended]]:
    grouped: dict[int, list[Attended]] = defaultdict(list)
    for r in records:
        grouped[r.setting_id].append(r)
    return grouped
