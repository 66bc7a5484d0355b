"""Q13, Q6 and Q7 evidence from recorded attendance and declarations, on both databases."""

import datetime as dt
import secrets

from app.areas import LONDON, Term
from app.organisers.services import create_organiser
from app.planning.manage import EventDetails, create_event
from app.questionnaire.evidence import q13_evidence, term_label, training_evidence
from app.tables.attendance import Attendance
from app.tables.bookings import Booking
from app.tables.programme import Event
from app.tables.questionnaire import TrainingDeclaration
from app.tables.register import Person, Setting
from tests import factories as f


async def setting(name: str, quadrant: str = "west") -> int:
    rows = await Setting.insert(Setting(name=name, name_key=name.lower(), quadrant=quadrant, on_register=True)).returning(Setting.id)
    return rows[0]["id"]


async def person(name: str) -> int:
    rows = await Person.insert(Person(name=name, email=f"{name.split()[0].lower()}@example.org")).returning(Person.id)
    return rows[0]["id"]


async def forum(day: dt.date, kind: str = "forum", title: str = "West Safeguarding Forum") -> int:
    start = dt.datetime.combine(day, dt.time(9, 30), tzinfo=LONDON)
    return await create_event(EventDetails(
        title=title, kind_id=await f.kind(kind), quadrant="west", venue_id=await f.venue(), join_url="",
        starts_at=start, ends_at=start + dt.timedelta(hours=2, minutes=30), capacity=40,
        booking_opens_at=None, booking_closes_at=None), actor="test", now=start)


async def went(event_id: int, person_id: int, setting_id: int, role: str = "dsl", outcome: str | None = "attended") -> None:
    """A booking for a past event, and (unless outcome is None) the organiser's mark."""
    rows = await Booking.insert(Booking(
        event=event_id, person=person_id, setting=setting_id, role=role, status="confirmed",
        reference=secrets.token_hex(4).upper()[:9], manage_token=secrets.token_urlsafe(16),
        calendar_uid=secrets.token_hex(8))).returning(Booking.id)
    if outcome:
        organiser = await _organiser()
        await Attendance.insert(Attendance(booking=rows[0]["id"], outcome=outcome, source="register",
                                           recorded_by=organiser, recorded_at=dt.datetime.now(dt.timezone.utc)))


_organisers: dict[str, int] = {}


async def _organiser() -> int:
    from app.tables.organisers import Organiser

    row = await Organiser.select(Organiser.id).first()
    if row:
        return row["id"]
    return (await create_organiser(email="o@essex.gov.uk", name="O", password="correct horse battery",
                                   now=dt.datetime.now(dt.timezone.utc))).id


AFTER_SPRING = dt.datetime(2024, 4, 10, 12, tzinfo=dt.timezone.utc)


