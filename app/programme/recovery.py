"""What to offer someone who missed a session, or sent apologies for one: the sessions that
would make up for it, in order. The chase after a no-show (`app.attendance.chase`) and the email
after an apology (`app.bookings.services.cancel_booking`) offer exactly these."""

from __future__ import annotations

import datetime as dt

from app.areas import forum_open_to
from app.formats import long_date, time_range
from app.programme.services import EventFilters, EventView, list_events

FORUM = "forum"


def open_to(event: EventView, quadrant: str | None) -> bool:
    """Whether a setting in `quadrant` may come to `event`: training is open to all, a forum as
    `forum_open_to` says."""
    return event.kind_code != FORUM or forum_open_to(
        forum_quadrant=event.quadrant, online=event.online, setting_quadrant=quadrant)


async def next_session(kind_code: str, quadrant: str | None, now: dt.datetime) -> EventView | None:
    """The next session of this kind open for booking and open to a setting in `quadrant`."""
    return next((e for e in await list_events(EventFilters(kind=kind_code), now)
                 if e.availability.bookable and open_to(e, quadrant)), None)


async def next_forum(quadrant: str | None, now: dt.datetime) -> EventView | None:
    return await next_session(FORUM, quadrant, now)


async def offers(event: EventView, quadrant: str | None, now: dt.datetime) -> list[EventView]:
    """What a chase offers after `event`, in order. Training: the next session of that training.
    A forum: forums still to come this term open to the setting, the same way of attending first
    (online after an online forum; after an in-person one, the setting's quadrant's next forum,
    then the online one); none this term, the next term's. A setting with no quadrant on record
    is offered online sessions only."""
    upcoming = [e for e in await list_events(EventFilters(kind=event.kind_code, when="upcoming"), now)
                if e.id != event.id and e.availability.bookable and open_to(e, quadrant)]
    if quadrant is None:
        upcoming = [e for e in upcoming if e.online]
    if event.kind_code != FORUM or not upcoming:
        return upcoming[:1]
    this_term = [e for e in upcoming if (e.academic_year, e.term) == (event.academic_year, event.term)]
    first = upcoming[0]
    pool = this_term or [e for e in upcoming if (e.academic_year, e.term) == (first.academic_year, first.term)]
    same = [e for e in pool if e.online == event.online][:1]
    other = [e for e in pool if e.online != event.online][:1]
    return same + other


def offer_links(offered: list[EventView], base_url: str) -> list[dict[str, str]]:
    """The offers as an email lists them: each with when, where and its booking link."""
    return [{"title": e.title, "when": f"{long_date(e.starts_at)}, {time_range(e.starts_at, e.ends_at)}",
             "where": e.where if not e.online else "online, on Microsoft Teams",
             "url": f"{base_url}/events/{e.id}/book"} for e in offered]
