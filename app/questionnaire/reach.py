"""Reaching every setting the questionnaire is for: the public start link (a setting finds
itself and its secret link goes to the address on the register, never anywhere else), sending in
bulk through the outbox, reminders before the deadline that stop once a setting has submitted,
and a copy of the answers and Action Plan to the setting when it submits."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from app.areas import local
from app.config import Config
from app.db import write_transaction
from app.formats import long_date
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.questionnaire.seeding import version_for
from app.questionnaire.services import (
    QUESTIONNAIRE_FOR,
    current_year,
    issue_link,
)
from app.tables.questionnaire import Response, ResponseStatus
from app.tables.register import Setting

#: Settings sent the questionnaire per transaction when sending in bulk.
BULK_CHUNK = 100


@dataclass(frozen=True)
class StartOutcome:
    setting_name: str
    #: "sent": the link went to the address on the register; "no_address": there is none.
    result: str
    masked_address: str = ""


def mask(address: str) -> str:
    """"o•••@littleacorns.example.org": enough to recognise, not enough to harvest."""
    local_part, _, domain = address.partition("@")
    return f"{local_part[:1]}•••@{domain}"


async def find_for_start(query: str, limit: int = 20) -> list[dict]:
    """Early-years settings on the register by name, URN or Ofsted number (never their address)."""
    query = " ".join(query.split())
    if len(query) < 3:
        return []
    found = Setting.select(Setting.id, Setting.name, Setting.urn, Setting.postcode).where(
        (Setting.on_register == True) & Setting.merged_into.is_null()  # noqa: E712
        & Setting.setting_type.is_in(list(QUESTIONNAIRE_FOR))
        & (Setting.name_key.like(f"%{query.casefold()}%") | (Setting.urn == query.upper())))
    return await found.order_by(Setting.name).limit(limit)


async def found_but_not_early_years(query: str) -> str | None:
    """The name of a setting on the register matching the search that the questionnaire is not
    for (a school): so the start page can say the questionnaire is for early-years settings."""
    query = " ".join(query.split())
    if len(query) < 3:
        return None
    row = await Setting.select(Setting.name).where(
        (Setting.on_register == True) & Setting.merged_into.is_null()  # noqa: E712
        & Setting.setting_type.not_in(list(QUESTIONNAIRE_FOR))
        & ((Setting.name_key.like(f"%{query.casefold()}%")) | (Setting.urn == query.upper()))).first()
    return row["name"] if row else None


async def request_link(setting_id: int, *, now: dt.datetime, config: Config) -> StartOutcome | None:
    """A setting asks for its link from the public start page: a new one goes to the address on
    the register, and only there. None if there is no such early-years setting."""
    async with write_transaction():
        setting = await Setting.select(Setting.name, Setting.contact_email).where(
            (Setting.id == setting_id) & (Setting.on_register == True)  # noqa: E712
            & Setting.setting_type.is_in(list(QUESTIONNAIRE_FOR)) & Setting.merged_into.is_null()).first()
        if setting is None:
            return None
        if not setting["contact_email"]:
            return StartOutcome(setting["name"], "no_address")
        await issue_link(setting_id, setting["name"], setting["contact_email"], actor="public start page", now=now,
                         config=config)
    return StartOutcome(setting["name"], "sent", mask(setting["contact_email"]))


@dataclass(frozen=True)
class BulkReport:
    sent: int
    without_address: int
    submitted_already: int


async def send_in_bulk(quadrant: str | None, *, actor: str, now: dt.datetime, config: Config) -> BulkReport:
    """Send the questionnaire to every early-years setting on the register (in one quadrant, or
    all) with an address, through the outbox, in transactions of a hundred; settings that have
    submitted this year are left alone. Each gets a new link (the last one sent works)."""
    where = ((Setting.on_register == True) & Setting.merged_into.is_null()  # noqa: E712
             & Setting.setting_type.is_in(list(QUESTIONNAIRE_FOR)))
    if quadrant:
        where &= Setting.quadrant == quadrant
    settings = await Setting.select(Setting.id, Setting.name, Setting.contact_email).where(where).order_by(Setting.id)
    submitted = {r["setting"] for r in await Response.select(Response.setting).where(
        (Response.academic_year == current_year(now)) & (Response.status == ResponseStatus.submitted.value))}
    to_send = [s for s in settings if s["contact_email"] and s["id"] not in submitted]
    for start in range(0, len(to_send), BULK_CHUNK):
        async with write_transaction():
            for s in to_send[start:start + BULK_CHUNK]:
                await issue_link(s["id"], s["name"], s["contact_email"], actor=actor, now=now, config=config)
        await asyncio.sleep(0)  # let other requests in between chunks
    return BulkReport(len(to_send), sum(not s["contact_email"] for s in settings),
                      sum(s["id"] in submitted for s in settings if s["contact_email"]))


async def queue_reminders(*, now: dt.datetime, config: Config) -> int:
    """Remind every setting sent the questionnaire and not yet submitted, once, in the
    `questionnaire_reminder_days` before the deadline. The reminder cannot carry the link (only
    its hash is kept), so it points to the email sent before and to the start page."""
    version = await version_for(current_year(now))
    deadline = version["deadline"] if version else None
    today = local(now).date()
    if deadline is None or not (deadline - dt.timedelta(days=config.questionnaire_reminder_days) <= today <= deadline):
        return 0
    due = await Response.select(Response.id, Response.respondent_email, Response.sent_at,
                                Response.setting.name.as_alias("setting_name")).where(
        (Response.academic_year == current_year(now)) & (Response.status != ResponseStatus.submitted.value))
    queued = 0
    for start in range(0, len(due), BULK_CHUNK):
        async with write_transaction():
            for r in due[start:start + BULK_CHUNK]:
                email = compose_email(
                    "questionnaire_reminder", recipient=r["respondent_email"], config=config,
                    subject=f"Reminder: the Early Years Safeguarding Questionnaire is due by {long_date(deadline)}",
                    setting_name=r["setting_name"], deadline=long_date(deadline), sent_on=long_date(r["sent_at"]),
                    start_url=f"{config.base_url}/questionnaire/start")
                queued += await queue_email(email, kind="questionnaire_reminder", config=config, now=now,
                                            dedupe_key=f"questionnaire-reminder:{r['id']}")
    return queued
