"""Reading the organiser's event form: GOV.UK date inputs, times like 9:30 or 18.00, capacity.
Each problem is reported against the field it belongs to, in GOV.UK error message style."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.areas import LONDON, Quadrant
from app.planning.manage import EventDetails

WHERE_CHOICES = [q.value for q in Quadrant] + ["online"]


class EventFormErrors(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _date(form: dict[str, str], prefix: str, label: str, errors: dict[str, str], required: bool) -> dt.date | None:
    parts = [form.get(f"{prefix}-{p}", "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        if required:
            errors[f"{prefix}-day"] = f"Enter the {label}"
        return None
    try:
        day, month, year = (int(p) for p in parts)
        if year < 2000:
            raise ValueError
        return dt.date(year, month, day)
    except ValueError:
        errors[f"{prefix}-day"] = f"The {label} must be a real date, like 13 3 2027"
        return None


def _time(value: str, field: str, label: str, errors: dict[str, str]) -> dt.time | None:
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*(am|pm)?\s*", value.lower())
    if not match:
        errors[field] = f"Enter the {label} like 9:30 or 18:00"
        return None
    hour, minute, suffix = int(match[1]), int(match[2]), match[3]
    if suffix == "pm" and hour < 12:
        hour += 12
    if suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        errors[field] = f"Enter the {label} like 9:30 or 18:00"
        return None
    return dt.time(hour, minute)


def parse_event_form(form: dict[str, str], kind_ids: set[int], venue_ids: set[int]) -> EventDetails:
    errors: dict[str, str] = {}
    title = form.get("title", "").strip()
    if not title:
        errors["title"] = "Enter a title"
    elif len(title) > 200:
        errors["title"] = "Title must be 200 characters or fewer"
    kind_id = int(form["kind"]) if form.get("kind", "").isdigit() and int(form["kind"]) in kind_ids else None
    if kind_id is None:
        errors["kind"] = "Select the type of event"
    where = form.get("where", "")
    if where not in WHERE_CHOICES:
        errors["where"] = "Select a quadrant, or online"
    online = where == "online"
    venue_id = int(form["venue"]) if form.get("venue", "").isdigit() else None
    if where and not online and venue_id not in venue_ids:
        errors["venue"] = "Select the venue"
    join_url = form.get("join_url", "").strip()
    if join_url and not (online and re.fullmatch(r"https://\S+", join_url) and len(join_url) <= 2000):
        errors["join_url"] = ("Enter the Teams link starting https://" if online
                              else "Only online events have a Teams link")
    day = _date(form, "date", "date of the event", errors, required=True)
    start = _time(form.get("start_time", ""), "start_time", "start time", errors)
    end = _time(form.get("end_time", ""), "end_time", "end time", errors)
    if start and end and end <= start:
        errors["end_time"] = "The end time must be after the start time"
    capacity_text = form.get("capacity", "").strip()
    capacity = int(capacity_text) if capacity_text.isdigit() else None
    if capacity is None or not 1 <= capacity <= 2000:
        errors["capacity"] = "Enter the number of places, a whole number from 1 to 2000"
    opens = _date(form, "opens", "date booking opens", errors, required=False)
    closes = _date(form, "closes", "date booking closes", errors, required=False)
    if errors:
        raise EventFormErrors(errors)
    assert day and start and end and capacity and kind_id
    starts_at = dt.datetime.combine(day, start, tzinfo=LONDON)
    closes_at = dt.datetime.combine(closes, dt.time(23, 59), tzinfo=LONDON) if closes else None
    if closes_at and closes_at > starts_at:
        closes_at = None  # booking closes at the start anyway
    return EventDetails(
        title=title, kind_id=kind_id, quadrant=None if online else where, venue_id=None if online else venue_id,
        join_url=join_url if online else "", starts_at=starts_at,
        ends_at=dt.datetime.combine(day, end, tzinfo=LONDON), capacity=capacity,
        booking_opens_at=dt.datetime.combine(opens, dt.time(0, 0), tzinfo=LONDON) if opens else None,
        booking_closes_at=closes_at,
    )


def form_from_event(event: Any, join_url: str) -> dict[str, str]:
    """The edit form filled from an event as it is."""
    start, end = event.local_start, event.local_end
    form = {"title": event.title, "kind": str(event.kind_id), "where": event.quadrant.value if event.quadrant else "online",
            "venue": str(event.venue.id) if event.venue else "", "join_url": join_url,
            "date-day": str(start.day), "date-month": str(start.month), "date-year": str(start.year),
            "start_time": f"{start:%H:%M}", "end_time": f"{end:%H:%M}", "capacity": str(event.availability.capacity)}
    for prefix, moment in (("opens", event.booking_opens_at), ("closes", event.booking_closes_at)):
        if moment:
            local_moment = moment.astimezone(LONDON)
            form.update({f"{prefix}-day": str(local_moment.day), f"{prefix}-month": str(local_moment.month),
                         f"{prefix}-year": str(local_moment.year)})
    return form
