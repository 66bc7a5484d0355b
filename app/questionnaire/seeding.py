"""Loading seeds/questionnaire.toml into the Question table (idempotent: found by number)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from app.tables.questionnaire import Question

QUESTIONNAIRE_FILE = Path(__file__).resolve().parent.parent.parent / "seeds" / "questionnaire.toml"


def load_questionnaire(path: Path = QUESTIONNAIRE_FILE) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


async def seed_questionnaire(path: Path = QUESTIONNAIRE_FILE) -> tuple[int, int]:
    """(added, already there)."""
    data = load_questionnaire(path)
    added = existing = 0
    for q in data["questions"]:
        if await Question.exists().where((Question.questionnaire == data["code"]) & (Question.number == q["number"])):
            existing += 1
            continue
        await Question.insert(Question(questionnaire=data["code"], number=q["number"], text=q["text"],
                                       items=q.get("items", []), follow_up=q.get("follow_up", ""),
                                       framework=q.get("framework", ""), guidance=q.get("guidance", [])))
        added += 1
    return added, existing


async def list_questions(code: str | None = None) -> list[dict[str, Any]]:
    code = code or load_questionnaire()["code"]
    return await Question.select().where(Question.questionnaire == code).order_by(Question.number).output(load_json=True)
