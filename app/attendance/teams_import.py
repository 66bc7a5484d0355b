"""Marking attendance at an online session from its Teams attendance report.

An import is previewed first (`preview_report`): who would be marked attended and absent, who
is not matched, the team's own rows, and any mark made by hand it would change; nothing is
recorded until an organiser confirms (`confirm_preview`), which applies exactly that preview,
once, and is refused if the event's marks changed since. A report whose meeting is not on the
event's day is refused naming both dates, unless the organiser says it is on purpose.

People are matched to confirmed bookings by email or Teams sign-in (UPN), then by name; whoever
is left is listed for an organiser to match by hand. Time present, rejoins summed, decides:
at least the minimum minutes is attended, less is absent, and never more minutes than the
meeting lasted. The report is the whole record of an online session: confirmed bookings not in
it, and not marked already, are marked absent (an organiser's match by hand corrects one).
"""

from __future__ import annotations

import datetime as dt
import json
import hashlib
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from app.areas import local
from app.attendance.services import RegisterRow, mark, record_mark, refuse_before_the_end, register
from app.attendance.teams_report import Participant, TeamsReport, normalise_name, parse_report
from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError, NotFound
from app.formats import long_date
from app.organisers.services import OrganiserView
from app.tables.attendance import Attendance, MarkSource, Outcome, TeamsImportPreview
from app.tables.bookings import Booking, BookingStatus
from app.tables.organisers import Organiser

#: How long a preview can be confirmed.
PREVIEW_LIFETIME = dt.timedelta(hours=1)


class OtherDay(DomainError):
    code = "teams_report_other_day"
    status = 409
    field = "report"


class PreviewGone(DomainError):
    code = "teams_preview_gone"
    status = 409
    message = "This preview has already been confirmed or has expired: upload the report again"


class MarksChanged(DomainError):
    code = "teams_preview_stale"
    status = 409
    message = ("Attendance for this event was changed since the preview was made: upload the report again "
               "to see what it would mark now")


@dataclass
class Matched:
    row: RegisterRow
    participant_names: list[str]
    minutes: int
    outcome: Outcome
    how: str  # "email" or "name"


@dataclass
class ImportResult:
    title: str
    matched: list[Matched] = field(default_factory=list)
    unmatched: list[Participant] = field(default_factory=list)
    unmatched_bookings: list[RegisterRow] = field(default_factory=list)


def _outcome(minutes: int, minimum: int) -> Outcome:
    return Outcome.attended if minutes >= minimum else Outcome.absent


def match(participants: list[Participant], rows: list[RegisterRow], minimum: int,
          longest: int | None = None) -> ImportResult:
    """Pure matching; see the module docstring."""
    confirmed = [r for r in rows if r.status == BookingStatus.confirmed.value]
    by_email = {r.email.lower(): r for r in confirmed}
    by_name: dict[str, list[RegisterRow]] = {}
    for r in confirmed:
        by_name.setdefault(normalise_name(r.name), []).append(r)
    found: dict[int, Matched] = {}
    result = ImportResult(title="")
    for p in participants:
        row, how = next(((by_email[a], "email") for a in sorted(p.addresses) if a in by_email), (None, ""))
        if row is None:
            candidates = by_name.get(normalise_name(p.name), [])
            row, how = (candidates[0], "name") if len(candidates) == 1 else (None, "")
        if row is None:
            result.unmatched.append(p)
            continue
        if row.booking_id in found:  # the same person on two devices: their time adds up
            entry = found[row.booking_id]
            entry.minutes = min(entry.minutes + p.minutes, longest) if longest else entry.minutes + p.minutes
            entry.participant_names.append(p.name)
            entry.outcome = _outcome(entry.minutes, minimum)
        else:
            found[row.booking_id] = Matched(row, [p.name], p.minutes, _outcome(p.minutes, minimum), how)
    result.matched = list(found.values())
    result.unmatched_bookings = [r for r in confirmed if r.booking_id not in found]
    return result


