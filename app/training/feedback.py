"""Feedback on a session: three questions, once per booking, through the secret link in the
certificate email. Organisers read it per event and per kind of event, and export it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated

from piccolo.query.functions.aggregate import Count
from pydantic import BaseModel, ConfigDict, StringConstraints

from app.audit.services import record
from app.db import write_transaction
from app.errors import DomainError, InvalidInput
from app.formats import long_date
from app.tables.training import Certificate, Feedback, Usefulness
from app.validation import Messages, validate

USEFULNESS_LABELS = {Usefulness.very.value: "Very useful", Usefulness.quite.value: "Quite useful",
                     Usefulness.little.value: "A little useful", Usefulness.not_useful.value: "Not useful"}


class FeedbackIncomplete(InvalidInput):
    message = "Some answers are missing"


class FeedbackGiven(DomainError):
    code = "feedback_given"
    status = 409
    message = "You have told us what you thought of this session already: thank you"


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    usefulness: Usefulness
    cover_next: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""
    comments: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


FEEDBACK_MESSAGES: Messages = {
    "usefulness": {"missing": "Select how useful the session was", "invalid": "Select how useful the session was"},
    "cover_next": {"long": "What to cover next time must be 1,000 characters or fewer"},
    "comments": {"long": "Comments must be 2,000 characters or fewer"},
}


@dataclass(frozen=True)
class FeedbackTarget:
    booking_id: int
    event_id: int
    event_title: str
    starts_at: dt.datetime
    given: bool


async def target(token: str) -> FeedbackTarget | None:
    """The session a feedback link is for (None for a link that is not one, or whose certificate
    was withdrawn)."""
    row = await Certificate.select(Certificate.booking, Certificate.event_title, Certificate.starts_at,
                                   Certificate.withdrawn_at, Certificate.booking.event.as_alias("event_id")).where(
        Certificate.feedback_token == token).first()
    if row is None or row["withdrawn_at"] is not None:
        return None
    given = await Feedback.exists().where(Feedback.booking == row["booking"])
    return FeedbackTarget(row["booking"], row["event_id"], row["event_title"], row["starts_at"], given)


async def give_feedback(token: str, form: dict[str, str], *, now: dt.datetime) -> FeedbackTarget:
    found = await target(token)
    if found is None:
        raise InvalidInput({"usefulness": "This feedback link is not valid"})
    answers = validate(FeedbackIn, form, FEEDBACK_MESSAGES, error=FeedbackIncomplete)
    async with write_transaction():
        if await Feedback.exists().where(Feedback.booking == found.booking_id):
            raise FeedbackGiven()
        await Feedback.insert(Feedback(booking=found.booking_id, event=found.event_id,
                                       usefulness=answers.usefulness.value, cover_next=answers.cover_next,
                                       comments=answers.comments, submitted_at=now))
        await record("feedback.given", "attendee", event_id=found.event_id, booking_id=found.booking_id)
    return found


@dataclass
class FeedbackSummary:
    label: str
    responses: int = 0
    usefulness: Counter = field(default_factory=Counter)
    cover_next: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def useful_share(self) -> int | None:
        """Per cent who found it very or quite useful."""
        if not self.responses:
            return None
        return round(100 * (self.usefulness["very"] + self.usefulness["quite"]) / self.responses)


async def event_summary(event_id: int, *, limit: int = 200) -> FeedbackSummary:
    """Counts in SQL; the latest `limit` comments and suggestions."""
    summary = FeedbackSummary("This event")
    for row in await Feedback.select(Feedback.usefulness, Count(alias="n")).where(
            Feedback.event == event_id).group_by(Feedback.usefulness):
        summary.usefulness[row["usefulness"]] = row["n"]
    summary.responses = sum(summary.usefulness.values())
    texts = await Feedback.select(Feedback.cover_next, Feedback.comments).where(
        (Feedback.event == event_id) & ((Feedback.cover_next != "") | (Feedback.comments != ""))).order_by(
        Feedback.submitted_at, ascending=False).limit(limit)
    summary.cover_next = [t["cover_next"] for t in texts if t["cover_next"]]
    summary.comments = [t["comments"] for t in texts if t["comments"]]
    return summary


async def kind_summaries(academic_year: str | None = None) -> list[FeedbackSummary]:
    """Per kind of event (forums, HSB, Prevent): counts of each answer, in one grouped query."""
    query = Feedback.select(Feedback.event.kind.name.as_alias("kind"), Feedback.usefulness,
                            Count(alias="n"))
    if academic_year:
        query = query.where(Feedback.event.academic_year == academic_year)
    out: dict[str, FeedbackSummary] = {}
    for row in await query.group_by(Feedback.event.kind.name, Feedback.usefulness):
        summary = out.setdefault(row["kind"], FeedbackSummary(row["kind"]))
        summary.usefulness[row["usefulness"]] += row["n"]
        summary.responses += row["n"]
    return sorted(out.values(), key=lambda s: s.label)


FEEDBACK_HEADER = ["Event", "Date", "Kind", "How useful", "What to cover next time", "Comments", "Given on"]


async def feedback_table(*, event_id: int | None = None, academic_year: str | None = None) -> list[list[str]]:
    """Every answer (no names), for CSV and Excel: one event's or a year's."""
    query = Feedback.select(Feedback.event.title.as_alias("title"), Feedback.event.starts_at.as_alias("starts_at"),
                            Feedback.event.kind.name.as_alias("kind"), Feedback.usefulness, Feedback.cover_next,
                            Feedback.comments, Feedback.submitted_at)
    if event_id is not None:
        query = query.where(Feedback.event == event_id)
    elif academic_year:
        query = query.where(Feedback.event.academic_year == academic_year)
    rows = await query.order_by(Feedback.event.starts_at).order_by(Feedback.submitted_at)
    return [[r["title"], long_date(r["starts_at"]), r["kind"], USEFULNESS_LABELS.get(r["usefulness"], r["usefulness"]),
             r["cover_next"], r["comments"], long_date(r["submitted_at"])] for r in rows]
