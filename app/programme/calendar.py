"""An event as a calendar sees it: the same text for every attendee and every feed, no personal data."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.calendar.ics import CalendarEvent
from app.config import Config
from app.programme.services import EventView
from app.tables.programme import EventStatus


#: Outlook's and Google's "Decline" only answers the organiser's mailbox (the invite asks for no
#: reply, RSVP=FALSE); the place is cancelled from the confirmation email's link.
DECLINING = ("Declining this invitation does not cancel your place. "
             "To cancel, use the link in your confirmation email.")


def event_uid(event: EventView, config: Config) -> str:
    """An event's UID in the public feeds: one for ever, whatever changes."""
    host = urlsplit(config.base_url).hostname or "localhost"
    return f"event-{event.id}@{host}"


def calendar_item(event: EventView, *, uid: str, sequence: int, config: Config, join_url: str = "",
                  cancelled: bool = False, booked: bool = False) -> CalendarEvent:
    """The event as a calendar sees it. No personal data and no secret link (calendars are
    shared and delegated): the same text for every attendee. A booker's invite (`booked`) says
    that declining it keeps the place."""
    if event.online:
        location = "Microsoft Teams meeting"
        how = f"Join on Microsoft Teams: {join_url}" if join_url else \
            "The Microsoft Teams joining link will be sent before the session."
    else:
        assert event.venue is not None
        location = f"{event.venue.name}, {event.venue.address}, {event.venue.postcode}"
        how = f"Venue: {location}" + (f"\n{event.note}" if event.note else "")
    description = "\n\n".join([
        f"{event.kind_name}, run by the Education Safeguarding Team, {config.council_name}.",
        *([f"Covered: {event.agenda}"] if event.agenda else []),
        # The trainer's role only: a calendar object is shared and delegated, so it names nobody.
        *([f"Led by the {event.trainer_role}."] if event.trainer_role else []),
        how,
        f"Help with booking: {config.booking_support_email}",
    ] + ([DECLINING] if booked else []))
    return CalendarEvent(uid=uid, sequence=sequence, summary=event.title, starts_at=event.starts_at,
                         ends_at=event.ends_at, location=location, description=description,
                         cancelled=cancelled or event.status == EventStatus.cancelled.value,
                         url=f"{config.base_url}/events/{event.id}", teams_url=join_url)
