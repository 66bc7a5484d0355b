"""The questionnaire in steps (issue 20, point 1): a task list, a page per question saved when
continued, answers never lost, a choice when two people change one answer, a check of every answer,
submitting with a copy, and reopening until the deadline."""

from __future__ import annotations

import datetime as dt
import re

from app.questionnaire.seeding import seed_questionnaire
from app.questionnaire.services import issue_link, response_for_token
from app.tables.audit import AuditRecord
from app.tables.mail import OutboxMessage
from app.tables.questionnaire import QuestionnaireVersion, Response
from tests import factories as f
from tests.questionnaire.test_reach import MAY_2024, register
from tests.support import answered_form, csrf_token as csrf, fill_questionnaire


async def start(name: str = "Little Acorns Nursery", kind: str = "nursery") -> tuple[int, str]:
    """A setting sent its link, the questionnaire's deadline a month from today."""
    await seed_questionnaire()
    await QuestionnaireVersion.update({QuestionnaireVersion.deadline: dt.date.today() + dt.timedelta(days=30)}).where(
        QuestionnaireVersion.id > 0)
    setting = await register(name, kind=kind, quadrant="mid")
    token = await issue_link(setting, name, "lead@acorns.example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    return setting, token


def task_states(html: str) -> dict[str, str]:
    """{section: state} as the task list shows them."""
    def words(fragment: str) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())

    states = {}
    for item in re.findall(r'<li class="govuk-task-list__item.*?</li>', html, re.S):
        name = re.search(r'govuk-task-list__name-and-hint">(.*?)<div id=', item, re.S) or re.search(
            r'govuk-task-list__name-and-hint">(.*?)</div>', item, re.S)
        status = re.search(r'govuk-task-list__status[^>]*>(.*?)</div>', item, re.S)
        states[words(name.group(1))] = words(status.group(1))
    return states


async def page_post(client, token: str, key: str, data: dict, *, follow: bool = False):
    page = await client.get(f"/questionnaire/{token}/questions/{key}")
    assert page.status_code == 200, page.text[:500]
    seen = re.search(rf'name="seen-{key}" value="([^"]*)"', page.text).group(1)
    return await client.post(f"/questionnaire/{token}/questions/{key}", follow_redirects=follow,
                             data={"_csrf_token": csrf(page.text), f"seen-{key}": seen, **data})


async def test_the_task_list_shows_each_section_and_what_is_done(client):
    _, token = await start()
    tasks = await client.get(f"/questionnaire/{token}")
    assert tasks.status_code == 200
    assert "Deputy and staff" in tasks.text and "Policy and procedures" in tasks.text
    assert tasks.text.count("Cannot start yet") == 8  # seven sections and the check wait for the facts
    about = await page_post(client, token, "about", {"about-has_deputy": "yes", "about-has_staff": "yes",
                                                       "action": "continue"})
    assert about.status_code == 303 and about.headers["location"].endswith("/questions/1")
    await page_post(client, token, "1", {"q1-compliant": "yes", "action": "continue"})
    tasks = (await client.get(f"/questionnaire/{token}")).text
    rows = task_states(tasks)
    assert rows["Your setting"] == "Completed" and rows["Policy and procedures"] == "In progress"
    assert rows["Training"] == "Not started"


async def test_each_page_saves_only_its_answers_and_says_what_is_missing_on_that_page(client):
    _, token = await start()
    await page_post(client, token, "about", {"about-has_deputy": "yes", "about-has_staff": "yes", "action": "continue"})
    missing = await page_post(client, token, "3", {"q3-item-a": "yes", "q3-item-c": "no",
                                                   "q3-action_points": "Add the mobile phone rules", "action": "continue"})
    assert missing.status_code == 400
    summary = missing.text[missing.text.index("govuk-error-summary"):missing.text.index("</ul>", missing.text.index("govuk-error-summary"))]
    assert "Answer question 3b: yes or no" in summary and summary.count("<li>") == 1  # this page's errors only
    # What was typed is kept, and shown again.
    assert "Add the mobile phone rules" in missing.text
    kept = (await response_for_token(token)).answers
    assert kept["3"]["items"] == {"a": "yes", "b": "", "c": "no"} and kept["3"]["action_points"] == "Add the mobile phone rules"
    assert set(kept) == {"about", "3"}


async def test_action_points_are_kept_only_when_not_compliant(client):
    _, token = await start()
    await page_post(client, token, "about", {"about-has_deputy": "yes", "about-has_staff": "yes", "action": "continue"})
    await page_post(client, token, "2", {"q2-compliant": "yes", "q2-action_points": "typed then answered yes",
                                         "action": "continue"})
    assert "action_points" not in (await response_for_token(token)).answers["2"]
    page = (await client.get(f"/questionnaire/{token}/questions/2")).text
    assert 'data-reveal-when="q2-compliant=no"' in page  # shown by the page's script when No is chosen


