"""Issue 21 point 3: the questionnaire's words are the Accompanying Notes' words. Every question,
sub-item, follow-up, framework reference, guidance name and the key documents of
seeds/questionnaire.toml are read against the Notes (spaces normalised, nothing else), within that
question's own part of the Notes; a word that differs fails unless the seed records it as a
correction of the documents' own typing. The Action Plan's other readings are checked against the
Action Plan, so a reading recorded is one the documents really give."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "seeds" / "sources" / "spring-2024-briefing-and-questionnaire.txt"
SEED = ROOT / "seeds" / "questionnaire.toml"
NOTES_HEADING = "Accompanying Notes – Early Years Safeguarding Questionnaire"
PLAN_HEADING = "Action Plan – Early Years Safeguarding Questionnaire"


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _documents() -> tuple[str, str]:
    text = SOURCE.read_text()
    plan_at, notes_at = text.index(PLAN_HEADING), text.index(NOTES_HEADING)
    notes_end = text.index("Author: ECC Education Safeguarding Team", notes_at)
    return spaced(text[plan_at:notes_at]), spaced(text[notes_at:notes_end])


PLAN, NOTES = _documents()
QUESTIONNAIRE = tomllib.loads(SEED.read_text())
QUESTIONS = QUESTIONNAIRE["questions"]


def as_written(question: dict, value: str) -> str:
    """The documents' own words for a value the seed shows corrected."""
    for c in question.get("corrections", []):
        value = value.replace(c["corrected"], c["as_written"])
    return spaced(value)


def blocks(document: str, texts: dict[int, str]) -> dict[int, str]:
    """Each question's part of a document: from "N. <its text>" to the next question's start."""
    starts = {}
    for n, text in texts.items():
        at = document.find(f"{n}. {text}")
        assert at >= 0, f"question {n} as the seed writes it is not in the documents: {text!r}"
        starts[n] = at
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    assert [n for n, _ in ordered] == sorted(texts), "the questions are not in the documents' order"
    return {n: document[at:(ordered[i + 1][1] if i + 1 < len(ordered) else len(document))]
            for i, (n, at) in enumerate(ordered)}


NOTES_BLOCKS = blocks(NOTES, {q["number"]: as_written(q, q["text"]) for q in QUESTIONS})


def words(question: dict) -> list[tuple[str, str]]:
    """Everything the service shows of a question, as (what it is, the words)."""
    shown = [("text", question["text"])]
    shown += [(f"item {'abcdefgh'[i]}", item) for i, item in enumerate(question.get("items", []))]
    shown += [(name, question[name]) for name in ("follow_up", "framework", "guidance_note") if question.get(name)]
    shown += [("guidance", g) for g in question.get("guidance", [])]
    return shown


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"Q{q['number']}")
def test_every_word_of_the_question_is_the_notes_word_or_a_recorded_correction(question):
    block = NOTES_BLOCKS[question["number"]]
    for what, value in words(question):
        assert as_written(question, value) in block, f"Q{question['number']} {what} differs from the Notes: {value!r}"


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"Q{q['number']}")
def test_the_notes_give_no_sub_item_and_no_guidance_the_seed_leaves_out(question):
    """Counted the other way: the Notes' lettered items for the question are the seed's, and a
    question whose part of the Notes names no guidance has none (Q16 and Q17 have none)."""
    block = NOTES_BLOCKS[question["number"]]
    letters = re.findall(r"(?:^|[;?:] |\s)([a-h])\. ", block)
    assert letters == list("abcdefgh"[:len(question.get("items", []))]), f"Q{question['number']}: {letters}"
    if not question.get("guidance"):
        assert not question.get("guidance_note")


@pytest.mark.parametrize("question", [q for q in QUESTIONS if q.get("corrections")], ids=lambda q: f"Q{q['number']}")
def test_a_correction_is_of_words_the_documents_really_have(question):
    shown = " ".join(v for _, v in words(question))
    for c in question["corrections"]:
        assert spaced(c["as_written"]) in NOTES_BLOCKS[question["number"]]
        assert c["corrected"] in shown and c["as_written"] != c["corrected"] and c["why"]


