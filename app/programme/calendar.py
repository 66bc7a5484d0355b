"""An event as a calendar sees it: the same text for every attendee and every feed, no personal data."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.calendar.ics import CalendarEvent
from app.config import Config
from app.programme.services import EventView
from app.tables.programme import EventStatus


def event_uid(event: EventView, config: Config) -> str:
    """An event's UID in the public feeds: one for ever, whatever changes."""
    host = urlsplit(config.base_url).hostname or "localhost"
    return f"event-{event.id}@{host}"


def calendar_item(event: EventView, *, uid: str, sequence: int, config: Config, join_url: str = "",
                  cancelled: bool = False) -> CalendarEvent:
    """The event as a calendar sees it. No personal data: the same text for every attendee."""
    if event.online:
        location = "Microsoft Teams meeting"
        how = f"Join on Microsoft Teams: {join_url}" if join_url else \
            "The Microsoft Teams joining link will be sent before the session."
    else:
        assert event.venue is not None
        location = f"{event.venue.name}, {event.venue.address}, {event.venue.postcode}"
        how = f"Venue: {location}" + (f"\n{event.venue.note}" if event.venue.note else "")
    description = "\n\n".join([
        f"{event.kind_name}, run by the Education Safeguarding Team, {config.council_name}.",
        how,
        f"Help with booking: {config.booking_support_email}",
    ])
    return CalendarEvent(uid=uid, sequence=sequence, summary=event.title, starts_at=event.starts_at,
                         ends_at=event.ends_at, location=location, description=description,
                         cancelled=cancelled or event.status == EventStatus.cancelled.value,
                         url=f"{config.base_url}/events/{event.id}", teams_url=join_url)
