"""Rows for tests, made through the tables (services are what the tests exercise)."""

from __future__ import annotations

import datetime as dt
import itertools

from app.bookings.validation import BookingRequest, SettingIn
from app.config import Config
from app.tables.bookings import Role
from app.tables.programme import Event, EventKind, Venue

_counter = itertools.count(1)

#: Configuration for service-level tests (the database is bound separately by the `db` fixture).
CONFIG = Config(base_url="http://testserver.local", secret_key="test", mail_sender_in_process=False)


async def kind(code: str = "forum") -> int:
    row = await EventKind.select(EventKind.id).where(EventKind.code == code).first()
    if row:
        return row["id"]
    names = {"forum": "Safeguarding Forum", "hsb": "Harmful Sexual Behaviour (HSB) training",
             "prevent": "Prevent awareness"}
    rows = await EventKind.insert(EventKind(code=code, name=names.get(code, code), is_forum=code == "forum")).returning(EventKind.id)
    return rows[0]["id"]


async def venue() -> int:
    rows = await Venue.insert(Venue(name="Latton Bush Centre, Blue Room", address="Southern Way, Harlow",
                                    postcode="CM18 7BL")).returning(Venue.id)
    return rows[0]["id"]


async def event(*, now: dt.datetime, starts_in: dt.timedelta = dt.timedelta(days=14), capacity: int = 10,
                places_taken: int = 0, quadrant: str | None = "west", kind_code: str = "forum",
                status: str = "scheduled", booking_opens_at: dt.datetime | None = None,
                booking_closes_at: dt.datetime | None = None, title: str | None = None,
                duration: dt.timedelta = dt.timedelta(hours=2, minutes=30)) -> int:
    online = quadrant is None
    starts = (now + starts_in).replace(second=0, microsecond=0)  # events start on the minute
    rows = await Event.insert(Event(
        title=title or f"Test event {next(_counter)}", kind=await kind(kind_code), quadrant=quadrant,
        online=online, academic_year="2026/27", term="spring", starts_at=starts, ends_at=starts + duration,
        venue=None if online else await venue(), capacity=capacity, places_taken=places_taken,
        status=status, booking_opens_at=booking_opens_at, booking_closes_at=booking_closes_at,
    )).returning(Event.id)
    return rows[0]["id"]


def request(n: int | str = 1, *, role: Role = Role.dsl, setting: str = "Little Acorns Nursery",
            urn: str | None = None, email: str | None = None) -> BookingRequest:
    return BookingRequest(name=f"Person {n}", email=email or f"person{n}@school.example.org", role=role,
                          setting=SettingIn(name=setting, urn=urn))


def api_body(n: int | str = 1, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {"name": f"Person {n}", "email": f"person{n}@school.example.org", "role": "dsl",
                               "setting": {"name": "Little Acorns Nursery", "urn": "EY123456"}}
    body.update(overrides)
    return body


async def many_bookings(event_ids: list[int], count: int, *, now: dt.datetime,
                        setting: str = "Little Acorns Nursery") -> None:
    """`count` people ("Person 000"…), each with a confirmed place at every event given, written
    in a few statements (for tests of long lists; the booking rules have their own tests)."""
    import secrets

    from app.tables.bookings import Booking
    from app.tables.register import Person, Setting

    [place] = await Setting.insert(Setting(name=setting, name_key=setting.lower(), created_at=now)).returning(Setting.id)
    people = await Person.insert(*[Person(name=f"Person {n:03d}", email=f"person{n:03d}@school.example.org",
                                          created_at=now, updated_at=now) for n in range(count)]).returning(Person.id)
    rows = [Booking(event=event_id, person=p["id"], setting=place["id"], role=Role.dsl.value, lead="dsl", status="confirmed",
                    reference=f"T{event_id:03d}{i:05d}", manage_token=secrets.token_urlsafe(24),
                    calendar_uid=secrets.token_hex(12), checkin_token=secrets.token_urlsafe(18), source="organiser",
                    created_at=now, updated_at=now)
            for event_id in event_ids for i, p in enumerate(people)]
    await Booking.insert(*rows)
    await Event.update({Event.places_taken: count}).where(Event.id.is_in(event_ids))
