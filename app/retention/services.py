"""Removing personal data the service no longer needs (UK GDPR storage limitation).

- People whose most recent event ended more than `people_after` ago are anonymised: name and
  email replaced, so bookings, attendance and evidence counts survive without identifying anyone.
- Sent or failed emails older than `mail_after` lose their body (it holds names and links);
  the record that a message was sent remains.
- Expired organiser sessions and unused, expired invitations are deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.audit.services import record
from app.db import write_transaction
from app.tables.bookings import Booking
from app.tables.mail import OutboxMessage
from app.tables.organisers import Organiser, OrganiserSession
from app.tables.register import Person

#: Six years after their last event: the evidence window of two academic cycles of training and more.
PEOPLE_AFTER = dt.timedelta(days=6 * 365)
MAIL_AFTER = dt.timedelta(days=90)


@dataclass
class PurgeReport:
    people_anonymised: int = 0
    emails_emptied: int = 0
    sessions_deleted: int = 0
    invitations_withdrawn: int = 0

    def lines(self) -> list[str]:
        return [f"people anonymised: {self.people_anonymised}", f"email bodies removed: {self.emails_emptied}",
                f"expired sessions deleted: {self.sessions_deleted}",
                f"expired invitations withdrawn: {self.invitations_withdrawn}"]


async def purge(*, now: dt.datetime, people_after: dt.timedelta = PEOPLE_AFTER,
                mail_after: dt.timedelta = MAIL_AFTER, dry_run: bool = False) -> PurgeReport:
    report = PurgeReport()
    cutoff = now - people_after
    recent = Booking.select(Booking.person).where(Booking.event.ends_at > cutoff)
    stale = await Person.select(Person.id).where(Person.id.not_in(recent) & Person.email.not_like("removed-%@invalid"))
    report.people_anonymised = len(stale)
    old_mail = OutboxMessage.status.is_in(["sent", "failed"]) & (OutboxMessage.created_at < now - mail_after) & (
        OutboxMessage.raw != "")
    report.emails_emptied = await OutboxMessage.count().where(old_mail)
    report.sessions_deleted = await OrganiserSession.count().where(OrganiserSession.expires_at < now)
    expired_invites = Organiser.invite_expires_at.is_not_null() & (Organiser.invite_expires_at < now) & (
        Organiser.password_hash == "")
    report.invitations_withdrawn = await Organiser.count().where(expired_invites)
    if dry_run:
        return report
    async with write_transaction():
        for row in stale:
            await Person.update({Person.name: "Removed (retention)", Person.email: f"removed-{row['id']}@invalid",
                                 Person.updated_at: now}).where(Person.id == row["id"])
        await OutboxMessage.update({OutboxMessage.raw: "", OutboxMessage.recipient: "removed@invalid"}).where(old_mail)
        await OrganiserSession.delete().where(OrganiserSession.expires_at < now)
        await Organiser.update({Organiser.active: False, Organiser.invite_token_hash: None}).where(expired_invites)
        await record("retention.purged", "purge", **{k: v for k, v in vars(report).items()})
    return report
