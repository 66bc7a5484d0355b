"""A person's own training record: every forum and training session they attended (dates, minutes,
certificates), the Level 3 and Prevent training declared for them, and their clock's dates.

No account: anyone may ask for a link by email; it goes only to the address asked for, and only
if the service knows that address (the page says the same either way). Only the link's hash is
kept, and it lapses after a week (the retention purge deletes it then)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

from app.areas import academic_year_of, local, term_of
from app.certificates.services import CertificateView, certificates_for_bookings
from app.clocks.dates import Clock, clocks_for
from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.formats import long_date
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.questionnaire.evidence import term_label
from app.tables.attendance import Attendance, Outcome
from app.tables.bookings import Booking, BookingStatus
from app.tables.questionnaire import TrainingDeclaration
from app.tables.register import Person
from app.tables.training import PackCopy, RecordLink

LINK_LIFETIME = dt.timedelta(days=7)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    booking_id: int
    title: str
    kind: str
    kind_code: str
    is_forum: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    online: bool
    setting_name: str
    minutes: int | None
    certificate: CertificateView | None

    @property
    def minutes_attended(self) -> int:
        length = int((self.ends_at - self.starts_at).total_seconds() // 60)
        return min(self.minutes, length) if self.minutes is not None else length

    @property
    def term(self) -> str:
        day = local(self.starts_at).date()
        return term_label(term_of(day), academic_year_of(day))


@dataclass(frozen=True)
class Declared:
    kind: str
    course: str
    provider: str
    completed_on: dt.date
    setting_name: str


@dataclass
class TrainingRecord:
    email: str
    name: str
    sessions: list[Session] = field(default_factory=list)
    declared: list[Declared] = field(default_factory=list)
    #: Their clock's three dates, in words true whenever they are read.
    today: list[str] = field(default_factory=list)
    clock: Clock | None = None
    #: Forum packs they confirmed they read: (forum, its date, when read). Knowledge refreshed,
    #: never attendance.
    packs_read: list[tuple[str, dt.datetime, dt.datetime]] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.name)


async def training_record(email: str, now: dt.datetime, config: Config) -> TrainingRecord:
    """The record of the person with this work email, with their clock. Queries bounded by their
    own bookings."""
    email = email.strip().lower()
    person = await Person.select(Person.id, Person.name).where(Person.email == email).first()
    if person is None:
        return TrainingRecord(email, "")
    rows = await Booking.select(
        Booking.id, Booking.name_given, Booking.event.title.as_alias("title"),
        Booking.event.kind.name.as_alias("kind"), Booking.event.kind.code.as_alias("kind_code"),
        Booking.event.kind.is_forum.as_alias("is_forum"), Booking.event.starts_at.as_alias("starts_at"),
        Booking.event.ends_at.as_alias("ends_at"), Booking.event.online.as_alias("online"),
        Booking.setting.name.as_alias("setting_name"), Booking.setting.as_alias("setting_id")).where(
        (Booking.person == person["id"]) & (Booking.status == BookingStatus.confirmed.value)).order_by(
        Booking.event.starts_at, ascending=False)
    marks = {}
    ids = [r["id"] for r in rows]
    for start in range(0, len(ids), 500):
        for m in await Attendance.select(Attendance.booking, Attendance.outcome, Attendance.minutes_present).where(
                Attendance.booking.is_in(ids[start:start + 500])):
            marks[m["booking"]] = m
    attended = [r for r in rows if marks.get(r["id"], {}).get("outcome") == Outcome.attended.value
                and r["starts_at"] <= now]
    certificates = await certificates_for_bookings([r["id"] for r in attended])
    sessions = [Session(r["id"], r["title"], r["kind"], r["kind_code"], bool(r["is_forum"]), r["starts_at"],
                        r["ends_at"], bool(r["online"]), r["setting_name"] or "", marks[r["id"]]["minutes_present"],
                        certificates.get(r["id"])) for r in attended]
    # Declarations name the person by work email; those made before it was asked, by name, at a
    # setting they booked for.
    settings = sorted({r["setting_id"] for r in rows})
    names = {person["name"].casefold()} | {r["name_given"].casefold() for r in rows if r["name_given"]}
    columns = (TrainingDeclaration.kind, TrainingDeclaration.person_name, TrainingDeclaration.course,
               TrainingDeclaration.provider, TrainingDeclaration.completed_on,
               TrainingDeclaration.setting.name.as_alias("setting_name"))
    found = await TrainingDeclaration.select(*columns).where(TrainingDeclaration.email == email)
    for start in range(0, len(settings), 500):
        found += [d for d in await TrainingDeclaration.select(*columns).where(
            TrainingDeclaration.setting.is_in(settings[start:start + 500]) & (TrainingDeclaration.email == ""))
            if " ".join(d["person_name"].split()).casefold() in names]
    declared = [Declared(d["kind"], d["course"], d["provider"], d["completed_on"], d["setting_name"]) for d in found]
    declared.sort(key=lambda d: d.completed_on, reverse=True)
    clock = (await clocks_for([email], config))[email]
    packs = [(r["title"], r["starts_at"], r["read_at"]) for r in await PackCopy.select(
        PackCopy.pack.event.title.as_alias("title"), PackCopy.pack.event.starts_at.as_alias("starts_at"),
        PackCopy.read_at).where((PackCopy.booking.person == person["id"]) & PackCopy.read_at.is_not_null()).order_by(
        PackCopy.read_at, ascending=False)]
    return TrainingRecord(email, person["name"], sessions, declared, clock.words(local(now).date()), clock, packs)


async def request_link(email: str, *, now: dt.datetime, config: Config) -> bool:
    """Email a link to the record to `email` if the service knows that address (one recipient,
    the address asked for). Returns whether one was sent; callers say the same either way."""
    email = email.strip().lower()
    person = await Person.select(Person.id, Person.name).where(Person.email == email).first()
    if person is None:
        return False
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await RecordLink.insert(RecordLink(email=email, token_hash=_hash(token), created_at=now,
                                           expires_at=now + LINK_LIFETIME))
        await queue_email(compose_email("training_record", recipient=email, config=config,
                                        subject="Your safeguarding training record", name=person["name"],
                                        link=f"{config.base_url}/my-record/{token}",
                                        expires=long_date(now + LINK_LIFETIME)),
                          kind="training_record", config=config, now=now)
        await record("record.link_sent", "attendee", person_id=person["id"])
    return True


async def email_for_token(token: str, now: dt.datetime) -> str | None:
    row = await RecordLink.select(RecordLink.email, RecordLink.expires_at).where(
        RecordLink.token_hash == _hash(token)).first()
    if row is None or row["expires_at"] <= now:
        return None
    return row["email"]
