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


async def setting(name: str = "Oak Nursery", *, now: dt.datetime | None = None, **fields: object) -> int:
    """A setting (on the register unless told), its look-up key made as the service makes it."""
    from app.settings_register.services import name_key
    from app.tables.register import Setting

    values = {"on_register": True, "created_at": now or dt.datetime.now(dt.timezone.utc), **fields}
    [row] = await Setting.insert(Setting(name=name, name_key=name_key(name), **values)).returning(Setting.id)
    return row["id"]


async def declaration(setting_id: int, *, kind: str = "level3", person_name: str = "Jo Barclay", email: str = "",
                      role: str = "dsl", completed_on: dt.date, course: str = "DSL Level 3", provider: str = "ECSB",
                      now: dt.datetime | None = None) -> int:
    """Training a setting declared for its DSL or a deputy (rows only: `declare_training` has its tests)."""
    from app.tables.questionnaire import TrainingDeclaration

    [row] = await TrainingDeclaration.insert(TrainingDeclaration(
        setting=setting_id, kind=kind, person_name=person_name, email=email, role=role, course=course,
        provider=provider, completed_on=completed_on, created_at=now or dt.datetime.now(dt.timezone.utc))).returning(
        TrainingDeclaration.id)
    return row["id"]


async def lead_clock(email: str, *, now: dt.datetime, sources: dict[str, str] | None = None,
                     **due: dt.date | None) -> str:
    """A person's clock as the service keeps it, each date given by its due day (last recorded a
    year before, or as `sources` says where it comes from). Returns the reminders link's secret."""
    import secrets

    from app.tables.training import LeadClock

    token = secrets.token_urlsafe(16)
    values: dict[str, object] = {}
    for which, day in due.items():
        values.update({f"{which}_due": day, f"{which}_on": day.replace(year=day.year - 1) if day else None,
                       f"{which}_from": (sources or {}).get(which, "attended West Safeguarding Forum")})
    await LeadClock.insert(LeadClock(email=email, reminders_token=token, updated_at=now, **values))
    return token


async def person(name: str = "Jo Barclay", email: str | None = None, *, now: dt.datetime | None = None) -> int:
    from app.tables.register import Person

    at = now or dt.datetime.now(dt.timezone.utc)
    email = email or f"{name.split()[0].lower()}@example.org"
    [row] = await Person.insert(Person(name=name, email=email, created_at=at, updated_at=at)).returning(Person.id)
    return row["id"]


async def past_booking(event_id: int, person_id: int, setting_id: int, *, role: str = "dsl", lead: str | None = None,
                       status: str = "confirmed", apology_at: dt.datetime | None = None, apology_late: bool = False,
                       now: dt.datetime | None = None) -> int:
    """A booking as it stands after the event (written directly: the booking rules refuse a past
    event, and have their own tests)."""
    import secrets

    from app.tables.bookings import Booking, LeadAnswer

    at = now or dt.datetime.now(dt.timezone.utc)
    [row] = await Booking.insert(Booking(
        event=event_id, person=person_id, setting=setting_id, role=role, status=status,
        lead=lead or LeadAnswer.from_role(Role(role)).value, apology_at=apology_at, apology_late=apology_late,
        reference=secrets.token_hex(5)[:9].upper(), manage_token=secrets.token_urlsafe(16),
        calendar_uid=secrets.token_hex(8), checkin_token=secrets.token_urlsafe(12), created_at=at,
        updated_at=at)).returning(Booking.id)
    return row["id"]


async def attendance(booking_id: int, outcome: str, *, organiser_id: int, source: str = "register",
                     minutes_present: int | None = None, now: dt.datetime | None = None) -> None:
    """A mark as recorded, without the mark's own rules and effects (`mark` has its tests)."""
    from app.tables.attendance import Attendance

    await Attendance.insert(Attendance(booking=booking_id, outcome=outcome, source=source,
                                       minutes_present=minutes_present, recorded_by=organiser_id,
                                       recorded_at=now or dt.datetime.now(dt.timezone.utc)))


def pdf(pages: int = 1) -> bytes:
    """A PDF a reader opens (blank A4 pages), for uploads such as a forum's pack."""
    import io

    import pypdf

    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
