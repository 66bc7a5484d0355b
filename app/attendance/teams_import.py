"""Marking attendance at an online session from its Teams attendance report.

People are matched to confirmed bookings by email or Teams sign-in (UPN), then by name; whoever
is left is listed for an organiser to match by hand. Time present, rejoins summed, decides:
at least the minimum minutes is attended, less is absent, and never more minutes than the
meeting lasted. The report is the whole record of an online session: confirmed bookings not in
it, and not marked already, are marked absent (an organiser's match by hand corrects one).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.attendance.services import RegisterRow, mark, mark_rest_absent, register
from app.attendance.teams_report import Participant, normalise_name, parse_report
from app.config import Config
from app.organisers.services import OrganiserView
from app.tables.attendance import MarkSource, Outcome
from app.tables.bookings import BookingStatus


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


async def import_report(event_id: int, data: bytes, *, minimum_minutes: int, organiser: OrganiserView,
                        now: dt.datetime, config: Config) -> ImportResult:
    report = parse_report(data)
    _, rows, _ = await register(event_id, now)
    longest = None
    if report.started_at and report.ended_at and report.ended_at > report.started_at:
        longest = int((report.ended_at - report.started_at).total_seconds()) // 60
    result = match(report.participants, rows, minimum_minutes, longest)
    result.title = report.title
    for m in result.matched:
        await mark(m.row.booking_id, m.outcome, organiser=organiser, now=now, config=config, source=MarkSource.teams,
                   minutes_present=m.minutes, event_id=event_id)
    await mark_rest_absent(event_id, organiser=organiser, now=now, source=MarkSource.teams)
    return result


async def resolve(event_id: int, choices: list[tuple[int, int]], *, minimum_minutes: int,
                  organiser: OrganiserView, now: dt.datetime, config: Config) -> int:
    """Apply an organiser's matches of (booking id, minutes present). Returns how many marked."""
    for booking_id, minutes in choices:
        await mark(booking_id, _outcome(minutes, minimum_minutes), organiser=organiser, now=now, config=config,
                   source=MarkSource.teams, minutes_present=minutes, event_id=event_id)
    return len(choices)
