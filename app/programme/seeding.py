"""Loading the programme from seeds/ into the database, idempotently.

Rows are found again by natural keys (kind code, venue name and postcode, event `seed_key`), and
existing rows are left alone, so running the loader twice changes nothing and organisers' edits
(capacity, venue changes) survive a reload.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from piccolo.custom_types import Combinable
from piccolo.table import Table

from app.areas import LONDON, academic_year_of, council, term_of
from app.tables.programme import Event, EventKind, Venue

SEEDS_DIR = Path(__file__).resolve().parent.parent.parent / "seeds"
PROGRAMME_FILE = SEEDS_DIR / "programme-2023-24.toml"

#: The demo programme moves by whole years of weeks (52) so weekdays, times and terms are kept.
DEMO_STEP = dt.timedelta(weeks=52)
#: ...far enough that the first demo event is at least this far ahead.
DEMO_LEAD = dt.timedelta(days=14)


@dataclass
class SeedReport:
    added: dict[str, int] = field(default_factory=lambda: {"kinds": 0, "venues": 0, "events": 0})
    unchanged: dict[str, int] = field(default_factory=lambda: {"kinds": 0, "venues": 0, "events": 0})
    shift_weeks: int = 0

    def lines(self) -> list[str]:
        out = [f"{name}: {self.added[name]} added, {self.unchanged[name]} already there"
               for name in ("kinds", "venues", "events")]
        if self.shift_weeks:
            out.append(f"demo programme: moved forward {self.shift_weeks} weeks")
        return out


def load_programme_file(path: Path = PROGRAMME_FILE) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def _local_moment(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(p) for p in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def demo_shift(dates: list[dt.date], now: dt.datetime) -> dt.timedelta:
    """The smallest whole number of 52-week steps that puts every date in the future."""
    earliest = min(dates)
    shift = dt.timedelta(0)
    while dt.datetime.combine(earliest + shift, dt.time(0), tzinfo=LONDON) < now + DEMO_LEAD:
        shift += DEMO_STEP
    return shift


def event_title(kind: dict[str, Any], quadrant: str | None) -> str:
    if kind["code"] == "forum":
        area = council().label(quadrant)
        return f"{area} Safeguarding Forum"
    return kind["name"]


async def _find_or_insert(report: SeedReport, what: str, where: Combinable, row: Table) -> int:
    """The id of the row matching `where`, inserting `row` if there is none."""
    table = type(row)
    found = await table.select(table._meta.primary_key).where(where).first()
    if found:
        report.unchanged[what] += 1
        return found["id"]
    report.added[what] += 1
    inserted = await table.insert(row).returning(table._meta.primary_key)
    return inserted[0]["id"]


async def seed_programme(*, demo: bool, now: dt.datetime, path: Path = PROGRAMME_FILE) -> SeedReport:
    data = load_programme_file(path)
    report = SeedReport()
    kinds = {k["code"]: k for k in data["kinds"]}
    kind_ids = {
        kind["code"]: await _find_or_insert(report, "kinds", EventKind.code == kind["code"], EventKind(
            code=kind["code"], name=kind["name"], description=kind["description"], is_forum=kind["is_forum"]))
        for kind in data["kinds"]
    }
    venue_ids = {
        venue["key"]: await _find_or_insert(
            report, "venues", (Venue.name == venue["name"]) & (Venue.postcode == venue["postcode"]),
            Venue(name=venue["name"], address=venue["address"], postcode=venue["postcode"]))
        for venue in data["venues"]
    }

    shift = dt.timedelta(0)
    if demo:
        shift = demo_shift([e["date"] for e in data["events"]], now)
        report.shift_weeks = shift.days // 7
    defaults = data["defaults"]
    prefix = "demo:" if demo else f"{data['academic_year']}:"
    foreign = sorted({e["quadrant"] for e in data["events"] if e.get("quadrant")} - set(council().codes))
    if foreign:  # the programme is another council's (Essex's, in seeds/): nothing is loaded
        raise ValueError(f"The programme's areas ({', '.join(foreign)}) are not {council().name}'s "
                         f"({', '.join(council().codes)}): load this council's own programme")
    for event in data["events"]:
        key = prefix + event["key"]
        if await Event.exists().where(Event.seed_key == key):
            report.unchanged["events"] += 1
            continue
        day = event["date"] + shift
        online = bool(event.get("online", False))
        if event["kind"] == "forum":
            capacity = defaults["forum_online_capacity" if online else "forum_in_person_capacity"]
        else:
            capacity = defaults["training_online_capacity"]
        await Event.insert(Event(
            seed_key=key,
            title=event_title(kinds[event["kind"]], event.get("quadrant")),
            kind=kind_ids[event["kind"]],
            quadrant=event.get("quadrant"),
            online=online,
            academic_year=academic_year_of(day),
            term=term_of(day).value,
            starts_at=_local_moment(day, event["start"]).astimezone(dt.timezone.utc),
            ends_at=_local_moment(day, event["end"]).astimezone(dt.timezone.utc),
            venue=venue_ids[event["venue"]] if event.get("venue") else None,
            note=event.get("note", ""),
            agenda=event.get("agenda", ""),
            trainer_name=event.get("trainer_name", ""),
            trainer_role=event.get("trainer_role", ""),
            capacity=capacity,
            capacity_assumed=True,
            is_demo=demo,
        ))
        report.added["events"] += 1
    return report
