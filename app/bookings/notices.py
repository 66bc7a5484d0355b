"""What the service tells a booker, and when: each notice is an email with a calendar invite,
queued in the outbox inside the transaction of the change that causes it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from app.bookings.records import BookingView, bookings_by_id
from app.calendar.ics import CalendarEvent, Invitee, invite
from app.config import Config
from app.areas import local
from app.formats import clock_time, long_date, qr_png, time_range
from app.mail.compose import Email, compose_email
from app.mail.outbox import Claimed, ToRender, queue_to_render
from app.mail.sender import Renderer, Skip, renderer_from
from app.programme.calendar import calendar_item
from app.programme.dated_notices import NoticeView, shown_notices
from app.programme.services import get_join_url
from app.tables.bookings import ROLE_LABELS, Booking, BookingStatus


async def booking_calendar_item(booking: BookingView, config: Config, *, cancelled: bool = False) -> CalendarEvent:
    join_url = "" if cancelled else await get_join_url(booking.event.id)
    return calendar_item(booking.event, uid=booking.calendar_uid, sequence=booking.calendar_sequence,
                         config=config, join_url=join_url, cancelled=cancelled, booked=True)


async def booking_invite(booking: BookingView, config: Config, now: dt.datetime) -> bytes:
    """The booker's invite as it stands: REQUEST while the booking is active, CANCEL after."""
    return _invite_for(booking, await booking_calendar_item(booking, config, cancelled=not booking.active),
                       config, now)


def _invite_for(booking: BookingView, item: CalendarEvent, config: Config, now: dt.datetime) -> bytes:
    """The iTIP invite of `item` addressed to the booker, from the team's mailbox, in the council's name."""
    return invite(item, Invitee(booking.email, booking.person_name), config.organiser_mailbox,
                  f"{config.mail_from_name}, {config.council_name}", now)


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
                             config=config, join_url=join_url, cancelled=cancelled, booked=True)
        ics = _invite_for(booking, item, config, now)
    return compose_email(template, recipient=booking.email, subject=subject, config=config, ics=ics,
                         ics_method="CANCEL" if cancelled else "REQUEST",
                         **_context(booking, config), join_url=join_url, **extra)


def _title_and_date(booking: BookingView) -> str:
    return f"{booking.event.title}, {long_date(booking.event.starts_at)}"


def checkin_qr_png(url: str, *, scale: int = 5, border: int = 2) -> bytes:
    """A QR code of the check-in link, for an organiser's phone to scan at the door."""
    return qr_png(url, scale=scale, border=border)


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


async def queue_notices(kind: str, bookings: list[tuple[int, int, str]], *, config: Config, now: dt.datetime,
                        dedupe: bool = False, **details: object) -> int:
    """Record `kind` emails for (booking id, event id, email) rows inside the change's
    transaction; the sender makes each from the booking as it is when its turn comes (see
    `booking_renderer`). `details` are what the booking will not hold then (what changed, why).
    With `dedupe`, a booking gets at most one message of this kind ever. Returns how many were
    queued."""
    queued = await queue_to_render([
        ToRender(kind=kind, booking_id=booking_id, event_id=event_id, recipient=email, details=dict(details),
                 dedupe_key=f"{kind}:{booking_id}" if dedupe else None)
        for booking_id, event_id, email in bookings], config=config, now=now)
    if kind in COPIED:
        await queue_copies(f"copy_{kind}", [booking_id for booking_id, _, _ in bookings], config=config, now=now,
                           details=dict(details))
    return queued


#: The booker's emails a setting's contact may get a copy of (certificates too: `app.certificates`).
COPIED = ("confirmation", "cancellation")
#: Bookings looked up at a time for their settings' copies (never an unbounded IN list).
_COPY_SLICE = 500


async def copies_for(booking_ids: list[int]) -> list[tuple[int, int, str]]:
    """(booking, event, contact address) for the bookings whose setting asked for copies."""
    found: list[tuple[int, int, str]] = []
    for start in range(0, len(booking_ids), _COPY_SLICE):
        rows = await Booking.select(Booking.id, Booking.event, Booking.setting.contact_email.as_alias("to")).where(
            Booking.id.is_in(booking_ids[start:start + _COPY_SLICE])
            & (Booking.setting.copies_to_contact == True) & (Booking.setting.contact_email != ""))  # noqa: E712
        found += [(r["id"], r["event"], r["to"]) for r in rows]
    return found


