"""Web addresses for the questionnaire's guidance names and key documents.

The documents name their guidance ("EY Safer Recruitment", "Keeping Children Safe in Education
(DfE 2023)") but carry no web addresses, and none is invented: an organiser may give each name an
address, and the dated edition it is of; until then the name shows as plain text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.audit.services import record
from app.db import write_transaction
from app.errors import InvalidInput
from app.questionnaire.seeding import latest_version, list_questions
from app.tables.questionnaire import GuidanceLink, QuestionnaireVersion
from app.validation import has_unprintable


@dataclass(frozen=True)
class Address:
    url: str
    edition: str = ""


async def guidance_names() -> list[str]:
    """Every name the latest wording gives: its key documents, then each question's guidance, in
    order, each once."""
    latest = await latest_version()
    if latest is None:
        return []
    row = await QuestionnaireVersion.select(QuestionnaireVersion.key_documents).where(
        QuestionnaireVersion.id == latest["id"]).output(load_json=True).first()
    names = list(row["key_documents"] or [])
    for q in await list_questions(latest["id"]):
        names += q["guidance"] or []
    return list(dict.fromkeys(names))


async def addresses() -> dict[str, Address]:
    """Each name an organiser gave an address for (a handful of rows: read whole)."""
    return {r["name"]: Address(r["url"], r["edition"]) for r in await GuidanceLink.select(
        GuidanceLink.name, GuidanceLink.url, GuidanceLink.edition)}


def _checked(url: str, edition: str) -> tuple[str, str]:
    errors = {}
    parts = urlsplit(url)
    if len(url) > 500:
        errors["url"] = "The address must be 500 characters or fewer"
    elif parts.scheme not in ("https", "http") or not parts.hostname or "." not in parts.hostname \
            or has_unprintable(url) or " " in url:
        errors["url"] = "Enter the full web address, starting https://, like https://www.gov.uk/…"
    if len(edition) > 100:
        errors["edition"] = "The edition must be 100 characters or fewer"
    elif has_unprintable(edition):
        errors["edition"] = "Enter the edition without special characters"
    if errors:
        raise InvalidInput(errors)
    return url, edition


async def save_address(name: str, url: str, edition: str, *, actor: str, now: dt.datetime) -> None:
    """Give a guidance name its address (an empty address takes it away). Only the names the
    questionnaire gives can have one. Audited."""
    url, edition = url.strip(), edition.strip()
    if name not in await guidance_names():
        raise InvalidInput({"name": "Choose a guidance name the questionnaire gives"})
    async with write_transaction():
        if not url:
            await GuidanceLink.delete().where(GuidanceLink.name == name)
            await record("questionnaire.guidance_address_removed", actor, name=name)
            return
        url, edition = _checked(url, edition)
        updated = await GuidanceLink.update({GuidanceLink.url: url, GuidanceLink.edition: edition,
                                             GuidanceLink.updated_at: now}).where(
            GuidanceLink.name == name).returning(GuidanceLink.id)
        if not updated:
            await GuidanceLink.insert(GuidanceLink(name=name, url=url, edition=edition, updated_at=now))
        await record("questionnaire.guidance_address_set", actor, name=name, url=url, edition=edition)
