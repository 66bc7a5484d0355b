"""Q13, Q6 and Q7 evidence from recorded attendance and declarations, on both databases."""

import datetime as dt

from app.areas import LONDON, Term
from app.organisers.services import create_organiser
from app.event_changes.manage import EventDetails, create_event
from app.questionnaire.evidence import q13_evidence, term_label, training_evidence
from app.settings_register.services import record_lead
from app.tables.programme import Event
from tests import factories as f


async def setting(name: str, quadrant: str = "west") -> int:
    return await f.setting(name, quadrant=quadrant)


async def person(name: str) -> int:
    return await f.person(name)


async def forum(day: dt.date, kind: str = "forum", title: str = "West Safeguarding Forum",
                quadrant: str | None = "west") -> int:
    start = dt.datetime.combine(day, dt.time(9, 30), tzinfo=LONDON)
    return await create_event(EventDetails(
        title=title, kind_id=await f.kind(kind), quadrant=quadrant, venue_id=await f.venue() if quadrant else None,
        join_url="", starts_at=start, ends_at=start + dt.timedelta(hours=2, minutes=30), capacity=40,
        booking_opens_at=None, booking_closes_at=None), actor="test", now=start)


async def went(event_id: int, person_id: int, setting_id: int, role: str = "dsl", outcome: str | None = "attended",
               lead: str | None = None, apologies: str | None = None) -> None:
    """A booking for a past event, and (unless outcome is None) the organiser's mark. `lead`: what
    the booker said of being the setting's Lead Practitioner / DSL (not given: what the role says).
    `apologies` ("in time" or "late"): the place was given up before the event instead."""
    sent = dt.datetime(2023, 9, 1, tzinfo=dt.timezone.utc) if apologies else None
    booking = await f.past_booking(event_id, person_id, setting_id, role=role, lead=lead,
                                   status="cancelled" if apologies else "confirmed", apology_at=sent,
                                   apology_late=apologies == "late")
    if outcome and not apologies:
        await f.attendance(booking, outcome, organiser_id=await _organiser())


_organisers: dict[str, int] = {}


async def _organiser() -> int:
    from app.tables.organisers import Organiser

    row = await Organiser.select(Organiser.id).first()
    if row:
        return row["id"]
    return (await create_organiser(email="o@essex.gov.uk", name="O", password="correct horse battery",
                                   now=dt.datetime.now(dt.timezone.utc))).id


AFTER_SPRING = dt.datetime(2024, 4, 10, 12, tzinfo=dt.timezone.utc)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


async def year_of_forums() -> dict[str, int]:
    """2023/24 as the briefing gives spring and summer (South 13 March, West 12 March, online 14
    March; summer in July), with an autumn entered after the fact by an organiser."""
    return {
        "autumn west": await forum(dt.date(2023, 11, 15)),
        "autumn online": await forum(dt.date(2023, 11, 21), title="Online Safeguarding Forum", quadrant=None),
        "spring west": await forum(dt.date(2024, 3, 12)),
        "spring south": await forum(dt.date(2024, 3, 13), title="South Safeguarding Forum", quadrant="south"),
        "spring online": await forum(dt.date(2024, 3, 14), title="Online Safeguarding Forum", quadrant=None),
        "summer west": await forum(dt.date(2024, 7, 2)),
        "summer online": await forum(dt.date(2024, 7, 4), title="Online Safeguarding Forum", quadrant=None),
    }


def states(evidence) -> dict[str, str]:
    return {t.term.value: t.state.value for t in evidence.terms}


