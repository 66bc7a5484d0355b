"""Generated data at the scale of a county: settings, people, bookings and attendance over
several academic years, for load testing and benchmarks (`python -m app generate-scale`).
Never run against a live database: every row is fictional and marked as generated."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from app.areas import LONDON, Term, academic_year_of, council
from app.bookings.places import recount_places
from app.clocks.dates import refresh_every_clock
from app.config import Config
from app.db import write_transaction
from app.questionnaire.answers import clean, shape
from app.questionnaire.seeding import list_questions, seed_questionnaire
from app.tables.attendance import Attendance, MarkSource, Outcome
from app.tables.bookings import Booking, BookingStatus, LeadAnswer, Role
from app.tables.organisers import Organiser
from app.tables.programme import Event, EventKind, Venue
from app.tables.questionnaire import Response, ResponseStatus, TrainingDeclaration
from app.tables.register import LeadSource, Person, Setting, SettingLead

BATCH = 1000  # rows per INSERT: PostgreSQL takes at most 32,767 parameters a statement
TERM_DATES = {Term.autumn: (11, 15), Term.spring: (3, 13), Term.summer: (7, 3)}


@dataclass
class ScaleReport:
    settings: int
    people: int
    events: int
    bookings: int
    attendance: int
    responses: int = 0


async def _kind_ids() -> dict[str, int]:
    ids = {}
    for code, name, forum in (("forum", "Safeguarding Forum", True), ("hsb", "Harmful Sexual Behaviour (HSB) training", False),
                              ("prevent", "Prevent awareness", False)):
        row = await EventKind.select(EventKind.id).where(EventKind.code == code).first()
        if row is None:
            row = (await EventKind.insert(EventKind(code=code, name=name, is_forum=forum)).returning(EventKind.id))[0]
        ids[code] = row["id"]
    return ids


async def _insert(table, rows: list) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, len(rows), BATCH):
        async with write_transaction():
            await table.insert(*rows[start:start + BATCH])


async def generate(*, settings: int = 2500, people: int = 10000, bookings: int = 100000, first_year: int = 2023,
                   years: int = 3, now: dt.datetime, seed: int = 2024) -> ScaleReport:
    rng = random.Random(seed)
    kinds = await _kind_ids()
    venue = (await Venue.insert(Venue(name="Generated venue", address="Generated", postcode="CM1 1AA")).returning(Venue.id))[0]["id"]
    organiser = await Organiser.select(Organiser.id).first()
    if organiser is None:
        organiser = (await Organiser.insert(Organiser(email="generated-organiser@invalid", name="Generated organiser"))
                     .returning(Organiser.id))[0]
    quadrants = list(council().codes)
    first_setting = await Setting.count()
    await _insert(Setting, [Setting(name=f"Generated setting {n}", name_key=f"generated setting {n}",
                                    urn=f"9{first_setting + n:06d}", setting_type=rng.choice(["school", "nursery", "childminder"]),
                                    quadrant=rng.choice(quadrants), on_register=True) for n in range(settings)])
    setting_ids = [r["id"] for r in await Setting.select(Setting.id).where(Setting.urn.like("9%")).order_by(Setting.id)][-settings:]
    tag = secrets.token_hex(3)
    await _insert(Person, [Person(name=f"Generated person {n}", email=f"gen-{tag}-{n}@invalid") for n in range(people)])
    person_ids = [r["id"] for r in await Person.select(Person.id).where(Person.email.like(f"gen-{tag}-%"))]
    # Each person works at one setting; the first person at each setting is its DSL.
    works_at = {p: setting_ids[i % len(setting_ids)] for i, p in enumerate(person_ids)}
    role_of = {p: "dsl" if i < len(setting_ids) else rng.choice(["deputy_dsl", "deputy_dsl", "headteacher_manager", "other"])
               for i, p in enumerate(person_ids)}
    events = []
    for year in range(first_year, first_year + years):
        for term, (month, day) in TERM_DATES.items():
            cal_year = year if term is Term.autumn else year + 1
            for n, (code, quadrant) in enumerate([("forum", q) for q in quadrants] + [("forum", None), ("hsb", None), ("prevent", None)]):
                start = dt.datetime(cal_year, month, day + n, 9, 30, tzinfo=LONDON)
                events.append(Event(
                    title=f"Generated {code} {quadrant or 'online'}", kind=kinds[code], quadrant=quadrant, online=quadrant is None,
                    academic_year=f"{year}/{(year + 1) % 100:02d}", term=term.value, starts_at=start.astimezone(dt.timezone.utc),
                    ends_at=(start + dt.timedelta(hours=2)).astimezone(dt.timezone.utc), venue=None if quadrant is None else venue,
                    capacity=5000, places_taken=0, seed_key=f"generated:{tag}:{year}:{term.value}:{n}"))
    await _insert(Event, events)
    event_rows = await Event.select(Event.id, Event.ends_at).where(Event.seed_key.like(f"generated:{tag}:%"))
    per_event: dict[int, set[int]] = {e["id"]: set() for e in event_rows}
    ended = {e["id"]: e["ends_at"] <= now for e in event_rows}
    booking_rows, chosen = [], []
    event_ids = list(per_event)
    while len(booking_rows) < bookings:
        person = rng.choice(person_ids)
        event_id = rng.choice(event_ids)
        if person in per_event[event_id]:
            continue
        per_event[event_id].add(person)
        booking_rows.append(Booking(event=event_id, person=person, setting=works_at[person], role=role_of[person],
                                    lead=LeadAnswer.from_role(Role(role_of[person])).value,
                                    status=BookingStatus.confirmed.value, reference=f"G{tag[:2]}{len(booking_rows):07d}".upper(),
                                    manage_token=secrets.token_urlsafe(24), calendar_uid=secrets.token_hex(12),
                                    checkin_token=secrets.token_urlsafe(18), source="api"))
        chosen.append(event_id)
    await _insert(Booking, booking_rows)
    booked = await Booking.select(Booking.id, Booking.event).where(Booking.event.is_in(event_ids))
    marks = []
    for b in booked:
        if not ended[b["event"]]:
            continue
        roll = rng.random()
        if roll < 0.8:
            marks.append(Attendance(booking=b["id"], outcome=Outcome.attended.value, source=MarkSource.register.value, recorded_by=organiser["id"], recorded_at=now))
        elif roll < 0.9:
            marks.append(Attendance(booking=b["id"], outcome=Outcome.absent.value, source=MarkSource.register.value, recorded_by=organiser["id"], recorded_at=now))
    await _insert(Attendance, marks)
    for event_id in per_event:
        await recount_places(event_id, now)
    responses = await _questionnaire_responses(setting_ids, rng, now)
    await _leads_and_clocks(tag, person_ids, works_at, role_of, rng, now)
    return ScaleReport(settings=len(setting_ids), people=len(person_ids), events=len(event_ids),
                       bookings=len(booked), attendance=len(marks), responses=responses)


async def _leads_and_clocks(tag: str, person_ids: list[int], works_at: dict[int, int], role_of: dict[int, str],
                            rng: random.Random, now: dt.datetime) -> None:
    """Each setting's DSL and deputies on record (the people who booked as such), Level 3 and
    Prevent training declared for some of them, and every clock worked out from it all."""
    emails = {r["id"]: (r["name"], r["email"]) for r in await Person.select(Person.id, Person.name, Person.email).where(
        Person.email.like(f"gen-{tag}-%"))}
    leads = [p for p in person_ids if role_of[p] in ("dsl", "deputy_dsl")]
    await _insert(SettingLead, [SettingLead(setting=works_at[p], role=role_of[p], name=emails[p][0], email=emails[p][1],
                                            source=LeadSource.organiser.value, created_at=now, updated_at=now)
                                for p in leads])
    declared = []
    for p in leads:
        for kind, share in (("level3", 0.5), ("prevent", 0.3)):
            if rng.random() < share:
                declared.append(TrainingDeclaration(
                    setting=works_at[p], kind=kind, person_name=emails[p][0], email=emails[p][1], role=role_of[p],
                    course="Generated course", provider="Generated provider",
                    completed_on=now.date() - dt.timedelta(days=rng.randint(30, 1000)), created_at=now))
    await _insert(TrainingDeclaration, declared)
    await refresh_every_clock(now=now, config=Config())


async def _questionnaire_responses(setting_ids: list[int], rng: random.Random, now: dt.datetime) -> int:
    """Every setting's questionnaire for this academic year: most submitted, some drafts, some
    only sent, with answers and action points as settings give them."""
    seeded = await seed_questionnaire()
    questions = await list_questions(seeded.version_id)
    year = academic_year_of(now.date())

    def form_for() -> dict[str, str]:
        form: dict[str, object] = {"about-has_deputy": "yes" if rng.random() < 0.9 else "no",
                                   "about-has_staff": "yes" if rng.random() < 0.9 else "no"}
        for question in questions:
            q, n = shape(question), question["number"]
            answer = lambda: "yes" if rng.random() < 0.85 else "no"  # noqa: E731
            if q.kind == "items":
                form.update({f"q{n}-item-{letter}": answer() for letter in q.letters})
            else:
                form[f"q{n}-compliant"] = answer()
            if q.kind == "choices":
                form[f"q{n}-choices"] = rng.sample(list(q.letters), rng.randint(1, 2))
                form[f"q{n}-other"] = "Online course from our umbrella organisation"
            if q.follow_up:
                form[f"q{n}-follow_up"] = answer()
            if rng.random() < 0.2:
                form[f"q{n}-action_points"] = f"Review the policy for question {n}"
                form[f"q{n}-when_who"] = "DSL, by the end of term"
        return form

    rows = []
    for setting_id in setting_ids:
        roll = rng.random()
        status = ResponseStatus.submitted if roll < 0.7 else ResponseStatus.draft if roll < 0.9 else ResponseStatus.sent
        answers = {} if status is ResponseStatus.sent else clean(form_for(), questions)
        rows.append(Response(setting=setting_id, questionnaire=questions[0]["questionnaire"], academic_year=year,
                             version=seeded.version_id,
                             token_hash=secrets.token_hex(32), respondent_email=f"dsl{setting_id}@setting.example.org",
                             status=status.value, answers=answers, sent_at=now, updated_at=now,
                             submitted_at=now if status is ResponseStatus.submitted else None))
    await _insert(Response, rows)
    return len(rows)
