"""Issue 11, point 3: every setting the questionnaire is for is reached: a public start link where
a setting finds itself and its link goes to the address on the register only, sending in bulk
through the outbox, reminders that stop once a setting has submitted, a copy on submitting, and
progress counting only early-years settings. Each runs on SQLite and PostgreSQL."""

import datetime as dt
import re
from email import message_from_string, policy

import zxingcpp

from app.config import Config
from app.questionnaire.reach import queue_reminders, send_in_bulk
from app.questionnaire.seeding import seed_questionnaire
from app.questionnaire.services import issue_link, progress_by_quadrant
from app.tables.mail import OutboxMessage
from app.tables.questionnaire import Response
from tests import factories as f
from tests.support import answered_form, csrf_token as csrf, submit_answers
from tests.unit.test_checkin_qr import read_png

MAY_2024 = dt.datetime(2024, 5, 26, 10, tzinfo=dt.timezone.utc)


async def register(name: str, kind: str = "nursery", quadrant: str = "west", email: str = "", urn: str = "") -> int:
    return await f.setting(name, setting_type=kind, quadrant=quadrant, contact_email=email, urn=urn or None,
                           now=MAY_2024)


async def sent_to() -> list[tuple[str, str]]:
    return [(r["kind"], r["recipient"]) for r in await OutboxMessage.select(
        OutboxMessage.kind, OutboxMessage.recipient).order_by(OutboxMessage.id)]


async def test_a_setting_finds_itself_and_its_link_goes_only_to_the_address_on_the_register(client):
    await seed_questionnaire()
    acorns = await register("Little Acorns Nursery", email="office@littleacorns.example.org", urn="EY123456")
    await register("Acorns Primary School", kind="school", email="head@acorns-primary.example.org")
    lonely = await register("Acorn Childminding", kind="childminder")
    page = await client.get("/questionnaire/start", params={"q": "acorn"})
    assert page.status_code == 200
    assert "Little Acorns Nursery" in page.text and "Acorn Childminding" in page.text
    assert "Acorns Primary School" not in page.text  # the questionnaire is for early years
    assert "office@littleacorns" not in page.text  # addresses are never shown
    by_urn = await client.get("/questionnaire/start", params={"q": "ey123456"})
    assert "Little Acorns Nursery" in by_urn.text and "Acorn Childminding" not in by_urn.text
    sent = await client.post("/questionnaire/start", data={"setting": str(acorns), "_csrf_token": csrf(page.text)})
    assert sent.status_code == 200 and "o•••@littleacorns.example.org" in sent.text
    assert await sent_to() == [("questionnaire", "office@littleacorns.example.org")]
    # Whoever asks, the link never goes anywhere else, and a setting without an address is told
    # how to reach the team.
    nowhere = await client.post("/questionnaire/start", data={"setting": str(lonely), "_csrf_token": csrf(page.text)})
    assert "We have no email address for Acorn Childminding" in nowhere.text
    assert Config().organiser_mailbox in nowhere.text
    assert len(await sent_to()) == 1
    missing = await client.post("/questionnaire/start", data={"setting": "99999", "_csrf_token": csrf(page.text)})
    assert missing.status_code == 404
    # A few a day to one address: a stranger cannot flood a setting's mailbox.
    answers = [(await client.post("/questionnaire/start", data={"setting": str(acorns),
                                                                 "_csrf_token": csrf(page.text)})).status_code
               for _ in range(3)]
    assert answers == [200, 200, 429] and len(await sent_to()) == 3


