"""The council's quadrants, the school terms and academic years, as the users speak of them."""

from __future__ import annotations

import datetime as dt
import enum
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Quadrant(enum.StrEnum):
    south = "south"
    west = "west"
    mid = "mid"
    north_east = "north_east"

    @property
    def label(self) -> str:
        return QUADRANT_LABELS[self]


QUADRANT_LABELS = {
    Quadrant.south: "South",
    Quadrant.west: "West",
    Quadrant.mid: "Mid",
    Quadrant.north_east: "North East",
}


class Term(enum.StrEnum):
    autumn = "autumn"
    spring = "spring"
    summer = "summer"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def academic_year_of(day: dt.date) -> str:
    """The academic year (September to August) a date falls in, written like "2023/24"."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def term_of(day: dt.date) -> Term:
    """Autumn is September to December, Spring January to Easter, Summer Easter to August.

    Easter moves, so Spring ends with March and Summer starts with April: close enough for a
    programme whose Spring events are in March and Summer ones from late April.
    """
    if day.month >= 9:
        return Term.autumn
    if day.month <= 3:
        return Term.spring
    return Term.summer


def local(moment: dt.datetime) -> dt.datetime:
    """A stored (UTC) moment as London wall-clock time, for display."""
    return moment.astimezone(LONDON)


def forum_open_to(*, forum_quadrant: str | None, online: bool, setting_quadrant: str | None) -> bool:
    """Whether a setting in `setting_quadrant` may come to a forum: its own quadrant's and the
    online one (every one, when the setting's quadrant is not known)."""
    return online or setting_quadrant is None or forum_quadrant == setting_quadrant
