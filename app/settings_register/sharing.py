"""Inspectors' links to a setting's evidence (issue 25, point 5). The setting's registered contact
asks for a link emailed to that address (`copies.request_contact_link`, purpose "evidence"); with
it they make a link for an inspector that lasts the days they choose (at most 30), shows the
setting's evidence page and nothing else, and can be withdrawn. Every opening is counted and
audited. Only the links' hashes are kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from app.audit.services import record
from app.db import write_transaction
from app.errors import InvalidInput, NotFound
from app.settings_register.copies import ContactSettings, contact_settings
from app.tables.register import InspectorShare

MAX_DAYS = 30
PURPOSE = "evidence"


class ShareEnded(NotFound):
    code = "share_ended"
    heading = message = "This link has ended or is not a link the setting made"
    advice = ("Links to a setting's evidence last the days the setting chose and can be withdrawn. "
              "Ask the setting for a new one.",)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Share:
    id: int
    setting_id: int
    created_at: dt.datetime
    expires_at: dt.datetime
    withdrawn_at: dt.datetime | None
    opened: int
    last_opened_at: dt.datetime | None

    def active(self, now: dt.datetime) -> bool:
        return self.withdrawn_at is None and self.expires_at > now


async def evidence_contact(token: str, now: dt.datetime) -> ContactSettings:
    """The settings of the contact the evidence link was sent to (CopiesLinkEnded if it has lapsed)."""
    return await contact_settings(token, now, PURPOSE)


async def shares_of(contact: ContactSettings) -> list[Share]:
    ids = [setting_id for setting_id, _, _ in contact.settings]
    rows = await InspectorShare.select(
        InspectorShare.id, InspectorShare.setting, InspectorShare.created_at, InspectorShare.expires_at,
        InspectorShare.withdrawn_at, InspectorShare.opened, InspectorShare.last_opened_at).where(
        InspectorShare.setting.is_in(ids or [0])).order_by(InspectorShare.id, ascending=False).limit(200)
    return [Share(r["id"], r["setting"], r["created_at"], r["expires_at"], r["withdrawn_at"], r["opened"],
                  r["last_opened_at"]) for r in rows]


async def make_share(token: str, setting_id: int, days_text: str, *, now: dt.datetime) -> tuple[Share, str]:
    """A new inspector's link to one of the contact's settings. Returns it and its secret (shown
    to the contact once). InvalidInput for days not a whole number from 1 to 30."""
    contact = await evidence_contact(token, now)
    if setting_id not in {s for s, _, _ in contact.settings}:
        raise InvalidInput({"setting": "Choose one of your settings"})
    days_text = (days_text or "").strip()
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        raise InvalidInput({"days": f"Enter a number of days from 1 to {MAX_DAYS}"})
    secret = secrets.token_urlsafe(32)
    async with write_transaction():
        [row] = await InspectorShare.insert(InspectorShare(
            setting=setting_id, token_hash=_digest(secret), made_by=contact.email, created_at=now,
            expires_at=now + dt.timedelta(days=int(days_text)))).returning(InspectorShare.id)
        await record("evidence.share_made", "setting contact", setting_id=setting_id, share_id=row["id"],
                     days=int(days_text))
    share = next(s for s in await shares_of(contact) if s.id == row["id"])
    return share, secret


async def withdraw_share(token: str, share_id: int, *, now: dt.datetime) -> None:
    contact = await evidence_contact(token, now)
    ids = [s for s, _, _ in contact.settings]
    async with write_transaction():
        done = await InspectorShare.update({InspectorShare.withdrawn_at: now}).where(
            (InspectorShare.id == share_id) & InspectorShare.setting.is_in(ids or [0])
            & InspectorShare.withdrawn_at.is_null()).returning(InspectorShare.setting)
        if done:
            await record("evidence.share_withdrawn", "setting contact", setting_id=done[0]["setting"], share_id=share_id)


async def open_share(secret: str, *, now: dt.datetime) -> int:
    """The setting an inspector's link shows, counted and audited as opened; ShareEnded when the
    link is unknown, has ended or was withdrawn."""
    async with write_transaction():
        row = await InspectorShare.select(InspectorShare.id, InspectorShare.setting).where(
            (InspectorShare.token_hash == _digest(secret)) & InspectorShare.withdrawn_at.is_null()
            & (InspectorShare.expires_at > now)).first()
        if row is None:
            raise ShareEnded()
        await InspectorShare.update({InspectorShare.opened: InspectorShare.opened + 1,
                                     InspectorShare.last_opened_at: now}).where(InspectorShare.id == row["id"])
        await record("evidence.share_opened", "inspector", setting_id=row["setting"], share_id=row["id"])
    return row["setting"]
