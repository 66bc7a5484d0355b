"""The briefing's dated notices to each quadrant's settings: the Multi-Agency Case Audit (MACA)
nomination windows. Kept as data (seeds/notices.toml, then edited by organisers for each year) and
shown, while a window is open, on that quadrant's event pages, in its forum reminders and on the
home page. Never a nomination form: a case is a child's data and goes to the partnership by its
own route, so nothing about a case is asked or kept here."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.areas import council, local
from app.audit.services import record
from app.db import write_transaction
from app.errors import InvalidInput, NotFound
from app.formats import long_date
from app.tables.programme import DatedNotice
from app.validation import has_unprintable

NOTICES_FILE = Path(__file__).resolve().parent.parent.parent / "seeds" / "notices.toml"


class NoticeNotFound(NotFound):
    message = "No such notice"


@dataclass(frozen=True)
class NoticeView:
    id: int
    code: str
    quadrant: str
    title: str
    opens_on: dt.date
    closes_on: dt.date
    shown_until: dt.date | None
    summary: str
    criteria: list[str]
    rule: str
    contact: str
    note: str
    is_demo: bool

    @property
    def area(self) -> str:
        return council().label(self.quadrant)

    @property
    def dates(self) -> str:
        """"Wednesday 14 February 2024 to Wednesday 6 March 2024"."""
        return f"{long_date(self.opens_on)} to {long_date(self.closes_on)}"

    def closed_on(self, today: dt.date) -> bool:
        return today > self.closes_on

    def shown_on(self, today: dt.date) -> bool:
        return self.opens_on <= today <= max(self.closes_on, self.shown_until or self.closes_on)

    def status(self, today: dt.date) -> str:
        """What the window is on that day, in words: when nominations close, or that they closed."""
        if self.closed_on(today):
            said = f"Nominations closed on {long_date(self.closes_on)}"
            return f"{said}: {self.note}" if self.note else said
        if today < self.opens_on:
            return f"Nominations open on {long_date(self.opens_on)}"
        return f"Nominations are open until {long_date(self.closes_on)}"


def _view(row: dict[str, Any]) -> NoticeView:
    return NoticeView(row["id"], row["code"], row["quadrant"], row["title"], row["opens_on"],
                      row["closes_on"], row["shown_until"], row["summary"], list(row["criteria"] or []), row["rule"],
                      row["contact"], row["note"], bool(row["is_demo"]))


async def shown_notices(now: dt.datetime, quadrant: str | None = None) -> list[NoticeView]:
    """The notices shown on the day `now` falls on (Europe/London), of one quadrant or of all; a
    handful of rows, read with a condition on the dates."""
    today = local(now).date()
    query = DatedNotice.select().where((DatedNotice.opens_on <= today) & (
        (DatedNotice.closes_on >= today) | (DatedNotice.shown_until >= today))).order_by(
        DatedNotice.opens_on).output(load_json=True)
    if quadrant is not None:
        query = query.where(DatedNotice.quadrant == quadrant)
    return [_view(r) for r in await query]


async def list_notices() -> list[NoticeView]:
    return [_view(r) for r in await DatedNotice.select().order_by(
        DatedNotice.opens_on, ascending=False).output(load_json=True)]


async def get_notice(notice_id: int) -> NoticeView:
    row = await DatedNotice.select().where(DatedNotice.id == notice_id).output(load_json=True).first()
    if row is None:
        raise NoticeNotFound()
    return _view(row)


async def seed_notices(path: Path = NOTICES_FILE, *, demo: bool = False,
                       shift: dt.timedelta = dt.timedelta(0)) -> tuple[int, int]:
    """Add each window the file gives that is not yet held (by its code); an organiser's edit is
    never overwritten. The demo's windows move by `shift`, the whole weeks its events moved, so its
    notices fall beside its forums. Returns (added, unchanged)."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    shared = data["maca"]
    added = unchanged = 0
    async with write_transaction():
        for window in data["windows"]:
            code = ("demo:" if demo else "") + window["code"]
            if await DatedNotice.exists().where(DatedNotice.code == code):
                unchanged += 1
                continue
            until = window.get("shown_until")
            await DatedNotice.insert(DatedNotice(
                code=code, quadrant=_area(window["quadrant"]), title=window.get("title", shared["title"]),
                opens_on=window["opens"] + shift, closes_on=window["closes"] + shift,
                shown_until=until + shift if until else None, summary=shared["summary"],
                criteria=list(shared["criteria"]), rule=shared["rule"], contact=shared["contact"],
                note=window.get("note", ""), is_demo=demo, updated_at=dt.datetime.now(dt.timezone.utc)))
            added += 1
    return added, unchanged