async def test_yes_when_the_dsl_attended_a_forum_in_every_term_so_far(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    await went(await forum(dt.date(2023, 11, 15)), jo, oak)
    await went(await forum(dt.date(2024, 3, 13)), jo, oak)
    await forum(dt.date(2024, 7, 3))  # summer: not run yet on 10 April
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert evidence.terms_run == [Term.autumn, Term.spring]
    assert evidence.answer == "Yes" and evidence.missing_terms == []
    assert evidence.facts[1] == "Spring 2024: forum attendance recorded for the DSL / Lead Practitioner (Jo Barclay)"


async def test_no_with_the_terms_missing_and_bookings_alone_do_not_count(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    await went(await forum(dt.date(2023, 11, 15)), jo, oak)
    spring = await forum(dt.date(2024, 3, 13))
    await went(spring, jo, oak, outcome=None)  # booked, never marked
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert evidence.answer == "No" and evidence.missing_terms == [Term.spring]
    assert "Spring 2024: no forum attendance recorded for the DSL / Lead Practitioner" in evidence.facts
    assert not any("non-compliant" in fact.lower() for fact in evidence.facts)


async def test_any_quadrant_or_online_counts_but_deputies_are_shown_separately(db):
    oak, jo, sam = await setting("Oak Primary"), await person("Jo Barclay"), await person("Sam Patel")
    online = await forum(dt.date(2024, 3, 19), title="Online Safeguarding Forum")
    await Event.update({Event.quadrant: None, Event.online: True}).where(Event.id == online)
    await went(await forum(dt.date(2023, 11, 15)), sam, oak, role="deputy_dsl")
    await went(online, jo, oak)
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert evidence.missing_terms == [Term.autumn] and evidence.answer == "No"
    assert [a.person_name for a in evidence.deputies[Term.autumn]] == ["Sam Patel"]


async def test_term_boundaries(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    for day in (dt.date(2024, 3, 28), dt.date(2024, 4, 2), dt.date(2024, 8, 30), dt.date(2024, 9, 2)):
        await went(await forum(day), jo, oak)
    years = {(r["academic_year"], r["term"]) for r in await Event.select(Event.academic_year, Event.term)}
    assert years == {("2023/24", "spring"), ("2023/24", "summer"), ("2024/25", "autumn")}
    late = dt.datetime(2024, 9, 30, tzinfo=dt.timezone.utc)
    assert (await q13_evidence([oak], "2023/24", late))[oak].terms_run == [Term.spring, Term.summer]
    autumn = (await q13_evidence([oak], "2024/25", late))[oak]
    assert autumn.terms_run == [Term.autumn] and autumn.answer == "Yes"
    assert term_label(Term.autumn, "2024/25") == "Autumn 2024" and term_label(Term.spring, "2024/25") == "Spring 2025"


async def test_a_dsl_who_changes_setting_mid_year_counts_for_the_setting_booked_for(db):
    oak, acorns, jo = await setting("Oak Primary"), await setting("Little Acorns"), await person("Jo Barclay")
    await went(await forum(dt.date(2023, 11, 15)), jo, oak)       # at Oak in the autumn
    await went(await forum(dt.date(2024, 3, 13)), jo, acorns)     # moved to Little Acorns after Christmas
    evidence = await q13_evidence([oak, acorns], "2023/24", AFTER_SPRING)
    assert evidence[oak].missing_terms == [Term.spring]
    assert evidence[acorns].missing_terms == [Term.autumn]


async def test_every_setting_at_once(db):
    ids = [await setting(f"Setting {n}") for n in range(3)]
    jo = await person("Jo Barclay")
    await went(await forum(dt.date(2023, 11, 15)), jo, ids[0])
    everyone = await q13_evidence(None, "2023/24", AFTER_SPRING)
    assert set(everyone) == set(ids)
    assert [everyone[i].answer for i in ids] == ["Yes", "No", "No"]


async def test_level_3_within_two_years_and_prevent_from_sessions_or_declarations(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    today = dt.date(2024, 4, 10)
    for name, role, on in (("Jo Barclay", "dsl", dt.date(2023, 1, 5)), ("Sam Patel", "deputy_dsl", dt.date(2021, 6, 1))):
        await TrainingDeclaration.insert(TrainingDeclaration(setting=oak, kind="level3", person_name=name, role=role,
                                                             course="DSL Level 3", provider="ECC", completed_on=on))
    q6 = await training_evidence(6, oak)
    current = {name: q6.current(fact, today) for (_, name), fact in q6.people.items()}
    assert current == {"jo barclay": True, "sam patel": False}
    await went(await forum(dt.date(2024, 3, 5), kind="prevent", title="Prevent awareness"), jo, oak)
    await TrainingDeclaration.insert(TrainingDeclaration(setting=oak, kind="prevent", person_name="Sam Patel", role="deputy_dsl",
                                                         course="Home Office Prevent e-learning", provider="Home Office",
                                                         completed_on=dt.date(2023, 10, 1)))
    q7 = await training_evidence(7, oak)
    sources = {name: fact.source for (_, name), fact in q7.people.items()}
    assert sources == {"jo barclay": "attended Prevent awareness",
                       "sam patel": "declared: Home Office Prevent e-learning, Home Office"}
