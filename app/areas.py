"""The council's areas (Essex's quadrants, from its seed file), the school terms and academic years, as
the users speak of them."""

from __future__ import annotations

import datetime as dt
import enum
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


#: One file per council: its areas (Essex's four quadrants), their labels, its district map and
#: which areas' forums a setting in each may book (`COUNCIL_AREAS` names the file).
COUNCILS_DIR = Path(__file__).resolve().parent.parent / "seeds" / "councils"
_CODE = re.compile(r"^[a-z][a-z_]{0,19}$")


class AreasInvalid(ValueError):
    """A council's areas file cannot be used; the message says what is wrong in it."""


@dataclass(frozen=True)
class Area:
    code: str  #: stored with each setting, event and notice
    label: str
    forums: tuple[str, ...]  #: the areas whose in-person forums a setting in this area may book


@dataclass(frozen=True, eq=False)
class Council:
    """The council's areas, as its seed file gives them, in the order its pages list them."""

    key: str
    name: str
    word: str  #: what the council calls one area ("quadrant")
    words: str  #: and several ("quadrants")
    areas: tuple[Area, ...]
    districts: dict[str, str] = field(default_factory=dict)  #: district name (as written) -> area code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.areas)

    @property
    def labels(self) -> dict[str, str]:
        return {a.code: a.label for a in self.areas}

    def is_area(self, code: object) -> bool:
        return isinstance(code, str) and code in self.labels

    def label(self, code: str | None, none: str = "Online") -> str:
        """An area's label; `none` where there is no area (an online session)."""
        if not code:
            return none
        return self.labels.get(code, code)

    def area(self, code: str) -> Area:
        for area in self.areas:
            if area.code == code:
                return area
        raise KeyError(code)

    def area_of_district(self, district: str) -> str | None:
        wanted = district.strip().casefold()
        return next((code for name, code in self.districts.items() if name.casefold() == wanted), None)


def load_council(key: str) -> Council:
    """A council's areas from `seeds/councils/<key>.toml`, checked: codes well-formed and unique,
    every district and forum naming one of the areas."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,60}", key):
        raise AreasInvalid(f"must name a file in seeds/councils (letters, digits, - and _), not {key!r}")
    path = COUNCILS_DIR / f"{key}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in COUNCILS_DIR.glob("*.toml")))
        raise AreasInvalid(f"names no file seeds/councils/{key}.toml (there are: {known})")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
        areas = tuple(Area(str(a["code"]), str(a["label"]).strip(), tuple(a.get("forums", [a["code"]])))
                      for a in data["areas"])
        council = Council(key, str(data["council"]), str(data.get("word", "area")), str(data.get("words", "areas")),
                          areas, {str(k): str(v) for k, v in data.get("districts", {}).items()})
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise AreasInvalid(f"seeds/councils/{key}.toml cannot be read: {exc}") from None
    codes = council.codes
    problems = [f"area code {c!r} must be lower-case letters and underscores, 20 at most" for c in codes
                if not _CODE.match(c)]
    problems += [f"area code {c!r} is given twice" for c in set(codes) if codes.count(c) > 1]
    problems += [f"area {a.code!r} has no label" for a in areas if not a.label]
    problems += [f"district {d!r} is in {c!r}, which is not one of the areas" for d, c in council.districts.items()
                 if c not in codes]
    problems += [f"area {a.code!r} opens the forums of {f!r}, which is not one of the areas" for a in areas
                 for f in a.forums if f not in codes]
    if not areas:
        problems.append("it has no areas")
    if problems:
        raise AreasInvalid(f"seeds/councils/{key}.toml: " + "; ".join(problems))
    return council


_current: list[Council] = []


def use_council(key: str) -> Council:
    """Make `key`'s areas the ones every page, export and rule of this process reads (set once
    at start from `COUNCIL_AREAS`; the tests switch councils)."""
    chosen = load_council(key)
    _current[:] = [chosen]
    return chosen


def council() -> Council:
    """The council whose areas this process serves (Essex's until told otherwise)."""
    if not _current:
        use_council("essex")
    return _current[0]


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
    """Whether a setting in `setting_quadrant` may come to a forum: the online one, and those of
    the areas its area's `forums` lists (its own, in Essex); every one, when the setting's area is
    not known."""
    if online or not setting_quadrant or not council().is_area(setting_quadrant):
        return True
    return forum_quadrant in council().area(setting_quadrant).forums
