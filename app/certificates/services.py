"""Certificates of attendance: issued once when someone's attendance is recorded (on the register,
by QR at the door, from the Teams report, as a walk-in), emailed as a PDF by the sender and
downloadable from the manage page. Each has a verification code, and a QR code of its own check,
that anyone can check on a public page or as JSON: what it says (initials, session, date, time
attended, issue) and whether it still stands (current, re-issued, withdrawn). A correction that removes the attendance withdraws it, and
so does erasing the person; organisers can re-issue one after a correction."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError, NotFound
from app.formats import long_date, qr_png
from app.mail.compose import Email, compose_email
from app.bookings.notices import copies_for
from app.mail.outbox import Claimed, ToRender, queue_to_render
from app.mail.sender import Renderer, Skip, renderer_from
from app.pdf import identity, pdf_apart
from app.tables.attendance import Attendance, Outcome
from app.tables.bookings import Booking, BookingStatus
from app.tables.training import Certificate

#: Crockford's base32: no I, L, O or U, so a code read out over the phone cannot be misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 symbols of 5 bits: 80 bits
KIND = "certificate"
#: A copy of the certificate email to the setting's contact (with the PDF, without the booker's links).
COPY_KIND = "copy_certificate"


class NotCertifiable(DomainError):
    code = "not_attended"
    status = 409
    message = "Only a booking marked as attended has a certificate"


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(symbols[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normal_code(text: str) -> str | None:
    """A code as typed or read out ("k7qf m2xd-9p4r wt3h", O for 0, I or L for 1) in its written
    form, or None if it cannot be one."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(str.maketrans("OIL", "011"))
    if len(cleaned) != CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return "-".join(cleaned[i:i + 4] for i in range(0, CODE_LENGTH, 4))


@dataclass(frozen=True)
class CertificateView:
    id: int
    booking_id: int
    code: str
    person_name: str
    setting_name: str
    event_title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    online: bool
    minutes: int | None
    issue: int
    issued_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str
    feedback_token: str
    kind_name: str = ""
    #: The event's own text, as it stands: what it covered, who led it.
    agenda: str = ""
    trainer: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "CertificateView":
        """From a row of `_COLUMNS` (the certificate, its event's kind, agenda and trainer)."""
        return cls(id=row["id"], booking_id=row["booking"], code=row["code"], person_name=row["person_name"],
                   setting_name=row["setting_name"], event_title=row["event_title"], starts_at=row["starts_at"],
                   ends_at=row["ends_at"], online=bool(row["online"]), minutes=row["minutes"], issue=row["issue"],
                   issued_at=row["issued_at"], withdrawn_at=row["withdrawn_at"],
                   withdrawn_reason=row["withdrawn_reason"], feedback_token=row["feedback_token"],
                   kind_name=row.get("kind_name") or "", agenda=row.get("agenda") or "",
                   trainer=", ".join(p for p in (row.get("trainer_name"), row.get("trainer_role")) if p))

    @property
    def kind_if_not_in_title(self) -> str:
        """The kind of session ("Prevent awareness"), when the title does not already say it."""
        return "" if not self.kind_name or self.kind_name.casefold() in self.event_title.casefold() else self.kind_name

    @property
    def valid(self) -> bool:
        return self.withdrawn_at is None

    @property
    def initials(self) -> str:
        return " ".join(f"{part[0].upper()}." for part in self.person_name.replace("-", " ").split() if part[0].isalpha())

    @property
    def attended(self) -> str:
        """Time attended: minutes from the Teams report online; the session's times in person."""
        if self.minutes is not None:
            return f"{duration(self.minutes)} (from the Microsoft Teams attendance report)"
        return f"{duration(int((self.ends_at - self.starts_at).total_seconds() // 60))} (the session's length)"


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = ([f"{hours} hour" + ("" if hours == 1 else "s")] if hours else []) + (
        [f"{rest} minute" + ("" if rest == 1 else "s")] if rest or not hours else [])
    return " ".join(parts)


#: A certificate's row and the kind of its event ("Safeguarding Forum", "Prevent awareness").
_COLUMNS = (Certificate.all_columns(), Certificate.booking.event.kind.name.as_alias("kind_name"),
            Certificate.booking.event.agenda.as_alias("agenda"),
            Certificate.booking.event.trainer_name.as_alias("trainer_name"),
            Certificate.booking.event.trainer_role.as_alias("trainer_role"))


def _view(row: dict[str, Any]) -> CertificateView:
    return CertificateView.from_row(row)


