"""Copies for a setting (issue 24, point 6): the setting's registered contact chooses, through a
link emailed to that address, whether it gets a copy of its staff's confirmations, cancellations
and certificates. The copies themselves are queued with the booker's emails
(`app.bookings.notices.queue_copies`, the booking's own statement, `app.certificates`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.errors import NotFound
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.tables.register import CopiesLink, Setting

#: How long a link to choose copies works.
LINK_DAYS = 7


class CopiesLinkEnded(NotFound):
    heading = message = "This link has expired or is not a link we sent"
    advice = ("Ask for a new one: we email it to your setting's contact address.",)


@dataclass(frozen=True)
class ContactSettings:
    email: str
    settings: list[tuple[int, str, bool]]  #: (id, name, gets copies)

    @property
    def copies(self) -> bool:
        return any(on for _, _, on in self.settings)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _of_contact(email: str):  # noqa: ANN202 (a Piccolo condition)
    return ((Setting.contact_email == email) & (Setting.on_register == True)  # noqa: E712
            & Setting.merged_into.is_null())


async def request_contact_link(email: str, *, purpose: str, config: Config, now: dt.datetime) -> None:
    """Email a link for `purpose` ("copies": choose copies; "evidence": make inspectors' links) to
    `email` if it is a setting's contact address on the register; nothing otherwise (the page
    answers the same either way)."""
    email = email.strip().lower()
    names = await Setting.select(Setting.name).where(_of_contact(email)).order_by(Setting.name).output(as_list=True)
    if not names:
        return
    token = secrets.token_urlsafe(32)
    subject, path = {"copies": ("Copies of your staff's bookings", "copies"),
                     "evidence": ("Your setting's safeguarding evidence for an inspector", "evidence")}[purpose]
    async with write_transaction():
        await CopiesLink.insert(CopiesLink(email=email, purpose=purpose, token_hash=_digest(token), created_at=now,
                                           expires_at=now + dt.timedelta(days=LINK_DAYS)))
        await queue_email(compose_email(
            f"{path}_link", recipient=email, config=config, subject=subject,
            settings=names, url=f"{config.base_url}/settings/{path}/{token}", days=LINK_DAYS),
            kind=f"{path}_link", config=config, now=now)


async def contact_settings(token: str, now: dt.datetime, purpose: str = "copies") -> ContactSettings:
    """The settings whose contact the link was sent to, with their choice. CopiesLinkEnded if the
    link is unknown, has lapsed, or is for something else."""
    link = await CopiesLink.select(CopiesLink.email).where(
        (CopiesLink.token_hash == _digest(token)) & (CopiesLink.expires_at > now)
        & (CopiesLink.purpose == purpose)).first()
    if link is None:
        raise CopiesLinkEnded()
    rows = await Setting.select(Setting.id, Setting.name, Setting.copies_to_contact).where(
        _of_contact(link["email"])).order_by(Setting.name)
    return ContactSettings(link["email"], [(r["id"], r["name"], bool(r["copies_to_contact"])) for r in rows])


async def choose_copies(token: str, copies: bool, *, now: dt.datetime) -> ContactSettings:
    """The contact's choice, for every setting it is the contact of (a POST: a mail scanner that
    follows the link chooses nothing). Audited."""
    contact = await contact_settings(token, now)
    async with write_transaction():
        await Setting.update({Setting.copies_to_contact: copies}).where(_of_contact(contact.email))
        for setting_id, _, _ in contact.settings:
            await record("setting.copies_chosen", "setting contact", copies=copies, setting_id=setting_id)
    return await contact_settings(token, now)
