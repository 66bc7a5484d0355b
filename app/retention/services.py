"""Removing personal data the service no longer needs (UK GDPR storage limitation).

`purge` runs every day inside the service (`app.jobs`, once across all processes) and by hand
(`python -m app purge`). In one transaction, what is past its time:

- people whose most recent event ended more than `people_after` ago are anonymised (name and
  email replaced), so bookings, attendance and the evidence counts survive without naming anyone;
- bookings of events that ended that long ago lose the name given and any cancellation reason;
- questionnaire responses last changed that long ago lose the respondent's email address;
  training declarations made that long ago lose the name of who took the training;
- audit records that old lose their details (and an organiser's address as the actor);
- settings typed in by bookers (not on the register: a childminder often types their own name)
  and unused for that long are renamed;
- sent or failed emails older than `mail_after` lose their body, recipient and delivery errors;
  `.eml` files written instead of sending are deleted after the same time;
- certificates of events that ended that long ago lose the name and setting they stated (the
  public check then says only that the code was withdrawn); links to a training record are deleted
  once past their week;
- expired organiser sessions and unused, expired invitations are ended.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, fields
from pathlib import Path

from app.audit.services import record
from app.db import write_transaction
from app.sql import for_piccolo
from app.tables.attendance import TeamsImportPreview
from app.tables.mail import DeliveryAttempt, OutboxMessage
from app.tables.organisers import Organiser, OrganiserSession
from app.tables.register import Person

#: Six years after their last event: the evidence window of two academic cycles of training and more.
PEOPLE_AFTER = dt.timedelta(days=6 * 365)
MAIL_AFTER = dt.timedelta(days=90)
REMOVED = "Removed (retention)"


@dataclass
class PurgeReport:
    people_anonymised: int = 0
    bookings_cleared: int = 0
    respondents_removed: int = 0
    declarations_removed: int = 0
    audit_details_removed: int = 0
    settings_renamed: int = 0
    certificates_cleared: int = 0
    record_links_deleted: int = 0
    copies_links_deleted: int = 0
    clocks_deleted: int = 0
    pack_copies_deleted: int = 0
    forum_packs_deleted: int = 0
    inspector_links_deleted: int = 0
    clock_reminders_deleted: int = 0
    webhook_payloads_emptied: int = 0
    emails_emptied: int = 0
    eml_files_deleted: int = 0
    sessions_deleted: int = 0
    teams_previews_deleted: int = 0  # Teams imports previewed and past their hour (names from a report)
    invitations_withdrawn: int = 0

    def lines(self) -> list[str]:
        return [f"{f.name.replace('_', ' ')}: {getattr(self, f.name)}" for f in fields(self)]


#: Each rule: what it changes (" FROM … WHERE …", counted first) and the change made to those rows
#: (" WHERE id IN (SELECT id …)" is added). The conditions leave out what is already done, so a
#: second purge changes nothing.
_STALE_PEOPLE = (
    " FROM person WHERE email NOT LIKE 'removed-%@invalid'"
    " AND id NOT IN (SELECT b.person FROM booking b JOIN event e ON e.id = b.event WHERE e.ends_at > {cutoff})")
_OLD_BOOKINGS = (
    " FROM booking WHERE (name_given <> '' OR cancel_reason <> '')"
    " AND event IN (SELECT id FROM event WHERE ends_at <= {cutoff})")
_OLD_RESPONSES = " FROM questionnaire_response WHERE updated_at < {cutoff} AND respondent_email <> 'removed@invalid'"
_OLD_DECLARATIONS = " FROM training_declaration WHERE created_at < {cutoff} AND person_name <> {removed}"
_OLD_AUDIT = " FROM audit_record WHERE created_at < {cutoff} AND (CAST(detail AS TEXT) <> {no_detail} OR actor LIKE '%@%')"
_TYPED_SETTINGS = (
    " FROM setting WHERE on_register = false AND created_at < {cutoff} AND name <> {removed}"
    " AND id NOT IN (SELECT b.setting FROM booking b JOIN event e ON e.id = b.event WHERE e.ends_at > {cutoff})")
_OLD_CERTIFICATES = " FROM certificate WHERE ends_at <= {cutoff} AND withdrawn_reason <> 'erased'"
_LAPSED_RECORD_LINKS = " FROM record_link WHERE expires_at <= {now}"
_OLD_MAIL = (
    " FROM outbox_message WHERE status IN ('sent', 'failed') AND created_at < {mail_cutoff}"
    " AND (raw <> '' OR recipient <> 'removed@invalid' OR last_error <> '')")

_CHANGES = [
    ("people_anonymised", _STALE_PEOPLE,
     "UPDATE person SET name = {removed}, email = 'removed-' || id || '@invalid', updated_at = {now}"),
    ("bookings_cleared", _OLD_BOOKINGS,
     "UPDATE booking SET name_given = '', cancel_reason = ''"),
    ("respondents_removed", _OLD_RESPONSES,
     "UPDATE questionnaire_response SET respondent_email = 'removed@invalid'"),
    ("declarations_removed", _OLD_DECLARATIONS,
     "UPDATE training_declaration SET person_name = {removed}, email = ''"),
    ("audit_details_removed", _OLD_AUDIT,
     "UPDATE audit_record SET detail = {no_detail}, actor = CASE WHEN actor LIKE '%@%' THEN 'removed' ELSE actor END"),
    ("settings_renamed", _TYPED_SETTINGS,
     "UPDATE setting SET name = {removed}, name_key = 'removed-' || id"),
    ("certificates_cleared", _OLD_CERTIFICATES,
     "UPDATE certificate SET person_name = '', setting_name = '', withdrawn_reason = 'erased',"
     " withdrawn_at = {now}"),
    ("record_links_deleted", _LAPSED_RECORD_LINKS, "DELETE FROM record_link"),
    ("copies_links_deleted", " FROM copies_link WHERE expires_at <= {now}", "DELETE FROM copies_link"),
    # A clock whose address the service no longer holds anywhere (its person anonymised, no lead
    # or declaration naming it), and reminders sent longer ago than people are kept.
    ("clocks_deleted", " FROM lead_clock WHERE email NOT IN (SELECT email FROM person)"
     " AND email NOT IN (SELECT email FROM setting_lead) AND email NOT IN (SELECT email FROM training_declaration)",
     "DELETE FROM lead_clock"),
    # A forum's pack goes with its event's records: people's links first, then the file.
    ("pack_copies_deleted", " FROM pack_copy WHERE pack IN (SELECT p.id FROM forum_pack p JOIN event e ON e.id = p.event"
     " WHERE e.ends_at <= {cutoff})", "DELETE FROM pack_copy"),
    ("forum_packs_deleted", " FROM forum_pack WHERE event IN (SELECT id FROM event WHERE ends_at <= {cutoff})",
     "DELETE FROM forum_pack"),
    ("inspector_links_deleted", " FROM inspector_share WHERE expires_at <= {share_cutoff}", "DELETE FROM inspector_share"),
    ("clock_reminders_deleted", " FROM clock_reminder WHERE sent_at < {cutoff}", "DELETE FROM clock_reminder"),
    # A webhook message delivered as long ago as an email is kept: its body goes (it may carry a
    # name and address), the row stays so that the booking's later messages are numbered on.
    ("webhook_payloads_emptied", " FROM webhook_message WHERE status = 'delivered' AND delivered_at < {mail_cutoff}"
     " AND payload <> ''", "UPDATE webhook_message SET payload = ''"),
]


async def _count_and_change(count_from: str, change: str, *, dry_run: bool, **values: object) -> int:
    sql, args = for_piccolo("SELECT count(*) AS n" + count_from, **values)
    [row] = await Person.raw(sql, *args)
    if row["n"] and not dry_run:
        sql, args = for_piccolo(change + " WHERE id IN (SELECT id" + count_from + ")", **values)
        await Person.raw(sql, *args)
    return row["n"]


async def purge(*, now: dt.datetime, people_after: dt.timedelta = PEOPLE_AFTER,
                mail_after: dt.timedelta = MAIL_AFTER, mail_dir: Path | None = None,
                dry_run: bool = False) -> PurgeReport:
    """Remove what is past its time (see the module), reading and writing in one transaction; a
    dry run counts only. Recorded in the audit trail with its counts."""
    report = PurgeReport()
    # (An empty JSON object is bound, not written in the SQL: Piccolo reads braces as placeholders.)
    values = {"cutoff": now - people_after, "mail_cutoff": now - mail_after, "now": now, "removed": REMOVED,
              "share_cutoff": now - dt.timedelta(days=30),
              "no_detail": "{}"}
    async with write_transaction():
        for name, count_from, change in _CHANGES:
            setattr(report, name, await _count_and_change(count_from, change, dry_run=dry_run, **values))
        old_mail = await _ids(_OLD_MAIL, **values)
        report.emails_emptied = len(old_mail)
        expired_invites = Organiser.invite_expires_at.is_not_null() & (Organiser.invite_expires_at < now) & (
            Organiser.password_hash == "")
        report.sessions_deleted = await OrganiserSession.count().where(OrganiserSession.expires_at < now)
        report.teams_previews_deleted = await TeamsImportPreview.count().where(TeamsImportPreview.expires_at < now)
        report.invitations_withdrawn = await Organiser.count().where(expired_invites & (Organiser.active == True))  # noqa: E712
        if not dry_run:
            for chunk in _chunks(old_mail):
                await OutboxMessage.update({OutboxMessage.raw: "", OutboxMessage.recipient: "removed@invalid",
                                            OutboxMessage.last_error: ""}).where(OutboxMessage.id.is_in(chunk))
                await DeliveryAttempt.update({DeliveryAttempt.error: ""}).where(DeliveryAttempt.message.is_in(chunk))
            await OrganiserSession.delete().where(OrganiserSession.expires_at < now)
            await TeamsImportPreview.delete().where(TeamsImportPreview.expires_at < now)
            await Organiser.update({Organiser.active: False, Organiser.invite_token_hash: None}).where(expired_invites)
    if mail_dir is not None:
        report.eml_files_deleted = _delete_old_files(mail_dir, older_than=mail_after, dry_run=dry_run)
    if not dry_run:
        await record("retention.purged", "purge", **{k: v for k, v in vars(report).items()})
    return report


async def _ids(count_from: str, **values: object) -> list[int]:
    sql, args = for_piccolo("SELECT id" + count_from, **values)
    return [row["id"] for row in await Person.raw(sql, *args)]


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """Bounded IN lists (a few hundred ids a statement)."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _delete_old_files(mail_dir: Path, *, older_than: dt.timedelta, dry_run: bool) -> int:
    if not mail_dir.is_dir():
        return 0
    limit = time.time() - older_than.total_seconds()
    old = [path for path in mail_dir.glob("*.eml") if path.stat().st_mtime < limit]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return len(old)

