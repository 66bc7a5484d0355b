"""Issue 11, points 1 and 2: answers as the form asks them (sub-items, a single choice with Other,
not applicable with a reason, Compliant worked out from the items) and versions per academic year."""

from __future__ import annotations

import csv
import io
import re
import shutil

from app.questionnaire.answers import clean, derived_compliant, given, problems, shape
from app.questionnaire.seeding import QUESTIONNAIRE_FILE, list_questions, load_questionnaire, seed_questionnaire
from app.questionnaire.services import issue_link, response_for_token, save_answers
from app.tables.questionnaire import QuestionnaireVersion, Response
from tests import factories as f
from tests.questionnaire.test_reach import MAY_2024, register
from tests.support import answered_form

QUESTIONS = load_questionnaire()["questions"]
Q = {q["number"]: q for q in QUESTIONS}


def csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def test_a_question_with_items_is_compliant_only_when_every_applicable_item_is_yes():
    q15 = shape(Q[15])  # securely stored; held separately; accessible only by the DSL and deputy
    assert q15.kind == "items" and q15.letters == ("a", "b", "c") and q15.not_applicable
    assert derived_compliant({"a": "yes", "b": "yes", "c": "yes"}, q15) == "yes"
    assert derived_compliant({"a": "yes", "b": "no", "c": "yes"}, q15) == "no"
    assert derived_compliant({"a": "yes", "b": "yes", "c": "na"}, q15) == "yes"  # N/A left out
    assert derived_compliant({"a": "na", "b": "na", "c": "na"}, q15) == "na"
    assert derived_compliant({"a": "yes", "b": "", "c": "yes"}, q15) == ""  # not answered yet
    assert derived_compliant({"a": "no", "b": "", "c": "yes"}, q15) == "no"
    # Q3 does not allow "not applicable": a forged value is not kept.
    answers = clean({"q3-item-a": "yes", "q3-item-b": "na", "q3-item-c": "yes"}, [Q[3]])
    assert answers["3"]["items"] == {"a": "yes", "b": "", "c": "yes"} and answers["3"]["compliant"] == ""


def test_q10_is_a_single_choice_with_other_and_has_no_compliant_answer():
    q10 = shape(Q[10])
    assert q10.kind == "choice" and q10.other_letter == "d" and not q10.has_compliant
    answer = clean({"q10-choice": "d", "q10-other": "Online course from our childminding agency"}, [Q[10]])["10"]
    assert "compliant" not in answer
    assert given(answer, Q[10]) == "d. Other: Online course from our childminding agency"
    assert given(clean({"q10-choice": "b", "q10-other": "ignored"}, [Q[10]])["10"], Q[10]) == \
        "b. All staff attend a course with an external provider"
    assert problems(clean({"q10-choice": "d"}, [Q[10]]), [Q[10]]) == {"q10-other": "Say how, for question 10 (Other)"}
    assert problems(clean({"q10-choice": "z"}, [Q[10]]), [Q[10]]) == {
        "q10-choice": "Answer question 10: choose how, or Other"}


