"""How dates and times read to people, GOV.UK style, in London time: one home for pages and emails."""

from __future__ import annotations

import datetime as dt

from app.areas import local


def long_date(moment: dt.datetime | dt.date) -> str:
    """GOV.UK style: "Wednesday 13 March 2024" (London date for a moment)."""
    if isinstance(moment, dt.datetime):
        moment = local(moment)
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def clock_time(moment: dt.datetime) -> str:
    """GOV.UK style: "9:30am", "12pm", "6pm" (London time)."""
    moment = local(moment)
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{suffix}"


def time_range(start: dt.datetime, end: dt.datetime) -> str:
    return f"{clock_time(start)} to {clock_time(end)}"