async def test_yes_when_the_dsl_attended_in_every_term_judged_and_later_terms_wait(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    forums = await year_of_forums()
    await went(forums["autumn west"], jo, oak)
    await went(forums["spring online"], jo, oak)
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert states(evidence) == {"autumn": "attended", "spring": "attended", "summer": "upcoming"}
    assert evidence.answer == "Yes" and evidence.missing_terms == []
    assert evidence.facts[1] == ("Spring 2024: forum attended by the DSL / Lead Practitioner "
                                 "(Jo Barclay, Online Safeguarding Forum, Thursday 14 March 2024)")
    assert evidence.facts[2].startswith("Summer 2024: judged once the forums open to this setting have taken "
                                        "place, the last on Thursday 4 July 2024")


async def test_apologies_are_said_beside_a_term_not_attended_and_never_counted(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    forums = await year_of_forums()
    await went(forums["autumn west"], jo, oak)
    await went(forums["spring west"], jo, oak, apologies="in time")
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert states(evidence) == {"autumn": "attended", "spring": "not_attended", "summer": "upcoming"}
    assert evidence.facts[1] == ("Spring 2024: no attendance by the DSL / Lead Practitioner recorded at the forums "
                                 "open to this setting (West Safeguarding Forum, Tuesday 12 March 2024; "
                                 "Online Safeguarding Forum, Thursday 14 March 2024); apologies sent for "
                                 "West Safeguarding Forum, Tuesday 12 March 2024")
    assert "apologies" not in evidence.facts[0]


async def test_q13_at_a_date_in_each_term_at_the_ends_of_terms_and_between_two_quadrants_forums(db):
    west, south = await setting("Oak Primary", "west"), await setting("Seaside Nursery", "south")
    jo, sam = await person("Jo Barclay"), await person("Sam Patel")
    forums = await year_of_forums()
    await went(forums["autumn west"], jo, west)
    await went(forums["spring west"], jo, west)
    await went(forums["autumn online"], sam, south)

    async def seen(moment: dt.datetime) -> dict[int, dict[str, str]]:
        evidence = await q13_evidence([west, south], "2023/24", moment)
        return {sid: states(e) for sid, e in evidence.items()}

    # Early in the autumn term: nothing has happened, nothing is judged, nothing is said to be missing.
    early = await seen(at(dt.date(2023, 9, 20)))
    assert early[west] == {"autumn": "upcoming", "spring": "upcoming", "summer": "upcoming"}
    assert (await q13_evidence([west], "2023/24", at(dt.date(2023, 9, 20))))[west].answer is None
    # After the autumn forums, at the end of the autumn term.
    assert (await seen(at(dt.date(2023, 12, 20))))[south]["autumn"] == "attended"
    # Between the West forum (12 March) and the South one (13 March): West's spring is judged
    # (attended), the South setting's is not judged yet: its own forum has not happened.
    between = await seen(at(dt.date(2024, 3, 12), 15))
    assert between[west]["spring"] == "attended"
    assert between[south]["spring"] == "upcoming"
    # After the online forum on 14 March every spring forum open to either has ended.
    after = await q13_evidence([west, south], "2023/24", at(dt.date(2024, 3, 15)))
    assert states(after[south])["spring"] == "not_attended" and after[south].answer == "No"
    assert after[south].facts[1] == (
        "Spring 2024: no attendance by the DSL / Lead Practitioner recorded at the forums open to this "
        "setting (South Safeguarding Forum, Wednesday 13 March 2024; Online Safeguarding Forum, Thursday 14 March 2024)")
    # In the summer term, before its forums, and at the end of the year.
    assert (await seen(at(dt.date(2024, 6, 1))))[west] == {"autumn": "attended", "spring": "attended", "summer": "upcoming"}
    assert (await seen(at(dt.date(2024, 8, 31))))[west]["summer"] == "not_attended"
    # Never a judgement: the words are facts.
    assert not any("non-compliant" in fact.lower() or "yet" in fact.lower() for fact in after[south].facts)


async def test_the_dsl_on_record_counts_whatever_role_or_setting_they_booked_for(db):
    oak, acorns, jo = await setting("Oak Primary"), await setting("Little Acorns"), await person("Jo Barclay")
    forums = await year_of_forums()
    # Jo leads both settings; she booked for Oak, ticking "deputy".
    for sid in (oak, acorns):
        await record_lead(sid, role="dsl", name="Jo Barclay", email="JO@example.org", since=None, actor="t",
                          now=AFTER_SPRING)
    await went(forums["spring west"], jo, oak, role="deputy_dsl")
    evidence = await q13_evidence([oak, acorns], "2023/24", AFTER_SPRING)
    for sid in (oak, acorns):
        assert states(evidence[sid])["spring"] == "attended"
        assert evidence[sid].basis_fact == ("Counted: forum attendance of the setting's DSL / Lead Practitioner "
                                            "on record (Jo Barclay)")
    assert states(evidence[oak])["autumn"] == "not_attended"


async def test_a_new_dsl_counts_from_when_they_took_the_role(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    forums = await year_of_forums()
    await record_lead(oak, role="dsl", name="Jo Barclay", email="jo@example.org", since=dt.date(2020, 9, 1),
                      actor="t", now=AFTER_SPRING)
    await record_lead(oak, role="dsl", name="Sam Patel", email="sam@example.org", since=dt.date(2024, 1, 1),
                      actor="t", now=AFTER_SPRING)
    await went(forums["autumn west"], jo, oak)   # Jo was the DSL then
    await went(forums["spring west"], jo, oak)   # Jo came again, but Sam was the DSL by then
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert states(evidence) == {"autumn": "attended", "spring": "not_attended", "summer": "upcoming"}
    leads = {lead.name: (lead.since, lead.until) for lead in evidence.leads}
    assert leads == {"Jo Barclay": (dt.date(2020, 9, 1), dt.date(2023, 12, 31)), "Sam Patel": (dt.date(2024, 1, 1), None)}


async def test_with_no_dsl_on_record_people_booked_as_dsl_count_and_deputies_are_shown_apart(db):
    oak, jo, sam = await setting("Oak Primary"), await person("Jo Barclay"), await person("Sam Patel")
    forums = await year_of_forums()
    await went(forums["autumn west"], sam, oak, role="deputy_dsl")
    await went(forums["spring online"], jo, oak)
    await went(forums["spring west"], jo, oak, outcome=None)  # booked, never marked: not evidence
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert evidence.missing_terms == [Term.autumn] and evidence.answer == "No"
    assert [a.person_name for a in evidence.terms[0].deputies] == ["Sam Patel"]
    assert evidence.basis_fact.startswith("No DSL / Lead Practitioner is on record for this setting")


async def test_a_term_with_no_forum_recorded_is_said_so_and_not_judged(db):
    oak = await setting("Oak Primary")
    await forum(dt.date(2024, 3, 12))
    evidence = (await q13_evidence([oak], "2023/24", AFTER_SPRING))[oak]
    assert states(evidence) == {"autumn": "no_forum", "spring": "not_attended", "summer": "no_forum"}
    assert evidence.facts[0] == "Autumn 2023: no forum open to this setting is recorded"


async def test_term_boundaries(db):
    oak, jo = await setting("Oak Primary"), await person("Jo Barclay")
    for day in (dt.date(2024, 3, 28), dt.date(2024, 4, 2), dt.date(2024, 8, 30), dt.date(2024, 9, 2)):
        await went(await forum(day), jo, oak)
    years = {(r["academic_year"], r["term"]) for r in await Event.select(Event.academic_year, Event.term)}
    assert years == {("2023/24", "spring"), ("2023/24", "summer"), ("2024/25", "autumn")}
    late = dt.datetime(2024, 9, 30, tzinfo=dt.timezone.utc)
    assert states((await q13_evidence([oak], "2023/24", late))[oak]) == {
        "autumn": "no_forum", "spring": "attended", "summer": "attended"}
    autumn = (await q13_evidence([oak], "2024/25", late))[oak]
    assert states(autumn)["autumn"] == "attended" and autumn.answer == "Yes"
    assert term_label(Term.autumn, "2024/25") == "Autumn 2024" and term_label(Term.spring, "2024/25") == "Spring 2025"


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
        await f.declaration(oak, person_name=name, role=role, provider="ECC", completed_on=on)
    q6 = await training_evidence(6, oak)
    current = {name: q6.current(fact, today) for (_, name), fact in q6.people.items()}
    assert current == {"jo barclay": True, "sam patel": False}
    await went(await forum(dt.date(2024, 3, 5), kind="prevent", title="Prevent awareness"), jo, oak)
    await f.declaration(oak, kind="prevent", person_name="Sam Patel", role="deputy_dsl",
                        course="Home Office Prevent e-learning", provider="Home Office", completed_on=dt.date(2023, 10, 1))
    q7 = await training_evidence(7, oak)
    sources = {name: fact.source for (_, name), fact in q7.people.items()}
    assert sources == {"jo barclay": "attended Prevent awareness",
                       "sam patel": "declared: Home Office Prevent e-learning, Home Office"}
