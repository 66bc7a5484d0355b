"""What the service tells a booker, and when: each notice is an email with a calendar invite,
queued in the outbox inside the transaction of the change that causes it."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from dataclasses import replace

import segno

from app.bookings.records import BookingView, bookings_by_id, get_booking_by_id
from app.calendar.ics import CalendarEvent, Invitee, invite
from app.config import Config
from app.formats import clock_time, long_date, time_range
from app.mail.compose import Email, compose_email
from app.mail.outbox import (
    Claimed,
    prepare,
    queue_email,
    queue_to_render,
    skip,
    store_rendered,
)
from app.mail.sender import Renderer
from app.programme.calendar import calendar_item
from app.programme.services import get_join_url
from app.tables.bookings import BookingStatus


async def booking_calendar_item(booking: BookingView, config: Config, *, cancelled: bool = False) -> CalendarEvent:
    join_url = "" if cancelled else await get_join_url(booking.event.id)
    return calendar_item(booking.event, uid=booking.calendar_uid, sequence=booking.calendar_sequence,
                         config=config, join_url=join_url, cancelled=cancelled)


async def booking_invite(booking: BookingView, config: Config, now: dt.datetime) -> bytes:
    """The booker's invite as it stands: REQUEST while the booking is active, CANCEL after."""
    return _invite_for(booking, await booking_calendar_item(booking, config, cancelled=not booking.active),
                       config, now)


def _invite_for(booking: BookingView, item: CalendarEvent, config: Config, now: dt.datetime) -> bytes:
    """The iTIP invite of `item` addressed to the booker, from the team's mailbox."""
    return invite(item, Invitee(booking.email, booking.person_name), config.organiser_mailbox,
                  "Education Safeguarding Team", now)


def _context(booking: BookingView, config: Config) -> dict[str, object]:
    event = booking.event
    manage_url = f"{config.base_url}/bookings/{booking.manage_token}"
    return {
        "name": booking.person_name, "event": event, "reference": booking.reference,
        "when": f"{long_date(event.starts_at)}, {time_range(event.starts_at, event.ends_at)}",
        "manage_url": manage_url, "release_url": f"{manage_url}/cancel", "accept_url": f"{manage_url}/accept",
        "programme_url": f"{config.base_url}/",
    }


def compose(booking: BookingView, subject: str, template: str, *, config: Config, now: dt.datetime,
            join_url: str, with_invite: bool = True, **extra: object) -> Email:
    """The email for a booker (pure: the join link is passed in)."""
    cancelled = booking.status is BookingStatus.cancelled
    join_url = "" if cancelled else join_url
    ics = None
    if with_invite:
        item = calendar_item(booking.event, uid=booking.calendar_uid, sequence=booking.calendar_sequence,
                             config=config, join_url=join_url, cancelled=cancelled)
        ics = _invite_for(booking, item, config, now)
    return compose_email(template, recipient=booking.email, subject=subject, config=config, ics=ics,
                         ics_method="CANCEL" if cancelled else "REQUEST",
                         **_context(booking, config), join_url=join_url, **extra)


async def _queue(booking: BookingView, kind: str, subject: str, template: str, *, config: Config,
                 now: dt.datetime, dedupe_key: str | None = None, with_invite: bool = True,
                 **extra: object) -> bool:
    join_url = await get_join_url(booking.event.id) if booking.active else ""
    email = compose(booking, subject, template, config=config, now=now, join_url=join_url,
                    with_invite=with_invite, **extra)
    return await queue_email(email, kind=kind, config=config, now=now, booking_id=booking.id,
                             event_id=booking.event.id, dedupe_key=dedupe_key)


def _title_and_date(booking: BookingView) -> str:
    return f"{booking.event.title}, {long_date(booking.event.starts_at)}"


