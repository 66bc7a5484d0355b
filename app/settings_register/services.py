"""Finding or adding the settings and people that bookings are made for."""

from __future__ import annotations

import datetime as dt
import re

from app.areas import local
from app.audit.services import record
from app.db import serialise_on, write_transaction
from app.errors import DomainError, NotFound
from app.tables.bookings import Booking
from app.tables.questionnaire import Response, TrainingDeclaration
from app.tables.register import LeadRole, LeadSource, Person, Setting, SettingLead, SettingType


def name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


async def upsert_person(*, name: str, email: str, now: dt.datetime) -> int:
    """The person with this work email, added with the name given if new. An existing person is
    not renamed: anyone can type anyone's work email into a booking form (the booking keeps the
    name given, in `Booking.name_given`)."""
    rows = await Person.insert(
        Person(name=name, email=email.lower(), created_at=now, updated_at=now)
    ).on_conflict(
        target=Person.email, action="DO UPDATE", values=[Person.email]  # unchanged: returns the id
    ).returning(Person.id)
    return rows[0]["id"]


async def _follow_merges(setting_id: int) -> int:
    for _ in range(10):  # merges are short chains; the bound guards against a cycle
        row = await Setting.select(Setting.merged_into).where(Setting.id == setting_id).first()
        if not row or row["merged_into"] is None:
            return setting_id
        setting_id = row["merged_into"]
    return setting_id


async def find_or_add_setting(*, name: str, urn: str | None) -> int:
    """A setting by URN, else by name; otherwise a new, unregistered entry that organisers can
    later merge into the register."""
    if urn:
        await Setting.insert(
            Setting(name=name, name_key=name_key(name), urn=urn, on_register=False)
        ).on_conflict(target=Setting.urn, action="DO NOTHING")
        row = await Setting.select(Setting.id).where(Setting.urn == urn).first()
        assert row is not None
        return await _follow_merges(row["id"])
    # Two first bookings for the same new name at once would each add it (nothing unique to
    # conflict on): the second waits for the first, then finds what it added.
    await serialise_on(f"setting:{name_key(name)}")
    row = await Setting.select(Setting.id).where(Setting.name_key == name_key(name)).order_by(
        Setting.on_register, ascending=False
    ).order_by(Setting.id).first()
    if row:
        return await _follow_merges(row["id"])
    inserted = await Setting.insert(
        Setting(name=name, name_key=name_key(name), on_register=False)
    ).returning(Setting.id)
    return inserted[0]["id"]


class MergeRefused(DomainError):
    code = "merge_refused"
    heading = "These settings cannot be merged"
    advice = ()


async def merge_setting(source_id: int, target_id: int, *, actor: str) -> int:
    """Move everything recorded for a setting typed in by bookers onto the register entry it
    really is, and leave a pointer so later bookings with the old name land there too.
    Returns how many bookings moved."""
    if source_id == target_id:
        raise MergeRefused("A setting cannot be merged into itself")
    async with write_transaction():
        target = await Setting.select(Setting.merged_into).where(Setting.id == target_id).first()
        source = await Setting.select(Setting.merged_into).where(Setting.id == source_id).first()
        if target is None or source is None:
            raise MergeRefused("No such setting")
        if target["merged_into"] is not None or source["merged_into"] is not None:
            raise MergeRefused("That setting has already been merged")
        moved = await Booking.update({Booking.setting: target_id}).where(Booking.setting == source_id).returning(Booking.id)
        await TrainingDeclaration.update({TrainingDeclaration.setting: target_id}).where(TrainingDeclaration.setting == source_id)
        await Response.update({Response.setting: target_id}).where(Response.setting == source_id)
        await Setting.update({Setting.merged_into: target_id}).where(Setting.id == source_id)
        # Settings merged into the source before now point at the target: chains stay one hop long.
        await Setting.update({Setting.merged_into: target_id}).where(Setting.merged_into == source_id)
        await record("setting.merged", actor, source=source_id, target=target_id, bookings=len(moved))
    return len(moved)


async def search_settings(term: str, limit: int = 50) -> list[dict]:
    """Settings by URN or part of the name (register entries first)."""
    query = Setting.select(Setting.id, Setting.name, Setting.urn, Setting.setting_type, Setting.quadrant,
                           Setting.on_register, Setting.postcode).where(Setting.merged_into.is_null())
    term = term.strip()
    if term:
        like = f"%{name_key(term).replace('%', '').replace('_', '')}%"
        query = query.where(Setting.name_key.like(like) | (Setting.urn == term.upper()))
    return await query.order_by(Setting.on_register, ascending=False).order_by(Setting.name).limit(limit)


