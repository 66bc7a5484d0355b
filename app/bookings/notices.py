"""What the service tells a booker, and when: each notice is an email with a calendar invite,
queued in the outbox inside the transaction of the change that causes it."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.calendar.ics import CalendarEvent, Invitee, invite
from app.config import Settings
from app.mail.compose import Email
from app.mail.outbox import queue_email
from app.programme.services import EventView, get_join_url
from app.web import TEMPLATES_DIR, long_date, time_range

if TYPE_CHECKING:
    from app.bookings.services import BookingView


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # HTML emails are escaped; plain-text ones must not be (no &amp; in a text email).
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)),
                       autoescape=select_autoescape(enabled_extensions=("html",), default=False),
                       trim_blocks=True, lstrip_blocks=False, keep_trailing_newline=True)


def calendar_item(event: EventView, *, uid: str, sequence: int, settings: Settings, join_url: str = "",
                  cancelled: bool = False) -> CalendarEvent:
    """The event as a calendar sees it. No personal data: the same text for every attendee."""
    if event.online:
        location = "Microsoft Teams meeting"
        how = f"Join on Microsoft Teams: {join_url}" if join_url else \
            "The Microsoft Teams joining link will be sent before the session."
    else:
        assert event.venue is not None
        location = f"{event.venue.name}, {event.venue.address}, {event.venue.postcode}"
        how = f"Venue: {location}"
    description = "\n\n".join([
        f"{event.kind_name}, run by the Education Safeguarding Team, {settings.council_name}.",
        how,
        f"Help with booking: {settings.booking_support_email}",
    ])
    return CalendarEvent(uid=uid, sequence=sequence, summary=event.title, starts_at=event.starts_at,
                         ends_at=event.ends_at, location=location, description=description,
                         cancelled=cancelled or event.status == "cancelled",
                         url=f"{settings.base_url}/events/{event.id}", teams_url=join_url)


async def booking_calendar_item(booking: BookingView, settings: Settings, *, cancelled: bool = False) -> CalendarEvent:
    join_url = "" if cancelled else await get_join_url(booking.event.id)
    return calendar_item(booking.event, uid=booking.calendar_uid, sequence=booking.calendar_sequence,
                         settings=settings, join_url=join_url, cancelled=cancelled)


async def booking_invite(booking: BookingView, settings: Settings, now: dt.datetime) -> bytes:
    """The booker's invite as it stands: REQUEST while the booking is active, CANCEL after."""
    return _invite_for(booking, await booking_calendar_item(booking, settings, cancelled=not booking.active),
                       settings, now)


def _invite_for(booking: BookingView, item: CalendarEvent, settings: Settings, now: dt.datetime) -> bytes:
    """The iTIP invite of `item` addressed to the booker, from the team's mailbox."""
    return invite(item, Invitee(booking.email, booking.person_name), settings.organiser_mailbox,
                  "Education Safeguarding Team", now)


def render_email(template: str, /, **context: object) -> tuple[str, str]:
    """(plain text, HTML) of templates/emails/<template>.txt and .html."""
    return _render(template, **context)


def _render(template: str, /, **context: object) -> tuple[str, str]:
    env = _environment()
    return (env.get_template(f"emails/{template}.txt").render(**context),
            env.get_template(f"emails/{template}.html").render(**context))


def _context(booking: BookingView, settings: Settings, subject: str, **extra: object) -> dict[str, object]:
    event = booking.event
    manage_url = f"{settings.base_url}/bookings/{booking.manage_token}"
    return {
        "subject": subject, "name": booking.person_name, "event": event, "reference": booking.reference,
        "when": f"{long_date(event.starts_at)}, {time_range(event.starts_at, event.ends_at)}",
        "manage_url": manage_url, "release_url": f"{manage_url}/cancel",
        "programme_url": f"{settings.base_url}/", "council_name": settings.council_name,
        "booking_support_email": settings.booking_support_email, **extra,
    }


