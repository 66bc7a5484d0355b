"""Answers as the questionnaire asks them: sub-items with Compliant worked out, Q10's options with
Other and its own Compliant, "not applicable" only where the setting has no deputy or no staff
(issue 21, points 1 and 2), an old wording's "not applicable" asked again, and versions per year."""

from __future__ import annotations

import csv
import io
import re
import shutil

from app.questionnaire.answers import clean_one, derived_compliant, given, page_problems, problems, shape
from app.questionnaire.seeding import QUESTIONNAIRE_FILE, list_questions, load_questionnaire, seed_questionnaire
from app.questionnaire.services import issue_link, response_for_token
from app.tables.questionnaire import QuestionnaireVersion, Response
from tests import factories as f
from tests.questionnaire.test_reach import MAY_2024, register
from tests.support import answered_form, csrf_token as csrf, submit_answers

QUESTIONS = load_questionnaire()["questions"]
Q = {q["number"]: q for q in QUESTIONS}
EVERYONE = {"has_deputy": "yes", "has_staff": "yes"}
ALONE = {"has_deputy": "no", "has_staff": "no"}


def test_a_question_with_items_is_compliant_only_when_every_item_that_applies_is_yes():
    q15 = shape(Q[15])  # securely stored; held separately; accessible only by the DSL and deputy
    assert q15.kind == "items" and q15.letters == ("a", "b", "c")
    assert derived_compliant({"a": "yes", "b": "yes", "c": "yes"}, q15) == "yes"
    assert derived_compliant({"a": "yes", "b": "no", "c": "yes"}, q15) == "no"
    assert derived_compliant({"a": "yes", "b": "", "c": "yes"}, q15) == ""  # not answered yet
    assert derived_compliant({"a": "no", "b": "", "c": "yes"}, q15) == "no"
    # "Not applicable" is never a setting's answer: a forged one is not kept.
    answer = clean_one({"q15-item-a": "yes", "q15-item-b": "na", "q15-item-c": "yes"}, q15, ALONE)
    assert answer["items"] == {"a": "yes", "b": "", "c": "yes"} and answer["compliant"] == ""
    q7 = shape(Q[7])  # a. accessed Prevent training; b. disseminated this to all staff
    alone = clean_one({"q7-item-a": "yes", "q7-item-b": "no"}, q7, ALONE)
    assert alone["items"] == {"a": "yes", "b": "na"} and alone["compliant"] == "yes"
    assert alone["na_reason"] == "No one other than the Lead Practitioner works with children at the setting."
    assert clean_one({"q7-item-a": "yes", "q7-item-b": "no"}, q7, EVERYONE)["compliant"] == "no"


def test_q10_takes_any_of_its_options_with_other_and_a_compliant_answer():
    q10 = shape(Q[10])
    assert q10.kind == "choices" and q10.other_letter == "d"
    answer = clean_one({"q10-choices": ["a", "b", "d"], "q10-other": "Online course from our agency",
                        "q10-compliant": "yes"}, q10, EVERYONE)
    assert answer == {"compliant": "yes", "choices": ["a", "b", "d"], "other": "Online course from our agency"}
    assert given(answer, Q[10]) == (
        "Yes (a. Delivered in-house by the Lead Practitioner/ DSL using ECC Education Safeguarding Team level 2 "
        "presentations; b. All staff attend a course with an external provider; d. Other: Online course from our agency)")
    not_yet = clean_one({"q10-choices": ["d"], "q10-compliant": "no", "q10-action_points": "Find a course"},
                        q10, EVERYONE)
    assert not_yet["action_points"] == "Find a course"  # the Action Plan's columns, like every question
    assert page_problems(not_yet, q10, EVERYONE) == {"q10-other": "Say how, for question 10 (Other)"}
    assert page_problems(clean_one({"q10-choices": ["z"]}, q10, EVERYONE), q10, EVERYONE) == {
        "q10-compliant": "Answer question 10: yes or no", "q10-choices": "Answer question 10: choose how, or Other"}


def test_not_applicable_follows_only_from_no_deputy_or_no_staff():
    answers = {"about": ALONE}
    for n in (5, 8, 9, 10):
        entry = clean_one({}, shape(Q[n]), ALONE)
        assert entry["compliant"] == "na" and entry["na_reason"], n
        answers[str(n)] = entry
    assert clean_one({"q19-item-a": "yes", "q19-item-b": "yes"}, shape(Q[19]), ALONE)["follow_up"] == "na"
    assert shape(Q[6]).lead_only(ALONE) and shape(Q[11]).lead_only(ALONE) and not shape(Q[6]).lead_only(EVERYONE)
    # Everything else must be answered, a childminder working alone included.
    missing = problems(answers, QUESTIONS)
    for n in (1, 2, 4, 6, 11, 12, 13, 14, 16, 17, 18, 20):
        assert f"q{n}-compliant" in missing, n
    assert {"q7-item-a", "q15-item-a", "q19-item-a"} <= set(missing) and "q7-item-b" not in missing
    assert "q19-follow_up" not in missing and not any(k.startswith(("q5-", "q8-", "q9-", "q10-")) for k in missing)