def test_each_action_plan_reading_is_the_plans_own_and_differs_from_the_notes():
    readings = 0
    for q in QUESTIONS:
        plan = q.get("action_plan", {})
        if "text" in plan:
            assert f"{q['number']}. {spaced(plan['text'])}" in PLAN, q["number"]
            assert spaced(plan["text"]) != spaced(q["text"])
            readings += 1
        for letter, item in plan.get("items", {}).items():
            assert f"{letter}. {spaced(item)}" in PLAN, (q["number"], letter)
            assert spaced(item) != spaced(q["items"]["abcdefgh".index(letter)])
            readings += 1
    # The issue names Q5, Q6, Q7, Q10a, Q10c, Q11, Q12, Q14, Q15c and Q20; Q10d's full stop is one more.
    assert {q["number"] for q in QUESTIONS if q.get("action_plan")} == {5, 6, 7, 10, 11, 12, 14, 15, 20}
    assert readings == 11


def test_the_key_documents_are_the_notes_list_and_the_action_plans():
    assert QUESTIONNAIRE["key_documents"]
    for title in QUESTIONNAIRE["key_documents"]:
        assert f"· {title}" in NOTES and f"· {title}" in PLAN


# The words on the pages, and the addresses organisers give the guidance (both databases).

from app.questionnaire.seeding import seed_questionnaire  # noqa: E402
from app.questionnaire.services import issue_link  # noqa: E402
from app.tables.audit import AuditRecord  # noqa: E402
from app.tables.questionnaire import GuidanceLink  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.questionnaire.test_reach import MAY_2024, register  # noqa: E402
from tests.support import csrf_token as csrf  # noqa: E402


async def test_guidance_shows_as_the_notes_give_it_and_becomes_a_link_once_an_organiser_gives_one(db, signed_in):
    await seed_questionnaire()
    nursery = await register("Little Acorns Nursery", kind="nursery", quadrant="west")
    token = await issue_link(nursery, "Little Acorns Nursery", "office@acorns.example.org", actor="jo",
                             now=MAY_2024, config=f.CONFIG)
    q1 = (await signed_in.get(f"/questionnaire/{token}/questions/1")).text
    assert "There is a Model Child Protection Policy (one for settings and one for childminders) on the EY website:" in q1
    assert "<li>Early Years model Child Protection Policy</li>" in q1
    q16 = (await signed_in.get(f"/questionnaire/{token}/questions/16")).text
    assert "Is there a process in place for ensuring the Child Protection file ‘follows the child’" in q16
    assert "Child Protection File Guidance and Templates" not in q16  # the Notes give Q16 none
    start = (await signed_in.get("/questionnaire/start")).text
    assert "<li>Keeping Children Safe in Education (DfE 2023)</li>" in start  # plain text: no address yet

    page = await signed_in.get("/organisers/questionnaire/guidance")
    assert page.status_code == 200 and page.text.count('name="name"') == len(set(
        QUESTIONNAIRE["key_documents"] + [g for q in QUESTIONS for g in q.get("guidance", [])]))
    refused = await signed_in.post("/organisers/questionnaire/guidance", data={
        "_csrf_token": csrf(page.text), "name": "EY Safer Recruitment", "url": "javascript:alert(1)", "edition": ""})
    assert refused.status_code == 400 and "govuk-error-summary" in refused.text
    assert "Enter the full web address, starting https://" in refused.text and 'href="#url-' in refused.text
    unknown = await signed_in.post("/organisers/questionnaire/guidance", data={
        "_csrf_token": csrf(page.text), "name": "A name the documents never give", "url": "https://example.org/x"})
    assert unknown.status_code == 400 and await GuidanceLink.count() == 0

    for name, url, edition in [("EY Safer Recruitment", "https://example.org/safer-recruitment", ""),
                               ("Keeping Children Safe in Education (DfE 2023)",
                                "https://example.org/kcsie-2023.pdf", "September 2023")]:
        saved = await signed_in.post("/organisers/questionnaire/guidance", follow_redirects=False, data={
            "_csrf_token": csrf(page.text), "name": name, "url": url, "edition": edition})
        assert saved.status_code == 303
    q18 = (await signed_in.get(f"/questionnaire/{token}/questions/18")).text
    assert '<a class="govuk-link" href="https://example.org/safer-recruitment" rel="noreferrer">EY Safer Recruitment</a>' in q18
    start = (await signed_in.get("/questionnaire/start")).text
    assert ('href="https://example.org/kcsie-2023.pdf" rel="noreferrer">Keeping Children Safe in Education (DfE 2023)'
            '</a> (September 2023)') in start
    assert await AuditRecord.count().where(AuditRecord.action == "questionnaire.guidance_address_set") == 2
    # An empty address takes the link away again.
    await signed_in.post("/organisers/questionnaire/guidance", data={
        "_csrf_token": csrf(page.text), "name": "EY Safer Recruitment", "url": "", "edition": ""})
    assert "<li>EY Safer Recruitment</li>" in (await signed_in.get(f"/questionnaire/{token}/questions/18")).text