async def test_the_start_link_s_qr_code_reads_back_as_the_start_link(client):
    png = await client.get("/questionnaire/start/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    pixels = read_png(png.content)
    grey = bytes(255 * p for row in pixels for p in row)
    image = memoryview(grey).cast("B", (len(pixels), len(pixels[0])))
    assert [b.text for b in zxingcpp.read_barcodes(image)] == ["http://testserver.local/questionnaire/start"]


async def test_organisers_send_to_every_early_years_setting_per_quadrant_or_all_leaving_submitted_ones(db):
    await seed_questionnaire()
    west = await register("Oak Nursery", email="oak@example.org")
    await register("Elm Childminder", kind="childminder", email="elm@example.org")
    await register("No Address Nursery")
    await register("Mid Nursery", quadrant="mid", email="mid@example.org")
    await register("A Primary School", kind="school", email="school@example.org")
    only_west = await send_in_bulk("west", actor="jo", now=MAY_2024, config=f.CONFIG)
    assert (only_west.sent, only_west.without_address) == (2, 1)
    assert sorted(r for _, r in await sent_to()) == ["elm@example.org", "oak@example.org"]
    await Response.update({Response.status: "submitted"}).where(Response.setting == west)
    everyone = await send_in_bulk(None, actor="jo", now=MAY_2024, config=f.CONFIG)
    assert (everyone.sent, everyone.without_address, everyone.submitted_already) == (2, 1, 1)
    assert sorted(r for _, r in (await sent_to())[2:]) == ["elm@example.org", "mid@example.org"]
    assert "school@example.org" not in [r for _, r in await sent_to()]
    progress = {p["quadrant"]: p for p in await progress_by_quadrant("2023/24")}
    assert (progress["West"]["settings"], progress["West"]["no_address"], progress["West"]["submitted"]) == (3, 1, 1)


async def test_reminders_go_once_before_the_deadline_and_stop_once_submitted(db):
    await seed_questionnaire()
    oak, elm = await register("Oak Nursery"), await register("Elm Nursery")
    await issue_link(oak, "Oak Nursery", "oak@example.org", actor="jo", now=MAY_2024 - dt.timedelta(days=30),
                     config=f.CONFIG)
    await issue_link(elm, "Elm Nursery", "elm@example.org", actor="jo", now=MAY_2024 - dt.timedelta(days=30),
                     config=f.CONFIG)
    await Response.update({Response.status: "submitted"}).where(Response.setting == elm)
    assert await queue_reminders(now=MAY_2024 - dt.timedelta(days=14), config=f.CONFIG) == 0  # too early
    assert await queue_reminders(now=MAY_2024, config=f.CONFIG) == 1
    assert await queue_reminders(now=MAY_2024 + dt.timedelta(days=1), config=f.CONFIG) == 0  # once
    assert await queue_reminders(now=dt.datetime(2024, 6, 2, tzinfo=dt.timezone.utc), config=f.CONFIG) == 0
    [(kind, recipient)] = [m for m in await sent_to() if m[0] == "questionnaire_reminder"]
    assert recipient == "oak@example.org"
    raw = (await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == kind).first())["raw"]
    message = message_from_string(raw, policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "Friday 31 May 2024" in text and "/questionnaire/start" in text
    assert message["Reply-To"] == f.CONFIG.organiser_mailbox  # the safeguarding team's, not booking help


async def test_on_submitting_the_setting_is_emailed_its_answers_and_action_plan(db):
    await seed_questionnaire()
    oak = await register("Oak Nursery")
    token = await issue_link(oak, "Oak Nursery", "dsl@oak.example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    form = answered_form()
    form.update({"q1-compliant": "no", "q1-action_points": "Update the child protection policy",
                 "q1-when_who": "June, the manager", "q13-note": "We attended", "q4-compliant": "no", "q5-compliant": "no"})
    submitted = await submit_answers(token, form, now=MAY_2024, config=f.CONFIG)
    assert submitted.status == "submitted"
    [row] = await OutboxMessage.select(OutboxMessage.raw, OutboxMessage.recipient).where(
        OutboxMessage.kind == "questionnaire_copy")
    assert row["recipient"] == "dsl@oak.example.org"
    text = message_from_string(row["raw"], policy=policy.default).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Your answer: No\nAction points: Update the child protection policy\nWhen / who: June, the manager" in text


async def test_q4_and_q5_name_the_dsl_and_deputy_who_become_facts_on_the_setting(db):
    from app.questionnaire.services import AnswersIncomplete
    from app.tables.register import SettingLead

    await seed_questionnaire()
    oak = await register("Oak Nursery")
    token = await issue_link(oak, "Oak Nursery", "dsl@oak.example.org", actor="jo", now=MAY_2024, config=f.CONFIG)
    form = answered_form()
    form["q13-note"] = "We attended"
    try:
        await submit_answers(token, {**form, "q4-lead_name": "Jo Barclay", "q4-lead_email": "jo@"}, now=MAY_2024, config=f.CONFIG)
        raise AssertionError("submitted without the deputy and with a broken address")
    except AnswersIncomplete as refused:
        assert set(refused.errors) >= {"q4-lead_email", "q5-lead_name", "q5-lead_email"}
    assert await SettingLead.count() == 0
    form.update({"q4-lead_name": "Jo Barclay", "q4-lead_email": "Jo.Barclay@Oak.example.org",
                 "q5-lead_name": "Sam Patel", "q5-lead_email": "sam.patel@oak.example.org"})
    await submit_answers(token, form, now=MAY_2024, config=f.CONFIG)
    leads = {(r["role"], r["name"], r["email"]) for r in await SettingLead.select().where(SettingLead.setting == oak)}
    assert leads == {("dsl", "Jo Barclay", "jo.barclay@oak.example.org"),
                     ("deputy_dsl", "Sam Patel", "sam.patel@oak.example.org")}


async def test_findings_for_the_summer_forums_per_question_and_quadrant(signed_in):
    import csv
    import io

    await seed_questionnaire()
    answers = {  # setting: (quadrant, Q1 answer, Q1 action points)
        "Oak Nursery": ("west", "no", "Update the child protection policy."),
        "Elm Nursery": ("west", "no", "update the Child Protection policy"),
        "Ash Nursery": ("mid", "no", "Add mobile phone rules"),
        "Fir Nursery": ("mid", "yes", ""),
        "Yew Nursery": ("south", "yes", ""),
    }
    for name, (quadrant, q1, points) in answers.items():
        sid = await register(name, quadrant=quadrant)
        token = await issue_link(sid, name, f"dsl@{name.split()[0].lower()}.example.org", actor="jo", now=MAY_2024,
                                 config=f.CONFIG)
        form = answered_form()
        form.update({"q1-compliant": q1, "q1-action_points": points, "q4-compliant": "no", "q5-compliant": "no",
                     "q13-note": "As recorded"})
        await submit_answers(token, form, now=MAY_2024)
    page = await signed_in.get("/organisers/questionnaire/findings", params={"year": "2023/24"})
    assert page.status_code == 200 and "From the 5 questionnaires submitted" in page.text
    q1 = page.text[page.text.index('id="question-1"'):page.text.index('id="question-2"')]
    # The same point, however it was typed, counted once per setting (shown in the first wording).
    assert re.search(r"update the child protection policy\.? \(2 settings\)", q1, re.IGNORECASE)
    assert "Add mobile phone rules (1 setting)" in q1
    assert "Settings answering no (3)" in q1 and "Oak Nursery (West)" in q1
    export = await signed_in.get("/organisers/questionnaire/findings.csv", params={"year": "2023/24"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    q1_rows = {(r[2], r[3]): r[4] for r in rows if r[0] == "Q1"}
    assert [q1_rows["West", a] for a in ("Yes", "No", "Unanswered")] == ["0", "2", "0"]
    assert [q1_rows["Mid", a] for a in ("Yes", "No", "Unanswered")] == ["1", "1", "0"]
    assert [q1_rows["All quadrants", a] for a in ("Yes", "No", "Unanswered")] == ["2", "3", "0"]
    assert (await signed_in.get("/organisers/questionnaire/findings.xlsx", params={"year": "2023/24"})).status_code == 200