async def queue_copies(kind: str, booking_ids: list[int], *, config: Config, now: dt.datetime,
                       details: dict[str, Any] | None = None) -> int:
    """A copy (`kind`, "copy_…") of each booking's email to its setting's contact, where the setting
    asked for copies: each its own email, one recipient, made by the sender without any link."""
    return await queue_to_render([
        ToRender(kind=kind, booking_id=booking_id, event_id=event_id, recipient=to, details=dict(details or {}))
        for booking_id, event_id, to in await copies_for(booking_ids)], config=config, now=now)


async def queue_confirmation(booking_id: int, *, email: str, event_id: int, config: Config, now: dt.datetime) -> None:
    """The confirmation, recorded to be rendered by the sender (inside the booking's transaction)."""
    await queue_notices("confirmation", [(booking_id, event_id, email)], config=config, now=now)


def offer_expiry_text(expires: dt.datetime) -> str:
    return f"{long_date(expires)} at {clock_time(expires)}"


#: For each kind of booker's email: the booking statuses it still applies to when its turn comes.
#: A message for a booking in any other state is skipped, never sent: a confirmation for a booking
#: cancelled before it went, a reminder for a place given up, an offer already lapsed.
APPLIES_WHILE: dict[str, frozenset[BookingStatus]] = {
    "confirmation": frozenset({BookingStatus.confirmed}),
    "update": frozenset({BookingStatus.confirmed}),
    "reminder": frozenset({BookingStatus.confirmed}),
    "cancellation": frozenset({BookingStatus.cancelled}),
    "waitlisted": frozenset({BookingStatus.waitlisted}),
    "offer": frozenset({BookingStatus.offered}),
    "offer_expired": frozenset({BookingStatus.cancelled}),
    # The first person's CANCEL goes whatever becomes of the place in the colleague's hands.
    "passed_on": frozenset(BookingStatus),
    "copy_confirmation": frozenset({BookingStatus.confirmed}),
    "copy_cancellation": frozenset({BookingStatus.cancelled}),
}


def notice_email(kind: str, booking: BookingView, details: dict[str, Any], *, config: Config, now: dt.datetime,
                 join_url: str, checkin_token: str | None, dated_notices: list[NoticeView] = ()) -> Email:
    """A booker's email of `kind`, made from the booking as it is now (pure). A reminder carries
    the briefing's dated notices shown that day to the event's quadrant (`dated_notices`)."""
    if kind == "confirmation":
        return confirmation_email(booking, config=config, now=now, join_url=join_url, checkin_token=checkin_token)
    if kind == "update":
        return compose(booking, f"Change to your booking: {_title_and_date(booking)}", "changed", config=config,
                       now=now, join_url=join_url, changes=details.get("changes", []))
    if kind == "cancellation":
        event_cancelled = bool(details.get("event_cancelled"))
        apology = bool(details.get("apology"))
        moved_to = str(details.get("moved_to", ""))
        subject = (f"Cancelled: {_title_and_date(booking)}" if event_cancelled
                   else f"Your place has moved to the {moved_to}" if moved_to
                   else f"Your apologies: {_title_and_date(booking)}" if apology
                   else f"Booking cancelled: {_title_and_date(booking)}")
        # Apologies for a forum carry, once, what the chase after a no-show would offer (`offers`,
        # worked out when the apologies were sent).
        return compose(booking, subject, "cancelled", config=config, now=now, join_url="",
                       event_cancelled=event_cancelled, reason=details.get("reason", ""), apology=apology,
                       late=bool(details.get("late")), late_hours=details.get("late_hours", 0),
                       offers=list(details.get("offers", [])), forum=bool(details.get("forum")),
                       moved_to=details.get("moved_to", ""), move_back_url=details.get("move_back_url", ""))
    if kind == "passed_on":
        # To the person who passed the place on, about their own invite: their name, address and
        # calendar UID from the details, never the colleague's links.
        was = replace(booking, person_name=str(details["name"]), email=str(details["email"]),
                      calendar_uid=str(details["uid"]), calendar_sequence=int(details["sequence"]),
                      status=BookingStatus.cancelled, manage_token="")
        return compose(was, f"Your place has passed to {details['colleague']}: {_title_and_date(booking)}",
                       "passed_on", config=config, now=now, join_url="", colleague=details["colleague"])
    if kind == "reminder":
        return compose(booking, f"Reminder: {_title_and_date(booking)}", "reminder", config=config, now=now,
                       join_url=join_url, with_invite=False, dated_notices=list(dated_notices),
                       today=local(now).date())
    subjects = {"waitlisted": "You are on the waiting list", "offer": "A place is free for you: accept it",
                "offer_expired": "The place we held for you has been offered to someone else"}
    extra: dict[str, object] = {"position": details.get("position", 0),
                                "behind_others": bool(details.get("behind_others", False)),
                                "keeps_place": bool(details.get("keeps_place", False))}
    if booking.offer_expires_at is not None:
        extra["expires"] = offer_expiry_text(booking.offer_expires_at)
    # No invite on the waiting list: no place is confirmed yet.
    return compose_email(kind, recipient=booking.email, subject=subjects[kind], config=config,
                         **_context(booking, config), **extra)