def _area(code: str) -> str:
    """A notice's area from the seed file, which must be one of the council's."""
    if not council().is_area(code):
        raise ValueError(f"notices.toml: {code!r} is not one of {council().name}'s areas ({', '.join(council().codes)})")
    return code


_LIMITS = {"title": 200, "summary": 2000, "rule": 1000, "contact": 500, "note": 1000}


def _date(value: str, field: str, what: str, errors: dict[str, str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = f"Enter the date {what} as a real date, like 2025-02-14"
        return None


def checked_notice(form: dict[str, str]) -> dict[str, Any]:
    """The notice form's fields, checked: {field: value} or InvalidInput naming each at fault."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if not council().is_area(form.get("quadrant", "")):
        errors["quadrant"] = f"Choose the {council().word} the notice is for"
    else:
        values["quadrant"] = form["quadrant"]
    for field, most in _LIMITS.items():
        text = form.get(field, "").strip()
        if field == "title" and not text:
            errors[field] = "Enter the notice's title"
        elif len(text) > most:
            errors[field] = f"Keep this to {most:,} characters or fewer"
        elif has_unprintable(text, multiline=True):
            errors[field] = "Remove the invisible or control characters"
        values[field] = text
    criteria = [line.strip() for line in form.get("criteria", "").splitlines() if line.strip()]
    if len(criteria) > 20 or any(len(c) > 500 or has_unprintable(c) for c in criteria):
        errors["criteria"] = "Give at most 20 criteria, a line each, of 500 characters or fewer"
    values["criteria"] = criteria
    opens = _date(form.get("opens_on", ""), "opens_on", "nominations open", errors)
    closes = _date(form.get("closes_on", ""), "closes_on", "nominations close", errors)
    until = form.get("shown_until", "").strip()
    shown_until = _date(until, "shown_until", "the notice is shown until", errors) if until else None
    if opens and closes and closes < opens:
        errors["closes_on"] = "The closing date must be on or after the opening date"
    if closes and shown_until and shown_until < closes:
        errors["shown_until"] = "Leave this empty, or give a date on or after the closing date"
    if errors:
        raise InvalidInput(errors)
    return {**values, "opens_on": opens, "closes_on": closes, "shown_until": shown_until}


async def save_notice(notice_id: int | None, form: dict[str, str], *, actor: str, now: dt.datetime) -> int:
    """Add a notice (notice_id None: next year's window) or correct one. Audited."""
    values = checked_notice(form)
    columns = {getattr(DatedNotice, name): value for name, value in values.items()}
    async with write_transaction():
        if notice_id is None:
            code = f"{values['quadrant']}-{values['opens_on'].isoformat()}-{int(now.timestamp())}"
            row = DatedNotice(code=code, updated_at=now, **values)
            notice_id = (await DatedNotice.insert(row).returning(DatedNotice.id))[0]["id"]
            action = "notice.added"
        else:
            changed = await DatedNotice.update({**columns, DatedNotice.updated_at: now}).where(
                DatedNotice.id == notice_id).returning(DatedNotice.id)
            if not changed:
                raise NoticeNotFound()
            action = "notice.changed"
        await record(action, actor, notice_id=notice_id, quadrant=values["quadrant"],
                     opens_on=values["opens_on"].isoformat(), closes_on=values["closes_on"].isoformat())
    return notice_id
