"""A setting completes the questionnaire by its secret link; organisers follow up."""

import csv
import datetime as dt
import email
import io
import re
from email import policy

from app.areas import local, term_of
from app.questionnaire.seeding import seed_questionnaire
from app.questionnaire.services import current_year
from app.tables.mail import OutboxMessage
from app.tables.programme import Event
from app.tables.questionnaire import Response, TrainingDeclaration
from app.tables.register import Setting
from tests import factories as f
from tests.questionnaire.test_evidence import forum, person, setting, went
from tests.support import answered_form, csrf_token as token


async def send_link(signed_in, setting_id: int) -> str:
    page = await signed_in.get(f"/organisers/settings/{setting_id}")
    assert page.status_code == 200
    await signed_in.post(f"/organisers/settings/{setting_id}/questionnaire",
                         data={"email": "dsl@oak.example.org", "_csrf_token": token(page.text)})
    raw = (await OutboxMessage.select(OutboxMessage.raw).where(OutboxMessage.kind == "questionnaire")
           .order_by(OutboxMessage.id, ascending=False).first())["raw"]
    body = email.message_from_string(raw, policy=policy.default).get_body(("plain",)).get_content()
    return re.search(r"http://testserver\.local(/questionnaire/\S+)", body).group(1)


def all_answers(**overrides: str) -> dict[str, str]:
    form = answered_form()
    form.update({"q4-lead_name": "Jo Barclay", "q4-lead_email": "jo.barclay@oak.example.org",
                 "q5-lead_name": "Sam Patel", "q5-lead_email": "sam.patel@oak.example.org"})
    form.update(overrides)
    return form


async def save_page(client, link: str, key: str, data: dict, follow: bool = False):
    page = await client.get(f"{link}/questions/{key}")
    return await client.post(f"{link}/questions/{key}", follow_redirects=follow, data={
        "_csrf_token": token(page.text), **data})


async def test_a_dsl_saves_returns_and_submits_with_q13_prefilled_from_the_record(signed_in, now):
    from tests.support import fill_questionnaire

    await seed_questionnaire()
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    # Earlier this academic year (whatever the date today): a forum the DSL attended.
    past = await f.event(now=now, starts_in=dt.timedelta(hours=-2), duration=dt.timedelta(hours=1))
    await Event.update({Event.academic_year: current_year(now), Event.term: term_of(local(now).date()).value}).where(
        Event.id == past)
    await went(past, jo, oak)
    upcoming = await f.event(now=now, starts_in=dt.timedelta(days=20), title="West Safeguarding Forum")
    link = await send_link(signed_in, oak)
    tasks = await signed_in.get(link)
    assert tasks.status_code == 200 and "Forums and briefings" in tasks.text
    q13 = await signed_in.get(f"{link}/questions/13")
    assert "forum attended by the DSL / Lead Practitioner (Jo Barclay, " in q13.text
    assert 'name="q13-compliant" type="radio" value="yes" checked' in q13.text  # filled in from the record
    assert f'href="/events/{upcoming}"' in q13.text
    token_link = link.rsplit("/", 1)[1]
    await fill_questionnaire(token_link, all_answers(**{"q1-compliant": "no", "q1-action_points": "Update the policy",
                                                        "q1-when_who": "June, Jo"}), now=now)
    back = await signed_in.get(f"{link}/questions/1")
    assert "Update the policy" in back.text
    differs = await save_page(signed_in, link, "13", {"q13-compliant": "no", "action": "continue"})
    assert differs.status_code == 303
    check = await signed_in.get(f"{link}/check")
    refused = await signed_in.post(f"{link}/check", data={"_csrf_token": token(check.text)})
    assert refused.status_code == 400 and "add a note saying why" in refused.text
    assert f'href="{link}/questions/13?check=true#q13-note"' in refused.text  # to the page it belongs to
    await save_page(signed_in, link, "13", {"q13-compliant": "no", "q13-note": "Our DSL was on leave",
                                            "action": "continue"})
    # Q4 names Jo, whose forum attendance is on record: her work email is the one she booked with.
    await save_page(signed_in, link, "4", {"q4-compliant": "yes", "q4-lead_name": "Jo Barclay",
                                           "q4-lead_email": "jo@example.org", "action": "continue"})
    done = await signed_in.post(f"{link}/check", follow_redirects=False, data={"_csrf_token": token(check.text)})
    assert done.status_code == 303
    assert "Questionnaire submitted" in (await signed_in.get(link)).text
    response = await Response.select().where(Response.setting == oak).output(load_json=True).first()
    assert response["status"] == "submitted" and response["answers"]["13"]["note"] == "Our DSL was on leave"
    overview = await signed_in.get("/organisers/questionnaire")
    assert "Oak Primary" in overview.text and "Our DSL was on leave" in overview.text  # differs from the record
    read = await signed_in.get(f"/organisers/questionnaire/responses/{response['id']}")
    assert "Our DSL was on leave" in read.text
    setting_page = await signed_in.get(f"/organisers/settings/{oak}")
    answers = re.search(r'<table class="govuk-table" id="answers">(.*?)</table>', setting_page.text, re.S).group(1)
    assert "Update the policy" in answers and "(note: Our DSL was on leave)" in answers and answers.count("<tr") == 21
    exported = await signed_in.get("/organisers/questionnaire/export.csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Setting", "Quadrant", "Status", "Submitted", "Version", "Q1 Answer"]
    assert rows[1][0] == "Oak Primary" and rows[1][4] == "1" and rows[1][5] == "No"
    assert (await signed_in.get("/organisers/questionnaire/export.xlsx")).status_code == 200
    assert (await signed_in.get("/questionnaire/not-a-real-token")).status_code == 404


