"""'Add to Google Calendar' and 'Add to Outlook.com' links for one event."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from app.calendar.ics import CalendarEvent


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def google_calendar_url(item: CalendarEvent) -> str:
    dates = f"{_utc(item.starts_at):%Y%m%dT%H%M%SZ}/{_utc(item.ends_at):%Y%m%dT%H%M%SZ}"
    return "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": item.summary, "dates": dates, "ctz": "Europe/London",
        "details": item.description, "location": item.location,
    })


def outlook_calendar_url(item: CalendarEvent) -> str:
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": item.summary,
        "startdt": _utc(item.starts_at).isoformat(), "enddt": _utc(item.ends_at).isoformat(),
        "body": item.description, "location": item.location,
    })