async def test_a_childminder_answers_items_na_with_a_reason_and_the_other_choice(db, signed_in):
    await seed_questionnaire()
    home = await register("Rosie's Childminding", kind="childminder", quadrant="mid")
    token = await issue_link(home, "Rosie's Childminding", "rosie@example.org", actor="jo", now=MAY_2024,
                             config=f.CONFIG)
    page = await signed_in.get(f"/questionnaire/{token}")
    assert page.status_code == 200
    # Each sub-item has its own question; Q5 offers "Not applicable"; Q10 its options.
    for field in ("q3-item-a", "q3-item-c", "q15-item-c", "q19-item-b", "q9-follow_up", "q5-na_reason", "q10-other"):
        assert f'name="{field}"' in page.text, field
    assert 'name="q5-compliant" type="radio" value="na"' in page.text
    assert 'name="q3-item-a" type="radio" value="na"' not in page.text  # Q3 always applies
    form = answered_form(**{"q5-compliant": "na", "q15-item-c": "na", "q10-choice": "d", "q15-item-b": "no",
                            "q15-action_points": "Buy a lockable cabinet", "q15-when_who": "June, Rosie",
                            "q13-compliant": "yes", "q13-note": "I came to the online forum",
                            "q4-lead_name": "Rosie Hart", "q4-lead_email": "rosie@example.org"})
    refused = await signed_in.post(f"/questionnaire/{token}", data={**form, "q3-item-b": "", "action": "submit",
                                                                   "_csrf_token": csrf(page.text)})
    assert refused.status_code == 400
    summary = refused.text[refused.text.index("govuk-error-summary"):refused.text.index("</ul>", refused.text.index("govuk-error-summary"))]
    assert 'href="#q3-item-b"' in summary and "Answer question 3b: yes or no" in summary
    assert 'href="#q5-na_reason"' in summary and "Say why question 5 does not apply to your setting" in summary
    assert 'href="#q10-other"' in summary and 'href="#q15-na_reason"' in summary
    # Nothing typed is lost: the page comes back with the answers given.
    assert "Buy a lockable cabinet" in refused.text and 'name="q15-item-b" type="radio" value="no" checked' in refused.text
    done = await signed_in.post(f"/questionnaire/{token}", follow_redirects=False, data={
        **form, "q5-na_reason": "I work alone: there is no deputy", "q15-na_reason": "No deputy",
        "q10-other": "Online course from my childminding agency", "action": "submit", "_csrf_token": csrf(page.text)})
    assert done.status_code == 303
    kept = (await response_for_token(token)).answers
    assert kept["5"] == {**kept["5"], "compliant": "na", "na_reason": "I work alone: there is no deputy"}
    assert kept["15"]["items"] == {"a": "yes", "b": "no", "c": "na"} and kept["15"]["compliant"] == "no"
    assert kept["10"]["choice"] == "d" and "compliant" not in kept["10"]
    response_id = (await Response.select(Response.id).where(Response.setting == home).first())["id"]
    shown = (await signed_in.get(f"/organisers/questionnaire/responses/{response_id}")).text
    assert "Not applicable<br>Why not applicable: I work alone: there is no deputy" in shown
    assert "No (a. Yes; b. No; c. Not applicable)" in shown
    assert "d. Other: Online course from my childminding agency" in shown
    findings = (await signed_in.get("/organisers/questionnaire/findings", params={"year": "2023/24"})).text
    q10 = findings[findings.index('id="question-10"'):findings.index('id="question-11"')]
    assert "d. Other" in q10 and ">Yes<" not in q10  # a choice is counted per option, never as compliant
    export = await signed_in.get("/organisers/questionnaire/findings.csv", params={"year": "2023/24"})
    rows = {(r[0], r[2], r[3]): r[4] for r in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["Q5", "Mid", "Not applicable"] == "1" and rows["Q15", "Mid", "No"] == "1"
    assert rows["Q10", "Mid", "d. Other"] == "1" and rows["Q10", "Mid", "a. Delivered in-house by the Lead Practitioner / DSL using ECC Education Safeguarding Team level 2 presentations"] == "0"


async def test_changed_wording_makes_a_new_version_and_a_response_keeps_its_own(db, tmp_path):
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
    await save_answers(token, answered_form(), submit=False, now=MAY_2024)
    # Once answered, new wording is a new version; Oak keeps the wording it answered.
    reworded.write_text(reworded.read_text().replace("within 3 days", "within 10 working days"))
    second = await seed_questionnaire(reworded)
    assert (second.number, second.outcome) == (2, "created") and second.version_id != first.version_id
    oak_response = await response_for_token(token)
    assert oak_response.version_number == 1
    assert "within 3 days" in [q for q in await oak_response.questions() if q["number"] == 8][0]["text"]
    elm = await register("Elm Nursery")
    elm_token = await issue_link(elm, "Elm Nursery", "elm@example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    elm_response = await response_for_token(elm_token)
    assert elm_response.version_number == 2
    assert "within 10 working days" in [q for q in await elm_response.questions() if q["number"] == 8][0]["text"]
    # Sending Oak a new link keeps its version.
    again = await issue_link(oak, "Oak Nursery", "oak@example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    assert (await response_for_token(again)).version_number == 1
