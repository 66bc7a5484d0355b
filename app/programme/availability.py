"""Whether an event can be booked now, and how many places are left: a pure calculation.

The database enforces the same capacity at write time under a lock (see bookings.services);
this module is what pages and the API show, and what the booking service checks first.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from app.tables.programme import EventStatus


class Unbookable(enum.StrEnum):
    """Why an event cannot be booked. The values are the API's error codes' detail."""

    cancelled = "cancelled"
    past = "past"
    not_open = "not_open"
    closed = "closed"
    full = "full"


UNBOOKABLE_LABELS = {
    Unbookable.cancelled: "Cancelled",
    Unbookable.past: "This event has passed",
    Unbookable.not_open: "Booking not open yet",
    Unbookable.closed: "Booking closed",
    Unbookable.full: "Fully booked",
}


@dataclass(frozen=True)
class Availability:
    capacity: int
    places_taken: int
    reason: Unbookable | None

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.places_taken, 0)

    @property
    def bookable(self) -> bool:
        return self.reason is None

    @property
    def label(self) -> str:
        return UNBOOKABLE_LABELS[self.reason] if self.reason else "Open for booking"


def availability(*, status: str, capacity: int, places_taken: int, starts_at: dt.datetime,
                 booking_opens_at: dt.datetime | None, booking_closes_at: dt.datetime | None,
                 now: dt.datetime) -> Availability:
    """Booking closes at `booking_closes_at`, or when the event starts if that is earlier."""
    reason: Unbookable | None = None
    closes = min(starts_at, booking_closes_at) if booking_closes_at else starts_at
    if status == EventStatus.cancelled.value:
        reason = Unbookable.cancelled
    elif now >= starts_at:
        reason = Unbookable.past
    elif booking_opens_at and now < booking_opens_at:
        reason = Unbookable.not_open
    elif now >= closes:
        reason = Unbookable.closed
    elif places_taken >= capacity:
        reason = Unbookable.full
    return Availability(capacity=capacity, places_taken=places_taken, reason=reason)
