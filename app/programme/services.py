"""Reading the programme: events with their kind, venue and availability."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.areas import Term, council, local
from app.errors import NotFound
from app.programme.availability import Availability, availability
from app.tables.programme import Event, EventKind, EventStatus, WaitlistRule


class EventNotFound(NotFound):
    """No event with that id."""

    message = "No such event"


@dataclass(frozen=True)
class VenueView:
    id: int
    name: str
    address: str
    postcode: str


@dataclass(frozen=True)
class EventView:
    """An event as pages and the API show it (never includes the join link)."""

    id: int
    title: str
    kind_id: int
    kind_code: str
    kind_name: str
    kind_description: str
    quadrant: str | None  #: the area's code (app.areas); None online
    online: bool
    academic_year: str
    term: Term
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: VenueView | None
    status: EventStatus
    is_demo: bool
    sequence: int
    availability: Availability
    booking_opens_at: dt.datetime | None = None
    booking_closes_at: dt.datetime | None = None
    #: The capacity is an assumption (the source documents give none) until an organiser sets it.
    capacity_assumed: bool = False
    #: What this session covers, as its programme says; who leads it, and their role (the invite
    #: gives the role only: a calendar object carries no personal data).
    agenda: str = ""
    trainer_name: str = ""
    trainer_role: str = ""
    #: A note for these dates only (the briefing's "Please note change of venue").
    note: str = ""
    #: Apologies sent later than this many hours before the start are a late cancellation.
    late_cancel_hours: int = 24
    #: Who a freed place is offered to first, and whether organisers marked the event in demand.
    waitlist_rule: WaitlistRule = WaitlistRule.first_come
    in_demand: bool = False
    #: The fewest places taken for the session to run well (None: no minimum).
    minimum: int | None = None

    def is_late_cancellation(self, at: dt.datetime) -> bool:
        """Whether apologies sent `at` come after the event's cut-off (shown as a late cancellation)."""
        return at > self.starts_at - dt.timedelta(hours=self.late_cancel_hours)

    @property
    def trainer(self) -> str:
        return ", ".join(p for p in (self.trainer_name, self.trainer_role) if p)

    @property
    def where(self) -> str:
        if self.online:
            return "Online (Microsoft Teams)"
        assert self.venue is not None
        return f"{self.venue.name}, {self.venue.address}, {self.venue.postcode}"

    @property
    def area(self) -> str:
        return council().label(self.quadrant)

    @property
    def local_start(self) -> dt.datetime:
        return local(self.starts_at)

    @property
    def local_end(self) -> dt.datetime:
        return local(self.ends_at)


@dataclass(frozen=True)
class EventFilters:
    quadrant: str | None = None
    online: bool = False
    kind: str | None = None
    term: Term | None = None
    academic_year: str | None = None
    #: Everything a setting in this quadrant may come to: its quadrant's events and those open to
    #: every quadrant (the online forum, online training).
    open_to: str | None = None
    #: "upcoming" (not yet ended, soonest first), "past" (latest first) or "all" (by date).
    when: str = "all"


_EVENT_COLUMNS = (
    Event.all_columns(),
    Event.kind.code.as_alias("kind_code"),
    Event.kind.name.as_alias("kind_name"),
    Event.kind.description.as_alias("kind_description"),
    Event.venue.name.as_alias("venue_name"),
    Event.venue.address.as_alias("venue_address"),
    Event.venue.postcode.as_alias("venue_postcode"),
)


def _view(row: dict[str, Any], now: dt.datetime) -> EventView:
    venue = None
    if row["venue"] is not None:
        venue = VenueView(row["venue"], row["venue_name"], row["venue_address"], row["venue_postcode"])
    return EventView(
        id=row["id"],
        title=row["title"],
        kind_id=row["kind"],
        kind_code=row["kind_code"],
        kind_name=row["kind_name"],
        kind_description=row["kind_description"],
        quadrant=row["quadrant"] or None,
        online=bool(row["online"]),
        academic_year=row["academic_year"],
        term=Term(row["term"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        venue=venue,
        status=EventStatus(row["status"]),
        is_demo=bool(row["is_demo"]),
        sequence=row["sequence"],
        booking_opens_at=row["booking_opens_at"],
        booking_closes_at=row["booking_closes_at"],
        capacity_assumed=bool(row["capacity_assumed"]),
        agenda=row["agenda"] or "",
        trainer_name=row["trainer_name"] or "",
        trainer_role=row["trainer_role"] or "",
        note=row["note"] or "",
        late_cancel_hours=row["late_cancel_hours"],
        waitlist_rule=WaitlistRule(row["waitlist_rule"]),
        in_demand=bool(row["in_demand"]),
        minimum=row["minimum"],
        availability=availability(
            status=row["status"], capacity=row["capacity"], places_taken=row["places_taken"],
            starts_at=row["starts_at"], booking_opens_at=row["booking_opens_at"],
            booking_closes_at=row["booking_closes_at"], now=now,
        ),
    )


async def list_events(filters: EventFilters, now: dt.datetime) -> list[EventView]:
    query = Event.select(*_EVENT_COLUMNS)
    if filters.when == "past":
        query = query.where(Event.ends_at < now).order_by(Event.starts_at, ascending=False)
    else:
        if filters.when == "upcoming":
            query = query.where(Event.ends_at >= now)
        query = query.order_by(Event.starts_at)
    query = query.order_by(Event.id)
    if filters.open_to:
        # Its area's own forums and those its area may also book (`forums` in the council's file),
        # and everything online: a handful of area codes, never a list from a request.
        query = query.where(Event.quadrant.is_in(list(council().area(filters.open_to).forums))
                            | Event.quadrant.is_null())
    if filters.quadrant:
        query = query.where(Event.quadrant == filters.quadrant)
    if filters.online:
        query = query.where(Event.online == True)  # noqa: E712 (Piccolo expression)
    if filters.kind:
        query = query.where(Event.kind.code == filters.kind)
    if filters.term:
        query = query.where(Event.term == filters.term.value)
    if filters.academic_year:
        query = query.where(Event.academic_year == filters.academic_year)
    return [_view(row, now) for row in await query]


async def get_event(event_id: int, now: dt.datetime) -> EventView:
    row = await Event.select(*_EVENT_COLUMNS).where(Event.id == event_id).first()
    if row is None:
        raise EventNotFound()
    return _view(row, now)


async def list_kinds() -> list[dict[str, Any]]:
    return await EventKind.select(EventKind.code, EventKind.name).order_by(EventKind.id)


async def list_academic_years() -> list[str]:
    rows = await Event.select(Event.academic_year).distinct().order_by(Event.academic_year)
    return [r["academic_year"] for r in rows]


async def get_join_url(event_id: int) -> str:
    """The Teams join link: for invites to confirmed bookers only, never for pages or feeds."""
    row = await Event.select(Event.join_url).where(Event.id == event_id).first()
    return row["join_url"] if row else ""
