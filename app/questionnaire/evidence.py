"""The evidence the service holds for questionnaire questions, from seeds/evidence_rules.toml.

One evaluator reads the rules: which kinds of event attended, or of training declared, count
for which question, for which roles. Only recorded attendance counts. The
words are facts, true whenever they are read ("Spring 2024: no attendance by the DSL recorded at
the forums open to this setting (…)"), never judgements: the team judges.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass, field


from app.areas import Term, council, forum_open_to, local
from app.evidence_rules import rules
from app.formats import long_date
from app.spreadsheets import Table, safe_cell
from app.tables.attendance import Attendance, Outcome
from app.tables.programme import Event, EventStatus
from app.tables.questionnaire import TrainingDeclaration
from app.tables.register import Setting, SettingLead

TERM_ORDER = [Term.autumn, Term.spring, Term.summer]


def term_label(term: Term, academic_year: str) -> str:
    """"Spring 2024" for spring of 2023/24; "Autumn 2023" for its autumn."""
    start = int(academic_year[:4])
    return f"{term.label} {start if term is Term.autumn else start + 1}"


@dataclass(frozen=True)
class Attended:
    setting_id: int
    person_id: int
    person_name: str
    role: str
    kind: str
    term: Term
    academic_year: str
    starts_at: dt.datetime
    title: str
    email: str = ""
    #: What the booker said: the setting's Lead Practitioner / DSL ("dsl"), its deputy, or neither.
    lead: str = "neither"


@dataclass(frozen=True)
class Forum:
    """A forum of the year (scheduled), as Q13 needs it."""

    id: int
    title: str
    term: Term
    quadrant: str | None
    online: bool
    starts_at: dt.datetime
    ends_at: dt.datetime

    def open_to(self, quadrant: str | None) -> bool:
        return forum_open_to(forum_quadrant=self.quadrant, online=self.online, setting_quadrant=quadrant)


@dataclass(frozen=True)
class Lead:
    """A DSL or deputy on record for a setting, and when (dates; None: not known / still)."""

    setting_id: int
    role: str
    name: str
    email: str
    since: dt.date | None
    until: dt.date | None
    #: "organiser" (set by an organiser: wins) or "questionnaire" (as the setting said).
    source: str = "organiser"

    def held_on(self, day: dt.date) -> bool:
        return (self.since is None or self.since <= day) and (self.until is None or day <= self.until)


class TermState(enum.StrEnum):
    #: The DSL attended a forum that term.
    attended = "attended"
    #: Every forum open to the setting that term has ended, and the DSL attended none.
    not_attended = "not_attended"
    #: A forum open to the setting that term has not ended: the term is not judged yet.
    upcoming = "upcoming"
    #: No forum open to the setting that term is recorded in the service.
    no_forum = "no_forum"


@dataclass
class TermEvidence:
    term: Term
    label: str
    state: TermState
    forums: list[Forum]
    dsl: list[Attended]
    deputies: list[Attended]
    #: Apologies the DSL / Lead Practitioner sent that term (a place given up before the forum):
    #: said beside the term's facts, never counted as attendance, never as an absence.
    apologies: list[Attended] = field(default_factory=list)

    @property
    def apologies_fact(self) -> str:
        return "; ".join(f"{a.title}, {long_date(a.starts_at)}" for a in self.apologies)

    @property
    def fact(self) -> str:
        """One sentence of facts, true whenever it is read."""
        if self.state is TermState.attended:
            seen = "; ".join(f"{a.person_name}, {a.title}, {long_date(a.starts_at)}" for a in self.dsl)
            return f"{self.label}: forum attended by the DSL / Lead Practitioner ({seen})"
        listed = "; ".join(f"{f.title}, {long_date(f.starts_at)}" for f in self.forums)
        if self.state is TermState.not_attended:
            sent = f"; apologies sent for {self.apologies_fact}" if self.apologies else ""
            return (f"{self.label}: no attendance by the DSL / Lead Practitioner recorded at the forums "
                    f"open to this setting ({listed}){sent}")
        if self.state is TermState.upcoming:
            last = max(f.starts_at for f in self.forums)
            return (f"{self.label}: judged once the forums open to this setting have taken place, the last "
                    f"on {long_date(last)} ({listed})")
        return f"{self.label}: no forum open to this setting is recorded"


@dataclass
class Q13Evidence:
    setting_id: int
    academic_year: str
    terms: list[TermEvidence]
    #: Whose attendance counts: the DSL on record set by an organiser ("on record"), else the one
    #: the setting's questionnaire named ("as the setting said"), else whoever said when booking
    #: that they are its Lead Practitioner / DSL ("as booked").
    basis: str = "as booked"
    leads: list[Lead] = field(default_factory=list)
    #: With no DSL on record: the people who said, booking for the setting, that they are its DSL
    #: (either one's attendance counts; two or more are flagged for organisers to set who is).
    said_dsl: list[str] = field(default_factory=list)

    @property
    def several_said_dsl(self) -> bool:
        return self.basis == "as booked" and len(self.said_dsl) > 1

    @property
    def judged(self) -> list[TermEvidence]:
        return [t for t in self.terms if t.state in (TermState.attended, TermState.not_attended)]

    @property
    def missing_terms(self) -> list[Term]:
        return [t.term for t in self.terms if t.state is TermState.not_attended]

    @property
    def answer(self) -> str | None:
        """"Yes" when the DSL attended in every term judged, "No" when a judged term has no
        attendance, None while no term can be judged."""
        if not self.judged:
            return None
        return "No" if self.missing_terms else "Yes"

    @property
    def basis_fact(self) -> str:
        counted = [lead for lead in self.leads if lead.role == "dsl" and self.basis == _BASIS[lead.source]]
        names = ", ".join(sorted({lead.name for lead in counted}))
        if self.basis == "on record":
            return f"Counted: forum attendance of the setting's DSL / Lead Practitioner on record ({names})"
        if self.basis == "as the setting said":
            return (f"Counted: forum attendance of the DSL / Lead Practitioner as the setting said on its "
                    f"questionnaire ({names})")
        fact = ("No DSL / Lead Practitioner is on record for this setting: counted is the attendance of "
                "people who said, when booking, that they are its Lead Practitioner / DSL")
        if self.several_said_dsl:
            fact += (f". {len(self.said_dsl)} people said so ({', '.join(self.said_dsl)}): either one's attendance "
                     "counts; an organiser can set who the DSL is")
        return fact

    @property
    def facts(self) -> list[str]:
        return [t.fact for t in self.terms] + [self.basis_fact]


#: A lead's source, as the basis it gives Q13.
_BASIS = {"organiser": "on record", "questionnaire": "as the setting said"}


async def year_forums(academic_year: str) -> list[Forum]:
    kinds = rules()[13]["attended_kinds"]
    rows = await Event.select(Event.id, Event.title, Event.term, Event.quadrant, Event.online, Event.starts_at,
                              Event.ends_at).where(
        (Event.academic_year == academic_year) & Event.kind.code.is_in(kinds)
        & (Event.status == EventStatus.scheduled.value)).order_by(Event.starts_at)
    return [Forum(r["id"], r["title"], Term(r["term"]), r["quadrant"], bool(r["online"]), r["starts_at"], r["ends_at"])
            for r in rows]


#: The events of some kinds (a few a year), then the attendance at them, driven from the events
#: through the bookings' index to the marks: Piccolo's joins are LEFT JOINs, which SQLite must
#: take in the order written, and starting from the 90,000 marks of a county took 160 ms to find
#: none. Each mark's event is looked up among the few read first, not read again per mark.
def _events_sql(kinds: str, where: str) -> str:
    return ("SELECT e.id, k.code AS kind, e.term, e.academic_year, e.starts_at, e.title"
            " FROM event e JOIN event_kind k ON k.id = e.kind WHERE k.code IN (" + kinds + ")" + where)


def _attended_sql(kinds: str, where: str) -> str:
    return ("SELECT b.event, b.setting, b.person, p.name, b.name_given, b.role, b.lead, p.email"
            " FROM event e JOIN event_kind k ON k.id = e.kind JOIN booking b ON b.event = e.id"
            " JOIN attendance a ON a.booking = b.id JOIN person p ON p.id = b.person"
            " WHERE k.code IN (" + kinds + ")" + where + " AND a.outcome = {}")


def _apologies_sql(kinds: str, where: str) -> str:
    return ("SELECT b.event, b.setting, b.person, p.name, b.name_given, b.role, b.lead, p.email"
            " FROM event e JOIN event_kind k ON k.id = e.kind JOIN booking b ON b.event = e.id"
            " JOIN person p ON p.id = b.person"
            " WHERE k.code IN (" + kinds + ")" + where + " AND b.apology_at IS NOT NULL")


async def attended(academic_year: str | None, kinds: list[str], setting_ids: list[int] | None = None,
                   emails: list[str] | None = None, *, apologies: bool = False) -> list[Attended]:
    """Every recorded attendance at events of these kinds, for bookings for these settings or by
    these people (two queries, whatever the number of settings; the lists are a page's few).
    With `apologies`, the apologies sent for such events instead (places given up before them)."""
    markers = ", ".join("{}" for _ in kinds)
    in_year, year_args = (" AND e.academic_year = {}", [academic_year]) if academic_year else ("", [])
    events = {r["id"]: r for r in await Attendance.raw(_events_sql(markers, in_year), *kinds, *year_args)}
    if not events:
        return []
    where, args = in_year, [*kinds, *year_args]
    if setting_ids is not None:
        ids = setting_ids or [-1]
        by_email = f" OR p.email IN ({', '.join('{}' for _ in emails)})" if emails else ""
        where += f" AND (b.setting IN ({', '.join('{}' for _ in ids)}){by_email})"
        args += [*ids, *(emails or [])]
    if apologies:
        rows = await Attendance.raw(_apologies_sql(markers, where), *args)
    else:
        rows = await Attendance.raw(_attended_sql(markers, where), *args, Outcome.attended.value)
    out = []
    for r in rows:
        e = events[r["event"]]
        out.append(Attended(r["setting"], r["person"], r["name_given"] or r["name"], r["role"], e["kind"],
                            Term(e["term"]), e["academic_year"], e["starts_at"], e["title"], r["email"],
                            r["lead"]))
    return out


async def leads_of(setting_ids: list[int] | None) -> list[Lead]:
    query = SettingLead.select(SettingLead.setting, SettingLead.role, SettingLead.name, SettingLead.email,
                               SettingLead.since, SettingLead.until, SettingLead.source).order_by(SettingLead.id)
    if setting_ids is not None:
        query = query.where(SettingLead.setting.is_in(setting_ids or [-1]))
    return [Lead(r["setting"], r["role"], r["name"], r["email"], r["since"], r["until"], r["source"])
            for r in await query]


def _indexed(records: list[Attended], academic_year: str,
             now: dt.datetime) -> tuple[dict[int, list[Attended]], dict[str, list[Attended]]]:
    """Records of the year for forums that had started by `now` (as things stood then), by
    setting and by email."""
    by_setting: dict[int, list[Attended]] = defaultdict(list)
    by_email: dict[str, list[Attended]] = defaultdict(list)
    for a in records:
        if a.academic_year == academic_year and a.starts_at <= now:
            by_setting[a.setting_id].append(a)
            by_email[a.email.lower()].append(a)
    return by_setting, by_email


def q13_from(records: list[Attended], settings: dict[int, str | None], academic_year: str,
             forums: list[Forum], leads: list[Lead], now: dt.datetime,
             apologies: list[Attended] | None = None) -> dict[int, Q13Evidence]:
    """Pure: each setting's term-by-term Q13 evidence. `settings` maps a setting to its quadrant.

    Whose attendance counts: the DSL on record for the setting while they held the role (any
    setting they booked for, any role they ticked), an organiser's entry before the one the
    setting's questionnaire gave; with neither, whoever said when booking for the setting that
    they are its Lead Practitioner / DSL (whatever their job). A term is judged only once every
    forum open to the setting that term has ended; attendance at any forum that term counts at
    once. The same person's `apologies` (places given up before a forum) are told beside a term
    not attended, never counted."""
    rule = rules()[13]
    attended_by = _indexed(records, academic_year, now)
    apologies_by = _indexed(apologies or [], academic_year, now)
    leads_by_setting: dict[int, list[Lead]] = defaultdict(list)
    for lead in leads:
        leads_by_setting[lead.setting_id].append(lead)
    out = {}
    for sid, quadrant in settings.items():
        own = leads_by_setting.get(sid, [])
        basis = next((_BASIS[source] for source in ("organiser", "questionnaire")
                      if any(lead.role == "dsl" and lead.source == source for lead in own)), "as booked")

        def whose(indexed: tuple[dict[int, list[Attended]], dict[str, list[Attended]]]
                  ) -> tuple[list[Attended], list[Attended]]:
            """The DSL's records and the deputies', by the basis."""
            by_setting, by_email = indexed
            dsl: list[Attended] = []
            deputies: list[Attended] = []
            if basis != "as booked":
                for lead in own:
                    if lead.role == "dsl" and _BASIS[lead.source] != basis:
                        continue  # the setting's word, where an organiser set the DSL
                    for a in by_email.get(lead.email.lower(), []):
                        if lead.held_on(local(a.starts_at).date()):
                            (dsl if lead.role == "dsl" else deputies).append(a)
            else:
                for a in by_setting.get(sid, []):
                    if a.lead in rule["lead"]:
                        dsl.append(a)
                    elif a.lead in rule.get("shown_separately", []):
                        deputies.append(a)
            return dsl, deputies

        dsl, deputies = whose(attended_by)
        dsl_apologies, _ = whose(apologies_by)
        said = sorted({a.person_name for a in dsl}) if basis == "as booked" else []
        terms = []
        for term in TERM_ORDER:
            open_forums = [f for f in forums if f.term is term and f.open_to(quadrant)]
            term_dsl = sorted({(a.starts_at, a.title, a.person_name): a for a in dsl if a.term is term}.values(),
                              key=lambda a: a.starts_at)
            term_deputies = [a for a in deputies if a.term is term]
            if term_dsl:
                state = TermState.attended
            elif not open_forums:
                state = TermState.no_forum
            elif all(f.ends_at <= now for f in open_forums):
                state = TermState.not_attended
            else:
                state = TermState.upcoming
            sent = sorted({(a.starts_at, a.title): a for a in dsl_apologies if a.term is term}.values(),
                          key=lambda a: a.starts_at)
            terms.append(TermEvidence(term, term_label(term, academic_year), state, open_forums, term_dsl,
                                      term_deputies, sent))
        out[sid] = Q13Evidence(sid, academic_year, terms, basis, own, said)
    return out


async def q13_evidence(setting_ids: list[int] | None, academic_year: str, now: dt.datetime) -> dict[int, Q13Evidence]:
    """Q13 evidence for the given settings (None: every setting not merged into another): a
    few queries whatever the number of settings."""
    query = Setting.select(Setting.id, Setting.quadrant).where(Setting.merged_into.is_null())
    if setting_ids is not None:
        query = query.where(Setting.id.is_in(setting_ids or [-1]))
    settings = {r["id"]: r["quadrant"] for r in await query}
    leads = await leads_of(setting_ids)
    kinds = rules()[13]["attended_kinds"]
    if setting_ids is None:
        records = await attended(academic_year, kinds)
        sent = await attended(academic_year, kinds, apologies=True)
    else:
        emails = sorted({lead.email for lead in leads})
        records = await attended(academic_year, kinds, setting_ids, emails)
        sent = await attended(academic_year, kinds, setting_ids, emails, apologies=True)
    return q13_from(records, settings, academic_year, await year_forums(academic_year), leads, now, sent)


@dataclass(frozen=True)
class TrainingFact:
    person_name: str
    role: str
    on: dt.date
    source: str  # "attended <title>" or "declared: <course>, <provider>"


@dataclass
class TrainingEvidence:
    question: int
    label: str
    people: dict[tuple[str, str], TrainingFact]  # (role, person name) -> latest
    valid_for_years: int | None

    def current(self, fact: TrainingFact, today: dt.date) -> bool:
        if self.valid_for_years is None:
            return True
        try:
            expires = fact.on.replace(year=fact.on.year + self.valid_for_years)
        except ValueError:  # 29 February
            expires = fact.on.replace(year=fact.on.year + self.valid_for_years, day=28)
        return today <= expires


async def training_evidence(question: int, setting_id: int) -> TrainingEvidence:
    """Q6 / Q7: each DSL's and deputy's latest relevant training, attended here or declared."""
    rule = rules()[question]
    latest: dict[tuple[str, str], TrainingFact] = {}

    def keep(fact: TrainingFact) -> None:
        key = (fact.role, fact.person_name.strip().casefold())
        if key not in latest or latest[key].on < fact.on:
            latest[key] = fact

    if rule.get("attended_kinds"):
        for a in await attended(None, rule["attended_kinds"], [setting_id]):
            if a.role in rule["roles"]:
                keep(TrainingFact(a.person_name, a.role, a.starts_at.date(), f"attended {a.title}"))
    if rule.get("declared_kinds"):
        rows = await TrainingDeclaration.select().where(
            (TrainingDeclaration.setting == setting_id) & TrainingDeclaration.kind.is_in(rule["declared_kinds"]))
        for d in rows:
            if d["role"] in rule["roles"]:
                keep(TrainingFact(d["person_name"], d["role"], d["completed_on"], f"declared: {d['course']}, {d['provider']}"))
    return TrainingEvidence(question, rule["label"], dict(sorted(latest.items())), rule.get("valid_for_years"))


async def q13_table(academic_year: str, now: dt.datetime) -> Table:
    """Every setting's Q13 evidence for the year, a row each, as the organisers' export gives it
    (CSV or Excel): who counts, each term's state, deputies apart, what the record suggests."""
    year = academic_year
    settings = await Setting.select(Setting.id, Setting.name, Setting.urn, Setting.quadrant).where(
        Setting.merged_into.is_null()).order_by(Setting.name)
    header = ["Setting", "URN", council().word.capitalize(), "Academic year", "Whose attendance counts", "Autumn", "Spring",
              "Summer", "Deputies attended in", "Record suggests", "Facts"]
    states = {"attended": "DSL attended", "not_attended": "No DSL attendance recorded",
              "upcoming": "Not judged yet (forums to come)", "no_forum": "No forum open to the setting"}
    evidence = await q13_evidence(None, year, now)  # one set of queries: sliced, SQLite took 5 times longer
    rows = []
    for s in settings:
        e = evidence[s["id"]]
        rows.append([safe_cell(v) for v in (
            s["name"], s["urn"] or "", council().label(s["quadrant"], ""), year,
            {"on record": "DSL on record", "as the setting said": "DSL as the setting said"}.get(
                e.basis, "Several said they are the DSL" if e.several_said_dsl else "Said when booking"),
            *(states[t.state.value] + (" (apologies sent)" if t.apologies and t.state is TermState.not_attended else "")
              for t in e.terms),
            "; ".join(t.label for t in e.terms if t.deputies), e.answer or "Not judged yet",
            " | ".join(e.facts))])
    return Table(header, rows)