def copy_email(of: str, booking: BookingView, *, recipient: str, config: Config) -> Email:
    """A setting contact's copy of a booker's confirmation or cancellation (pure): what was booked
    or given up, for whom; no manage, release or join link, no calendar invite."""
    what = {"confirmation": "booked", "cancellation": "cancelled"}[of]
    return compose_email("copy", recipient=recipient, config=config,
                         subject=f"Copy for {booking.setting_name}: {booking.person_name} {what} {_title_and_date(booking)}",
                         of=of, person=booking.person_name, role=ROLE_LABELS[booking.role],
                         setting=booking.setting_name, event=booking.event, when=long_date(booking.event.starts_at),
                         times=time_range(booking.event.starts_at, booking.event.ends_at))


def booking_renderer(config: Config) -> Renderer:
    """The sender's renderer for bookers' emails queued as (kind, booking, details): each is made
    from the booking as it is when its turn comes. One that no longer applies (`APPLIES_WHILE`)
    is skipped, and the Teams link goes only to a booking confirmed at that moment."""

    @dataclass
    class Batch:
        bookings: dict[int, tuple[BookingView, str]]
        join_urls: dict[int, str]
        quadrant_notices: dict[str, list[NoticeView]]

    async def prepare(booking_ids: list[int], now: dt.datetime) -> Batch:
        return Batch(await bookings_by_id(booking_ids, now), {}, {})

    async def make(message: Claimed, batch: Batch, now: dt.datetime) -> Email | Skip:
        if message.kind not in APPLIES_WHILE or message.booking_id not in batch.bookings:
            return Skip(f"nothing renders this {message.kind!r} message")
        booking, checkin_token = batch.bookings[message.booking_id]
        if booking.status not in APPLIES_WHILE[message.kind]:
            return Skip(f"the booking is {booking.status.value}")
        if message.kind == "reminder" and now >= booking.event.starts_at:
            return Skip("the event has started")
        if message.kind.startswith("copy_"):
            return copy_email(message.kind.removeprefix("copy_"), booking, recipient=message.recipient,
                              config=config)
        join_url = ""
        if booking.status is BookingStatus.confirmed and booking.event.online:
            event_id = booking.event.id
            if event_id not in batch.join_urls:  # once per event a batch
                batch.join_urls[event_id] = await get_join_url(event_id)
            join_url = batch.join_urls[event_id]
        shown: list[NoticeView] = []
        quadrant = booking.event.quadrant
        if message.kind == "reminder" and quadrant is not None and booking.event.kind_code == "forum":
            if quadrant not in batch.quadrant_notices:  # once per quadrant a batch
                batch.quadrant_notices[quadrant] = await shown_notices(now, quadrant)
            shown = batch.quadrant_notices[quadrant]
        return notice_email(message.kind, booking, message.facts, config=config, now=now, join_url=join_url,
                            checkin_token=checkin_token, dated_notices=shown)

    return renderer_from(prepare, make, config=config)


