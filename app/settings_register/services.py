"""Finding or adding the settings and people that bookings are made for."""

from __future__ import annotations

import datetime as dt
import re

from app.settings_register.tables import Person, Setting


def name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


async def upsert_person(*, name: str, email: str, now: dt.datetime) -> int:
    """The person with this work email (case-insensitive), created or renamed as given."""
    rows = await Person.insert(
        Person(name=name, email=email.lower(), created_at=now, updated_at=now)
    ).on_conflict(
        target=Person.email, action="DO UPDATE", values=[Person.name, Person.updated_at]
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
    row = await Setting.select(Setting.id).where(Setting.name_key == name_key(name)).order_by(
        Setting.on_register, ascending=False
    ).order_by(Setting.id).first()
    if row:
        return await _follow_merges(row["id"])
    inserted = await Setting.insert(
        Setting(name=name, name_key=name_key(name), on_register=False)
    ).returning(Setting.id)
    return inserted[0]["id"]
