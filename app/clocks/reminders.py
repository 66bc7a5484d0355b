"""Reminders before a lead's date comes (issue 25, point 2), and the welcome a new DSL gets when an
organiser records them (point 3).

A reminder goes at most once per person, per date, per threshold (60 and 14 days before: a date
first seen within 14 days gets only the 14-day one): `clock_reminder.key` is unique. Dates falling
due together go in one email, each with the next sessions that would renew it and their booking
links. Every reminder carries `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058: the mail client's POST stops them) and a link to a page whose button stops them (a POST:
following the link changes nothing)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from app.areas import local
from app.audit.services import record
from app.clocks.dates import KNOWLEDGE, LABELS, LEVEL3, PREVENT, THRESHOLDS, WHICH, Clock, clock_from_row, clocks_for
from app.config import Config
from app.db import write_transaction
from app.errors import NotFound
from app.evidence_rules import rules
from app.formats import day_month_year
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.programme.recovery import next_forum, next_session, offer_links
from app.settings_register.services import record_lead
from app.sql import for_piccolo
from app.tables.register import LeadRole, LeadSource, Setting, SettingLead
from app.tables.training import ClockReminder, LeadClock

CHUNK = 500


class RemindersLinkUnknown(NotFound):
    code = "reminders_link_unknown"
    message = "This link to stop reminders is not known. Check it is the whole link from the email."
    heading = "Link not known"


def _person_key(email: str) -> str:
    """An address as a reminder's key holds it: hashed, so the key names nobody."""
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def threshold_for(due: dt.date, today: dt.date) -> int | None:
    """The threshold a date `due` is within today (14, else 60), or None when neither."""
    days = (due - today).days
    if days < 0:
        return None
    return next((t for t in sorted(THRESHOLDS) if days <= t), None)


@dataclass(frozen=True)
class DueDate:
    which: str
    due: dt.date
    threshold: int

    @property
    def key_part(self) -> str:
        return f"{self.which}:{self.due.isoformat()}:{self.threshold}"


Renewing = dict[tuple[str, str | None], list[dict[str, str]]]


async def _sessions_renewing(which: str, quadrant: str | None, now: dt.datetime, config: Config,
                             found_before: Renewing | None = None) -> list[dict[str, str]]:
    """The next sessions that would renew a date, as an email lists them (none for Level 3: it is
    taken elsewhere and declared by the setting). `found_before` keeps them for one run of the
    reminders: a few queries per quadrant, never one per person."""
    if found_before is not None:
        if (which, quadrant) not in found_before:
            found_before[(which, quadrant)] = await _sessions_renewing(which, quadrant, now, config)
        return found_before[(which, quadrant)]
    if which == KNOWLEDGE:
        found = await next_forum(quadrant, now)
        return offer_links([found], config.base_url) if found else []
    if which == PREVENT:
        for kind in rules()[7].get("attended_kinds", []):
            found = await next_session(kind, quadrant, now)
            if found:
                return offer_links([found], config.base_url)
    return []


