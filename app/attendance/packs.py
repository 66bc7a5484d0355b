"""The pack after a forum (issue 25, point 4): organisers attach the forum's slides and notes (one
PDF, checked to be one, at most 10 MB, kept in the database with the event) and send it, once, to
those who attended, sent apologies or were absent. Each gets a link of their own, not an
attachment; the page it opens serves the file as a download and has an "I have read it" button (a
POST: a mail scanner following the link acknowledges nothing). The dated acknowledgement refreshes
the person's knowledge on their clock, like attending: never for Q13, never a certificate."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass

from app.audit.services import record
from app.clocks.dates import refresh_clocks
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError, InvalidInput, NotFound
from app.formats import file_size, long_date
from app.mail.compose import compose_email
from app.mail.outbox import queue_email
from app.organisers.services import OrganiserView
from app.programme.services import get_event
from app.tables.attendance import Attendance
from app.tables.bookings import Booking, BookingStatus
from app.tables.training import ForumPack, PackCopy

MAX_BYTES = 10 * 1024 * 1024
#: The upload route's body limit: the file and the form's few other fields.
UPLOAD_BODY_BYTES = MAX_BYTES + 64 * 1024


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PackNotFound(NotFound):
    code = "pack_not_found"
    message = "This link to a forum pack is not known. Check it is the whole link from the email."
    heading = "Link not known"


class PackNotSendable(DomainError):
    code = "pack_not_sendable"
    status = 409


def _is_pdf(content: bytes) -> bool:
    """Whether the bytes are a PDF a reader opens: its header, and pypdf reading its pages."""
    if not content.lstrip()[:5] == b"%PDF-":
        return False
    # A well-kept PDF reader (checking the header alone would let anything with one pass),
    # imported when first needed: it costs every process that loads the app a fifth of a second.
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(content))
        return len(reader.pages) > 0
    except Exception:  # noqa: BLE001 - any failure to read it is "not a PDF"
        return False


async def attach_pack(event_id: int, *, filename: str, content: bytes, organiser: OrganiserView,
                      now: dt.datetime) -> None:
    """Keep the forum's pack (replacing one not yet sent). Refused with a field message when it is
    not a PDF, is empty or is over 10 MB."""
    await get_event(event_id, now)  # a 404 for no such event
    if not content:
        raise InvalidInput({"pack": "Select the PDF of the forum's slides and notes"})
    if len(content) > MAX_BYTES:
        raise InvalidInput({"pack": "The file must be 10 MB or smaller"})
    if not await asyncio.to_thread(_is_pdf, content):
        raise InvalidInput({"pack": "The file must be a PDF"})
    name = "".join(c for c in filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] if c.isprintable())[:150] or "forum-pack.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    async with write_transaction():
        existing = await ForumPack.select(ForumPack.id, ForumPack.sent_at).where(ForumPack.event == event_id).first()
        if existing and existing["sent_at"] is not None:
            raise PackNotSendable("This pack has been sent: it cannot be replaced")
        if existing:
            await ForumPack.update({ForumPack.filename: name, ForumPack.content: content, ForumPack.size: len(content),
                                    ForumPack.uploaded_by: organiser.id, ForumPack.uploaded_at: now}).where(
                ForumPack.id == existing["id"])
        else:
            await ForumPack.insert(ForumPack(event=event_id, filename=name, content=content, size=len(content),
                                             uploaded_by=organiser.id, uploaded_at=now))
        await record("pack.attached", organiser.email, event_id=event_id, size=len(content))


@dataclass(frozen=True)
class PackState:
    filename: str
    size: int
    uploaded_at: dt.datetime
    sent_at: dt.datetime | None
    sent_to: int
    read: int

    @property
    def size_words(self) -> str:
        return file_size(self.size)


async def pack_state(event_id: int) -> PackState | None:
    row = await ForumPack.select(ForumPack.id, ForumPack.filename, ForumPack.size, ForumPack.uploaded_at,
                                 ForumPack.sent_at).where(ForumPack.event == event_id).first()
    if row is None:
        return None
    sent_to = await PackCopy.count().where(PackCopy.pack == row["id"])
    read = await PackCopy.count().where((PackCopy.pack == row["id"]) & PackCopy.read_at.is_not_null())
    return PackState(row["filename"], row["size"], row["uploaded_at"], row["sent_at"], sent_to, read)


async def _recipients(event_id: int) -> list[dict]:
    """Whoever attended, was absent, or sent apologies (a place given up before the event)."""
    marked = await Attendance.select(Attendance.booking, Attendance.outcome).where(
        Attendance.booking.event == event_id)
    outcomes = {m["booking"]: m["outcome"] for m in marked}
    rows = await Booking.select(Booking.id, Booking.status, Booking.apology_at, Booking.name_given,
                                Booking.person.name.as_alias("name"), Booking.person.email.as_alias("email")).where(
        (Booking.event == event_id) & ((Booking.status == BookingStatus.confirmed.value) | Booking.apology_at.is_not_null()))
    out = []
    for r in rows:
        if r["status"] == BookingStatus.confirmed.value and r["id"] in outcomes:
            out.append({**r, "why": outcomes[r["id"]]})
        elif r["status"] != BookingStatus.confirmed.value and r["apology_at"] is not None:
            out.append({**r, "why": "apologies"})
    return out


async def send_pack(event_id: int, *, organiser: OrganiserView, now: dt.datetime, config: Config) -> int:
    """Send the pack, once, each person a link of their own. Refused before the event has ended,
    while anyone confirmed is not marked (they would never get it), and a second time."""
    event = await get_event(event_id, now)
    if now < event.ends_at:
        raise PackNotSendable("The pack can be sent once the forum has ended")
    async with write_transaction():
        pack = await ForumPack.select(ForumPack.id, ForumPack.sent_at).where(ForumPack.event == event_id).first()
        if pack is None:
            raise PackNotSendable("Attach the pack first")
        if pack["sent_at"] is not None:
            raise PackNotSendable(f"This pack was sent on {long_date(pack['sent_at'])}: it is sent once")
        unmarked = await Booking.count().where(
            (Booking.event == event_id) & (Booking.status == BookingStatus.confirmed.value)
            & Booking.id.not_in(Attendance.select(Attendance.booking).where(Attendance.booking.event == event_id)))
        if unmarked:
            raise PackNotSendable(f"Record attendance for everyone first ({unmarked} not marked): the pack is sent "
                                  "once, to those who attended, sent apologies or were absent")
        recipients = await _recipients(event_id)
        for r in recipients:
            token = secrets.token_urlsafe(32)
            await PackCopy.insert(PackCopy(pack=pack["id"], booking=r["id"], token_hash=_hash(token), created_at=now))
            await queue_email(compose_email(
                "forum_pack", recipient=r["email"], config=config,
                subject=f"Slides and notes: {event.title}, {long_date(event.starts_at)}",
                name=r["name_given"] or r["name"], event=event, when=long_date(event.starts_at), why=r["why"],
                link=f"{config.base_url}/packs/{token}"), kind="forum_pack", config=config, now=now,
                booking_id=r["id"], event_id=event_id, dedupe_key=f"forum_pack:{r['id']}")
        await ForumPack.update({ForumPack.sent_at: now}).where(ForumPack.id == pack["id"])
        await record("pack.sent", organiser.email, event_id=event_id, count=len(recipients))
    return len(recipients)


@dataclass(frozen=True)
class PackCopyView:
    event_title: str
    starts_at: dt.datetime
    filename: str
    size: int
    read_at: dt.datetime | None

    @property
    def size_words(self) -> str:
        return file_size(self.size)


async def _copy(token: str) -> dict:
    row = await PackCopy.select(
        PackCopy.id, PackCopy.read_at, PackCopy.booking.person.email.as_alias("email"),
        PackCopy.booking.event.as_alias("event_id"), PackCopy.pack.event.title.as_alias("title"),
        PackCopy.pack.event.starts_at.as_alias("starts_at"), PackCopy.pack.filename.as_alias("filename"),
        PackCopy.pack.size.as_alias("size"), PackCopy.pack.as_alias("pack_id")).where(PackCopy.token_hash == _hash(token)).first()
    if row is None:
        raise PackNotFound()
    return row


async def pack_copy(token: str) -> PackCopyView:
    row = await _copy(token)
    return PackCopyView(row["title"], row["starts_at"], row["filename"], row["size"], row["read_at"])


async def pack_file(token: str) -> tuple[str, bytes]:
    row = await _copy(token)
    pack = await ForumPack.select(ForumPack.content).where(ForumPack.id == row["pack_id"]).first()
    if pack is None:
        raise PackNotFound()
    return row["filename"], bytes(pack["content"])


async def acknowledge_pack(token: str, *, now: dt.datetime, config: Config) -> PackCopyView:
    """"I have read it": dated once (again changes nothing), and their knowledge refreshed on it."""
    async with write_transaction():
        row = await _copy(token)
        if row["read_at"] is None:
            await PackCopy.update({PackCopy.read_at: now}).where(PackCopy.id == row["id"])
            await refresh_clocks([row["email"]], now=now, config=config)
            await record("pack.read", "attendee", event_id=row["event_id"])
    return await pack_copy(token)