async def test_a_childminder_working_alone_answers_through_the_pages(db, signed_in):
    await seed_questionnaire()
    home = await register("Rosie's Childminding", kind="childminder", quadrant="mid")
    token = await issue_link(home, "Rosie's Childminding", "rosie@example.org", actor="jo", now=MAY_2024,
                             config=f.CONFIG)
    about = await signed_in.get(f"/questionnaire/{token}/questions/about")
    seen = re.search(r'name="seen-about" value="([^"]*)"', about.text).group(1)
    saved = await signed_in.post(f"/questionnaire/{token}/questions/about", follow_redirects=False, data={
        "_csrf_token": csrf(about.text), "seen-about": seen, "about-has_deputy": "no", "about-has_staff": "no",
        "action": "continue"})
    assert saved.status_code == 303
    kept = (await response_for_token(token)).answers
    assert kept["5"]["compliant"] == "na" and kept["8"]["compliant"] == "na" and kept["10"]["compliant"] == "na"
    # Continuing from question 4 skips Q5; from 7, Q8 to Q10.
    q4 = await signed_in.get(f"/questionnaire/{token}/questions/4")
    on = await signed_in.post(f"/questionnaire/{token}/questions/4", follow_redirects=False, data={
        "_csrf_token": csrf(q4.text), "q4-compliant": "yes", "q4-lead_name": "Rosie Hart",
        "q4-lead_email": "rosie@example.org", "action": "continue"})
    assert on.headers["location"].endswith("/questions/6")
    q6 = (await signed_in.get(f"/questionnaire/{token}/questions/6")).text
    assert "answer for the Lead Practitioner / DSL only" in q6
    q7 = (await signed_in.get(f"/questionnaire/{token}/questions/7")).text
    assert 'name="q7-item-a"' in q7 and 'name="q7-item-b"' not in q7 and "Not applicable: No one other" in q7
    assert 'value="na"' not in q7
    await submit_answers(token, answered_form(**{"about-has_deputy": "no", "about-has_staff": "no",
                                                 "q4-lead_name": "Rosie Hart", "q4-lead_email": "rosie@example.org",
                                                 "q13-note": "As recorded"}), now=MAY_2024)
    response_id = (await Response.select(Response.id).where(Response.setting == home).first())["id"]
    shown = (await signed_in.get(f"/organisers/questionnaire/responses/{response_id}")).text
    assert "Not applicable<br>Why not applicable: The setting has no deputy Lead Practitioner / DSL." in shown
    findings = await signed_in.get("/organisers/questionnaire/findings.csv", params={"year": "2023/24"})
    rows = {(r[0], r[2], r[3]): r[4] for r in csv.reader(io.StringIO(findings.content.decode("utf-8-sig")))}
    assert rows["Q5", "Mid", "Not applicable"] == "1" and rows["Q15", "Mid", "Yes"] == "1"