def compose(booking: BookingView, subject: str, template: str, *, settings: Settings, now: dt.datetime,
            join_url: str, with_invite: bool = True, **extra: object) -> Email:
    """The email for a booker (pure: the join link is passed in)."""
    cancelled = booking.status.value == "cancelled"
    join_url = "" if cancelled else join_url
    text, html = _render(template, **_context(booking, settings, subject, join_url=join_url, **extra))
    ics = None
    if with_invite:
        item = calendar_item(booking.event, uid=booking.calendar_uid, sequence=booking.calendar_sequence,
                             settings=settings, join_url=join_url, cancelled=cancelled)
        ics = _invite_for(booking, item, settings, now)
    return Email(recipient=booking.email, subject=subject, text=text, html=html, ics=ics,
                 ics_method="CANCEL" if cancelled else "REQUEST")


async def _queue(booking: BookingView, kind: str, subject: str, template: str, *, settings: Settings,
                 now: dt.datetime, dedupe_key: str | None = None, with_invite: bool = True,
                 **extra: object) -> bool:
    join_url = await get_join_url(booking.event.id) if booking.active else ""
    email = compose(booking, subject, template, settings=settings, now=now, join_url=join_url,
                    with_invite=with_invite, **extra)
    return await queue_email(email, kind=kind, settings=settings, now=now, booking_id=booking.id,
                             event_id=booking.event.id, dedupe_key=dedupe_key)


def _title_and_date(booking: BookingView) -> str:
    return f"{booking.event.title}, {long_date(booking.event.starts_at)}"


def checkin_qr_png(url: str) -> bytes:
    """A QR code of the check-in link, for an organiser's phone to scan at the door."""
    import io

    import segno

    out = io.BytesIO()
    # A fixed mask: every mask gives a valid code, and evaluating all eight to pick the "best"
    # took 60% of the time (4.7 ms to 1.8 ms a booking, measured).
    segno.make(url, error="m", mask=2, micro=False, boost_error=False).save(out, kind="png", scale=5, border=2)
    return out.getvalue()


def confirmation_email(booking: BookingView, *, settings: Settings, now: dt.datetime, join_url: str,
                       checkin_token: str | None = None) -> Email:
    """The confirmation; for an in-person event it carries a QR code of the check-in link."""
    qr = None
    if checkin_token and not booking.event.online:
        qr = checkin_qr_png(f"{settings.base_url}/organisers/check-in/{checkin_token}")
    email = compose(booking, f"Booking confirmed: {_title_and_date(booking)}", "confirmation",
                    settings=settings, now=now, join_url=join_url, checkin_qr=qr is not None)
    if qr is None:
        return email
    from dataclasses import replace

    return replace(email, inline_png=qr, inline_image_cid="checkin-qr@safeguarding-bookings")


async def queue_change(booking: BookingView, changes: list[str], *, settings: Settings, now: dt.datetime) -> None:
    await _queue(booking, "update", f"Change to your booking: {_title_and_date(booking)}", "changed",
                 settings=settings, now=now, changes=changes)


async def queue_cancellation(booking: BookingView, *, settings: Settings, now: dt.datetime,
                             event_cancelled: bool = False, reason: str = "") -> None:
    subject = (f"Cancelled: {_title_and_date(booking)}" if event_cancelled
               else f"Booking cancelled: {_title_and_date(booking)}")
    await _queue(booking, "cancellation", subject, "cancelled", settings=settings, now=now,
                 event_cancelled=event_cancelled, reason=reason)


async def queue_reminder(booking: BookingView, *, settings: Settings, now: dt.datetime) -> bool:
    """Queue the reminder unless this booking has had one: True if queued now."""
    return await _queue(booking, "reminder", f"Reminder: {_title_and_date(booking)}", "reminder",
                        settings=settings, now=now, dedupe_key=f"reminder:{booking.id}", with_invite=False)