def _longest(report: TeamsReport) -> int | None:
    if report.started_at and report.ended_at and report.ended_at > report.started_at:
        return int((report.ended_at - report.started_at).total_seconds()) // 60
    return None


def ambiguous_date(text: str) -> bool:
    """Whether a report's date could be read two ways: its day and month both 12 or less (and
    not the same), written day first or month first ("03/04/27")."""
    head = text.strip().split(",")[0].split(" ")[0]
    parts = head.split("/")
    return len(parts) == 3 and all(p.isdigit() for p in parts[:2]) and parts[0] != parts[1] \
        and int(parts[0]) <= 12 and int(parts[1]) <= 12


async def _marks_seen(event_id: int) -> str:
    """A fingerprint of the event's attendance marks (who, what, by which means, when)."""
    rows = await Attendance.select(Attendance.booking, Attendance.outcome, Attendance.source,
                                   Attendance.recorded_at).where(Attendance.booking.event == event_id).order_by(
        Attendance.booking)
    text = "\n".join(f"{r['booking']}:{r['outcome']}:{r['source']}:{r['recorded_at'].isoformat()}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()


async def preview_report(event_id: int, data: bytes, *, minimum_minutes: int, organiser: OrganiserView,
                         now: dt.datetime, config: Config, other_day: bool = False) -> int:
    """Read and match a Teams report (in a worker thread: a large one is seconds of CPU) and keep
    what it would mark as a preview. Records no mark. Returns the preview's id."""
    event, rows, _ = await register(event_id, now)
    refuse_before_the_end(event.ends_at, now, "A Teams report can be imported")
    report = await anyio.to_thread.run_sync(parse_report, data)
    event_day = local(event.starts_at).date()
    meeting_day = local(report.started_at).date() if report.started_at else None
    if meeting_day and meeting_day != event_day and not other_day:
        raise OtherDay(f"This report is of a meeting on {long_date(report.started_at)}, but this event is on "
                       f"{long_date(event.starts_at)}. Upload the report of this event's meeting, or tick that "
                       f"you are importing another day's report on purpose")
    team_addresses = {config.organiser_mailbox.lower(), config.booking_support_email.lower()} | {
        r["email"].lower() for r in await Organiser.select(Organiser.email)}
    other = bool(meeting_day and meeting_day != event_day)
    # Matching, the plan and its JSON are seconds of CPU for a large report: a worker thread.
    plan = await anyio.to_thread.run_sync(_plan, report, rows, minimum_minutes, team_addresses, other)
    rows_made = await TeamsImportPreview.insert(TeamsImportPreview(
        event=event_id, uploaded_by=organiser.id, created_at=now, expires_at=now + PREVIEW_LIFETIME,
        marks_seen=await _marks_seen(event_id), plan=plan)).returning(TeamsImportPreview.id)
    return rows_made[0]["id"]


def _plan(report: TeamsReport, rows: list[RegisterRow], minimum_minutes: int, team_addresses: set[str],
          other_day: bool) -> str:
    """What confirming would mark, as the preview's JSON (run in a worker thread)."""
    result = match(report.participants, rows, minimum_minutes, _longest(report))
    team, unmatched = [], []
    for p in result.unmatched:
        (team if p.addresses & team_addresses or p.role.lower() == "organizer" else unmatched).append(p)
    marks: list[dict[str, Any]] = [
        {"booking": m.row.booking_id, "name": m.row.name, "setting": m.row.setting, "minutes": m.minutes,
         "outcome": m.outcome.value, "how": m.how, "in_teams_as": m.participant_names,
         "was": m.row.outcome, "was_source": m.row.mark_source} for m in result.matched]
    # The report is the whole record of an online session: confirmed bookings not in it, not
    # marked already, would be marked absent.
    marks += [{"booking": r.booking_id, "name": r.name, "setting": r.setting, "minutes": None, "outcome": "absent",
               "how": "not in the report", "in_teams_as": [], "was": None, "was_source": None}
              for r in result.unmatched_bookings if r.outcome is None]
    return json.dumps({
        "title": report.title, "minimum": minimum_minutes,
        "meeting_at": report.started_at.isoformat() if report.started_at else None,
        "meeting_text": report.started_text, "ambiguous": ambiguous_date(report.started_text),
        "other_day": other_day, "marks": marks,
        "unmatched": [{"name": p.name, "address": p.email or p.upn, "minutes": p.minutes, "role": p.role}
                      for p in unmatched],
        "team": [p.name for p in team],
        "unmatched_bookings": [{"booking": r.booking_id, "name": r.name, "setting": r.setting, "email": r.email}
                               for r in result.unmatched_bookings]})


@dataclass
class Preview:
    id: int
    event_id: int
    expires_at: dt.datetime
    applied_at: dt.datetime | None
    plan: dict[str, Any]

    @property
    def attended(self) -> list[dict[str, Any]]:
        return [m for m in self.plan["marks"] if m["outcome"] == Outcome.attended.value]

    @property
    def absent(self) -> list[dict[str, Any]]:
        return [m for m in self.plan["marks"] if m["outcome"] == Outcome.absent.value]

    @property
    def changes(self) -> list[dict[str, Any]]:
        """Marks made by hand (at the register, by QR, a walk-in) that confirming would change."""
        return [m for m in self.plan["marks"] if m["was"] and m["was"] != m["outcome"] and m["was_source"] != "teams"]

    @property
    def meeting_at(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.plan["meeting_at"]) if self.plan.get("meeting_at") else None


async def load_preview(preview_id: int, event_id: int) -> Preview:
    row = await TeamsImportPreview.select().where(
        (TeamsImportPreview.id == preview_id) & (TeamsImportPreview.event == event_id)).output(load_json=True).first()
    if row is None:
        raise NotFound("No such preview")
    return Preview(row["id"], event_id, row["expires_at"], row["applied_at"], row["plan"])


async def confirm_preview(preview_id: int, event_id: int, *, organiser: OrganiserView, now: dt.datetime,
                          config: Config) -> Preview:
    """Record exactly what the preview showed, once: claimed by one UPDATE (a second confirm, from
    any process, finds it taken), refused if the event's marks changed since."""
    async with write_transaction():
        claimed = await TeamsImportPreview.update({TeamsImportPreview.applied_at: now}).where(
            (TeamsImportPreview.id == preview_id) & (TeamsImportPreview.event == event_id)
            & TeamsImportPreview.applied_at.is_null() & (TeamsImportPreview.expires_at > now)
        ).returning(TeamsImportPreview.marks_seen)
        if not claimed:
            raise PreviewGone()
        if claimed[0]["marks_seen"] != await _marks_seen(event_id):
            raise MarksChanged()
        preview = await load_preview(preview_id, event_id)
        confirmed = {r["id"] for r in await Booking.select(Booking.id).where(
            (Booking.event == event_id) & (Booking.status == BookingStatus.confirmed.value))}
        for m in preview.plan["marks"]:
            if m["booking"] in confirmed:
                await record_mark(m["booking"], Outcome(m["outcome"]), organiser=organiser, now=now, config=config,
                                  source=MarkSource.teams, minutes_present=m["minutes"], event_id=event_id)
        await record("attendance.teams_imported", organiser.email, event_id=event_id,
                     marked=len(preview.plan["marks"]), title=preview.plan["title"])
    return preview


async def resolve(event_id: int, choices: list[tuple[int, int]], *, minimum_minutes: int,
                  organiser: OrganiserView, now: dt.datetime, config: Config) -> int:
    """Apply an organiser's matches of (booking id, minutes present). Returns how many marked."""
    for booking_id, minutes in choices:
        await mark(booking_id, _outcome(minutes, minimum_minutes), organiser=organiser, now=now, config=config,
                   source=MarkSource.teams, minutes_present=minutes, event_id=event_id)
    return len(choices)
