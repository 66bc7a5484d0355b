"""Everything the service knows about one setting, gathered for the organisers' setting page in
one call: its bookings and the people who made them, its Lead Practitioner / DSL and deputies on
record (read once) with their safeguarding dates, the year's questionnaire response, its Q13, Q6 and Q7 evidence, and the
settings it could be merged into. Above the domains it reads (attendance, the questionnaire, the
register), below the web layer, which only renders it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.attendance.services import PersonTally, SettingBooking, setting_bookings, tally_people
from app.areas import academic_year_of, local
from app.certificates.services import CertificateView, certificates_for_setting
from app.clocks.dates import clocks_for
from app.config import Config
from app.errors import NotFound
from app.questionnaire.evidence import Q13Evidence, TrainingEvidence, q13_evidence, training_evidence
from app.questionnaire.seeding import list_questions
from app.settings_register.services import leads_for, search_settings
from app.tables.bookings import ROLE_LABELS, Role
from app.questionnaire.services import action_plan
from app.tables.questionnaire import Response, ResponseStatus
from app.tables.register import Setting


class SettingNotFound(NotFound):
    """No setting has that id."""

    code = "setting_not_found"
    message = "There is no setting with that number"


@dataclass(frozen=True)
class SettingOverview:
    setting: dict[str, Any]
    academic_year: str
    bookings: list[SettingBooking]
    people: dict[int, PersonTally]
    no_shows: int
    #: Leads on record (current and past), newest first.
    leads: list[dict[str, Any]]
    #: Where the questionnaire goes: the DSL on record, else the setting's contact, else whoever
    #: booked as its DSL.
    dsl_email: str
    response: dict[str, Any] | None
    questions: list[Any]
    q13: Q13Evidence
    q6: TrainingEvidence
    q7: TrainingEvidence
    #: Settings on the register a setting added by a booking could be merged into.
    merge_targets: list[dict[str, Any]]
    #: The safeguarding dates of each lead now in the role, by work email, in words.
    clocks: dict[str, list[str]]


async def setting_overview(setting_id: int, academic_year: str, now: dt.datetime, config: Config) -> SettingOverview:
    """The setting page's facts for the academic year; SettingNotFound (a 404) for no such setting."""
    setting = await Setting.select().where(Setting.id == setting_id).first()
    if setting is None:
        raise SettingNotFound()
    bookings = await setting_bookings(setting_id, now)
    leads = await leads_for(setting_id)
    on_record = next((lead["email"] for lead in leads if lead["role"] == "dsl" and lead["until"] is None), "")
    booked_as_dsl = next((b.email for b in bookings if b.role == Role.dsl.value), "")
    response = await Response.select(Response.id, Response.status, Response.respondent_email, Response.answers,
                                     Response.version).where(
        (Response.setting == setting_id) & (Response.academic_year == academic_year)).output(load_json=True).first()
    merge_targets = [] if setting["on_register"] else [
        s for s in await search_settings(setting["name"].split()[0] if setting["name"] else "", limit=20)
        if s["on_register"] and s["id"] != setting_id]
    return SettingOverview(
        setting=setting, academic_year=academic_year, bookings=bookings,
        people=tally_people(bookings, {r.value: label for r, label in ROLE_LABELS.items()}),
        no_shows=sum(b.no_show for b in bookings), leads=leads,
        dsl_email=on_record or setting["contact_email"] or booked_as_dsl,
        response=response, questions=await list_questions(response["version"]) if response else [],
        q13=(await q13_evidence([setting_id], academic_year, now))[setting_id],
        q6=await training_evidence(6, setting_id), q7=await training_evidence(7, setting_id),
        merge_targets=merge_targets,
        clocks={email: clock.words(local(now).date()) for email, clock in (await clocks_for(
            [lead["email"] for lead in leads if lead["until"] is None], config)).items()})


@dataclass(frozen=True)
class LeadEvidence:
    name: str
    role: str
    dates: list[str]


@dataclass(frozen=True)
class SettingEvidence:
    """A setting's page of evidence (issue 25, point 5): what an organiser, the setting and an
    inspector it shares the page with all see."""

    setting: dict[str, Any]
    as_of: dt.datetime
    leads: list[LeadEvidence]
    #: Forum attendance by term: this academic year and the one before.
    years: list[Q13Evidence]
    certificates: list[CertificateView]
    #: The latest submitted questionnaire, with its answers and Action Plan.
    response: dict[str, Any] | None
    answers: list[dict[str, Any]]


async def setting_evidence(setting_id: int, now: dt.datetime, config: Config) -> SettingEvidence:
    """The setting's evidence as it stands at `now`; SettingNotFound (a 404) for no such setting."""
    setting = await Setting.select(Setting.id, Setting.name, Setting.urn, Setting.setting_type,
                                   Setting.quadrant).where(Setting.id == setting_id).first()
    if setting is None:
        raise SettingNotFound()
    today = local(now).date()
    current = [lead for lead in await leads_for(setting_id) if lead["until"] is None]
    clocks = await clocks_for([lead["email"] for lead in current], config)
    seen: set[tuple[str, str]] = set()
    leads = []
    for lead in sorted(current, key=lambda lead: (lead["role"] != "dsl", lead["name"])):
        if (lead["email"], lead["role"]) not in seen:
            seen.add((lead["email"], lead["role"]))
            leads.append(LeadEvidence(lead["name"], lead["role"], clocks[lead["email"]].words(today)))
    this_year = academic_year_of(today)
    start = int(this_year[:4])
    last_year = f"{start - 1}/{start % 100:02d}"
    years = [(await q13_evidence([setting_id], year, now))[setting_id] for year in (this_year, last_year)]
    response = await Response.select(Response.id, Response.academic_year, Response.submitted_at, Response.answers,
                                     Response.version).where(
        (Response.setting == setting_id) & (Response.status == ResponseStatus.submitted.value)).order_by(
        Response.academic_year, ascending=False).output(load_json=True).first()
    answers = action_plan(response["answers"], await list_questions(response["version"])) if response else []
    return SettingEvidence(setting, now, leads, years, await certificates_for_setting(setting_id), response, answers)
