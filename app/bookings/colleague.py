"""Send a colleague instead: the booker passes their place to a colleague from the same setting.
The place is kept (no one on the waiting list is offered it), the first person's calendar gets a
cancellation, the colleague a confirmation with an invite and links of their own; the old manage
link stops working. Refused once the event has started."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from app.audit.services import record
from app.bookings.notices import queue_notices
from app.bookings.records import (
    BookingError,
    BookingNotFound,
    BookingView,
    TooManyBookings,
    active_bookings_of,
    get_booking,
    has_started,
    new_manage_token,
)
from app.bookings.validation import Name
from app.config import Config
from app.db import write_transaction
from app.errors import InvalidInput
from app.programme.services import get_event
from app.settings_register.services import upsert_person
from app.tables.bookings import ACTIVE_STATUSES, Booking, BookingStatus, LeadAnswer, Role
from app.validation import EmailAddress, Messages, validate


class ColleagueIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Name
    email: EmailAddress
    role: Role


COLLEAGUE_MESSAGES: Messages = {
    "name": {"missing": "Enter your colleague's full name", "long": "Full name must be 200 characters or fewer"},
    "email": {"missing": "Enter your colleague's work email address",
              "invalid": "Enter an email address in the correct format, like name@example.com",
              "long": "Email address must be 254 characters or fewer"},
    "role": {"missing": "Select your colleague's role", "invalid": "Select your colleague's role"},
}


class InvalidColleague(InvalidInput):
    message = "Your colleague's details have fields at fault"


class NotConfirmed(BookingError):
    code = "not_confirmed"
    status = 409
    field = "name"
    message = "Only a confirmed place can be passed to a colleague"


class ColleagueBooked(BookingError):
    code = "already_booked"
    field = "email"
    message = "Your colleague already has a place at this event"


class ColleagueHasTooMany(TooManyBookings):
    def __init__(self, cap: int):
        BookingError.__init__(self, f"Your colleague's email address already has {cap} bookings or waiting list "
                              "places for events still to come. Ask them to cancel one they no longer need, or ask "
                              "the safeguarding team to book for them")


class TooLateToPass(BookingError):
    code = "event_started"
    message = "The event has started: the place can no longer be passed to a colleague"


class SamePerson(InvalidInput):
    message = "That is your own email address"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class PassedOn:
    """What an old manage link says after its place went to a colleague."""

    colleague: str
    event_title: str
    on: dt.datetime


async def passed_on(old_token: str) -> PassedOn | None:
    """The place an old manage link had, if it was passed to a colleague (the latest pass)."""
    row = await Booking.select(Booking.name_given, Booking.person.name.as_alias("person_name"),
                               Booking.event.title.as_alias("title"), Booking.updated_at).where(
        Booking.passed_from_token_hash == token_digest(old_token)).first()
    if row is None:
        return None
    return PassedOn(row["name_given"] or row["person_name"], row["title"], row["updated_at"])


async def pass_to_colleague(manage_token: str, form: dict[str, str], *, now: dt.datetime,
                            config: Config) -> BookingView:
    """The place goes to the colleague in one transaction: the booking keeps its place, event and
    setting, and gets the colleague as its person with new links and a new calendar UID.
    Returns the booking as the colleague now holds it."""
    colleague = validate(ColleagueIn, form, COLLEAGUE_MESSAGES, error=InvalidColleague)
    email = str(colleague.email).lower()
    async with write_transaction():
        row = await Booking.select(Booking.id, Booking.event, Booking.status, Booking.person, Booking.calendar_uid,
                                   Booking.calendar_sequence, Booking.name_given,
                                   Booking.person.name.as_alias("person_name"),
                                   Booking.person.email.as_alias("person_email")).where(
            Booking.manage_token == manage_token).first()
        if row is None:
            raise BookingNotFound()
        if row["status"] != BookingStatus.confirmed.value:
            raise NotConfirmed()
        event = await get_event(row["event"], now)
        if has_started(event.starts_at, now):
            raise TooLateToPass()
        if email == row["person_email"]:
            raise SamePerson({"email": "Enter your colleague's work email address, not your own"})
        person_id = await upsert_person(name=colleague.name, email=email, now=now)
        if await Booking.exists().where((Booking.event == row["event"]) & (Booking.person == person_id)
                                        & Booking.status.is_in([s.value for s in ACTIVE_STATUSES])):
            raise ColleagueBooked()
        new_token = new_manage_token()
        changed = await Booking.update({
            Booking.person: person_id, Booking.name_given: colleague.name, Booking.role: colleague.role.value,
            # Their colleague's answer is not theirs: what their role says (the form asks the role).
            Booking.lead: LeadAnswer.from_role(colleague.role).value,
            Booking.manage_token: new_token, Booking.passed_from_token_hash: token_digest(manage_token),
            Booking.calendar_uid: f"{uuid.uuid4()}@safeguarding-bookings",
            Booking.calendar_sequence: 0, Booking.checkin_token: secrets.token_urlsafe(24),
            Booking.updated_at: now}).where(
            (Booking.id == row["id"]) & (Booking.status == BookingStatus.confirmed.value)
            & (Booking.manage_token == manage_token)).returning(Booking.id)
        if not changed:
            raise BookingNotFound()
        # The colleague is held to the cap as if they had booked it themselves (counted with this
        # place, in this transaction: refusing undoes the pass).
        if await active_bookings_of(email, now) > config.max_active_bookings:
            raise ColleagueHasTooMany(config.max_active_bookings)
        # The first person's calendar: a CANCEL of their own invite (their UID, the next SEQUENCE).
        await queue_notices("passed_on", [(row["id"], row["event"], row["person_email"])], config=config, now=now,
                            uid=row["calendar_uid"], sequence=row["calendar_sequence"] + 1,
                            name=row["name_given"] or row["person_name"], email=row["person_email"],
                            colleague=colleague.name)
        await queue_notices("confirmation", [(row["id"], row["event"], email)], config=config, now=now)
        await record("booking.passed_to_colleague", row["person_email"], event_id=row["event"], booking_id=row["id"],
                     person_id=person_id, was_person_id=row["person"], role=colleague.role.value)
    return await get_booking(new_token, now)