async def _snapshot(booking_id: int) -> dict[str, Any] | None:
    """What a certificate states, read from the booking as it is now."""
    row = await Booking.select(
        Booking.id, Booking.status, Booking.name_given, Booking.event, Booking.person.name.as_alias("person_name"),
        Booking.person.email.as_alias("email"), Booking.setting.name.as_alias("setting_name"),
        Booking.event.title.as_alias("title"), Booking.event.starts_at.as_alias("starts_at"),
        Booking.event.ends_at.as_alias("ends_at"), Booking.event.online.as_alias("online")).where(
        Booking.id == booking_id).first()
    if row is None:
        return None
    mark = await Attendance.select(Attendance.outcome, Attendance.minutes_present).where(
        Attendance.booking == booking_id).first()
    row["outcome"] = mark["outcome"] if mark else None
    row["minutes"] = min(mark["minutes_present"], _length(row)) if mark and mark["minutes_present"] is not None \
        and row["online"] else None
    return row


def _length(row: dict[str, Any]) -> int:
    return int((row["ends_at"] - row["starts_at"]).total_seconds() // 60)


def _stated(row: dict[str, Any]) -> dict[Any, Any]:
    return {Certificate.person_name: (row["name_given"] or row["person_name"])[:200],
            Certificate.setting_name: (row["setting_name"] or "")[:300], Certificate.event_title: row["title"][:200],
            Certificate.starts_at: row["starts_at"], Certificate.ends_at: row["ends_at"],
            Certificate.online: bool(row["online"]), Certificate.minutes: row["minutes"]}


async def _queue(booking_id: int, event_id: int, email: str, issue: int, *, config: Config, now: dt.datetime) -> None:
    """The certificate's email, and a copy to the setting's contact where it asked for copies."""
    await queue_to_render([ToRender(kind=KIND, booking_id=booking_id, event_id=event_id, recipient=email,
                                    dedupe_key=f"{KIND}:{booking_id}:{issue}")] + [
        ToRender(kind=COPY_KIND, booking_id=booking_id, event_id=event_id, recipient=to,
                 dedupe_key=f"{COPY_KIND}:{booking_id}:{issue}") for _, _, to in await copies_for([booking_id])],
        config=config, now=now)


async def apply_attended(booking_id: int, *, actor: str, now: dt.datetime, config: Config) -> bool:
    """Inside the caller's transaction, once the booking is marked attended: its certificate is
    issued (once: marking attended again changes nothing) and queued to be emailed. A certificate
    withdrawn by an earlier correction comes back as a new issue. Returns whether one was issued."""
    row = await _snapshot(booking_id)
    if row is None or row["outcome"] != Outcome.attended.value or row["status"] != BookingStatus.confirmed.value:
        return False
    existing = await Certificate.select(Certificate.id, Certificate.issue, Certificate.withdrawn_at).where(
        Certificate.booking == booking_id).first()
    if existing and existing["withdrawn_at"] is None:
        return False
    if existing:
        await _new_issue(existing, row, action="certificate.issued", actor=actor, now=now, config=config)
        return True
    stated = {column._meta.name: value for column, value in _stated(row).items()}
    await Certificate.insert(Certificate(booking=booking_id, code=new_code(), issue=1, issued_at=now,
                                         feedback_token=secrets.token_urlsafe(32), **stated))
    await _queue(booking_id, row["event"], row["email"], 1, config=config, now=now)
    await record("certificate.issued", actor, event_id=row["event"], booking_id=booking_id, issue=1)
    return True


async def _new_issue(existing: dict[str, Any], row: dict[str, Any], *, action: str, actor: str, now: dt.datetime,
                     config: Config) -> None:
    """The certificate states the booking as it is now, as its next issue (same code), valid again,
    and is emailed again."""
    issue = existing["issue"] + 1
    await Certificate.update({**_stated(row), Certificate.issue: issue, Certificate.issued_at: now,
                              Certificate.withdrawn_at: None, Certificate.withdrawn_reason: ""}).where(
        Certificate.id == existing["id"])
    await _queue(row["id"], row["event"], row["email"], issue, config=config, now=now)
    await record(action, actor, event_id=row["event"], booking_id=row["id"], issue=issue)


async def apply_not_attended(booking_id: int, *, actor: str, now: dt.datetime, reason: str) -> bool:
    """Inside the caller's transaction: the booking's certificate, if any, is withdrawn."""
    withdrawn = await Certificate.update({Certificate.withdrawn_at: now, Certificate.withdrawn_reason: reason}).where(
        (Certificate.booking == booking_id) & Certificate.withdrawn_at.is_null()).returning(Certificate.id)
    if withdrawn:
        await record("certificate.withdrawn", actor, booking_id=booking_id, reason=reason)
    return bool(withdrawn)


async def withdraw_for_people(person_ids: list[int], *, actor: str, now: dt.datetime) -> int:
    """Inside the erasure's transaction: every certificate of these people is withdrawn and what
    it stated about them cleared (the public page then says only that it was withdrawn)."""
    if not person_ids:
        return 0
    withdrawn = 0
    for start in range(0, len(person_ids), 500):
        bookings = [r["id"] for r in await Booking.select(Booking.id).where(
            Booking.person.is_in(person_ids[start:start + 500]))]
        for first in range(0, len(bookings), 500):
            rows = await Certificate.update({
                Certificate.withdrawn_at: now, Certificate.withdrawn_reason: "erased", Certificate.person_name: "",
                Certificate.setting_name: ""}).where(
                Certificate.booking.is_in(bookings[first:first + 500]) & (Certificate.withdrawn_reason != "erased")
            ).returning(Certificate.id)
            withdrawn += len(rows)
    if withdrawn:
        await record("certificate.withdrawn", actor, reason="erased", count=withdrawn)
    return withdrawn


async def reissue(booking_id: int, *, actor: str, now: dt.datetime, config: Config) -> CertificateView:
    """After a correction (a name, the minutes): the certificate states the booking as it is now,
    as a new issue with the same code, and is emailed again."""
    async with write_transaction():
        row = await _snapshot(booking_id)
        if row is None:
            raise NotFound("No such booking")
        if row["outcome"] != Outcome.attended.value or row["status"] != BookingStatus.confirmed.value:
            raise NotCertifiable()
        existing = await Certificate.select(Certificate.id, Certificate.issue).where(
            Certificate.booking == booking_id).first()
        if existing is None:
            await apply_attended(booking_id, actor=actor, now=now, config=config)
        else:
            await _new_issue(existing, row, action="certificate.reissued", actor=actor, now=now, config=config)
    found = await certificate_for_booking(booking_id)
    assert found is not None
    return found


async def certificate_for_booking(booking_id: int) -> CertificateView | None:
    row = await Certificate.select(*_COLUMNS).where(Certificate.booking == booking_id).first()
    return _view(row) if row else None


async def certificate_by_code(code: str) -> CertificateView | None:
    written = normal_code(code)
    if written is None:
        return None
    row = await Certificate.select(*_COLUMNS).where(Certificate.code == written).first()
    return _view(row) if row else None


async def certificates_for_event(event_id: int) -> list[CertificateView]:
    rows = await Certificate.select(*_COLUMNS).where(Certificate.booking.event == event_id).order_by(Certificate.person_name)
    return [_view(r) for r in rows]


async def certificates_for_setting(setting_id: int, *, limit: int = 500) -> list[CertificateView]:
    """The certificates standing for a setting's staff, latest session first (at most `limit`)."""
    rows = await Certificate.select(*_COLUMNS).where(
        (Certificate.booking.setting == setting_id) & Certificate.withdrawn_at.is_null()).order_by(
        Certificate.starts_at, ascending=False).limit(limit)
    return [_view(r) for r in rows]


async def certificates_for_bookings(booking_ids: list[int]) -> dict[int, CertificateView]:
    out: dict[int, CertificateView] = {}
    for start in range(0, len(booking_ids), 500):
        for row in await Certificate.select(*_COLUMNS).where(Certificate.booking.is_in(booking_ids[start:start + 500])):
            out[row["booking"]] = _view(row)
    return out


def verify_url(config: Config) -> str:
    return f"{config.base_url}/certificates/verify"


def check_url(certificate: CertificateView, config: Config) -> str:
    """The certificate's own check, which its QR code holds: its code and the issue printed."""
    return f"{verify_url(config)}?code={certificate.code}&issue={certificate.issue}"


_WITHDRAWN = {"attendance corrected to absent": "withdrawn after a correction: the attendance it stated was "
                                                "corrected to absent",
              "erased": "withdrawn: the person's details were erased at their request"}


@dataclass(frozen=True)
class CertificateCheck:
    """What a certificate's check tells anyone holding it: what it says (initials, session, date,
    time attended, issue) and whether it still stands, with the issue they hold compared."""

    certificate: CertificateView
    held_issue: int | None

    @property
    def status(self) -> str:
        """"current", "reissued" (the issue held is not the latest) or "withdrawn"."""
        if not self.certificate.valid:
            return "withdrawn"
        if self.held_issue is not None and self.held_issue != self.certificate.issue:
            return "reissued"
        return "current"

    @property
    def status_words(self) -> str:
        c = self.certificate
        if self.status == "withdrawn":
            when = long_date(c.withdrawn_at) if c.withdrawn_at else ""
            return (f"This certificate was {_WITHDRAWN.get(c.withdrawn_reason, 'withdrawn')}"
                    f"{f' on {when}' if when else ''}. It no longer stands.")
        if self.status == "reissued":
            return (f"The copy you hold says issue {self.held_issue}. The certificate was re-issued on "
                    f"{long_date(c.issued_at)} as issue {c.issue} after a correction: what is shown here stands, "
                    "and the copy you hold does not.")
        if c.issue > 1:
            return (f"This certificate stands. It is issue {c.issue}, re-issued on {long_date(c.issued_at)} after a "
                    "correction: an earlier issue no longer stands.")
        return f"This certificate stands. It is issue 1, issued on {long_date(c.issued_at)}."

    def as_json(self) -> dict[str, Any]:
        c = self.certificate
        withdrawn = not c.valid
        return {"code": c.code, "status": self.status, "status_words": self.status_words,
                "issue": c.issue, "issued_at": c.issued_at.isoformat(), "held_issue": self.held_issue,
                "initials": "" if withdrawn else c.initials, "event": c.event_title, "kind": c.kind_name,
                "starts_at": c.starts_at.isoformat(), "ends_at": c.ends_at.isoformat(), "online": c.online,
                "time_attended": "" if withdrawn else c.attended,
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None}


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    message = "No certificate has this code: check it and try again"


async def check_certificate(code: str, held_issue: int | None = None) -> CertificateCheck | None:
    """The check of the certificate with this code (as typed or read out), or None."""
    found = await certificate_by_code(code)
    return CertificateCheck(found, held_issue) if found else None


def _pdf_context(certificate: CertificateView, config: Config) -> dict[str, Any]:
    check = check_url(certificate, config)
    return {"c": certificate, "attended": certificate.attended, "verify_url": verify_url(config), "check_url": check,
            "check_qr": base64.b64encode(qr_png(check, scale=4, border=2)).decode("ascii"),
            **identity(config),
            "signatory_name": config.certificate_signatory_name,
            "signatory_role": config.certificate_signatory_role}


async def certificate_pdf_apart(certificate: CertificateView, config: Config) -> bytes:
    return await pdf_apart("certificate.html", **_pdf_context(certificate, config))


def certificate_renderer(config: Config, *, copy: bool = False) -> Renderer:
    """The sender's renderer for certificate emails: each is made when its turn comes from the
    certificate as it stands (a withdrawn one is skipped), with the PDF attached (made in a
    worker thread) and the feedback link. With `copy`, the setting contact's copy: the same PDF,
    to the message's recipient, without the booker's links."""

    async def prepare(booking_ids: list[int], now: dt.datetime) -> tuple[dict[int, CertificateView], dict[int, tuple[str, str]]]:
        certificates = await certificates_for_bookings(booking_ids)
        emails = {r["id"]: (r["email"], r["manage_token"]) for r in await Booking.select(
            Booking.id, Booking.person.email.as_alias("email"), Booking.manage_token).where(
            Booking.id.is_in(booking_ids or [0]))}
        return certificates, emails

    async def make(message: Claimed, batch: tuple[dict[int, CertificateView], dict[int, tuple[str, str]]],
                   now: dt.datetime) -> Email | Skip:
        certificates, emails = batch
        certificate = certificates.get(message.booking_id or 0)
        if certificate is None or not certificate.valid:
            return Skip("the certificate was withdrawn")
        recipient, manage_token = emails[certificate.booking_id]
        pdf = await certificate_pdf_apart(certificate, config)
        if copy:
            return compose_email(
                "certificate_copy", recipient=message.recipient, config=config,
                subject=f"Copy for {certificate.setting_name}: {certificate.person_name}'s certificate, "
                        f"{certificate.event_title}, {long_date(certificate.starts_at)}",
                attachment=(f"certificate-{certificate.code}.pdf", "application/pdf", pdf), c=certificate,
                verify_url=verify_url(config), when=long_date(certificate.starts_at))
        return compose_email(
            "certificate", recipient=recipient, config=config,
            subject=f"Your certificate of attendance: {certificate.event_title}, {long_date(certificate.starts_at)}",
            attachment=(f"certificate-{certificate.code}.pdf", "application/pdf", pdf), c=certificate,
            feedback_url=f"{config.base_url}/feedback/{certificate.feedback_token}",
            manage_url=f"{config.base_url}/bookings/{manage_token}", verify_url=verify_url(config),
            record_url=f"{config.base_url}/my-record", name=certificate.person_name,
            when=long_date(certificate.starts_at))

    return renderer_from(prepare, make, config=config)