async def find_public_settings(term: str, limit: int = 10) -> list[dict]:
    """Settings on the register anyone may look up (the booking form's suggestions, "Which
    quadrant am I in?"): schools, colleges and nurseries by URN or part of the name. Childminders
    never: their setting's name is often their own and their postcode a home's."""
    term = term.strip()[:100]
    if len(term) < 2:
        return []
    like = f"%{name_key(term).replace('%', '').replace('_', '')}%"
    return await Setting.select(Setting.id, Setting.name, Setting.urn, Setting.quadrant).where(
        Setting.merged_into.is_null() & (Setting.on_register == True)  # noqa: E712 (Piccolo expression)
        & (Setting.setting_type != SettingType.childminder.value)
        & (Setting.name_key.like(like) | (Setting.urn == term.upper()))
    ).order_by(Setting.name).limit(limit)


def postcode_key(postcode: str) -> str:
    """A postcode as compared: capitals, no spaces ("cm1 1aa" and "CM11AA" are one)."""
    return re.sub(r"\s+", "", postcode).upper()


async def quadrants_at_postcode(postcode: str) -> set[str]:
    """The quadrants of the settings on the register at a postcode, childminders left out (a
    childminder's postcode is a home's: it must never be answered)."""
    key = postcode_key(postcode)
    if not re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}", key):
        return set()
    rows = await Setting.raw(
        "SELECT DISTINCT quadrant FROM setting WHERE merged_into IS NULL AND on_register "
        "AND setting_type <> {} AND quadrant IS NOT NULL AND REPLACE(UPPER(postcode), ' ', '') = {}",
        SettingType.childminder.value, key)
    return {r["quadrant"] for r in rows}


async def record_lead(setting_id: int, *, role: str, name: str, email: str, since: dt.date | None, actor: str,
                      now: dt.datetime, source: LeadSource = LeadSource.organiser) -> int:
    """Record who a setting's DSL (or a deputy) is, as an organiser set it or as the setting's
    questionnaire said (`source`: an organiser's entry wins for Q13, and the setting's word never
    ends it). A new DSL ends the current one's time in the role, of the same source, the day
    before (or today, when no start date is given); the same person again is updated, not added
    twice. Returns the row's id."""
    email = email.lower()
    today = local(now).date()
    async with write_transaction():
        if not await Setting.exists().where(Setting.id == setting_id):
            raise NotFound("No such setting")
        current = await SettingLead.select(SettingLead.id, SettingLead.email).where(
            (SettingLead.setting == setting_id) & (SettingLead.role == role) & SettingLead.until.is_null())
        same = next((r for r in current if r["email"] == email), None)
        if same is not None:
            await SettingLead.update({SettingLead.name: name, SettingLead.since: since, SettingLead.updated_at: now}).where(
                SettingLead.id == same["id"])
            lead_id = same["id"]
        else:
            if role == LeadRole.dsl.value:  # one DSL at a time (of each source); deputies can be several
                ended = (since - dt.timedelta(days=1)) if since else today
                await SettingLead.update({SettingLead.until: ended, SettingLead.updated_at: now}).where(
                    (SettingLead.setting == setting_id) & (SettingLead.role == role) & SettingLead.until.is_null()
                    & (SettingLead.source == source.value))
            lead_id = (await SettingLead.insert(SettingLead(
                setting=setting_id, role=role, name=name, email=email, since=since, until=None, source=source.value,
                created_at=now, updated_at=now)).returning(SettingLead.id))[0]["id"]
        await record("setting.lead_recorded", actor, setting_id=setting_id, role=role, lead_id=lead_id,
                     source=source.value)
    return lead_id


async def end_lead(setting_id: int, lead_id: int, *, actor: str, now: dt.datetime) -> None:
    """The person is no longer in the role (from today)."""
    async with write_transaction():
        changed = await SettingLead.update({SettingLead.until: local(now).date(), SettingLead.updated_at: now}).where(
            (SettingLead.id == lead_id) & (SettingLead.setting == setting_id) & SettingLead.until.is_null()
        ).returning(SettingLead.id)
        if changed:
            await record("setting.lead_ended", actor, setting_id=setting_id, lead_id=lead_id)


async def leads_for(setting_id: int) -> list[dict]:
    return await SettingLead.select().where(SettingLead.setting == setting_id).order_by(
        SettingLead.until, ascending=False).order_by(SettingLead.id)


async def set_contact_email(setting_id: int, email: str, *, actor: str) -> None:
    async with write_transaction():
        await Setting.update({Setting.contact_email: email.lower()}).where(Setting.id == setting_id)
        await record("setting.contact_email_set", actor, setting_id=setting_id)