async def _leads_by_email(emails: list[str]) -> dict[str, dict[str, Any]]:
    """For each address, the name on record and the quadrant of a setting they lead."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(emails), CHUNK):
        for r in await SettingLead.select(SettingLead.email, SettingLead.name,
                                          SettingLead.setting.quadrant.as_alias("quadrant")).where(
                SettingLead.email.is_in(emails[start:start + CHUNK]) & SettingLead.until.is_null()).order_by(
                SettingLead.id):
            out.setdefault(r["email"], r)
    return out


async def send_reminders(*, now: dt.datetime, config: Config) -> int:
    """Queue the reminders due today for every lead now on record: one email per person naming each
    date within a threshold not yet reminded at it. Returns how many emails were queued."""
    today = local(now).date()
    soon = today + dt.timedelta(days=max(THRESHOLDS))
    within = " OR ".join(f"(c.{w}_due >= {{today}} AND c.{w}_due <= {{soon}})" for w in WHICH)
    sql, values = for_piccolo(
        "SELECT c.* FROM lead_clock c WHERE c.reminders_stopped_at IS NULL AND (" + within + ") AND EXISTS "
        "(SELECT 1 FROM setting_lead l WHERE l.email = c.email AND l.until IS NULL) ORDER BY c.email",
        today=today, soon=soon)
    rows = await LeadClock.raw(sql, *values)
    renewing: Renewing = {}
    queued = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        wanted: dict[str, list[DueDate]] = defaultdict(list)
        for r in chunk:
            clock = clock_from_row(r["email"], r, config)
            for d in clock.dates:
                threshold = threshold_for(d.due, today) if d.due else None
                if threshold is not None:
                    wanted[r["email"]].append(DueDate(d.which, d.due, threshold))  # type: ignore[arg-type]
        keys = {f"{_person_key(e)}:{d.key_part}" for e, dates in wanted.items() for d in dates}
        done = {r["key"] for r in await ClockReminder.select(ClockReminder.key).where(
            ClockReminder.key.is_in(sorted(keys)))} if keys else set()
        leads = await _leads_by_email(sorted(wanted))
        tokens = {r["email"]: r["reminders_token"] for r in chunk}
        for email, dates in wanted.items():
            dates = [d for d in dates if f"{_person_key(email)}:{d.key_part}" not in done]
            if not dates:
                continue
            lead = leads.get(email, {})
            async with write_transaction():
                await ClockReminder.insert(*[ClockReminder(key=f"{_person_key(email)}:{d.key_part}", email=email,
                                                           sent_at=now) for d in dates])
                await _queue_reminder(email, lead.get("name") or "", lead.get("quadrant"), dates, tokens[email],
                                      now=now, config=config, renewing=renewing)
            queued += 1
    return queued


async def _queue_reminder(email: str, name: str, quadrant: str | None, dates: list[DueDate], token: str, *,
                          now: dt.datetime, config: Config, renewing: Renewing) -> None:
    items = [{"label": LABELS[d.which], "due": day_month_year(d.due), "days": (d.due - local(now).date()).days,
              "level3": d.which == LEVEL3,
              "sessions": await _sessions_renewing(d.which, quadrant, now, config, renewing)}
             for d in sorted(dates, key=lambda d: (d.due, WHICH.index(d.which)))]
    stop_page = f"{config.base_url}/reminders/{token}"
    one_click = f"{config.base_url}/reminders/{token}/one-click"
    subject = ("Coming up: your safeguarding date" if len(items) == 1 else "Coming up: your safeguarding dates")
    message = compose_email("clock_reminder", recipient=email, config=config, subject=subject, name=name,
                            items=items, stop_page=stop_page, record_url=f"{config.base_url}/my-record",
                            headers=(("List-Unsubscribe", f"<{one_click}>"),
                                     ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")))
    await queue_email(message, kind="clock_reminder", config=config, now=now)


async def _clock_by_token(token: str) -> dict[str, Any]:
    row = await LeadClock.select(LeadClock.email, LeadClock.reminders_stopped_at).where(
        LeadClock.reminders_token == token).first()
    if row is None:
        raise RemindersLinkUnknown()
    return row


async def reminders_state(token: str) -> bool:
    """Whether the reminders of the person with this link still go (RemindersLinkUnknown if none)."""
    return (await _clock_by_token(token))["reminders_stopped_at"] is None


async def stop_reminders(token: str, *, now: dt.datetime, how: str) -> None:
    """Stop the reminders of the person with this link (once; again changes nothing)."""
    async with write_transaction():
        row = await _clock_by_token(token)
        if row["reminders_stopped_at"] is None:
            await LeadClock.update({LeadClock.reminders_stopped_at: now}).where(LeadClock.reminders_token == token)
            await record("clock.reminders_stopped", "attendee", how=how)


async def record_lead_and_welcome(setting_id: int, *, role: str, name: str, email: str, since: dt.date | None,
                                  actor: str, now: dt.datetime, config: Config) -> int:
    """An organiser records a setting's DSL (or a deputy). A DSL new to this setting is emailed a
    welcome, once per person per setting, with the next forum open to the setting and the training
    their clock says they need. Returns the lead's id."""
    async with write_transaction():
        lead_id = await record_lead(setting_id, role=role, name=name, email=email, since=since, actor=actor,
                                    now=now, source=LeadSource.organiser)
        if role == LeadRole.dsl.value:
            await _welcome(setting_id, name, email.lower(), now=now, config=config)
    return lead_id


async def _welcome(setting_id: int, name: str, email: str, *, now: dt.datetime, config: Config) -> None:
    setting = await Setting.select(Setting.name, Setting.quadrant).where(Setting.id == setting_id).first()
    if setting is None:
        return
    clock: Clock = (await clocks_for([email], config))[email]
    today = local(now).date()
    forum = await next_forum(setting["quadrant"], now)
    needs = [{"words": d.words(today), "level3": d.which == LEVEL3,
              "sessions": [] if d.which == KNOWLEDGE else await _sessions_renewing(d.which, setting["quadrant"], now,
                                                                                  config)}
             for d in clock.dates if d.state(today) != "current"]
    message = compose_email("lead_welcome", recipient=email, config=config,
                            subject=f"Welcome, safeguarding lead for {setting['name']}", name=name,
                            setting_name=setting["name"], forum=offer_links([forum], config.base_url)[0] if forum else None,
                            needs=needs, programme_url=f"{config.base_url}/", record_url=f"{config.base_url}/my-record")
    await queue_email(message, kind="lead_welcome", config=config, now=now,
                      dedupe_key=f"lead_welcome:{setting_id}:{_person_key(email)}")