def checkin_qr_png(url: str, *, scale: int = 5, border: int = 2) -> bytes:
    """A QR code of the check-in link, for an organiser's phone to scan at the door: a 1-bit
    greyscale PNG, black modules on white with a quiet zone of `border` modules."""
    # segno makes the symbol; the PNG is written here, a row at a time, because segno's writer
    # took 2.4 ms of a confirmation's 4 ms (pixel by pixel in Python); this takes ~0.1 ms. A
    # fixed mask: every mask gives a valid code, and evaluating all eight cost 60% of encoding.
    matrix = segno.make(url, error="m", mask=2, micro=False, boost_error=False).matrix
    modules = len(matrix) + 2 * border
    width = modules * scale
    padding = -width % 8
    light = "1" * modules
    rows = []
    for row in [light] * border + ["1" * border + "".join("0" if dark else "1" for dark in line) + "1" * border
                                   for line in matrix] + [light] * border:
        bits = "".join(bit * scale for bit in row) + "1" * padding
        rows.append((b"\x00" + int(bits, 2).to_bytes((width + padding) // 8, "big")) * scale)
    return _png(width, width, zlib.compress(b"".join(rows)))


def _png(width: int, height: int, image_data: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", image_data) + chunk(b"IEND", b"")


def confirmation_email(booking: BookingView, *, config: Config, now: dt.datetime, join_url: str,
                       checkin_token: str | None = None) -> Email:
    """The confirmation; for an in-person event it carries a QR code of the check-in link."""
    qr = None
    if checkin_token and not booking.event.online:
        qr = checkin_qr_png(f"{config.base_url}/organisers/check-in/{checkin_token}")
    email = compose(booking, f"Booking confirmed: {_title_and_date(booking)}", "confirmation",
                    config=config, now=now, join_url=join_url, checkin_qr=qr is not None)
    if qr is None:
        return email
    return replace(email, inline_png=qr, inline_image_cid="checkin-qr@safeguarding-bookings")


async def queue_change(booking: BookingView, changes: list[str], *, config: Config, now: dt.datetime) -> None:
    await _queue(booking, "update", f"Change to your booking: {_title_and_date(booking)}", "changed",
                 config=config, now=now, changes=changes)


async def queue_cancellation(booking: BookingView, *, config: Config, now: dt.datetime,
                             event_cancelled: bool = False, reason: str = "") -> None:
    subject = (f"Cancelled: {_title_and_date(booking)}" if event_cancelled
               else f"Booking cancelled: {_title_and_date(booking)}")
    await _queue(booking, "cancellation", subject, "cancelled", config=config, now=now,
                 event_cancelled=event_cancelled, reason=reason)


async def queue_reminder(booking: BookingView, *, config: Config, now: dt.datetime) -> bool:
    """Queue the reminder unless this booking has had one: True if queued now."""
    return await _queue(booking, "reminder", f"Reminder: {_title_and_date(booking)}", "reminder",
                        config=config, now=now, dedupe_key=f"reminder:{booking.id}", with_invite=False)


async def queue_waiting_list_notice(booking_id: int, template: str, subject: str, *, config: Config,
                                    now: dt.datetime, **extra: object) -> None:
    """A waiting-list email (on the list, an offer, an offer lapsed): no invite, since no place is
    confirmed yet."""
    booking = await get_booking_by_id(booking_id, now)
    email = compose_email(template, recipient=booking.email, subject=subject, config=config,
                          **_context(booking, config), **extra)
    await queue_email(email, kind=template, config=config, now=now, booking_id=booking.id,
                      event_id=booking.event.id)


def offer_expiry_text(expires: dt.datetime) -> str:
    return f"{long_date(expires)} at {clock_time(expires)}"


def confirmation_renderer(config: Config) -> Renderer:
    """The sender's renderer for confirmations queued as (kind, booking): each is made from the
    booking as it is when its turn comes. A booking no longer confirmed gets none (skipped), and
    the Teams link goes only to a booking confirmed at that moment. The bytes are kept before
    they are sent, so a retry sends the same message with the same Message-ID."""

    async def render_due(claimed: list[Claimed], sender: str, now: dt.datetime) -> list[Claimed]:
        wanted = [m.booking_id for m in claimed if m.to_render and m.booking_id is not None]
        bookings = await bookings_by_id(wanted, now)
        join_urls: dict[int, str] = {}
        ready: list[Claimed] = []
        for message in claimed:
            if not message.to_render:
                ready.append(message)
                continue
            if message.kind != "confirmation" or message.booking_id not in bookings:
                await skip(message.id, sender=sender, reason=f"nothing renders this {message.kind!r} message")
                continue
            booking, checkin_token = bookings[message.booking_id]
            if booking.status is not BookingStatus.confirmed:
                await skip(message.id, sender=sender, reason=f"the booking is {booking.status.value}")
                continue
            event_id = booking.event.id
            if event_id not in join_urls:
                join_urls[event_id] = await get_join_url(event_id)
            email = confirmation_email(booking, config=config, now=now, join_url=join_urls[event_id],
                                       checkin_token=checkin_token)
            rendered = prepare(email, config=config, now=now, message_id=message.message_id)
            await store_rendered(message.id, recipient=email.recipient, subject=email.subject, raw=rendered.raw)
            ready.append(replace(message, raw=rendered.raw, recipient=email.recipient))
        return ready

    return render_due


async def queue_confirmation(booking_id: int, *, email: str, event_id: int, config: Config, now: dt.datetime) -> None:
    """The confirmation, recorded to be rendered by the sender (inside the booking's transaction)."""
    await queue_to_render(kind="confirmation", recipient=email, booking_id=booking_id, event_id=event_id,
                          config=config, now=now)