async def test_progress_is_shown_per_quadrant(signed_in, now):
    await seed_questionnaire()
    ids = [await setting(f"Setting {n}", quadrant=q) for n, q in enumerate(["west", "west", "mid", "west"])]
    await Setting.update({Setting.setting_type: "nursery"}).where(Setting.id.is_in(ids[:3]))
    await Setting.update({Setting.setting_type: "school"}).where(Setting.id == ids[3])  # not counted: not early years
    await send_link(signed_in, ids[0])
    page = await signed_in.get("/organisers/questionnaire")
    west = re.search(r'West</th>\s*<td[^>]*>(\d+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>',
                     page.text)
    assert west.groups() == ("2", "2", "1", "0", "0")  # settings, without an address, sent, started, submitted


async def test_a_setting_declares_training_taken_elsewhere(signed_in, now):
    await seed_questionnaire()
    oak = await setting("Oak Primary")
    link = await send_link(signed_in, oak)
    page = await signed_in.get(f"{link}/training?back=6")
    bad = await signed_in.post(f"{link}/training", data={"kind": "level3", "back": "6", "_csrf_token": token(page.text)})
    assert bad.status_code == 400 and "Enter who took the training" in bad.text
    good = await signed_in.post(f"{link}/training", follow_redirects=False, data={
        "kind": "level3", "person_name": "Jo Barclay", "email": "jo@oak.example", "role": "dsl", "course": "DSL Level 3", "provider": "ECC",
        "completed-day": "5", "completed-month": "1", "completed-year": str(now.year - 1), "_csrf_token": token(page.text)})
    assert good.status_code == 303
    assert await TrainingDeclaration.count() == 1
    assert good.headers["location"] == f"{link}/questions/6?declared=true"
    assert "declared: DSL Level 3, ECC" in (await signed_in.get(good.headers["location"])).text
    assert "within two years" in (await signed_in.get(f"/organisers/settings/{oak}")).text


async def test_a_typed_in_setting_is_merged_into_the_register_entry(signed_in, now):
    event_id = await f.event(now=now)
    await signed_in.post(f"/api/events/{event_id}/bookings", json=f.api_body(1, setting={"name": "Oak Primry", "urn": None}))
    typo = (await Setting.select(Setting.id).where(Setting.name == "Oak Primry").first())["id"]
    real = await setting("Oak Primary")
    page = await signed_in.get(f"/organisers/settings/{typo}")
    assert "not on the register" in page.text and f'value="{real}"' in page.text
    merged = await signed_in.post(f"/organisers/settings/{typo}/merge", follow_redirects=False,
                                  data={"target": str(real), "_csrf_token": token(page.text)})
    assert merged.headers["location"] == f"/organisers/settings/{real}"
    assert "Person 1" in (await signed_in.get(f"/organisers/settings/{real}")).text
    # A later booking with the typo lands on the register entry.
    await signed_in.post(f"/api/events/{event_id}/bookings", json=f.api_body(2, setting={"name": "oak primry", "urn": None}))
    from app.tables.bookings import Booking

    assert await Booking.count().where(Booking.setting == real) == 2