async def test_an_answer_of_not_applicable_from_the_first_wording_is_asked_again(db, signed_in, tmp_path):
    """The rule changed: a draft answered under the first wording keeps its answers, moves to the
    new wording, and shows that a "not applicable" there now needs an answer. A submitted response
    is never rewritten."""
    old = tmp_path / "questionnaire.toml"
    text = QUESTIONNAIRE_FILE.read_text().replace('section = "Child protection files"\n',
                                                  'section = "Child protection files"\nnot_applicable = true\n', 1)
    old.write_text(text.replace("applies = {", "# applies = {"))
    await seed_questionnaire(old)
    oak = await register("Oak Nursery")
    draft = await issue_link(oak, "Oak Nursery", "oak@example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    first = await response_for_token(draft)
    await Response.update({Response.answers: {"15": {"compliant": "na", "na_reason": "We have no files",
                                                     "items": {"a": "na", "b": "na", "c": "na"}}},
                           Response.status: "draft"}).where(Response.id == first.id)
    elm = await register("Elm Nursery")
    done = await issue_link(elm, "Elm Nursery", "elm@example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    await Response.update({Response.status: "submitted", Response.answers: {"15": {"compliant": "na"}}}).where(
        Response.setting == elm)
    assert (await seed_questionnaire()).number == 2  # the file's wording, with the rule
    page = await signed_in.get(f"/questionnaire/{draft}/questions/15")
    assert page.status_code == 200 and "This question now needs an answer" in page.text
    assert (await response_for_token(draft)).version_number == 2
    assert (await response_for_token(done)).version_number == 1  # submitted: kept as it was


async def test_changed_wording_makes_a_new_version_and_a_submitted_response_keeps_its_own(db, tmp_path):
    first = await seed_questionnaire()
    assert (first.number, first.outcome, first.academic_year) == (1, "created", "2023/24")
    assert (await seed_questionnaire()).outcome == "unchanged"
    reworded = tmp_path / "questionnaire.toml"
    shutil.copy(QUESTIONNAIRE_FILE, reworded)
    original = "Do all new staff receive Level 2 training within 5 days"
    reworded.write_text(reworded.read_text().replace(original, "Do all new staff receive Level 2 training within 3 days"))
    # Nobody has answered version 1 yet: it is rewritten, not multiplied.
    updated = await seed_questionnaire(reworded)
    assert (updated.version_id, updated.number, updated.outcome) == (first.version_id, 1, "updated")
    assert await QuestionnaireVersion.count() == 1 and len(await list_questions()) == 20
    oak = await register("Oak Nursery")
    token = await issue_link(oak, "Oak Nursery", "oak@example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    await submit_answers(token, answered_form(**{"q4-lead_name": "Jo", "q4-lead_email": "jo@oak.example.org",
                                                 "q5-lead_name": "Sam", "q5-lead_email": "sam@oak.example.org",
                                                 "q13-note": "As recorded"}), now=MAY_2024)
    # Once answered, new wording is a new version; Oak keeps the wording it answered.
    reworded.write_text(reworded.read_text().replace("within 3 days", "within 10 working days"))
    second = await seed_questionnaire(reworded)
    assert (second.number, second.outcome) == (2, "created") and second.version_id != first.version_id
    oak_response = await response_for_token(token)
    assert oak_response.status == "submitted" and oak_response.version_number == 1
    assert "within 3 days" in [q for q in await oak_response.questions() if q["number"] == 8][0]["text"]
    elm = await register("Elm Nursery")
    elm_token = await issue_link(elm, "Elm Nursery", "elm@example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    elm_response = await response_for_token(elm_token)
    assert elm_response.version_number == 2
    assert "within 10 working days" in [q for q in await elm_response.questions() if q["number"] == 8][0]["text"]
    # Sending Oak a new link keeps its version.
    again = await issue_link(oak, "Oak Nursery", "oak@example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    assert (await response_for_token(again)).version_number == 1


async def test_q10_through_its_page_keeps_every_route_ticked_with_other_and_compliant(db, signed_in):
    """Issue 21 point 2 on both databases: settings mix routes, so Q10 keeps each ticked, Other's
    words, a Compliant answer and the Action Plan's columns; the organiser reads them back."""
    await seed_questionnaire()
    nursery = await register("Little Acorns Nursery", kind="nursery", quadrant="west")
    token = await issue_link(nursery, "Little Acorns Nursery", "office@acorns.example.org", actor="jo",
                             now=MAY_2024, config=f.CONFIG)
    await submit_answers(token, answered_form(**{"q4-lead_name": "Sam Patel", "q4-lead_email": "sam@acorns.example.org",
                                                 "q5-lead_name": "Kim Lee", "q5-lead_email": "kim@acorns.example.org",
                                                 "q13-note": "As recorded"}), now=MAY_2024)
    await Response.update({Response.status: "draft"}).where(Response.setting == nursery)
    page = await signed_in.get(f"/questionnaire/{token}/questions/10")
    assert page.text.count('name="q10-choices"') == 4 and 'type="checkbox"' in page.text
    seen = re.search(r'name="seen-10" value="([^"]*)"', page.text).group(1)
    saved = await signed_in.post(f"/questionnaire/{token}/questions/10", follow_redirects=False, data={
        "_csrf_token": csrf(page.text), "seen-10": seen, "q10-choices": ["a", "b", "d"],
        "q10-other": "An online course from our county's provider", "q10-compliant": "no",
        "q10-action_points": "New starters to do the online course", "q10-when_who": "June, the manager",
        "action": "continue"})
    assert saved.status_code == 303, saved.text[:500]
    kept = (await response_for_token(token)).answers["10"]
    assert kept["choices"] == ["a", "b", "d"] and kept["other"] == "An online course from our county's provider"
    assert kept["compliant"] == "no" and kept["when_who"] == "June, the manager"
    response_id = (await Response.select(Response.id).where(Response.setting == nursery).first())["id"]
    shown = (await signed_in.get(f"/organisers/questionnaire/responses/{response_id}")).text
    assert "b. All staff attend a course with an external provider; d. Other: An online course" in shown.replace("&#39;", "'")
