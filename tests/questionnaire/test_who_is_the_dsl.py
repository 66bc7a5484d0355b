"""Issue 21 point 6: Q13 never misses the person who is the DSL. The booking form asks, apart from
the job, whether the booker is the setting's Lead Practitioner / DSL, its deputy or neither (a
childminder is their own); the DSL on record is an organiser's entry, else the one the setting's
questionnaire named ("as the setting said"), and only with neither does the booking's answer
count; two people who said they are the DSL both count, and the setting is flagged. Each test runs
on SQLite and PostgreSQL."""

import datetime as dt
import re

from app.questionnaire.evidence import q13_evidence
from app.settings_register.services import record_lead
from app.tables.bookings import Booking
from app.tables.register import LeadSource
from tests import factories as f
from tests.questionnaire.test_evidence import AFTER_SPRING, person, setting, states, went, year_of_forums
from tests.web.test_pages import submit

AFTER_SUMMER = dt.datetime(2024, 8, 1, 12, tzinfo=dt.timezone.utc)


async def test_the_booking_form_asks_whether_the_booker_is_the_lead_apart_from_the_job(client, now):
    event_id = await f.event(now=now, capacity=5)
    refused = await submit(client, event_id, role="headteacher_manager", email="sam@acorns.example.org",
                           setting_name="Little Acorns Nursery", setting_urn="EY123456")
    assert refused.status_code == 400 and await Booking.count() == 0
    assert "Select whether you are this setting&#39;s Lead Practitioner / DSL, its deputy, or neither" in refused.text
    made = await submit(client, event_id, role="headteacher_manager", lead="dsl", email="sam@acorns.example.org",
                        setting_name="Little Acorns Nursery", setting_urn="EY123456")
    assert made.status_code == 303
    # A DSL who does not answer the second question is taken at their role's word.
    assert (await submit(client, event_id, role="deputy_dsl", email="kim@acorns.example.org",
                         setting_name="Little Acorns Nursery", setting_urn="EY123456")).status_code == 303
    assert {r["role"]: r["lead"] for r in await Booking.select(Booking.role, Booking.lead)} == {
        "headteacher_manager": "dsl", "deputy_dsl": "deputy"}


async def test_a_childminder_is_their_own_lead_practitioner_whatever_was_ticked(client, now):
    await f.setting("Rosie's Childminding", urn="EY654321", setting_type="childminder", quadrant="mid")
    event_id = await f.event(now=now, capacity=5)
    answer = await client.post(f"/api/events/{event_id}/bookings", json={
        "name": "Rosie Hart", "email": "rosie@example.org", "role": "other",
        "setting": {"name": "Rosie's Childminding", "urn": "EY654321"}})
    assert answer.status_code == 201, answer.text
    assert (await Booking.select(Booking.lead).first())["lead"] == "dsl"


async def test_a_manager_who_said_she_is_the_lead_practitioner_answers_q13(db):
    acorns, sam = await setting("Little Acorns Nursery"), await person("Sam Patel")
    forums = await year_of_forums()
    await went(forums["autumn west"], sam, acorns, role="headteacher_manager", lead="dsl")
    await went(forums["spring online"], sam, acorns, role="headteacher_manager", lead="dsl")
    evidence = (await q13_evidence([acorns], "2023/24", AFTER_SPRING))[acorns]
    assert states(evidence) == {"autumn": "attended", "spring": "attended", "summer": "upcoming"}
    assert evidence.basis == "as booked" and not evidence.several_said_dsl
    # Her job alone, as before this rule, would not have counted.
    other, kim = await setting("Willow Pre-School"), await person("Kim Lee")
    await went(forums["autumn west"], kim, other, role="headteacher_manager", lead="neither")
    assert states((await q13_evidence([other], "2023/24", AFTER_SPRING))[other])["autumn"] == "not_attended"


async def test_an_organisers_dsl_wins_over_the_settings_word_which_wins_over_the_booking(db):
    acorns = await setting("Little Acorns Nursery")
    sam, ali, bo = await person("Sam Patel"), await person("Ali Khan"), await person("Bo Reed")
    forums = await year_of_forums()
    await went(forums["autumn west"], sam, acorns, role="dsl")          # said so when booking
    await went(forums["spring online"], ali, acorns, role="other")      # named on the questionnaire
    await record_lead(acorns, role="dsl", name="Ali Khan", email="ali@example.org", since=None, actor="questionnaire",
                      now=AFTER_SPRING, source=LeadSource.questionnaire)
    said = (await q13_evidence([acorns], "2023/24", AFTER_SPRING))[acorns]
    assert said.basis == "as the setting said"
    assert states(said) == {"autumn": "not_attended", "spring": "attended", "summer": "upcoming"}
    assert said.basis_fact == ("Counted: forum attendance of the DSL / Lead Practitioner as the setting said on its "
                               "questionnaire (Ali Khan)")
    await went(forums["summer west"], bo, acorns, role="other")
    await record_lead(acorns, role="dsl", name="Bo Reed", email="bo@example.org", since=None, actor="jo",
                      now=AFTER_SPRING)
    on_record = (await q13_evidence([acorns], "2023/24", AFTER_SUMMER))[acorns]
    assert on_record.basis == "on record" and on_record.basis_fact.endswith("on record (Bo Reed)")
    assert states(on_record) == {"autumn": "not_attended", "spring": "not_attended", "summer": "attended"}
    # The setting's next questionnaire does not end the organiser's entry.
    await record_lead(acorns, role="dsl", name="Ali Khan", email="ali@example.org", since=None, actor="questionnaire",
                      now=AFTER_SPRING, source=LeadSource.questionnaire)
    assert (await q13_evidence([acorns], "2023/24", AFTER_SUMMER))[acorns].basis == "on record"


async def test_two_people_who_said_they_are_the_dsl_both_count_and_the_setting_is_flagged(db, signed_in):
    acorns = await setting("Little Acorns Nursery")
    sam, ali = await person("Sam Patel"), await person("Ali Khan")
    forums = await year_of_forums()
    await went(forums["autumn west"], sam, acorns, role="headteacher_manager", lead="dsl")
    await went(forums["spring online"], ali, acorns, role="dsl")
    evidence = (await q13_evidence([acorns], "2023/24", AFTER_SPRING))[acorns]
    assert states(evidence) == {"autumn": "attended", "spring": "attended", "summer": "upcoming"}
    assert evidence.several_said_dsl and evidence.said_dsl == ["Ali Khan", "Sam Patel"]
    assert "2 people said so (Ali Khan, Sam Patel): either one's attendance counts" in evidence.basis_fact
    page = (await signed_in.get(f"/organisers/settings/{acorns}", params={"year": "2023/24"})).text
    assert 'id="several-dsls">Check who the DSL is</strong>' in page
    assert re.search(r"2 people said so \(Ali Khan, Sam Patel\)", page)
