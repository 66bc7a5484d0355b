"""The questionnaire's versions: loading seeds/questionnaire.toml into a version of its academic
year. Re-seeding the same wording changes nothing; changed wording rewrites the latest version of
that year while nobody has answered it, and otherwise makes a new version, so every response keeps
the wording it answered."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.areas import academic_year_of
from app.db import write_transaction
from app.tables.questionnaire import Question, QuestionnaireVersion, Response

QUESTIONNAIRE_FILE = Path(__file__).resolve().parent.parent.parent / "seeds" / "questionnaire.toml"
def load_questionnaire(path: Path = QUESTIONNAIRE_FILE) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def _question(q: dict[str, Any]) -> dict[str, Any]:
    items = list(q.get("items", []))
    return {"number": int(q["number"]), "text": q["text"], "items": items,
            "kind": q.get("kind") or ("items" if items else "yes_no"),
            "not_applicable": bool(q.get("not_applicable", False)), "follow_up": q.get("follow_up", ""),
            "framework": q.get("framework", ""), "guidance": list(q.get("guidance", [])),
            "guidance_note": q.get("guidance_note", ""),
            "section": q.get("section", ""), "applies": dict(q.get("applies", {}))}


def fingerprint(data: dict[str, Any]) -> str:
    """The wording as a hash: title, deadline and every question's text, items, kind and notes."""
    shown = {"title": data.get("title", ""), "deadline": str(data.get("deadline", "")),
             "key_documents": list(data.get("key_documents", [])),
             "questions": [_question(q) for q in data["questions"]]}
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Seeded:
    version_id: int
    academic_year: str
    number: int
    outcome: str  # "created" | "updated" | "unchanged"
    questions: int


async def seed_questionnaire(path: Path = QUESTIONNAIRE_FILE, *, now: dt.datetime | None = None,
                             shift: dt.timedelta = dt.timedelta(0)) -> Seeded:
    """Load the questionnaire's wording as a version of its year. The demo (`shift`, the same
    whole weeks the demo programme moved) makes it a version of the year the demo events fall in,
    its deadline moved with them: the demo never says "by 31 May 2024" beside 2026/27."""
    data = load_questionnaire(path)
    if shift and data.get("deadline"):
        data = {**data, "deadline": data["deadline"] + shift,
                "academic_year": academic_year_of(data["deadline"] + shift)}
    code, year, mark = data["code"], data["academic_year"], fingerprint(data)
    now = now or dt.datetime.now(dt.timezone.utc)
    async with write_transaction():
        latest = await QuestionnaireVersion.select().where(
            (QuestionnaireVersion.code == code) & (QuestionnaireVersion.academic_year == year)
        ).order_by(QuestionnaireVersion.number, ascending=False).first()
        if latest and latest["fingerprint"] == mark:
            return Seeded(latest["id"], year, latest["number"], "unchanged", len(data["questions"]))
        answered = latest is not None and await Response.exists().where(Response.version == latest["id"])
        fields = {QuestionnaireVersion.title: data.get("title", ""), QuestionnaireVersion.deadline: data.get("deadline"),
                  QuestionnaireVersion.fingerprint: mark,
                  QuestionnaireVersion.key_documents: list(data.get("key_documents", []))}
        if latest and not answered:
            version_id, number, outcome = latest["id"], latest["number"], "updated"
            await QuestionnaireVersion.update(fields).where(QuestionnaireVersion.id == version_id)
            await Question.delete().where(Question.version == version_id)
        else:
            number, outcome = (latest["number"] + 1 if latest else 1), "created"
            row = QuestionnaireVersion(code=code, academic_year=year, number=number, created_at=now,
                                       **{column._meta.name: value for column, value in fields.items()})
            version_id = (await QuestionnaireVersion.insert(row).returning(QuestionnaireVersion.id))[0]["id"]
        await Question.insert(*[Question(version=version_id, questionnaire=code, **_question(q))
                                for q in data["questions"]])
        return Seeded(version_id, year, number, outcome, len(data["questions"]))


async def version_for(academic_year: str, *, load: bool = False) -> dict[str, Any] | None:
    """The version a new response for the year answers: the latest of that year, else the latest
    of the years before (a questionnaire stays in use until a new one is seeded), else the first
    one there is. With `load`, the questionnaire file is seeded first if nothing is loaded yet."""
    found = await QuestionnaireVersion.select().where(QuestionnaireVersion.academic_year <= academic_year).order_by(
        QuestionnaireVersion.academic_year, ascending=False).order_by(
        QuestionnaireVersion.number, ascending=False).first()
    if found is None:
        found = await QuestionnaireVersion.select().order_by(QuestionnaireVersion.academic_year).order_by(
            QuestionnaireVersion.number).first()
    if found is None and load:
        await seed_questionnaire()
        return await version_for(academic_year)
    return found


async def latest_version() -> dict[str, Any] | None:
    return await QuestionnaireVersion.select().order_by(QuestionnaireVersion.academic_year, ascending=False).order_by(
        QuestionnaireVersion.number, ascending=False).first()


async def list_questions(version_id: int | None = None) -> list[dict[str, Any]]:
    """The questions of a version (of the latest version if none is given)."""
    if version_id is None:
        latest = await latest_version()
        if latest is None:
            return []
        version_id = latest["id"]
    return await Question.select().where(Question.version == version_id).order_by(Question.number).output(
        load_json=True)