async def test_adding_training_elsewhere_keeps_every_answer_and_returns_to_the_question(client, now):
    _, token = await start()
    await page_post(client, token, "about", {"about-has_deputy": "yes", "about-has_staff": "yes", "action": "continue"})
    leaving = await page_post(client, token, "6", {"q6-compliant": "no", "q6-action_points": "Book Level 3 for Sam",
                                                   "q6-when_who": "Summer, Jo", "action": "training"})
    assert leaving.status_code == 303 and leaving.headers["location"] == f"/questionnaire/{token}/training?back=6"
    form = await client.get(leaving.headers["location"])
    added = await client.post(f"/questionnaire/{token}/training", follow_redirects=False, data={
        "_csrf_token": csrf(form.text), "back": "6", "kind": "level3", "person_name": "Jo Barclay", "email": "jo@acorns.example", "role": "dsl",
        "course": "DSL Level 3", "provider": "Training Co", "completed-day": "4", "completed-month": "3",
        "completed-year": "2024"})
    assert added.status_code == 303 and added.headers["location"].startswith(f"/questionnaire/{token}/questions/6")
    back = (await client.get(added.headers["location"])).text
    assert "Book Level 3 for Sam" in back and "Summer, Jo" in back and 'value="no" checked' in back
    assert "declared: DSL Level 3, Training Co" in back


async def test_two_people_changing_one_answer_are_asked_which_to_keep(client):
    _, token = await start()
    await page_post(client, token, "about", {"about-has_deputy": "yes", "about-has_staff": "yes", "action": "continue"})
    # Both open question 1; the first saves "yes", the second then sends "no".
    opened = await client.get(f"/questionnaire/{token}/questions/1")
    seen = re.search(r'name="seen-1" value="([^"]*)"', opened.text).group(1)
    await page_post(client, token, "1", {"q1-compliant": "yes", "action": "continue"})
    second = await client.post(f"/questionnaire/{token}/questions/1", data={
        "_csrf_token": csrf(opened.text), "seen-1": seen, "q1-compliant": "no", "q1-action_points": "Write one",
        "action": "continue"})
    assert second.status_code == 409 and "Someone else changed this answer" in second.text
    assert re.search(r'id="theirs">Yes<', second.text) and re.search(r'id="mine">No<', second.text)
    assert (await response_for_token(token)).answers["1"]["compliant"] == "yes"  # nothing overwritten
    seen_now = re.search(r'name="seen-1" value="([^"]*)"', second.text).group(1)
    kept = await client.post(f"/questionnaire/{token}/questions/1", follow_redirects=False, data={
        "_csrf_token": csrf(opened.text), "seen-1": seen_now, "q1-compliant": "no", "q1-action_points": "Write one",
        "keep-1": "mine", "action": "continue"})
    assert kept.status_code == 303
    assert (await response_for_token(token)).answers["1"] == {"compliant": "no", "action_points": "Write one",
                                                               "when_who": ""}


async def test_check_your_answers_then_submit_then_reopen_until_the_deadline(client):
    setting, token = await start()
    await fill_questionnaire(token, answered_form(**{"q4-lead_name": "Jo Barclay",
                                                     "q4-lead_email": "jo.barclay@acorns.example.org",
                                                     "q5-lead_name": "Sam Patel", "q5-lead_email": "sam@acorns.example.org"}),
                             now=MAY_2024)
    check = await client.get(f"/questionnaire/{token}/check")
    assert check.status_code == 200 and check.text.count("Change<span") == 21
    done = await client.post(f"/questionnaire/{token}/check", follow_redirects=False,
                             data={"_csrf_token": csrf(check.text)})
    assert done.status_code == 303 and done.headers["location"].endswith("/submitted")
    confirmation = (await client.get(done.headers["location"])).text
    assert "Questionnaire submitted" in confirmation and "save and come back" not in confirmation.lower()
    assert "copy.pdf" in confirmation and "Ask to change an answer" in confirmation
    copy = await OutboxMessage.select(OutboxMessage.recipient).where(OutboxMessage.kind == "questionnaire_copy")
    assert copy == [{"recipient": "lead@acorns.example.org"}]
    pdf = await client.get(f"/questionnaire/{token}/copy.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # A submitted questionnaire's pages cannot be changed until it is reopened.
    assert (await client.get(f"/questionnaire/{token}/questions/1", follow_redirects=False)).headers[
        "location"].endswith("/submitted")
    reopened = await client.post(f"/questionnaire/{token}/reopen", follow_redirects=False,
                                 data={"_csrf_token": csrf(confirmation)})
    assert reopened.status_code == 303
    assert (await Response.select(Response.status).where(Response.setting == setting).first())["status"] == "draft"
    assert await AuditRecord.count().where(AuditRecord.action == "questionnaire.reopened") == 1


async def test_no_reopening_after_the_deadline(client, now):
    setting, token = await start()
    await fill_questionnaire(token, answered_form(**{"q4-lead_name": "Jo", "q4-lead_email": "jo@acorns.example.org",
                                                     "q5-lead_name": "Sam", "q5-lead_email": "sam@acorns.example.org"}),
                             now=MAY_2024)
    from app.questionnaire.services import submit_response
    from app.questionnaire.steps import CannotReopen, reopen

    response = await submit_response(token, now=MAY_2024)
    assert response.status == "submitted"
    after = dt.datetime.combine(response.deadline + dt.timedelta(days=1), dt.time(9), tzinfo=dt.timezone.utc)
    try:
        await reopen(response.id, deadline=response.deadline, setting_name="x", setting_id=setting, now=after)
    except CannotReopen:
        pass
    else:
        raise AssertionError("reopened after the deadline")