async def test_the_q13_export_and_the_dashboard(signed_in, now):
    oak, _ = await setting("Oak Primary", "west"), await setting("Little Acorns", "west")
    mid = await setting("Ash Tree", "mid")
    jo, sam = await person("Jo Barclay"), await person("Sam Patel")
    autumn = await forum(dt.date(2023, 11, 15))
    await went(autumn, jo, oak)
    await went(autumn, sam, mid, outcome="absent")
    export = await signed_in.get("/organisers/evidence/q13.csv", params={"year": "2023/24"})
    rows = {r[0]: r for r in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["Setting"][5:8] == ["Autumn", "Spring", "Summer"] and rows["Setting"][9] == "Record suggests"
    assert [rows[name][9] for name in ("Oak Primary", "Little Acorns")] == ["Yes", "No"]
    assert rows["Little Acorns"][5] == "No DSL attendance recorded"
    assert "Autumn 2023: no attendance by the DSL / Lead Practitioner recorded at the forums open" in rows["Little Acorns"][10]
    # Ash Tree is in Mid: the only autumn forum was West's, so Q13 has nothing to judge there.
    assert rows["Ash Tree"][9] == "Not judged yet" and rows["Ash Tree"][5] == "No forum open to the setting"
    dashboard = await signed_in.get("/organisers/dashboard/", params={"year": "2023/24"})
    assert dashboard.status_code == 200 and 'role="img"' in dashboard.text
    assert "50% (1 of 2)" in dashboard.text  # West, autumn: one of two settings
    # No-shows go by the forum's quadrant: the Mid setting's no-show at the West forum is West's.
    west = re.search(r'West</th><td class="govuk-table__cell">Autumn</td>(.*?)</tr>', dashboard.text, re.S).group(1)
    mid = re.search(r'Mid</th><td class="govuk-table__cell">Autumn</td>(.*?)</tr>', dashboard.text, re.S).group(1)
    assert "50% (1)" in west and "%" not in mid.split("</td>")[-2]


async def test_a_made_up_academic_year_in_the_address_falls_back_to_this_one(signed_in, now):
    from app.questionnaire.services import chosen_year, current_year

    assert chosen_year("2023/24", now) == "2023/24"
    for nonsense in ["garbage", "2023/99", "1/2", "<script>", ""]:
        assert chosen_year(nonsense, now) == current_year(now)
    oak = await setting("Oak Primary")
    for path in ["/organisers/dashboard/", "/organisers/questionnaire", "/organisers/evidence/q13.csv",
                 "/organisers/questionnaire/export.csv", f"/organisers/settings/{oak}"]:
        response = await signed_in.get(path, params={"year": "garbage"})
        assert response.status_code == 200, path


async def test_the_dashboard_says_terms_to_come_and_offers_the_years_that_exist(signed_in, now):
    await setting("Oak Primary", "west")
    await forum(dt.date(2023, 11, 15))
    await forum(dt.date(2026, 11, 15))  # this year's autumn forum has been; spring and summer are to come
    dashboard = await signed_in.get("/organisers/dashboard/", params={"year": "2023/24"})
    summer = re.search(r'West</th><td class="govuk-table__cell">Summer</td>(.*?)</tr>', dashboard.text, re.S).group(1)
    assert "Term to come" not in summer  # 2023/24 is long over: its summer without a forum is 0 %, not "to come"
    later = await signed_in.get("/organisers/dashboard/", params={"year": "2026/27"})
    rows = re.findall(r'West</th><td class="govuk-table__cell">(\w+)</td>(.*?)</tr>', later.text, re.S)
    assert [term for term, cells in rows if "Term to come" in cells] == ["Spring", "Summer"]
    options = re.findall(r'<option value="([^"]+)"', later.text[later.text.index('id="year"'):])
    assert options[:2] == ["2026/27", "2023/24"] and 'type="text"' not in later.text[later.text.index('id="year"') - 200:][:400]
