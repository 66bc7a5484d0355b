"""Reading a Microsoft Teams meeting attendance report, as Teams downloads it.

Teams writes UTF-16 with tabs; people also re-save it as UTF-8 or with commas. The report has
sections "1. Summary" (title, start, end, duration), "2. Participants" (one row a person) and
"3. In-Meeting activities" (one row per join/leave). Time present is summed over a person's
rejoins from section 3 when it is there, else taken from section 2. Pure: bytes in, data out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from app.areas import LONDON
from app.errors import DomainError


class NotATeamsReport(DomainError):
    code = "not_a_teams_report"
    status = 422
    field = "report"
    message = "The file must be a Teams meeting attendance report (.csv downloaded from Teams)"

    def __init__(self, reason: str | None = None):
        super().__init__(f"{self.message}: {reason}" if reason else None)


@dataclass
class Participant:
    name: str
    email: str
    upn: str
    role: str
    seconds: int = 0
    joins: int = 0

    @property
    def minutes(self) -> int:
        return self.seconds // 60

    @property
    def addresses(self) -> set[str]:
        return {a.strip().lower() for a in (self.email, self.upn) if a and "@" in a}


@dataclass
class TeamsReport:
    title: str = ""
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    participants: list[Participant] = field(default_factory=list)


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if len(data) > 1 and data[1:2] == b"\x00":  # UTF-16 LE without a BOM
        return data.decode("utf-16-le")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def parse_duration(text: str) -> int:
    """Seconds in "1h 2m 3s", "45m 10s", "12s" (also "1h 02m")."""
    parts = re.findall(r"(\d+)\s*([hms])", text.lower())
    if not parts and text.strip():
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[unit] for n, unit in parts)


_DATE_FORMATS = ["%d/%m/%y, %H:%M:%S", "%d/%m/%Y, %H:%M:%S", "%d/%m/%y, %H:%M", "%d/%m/%Y %H:%M:%S",
                 "%m/%d/%y, %I:%M:%S %p", "%m/%d/%Y, %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]


def parse_moment(text: str) -> dt.datetime | None:
    """A Teams timestamp in the organiser's (UK) locale, as London time."""
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=LONDON)
        except ValueError:
            continue
    return None


def normalise_name(name: str) -> str:
    """"Barclay, Jo (EXT)" and "jo  barclay" both become "jo barclay"."""
    name = re.sub(r"\((ext|external|guest|unverified)\)", "", name, flags=re.IGNORECASE)
    if "," in name:
        surname, _, forenames = name.partition(",")
        name = f"{forenames} {surname}"
    return re.sub(r"\s+", " ", name).strip().casefold()


#: A Teams report for a forum of a few hundred people is tens of kilobytes.
MAX_REPORT_BYTES = 2 * 1024 * 1024


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) for each row; a file that is not CSV is refused naming its line."""
    lines = [line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    delimiter = "\t" if any("\t" in line for line in lines) else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, [cell.strip() for cell in row]))
    except csv.Error as exc:
        raise NotATeamsReport(f"line {reader.line_num + 1} cannot be read as CSV ({exc})") from None
    return rows


def _section(row: list[str]) -> str | None:
    first = row[0].strip().lower() if row else ""
    match = re.match(r"^\d\.\s*(summary|participants|in-meeting activities)", first)
    return match.group(1) if match else None


def parse_report(data: bytes) -> TeamsReport:
    """The report's participants; NotATeamsReport (naming the line at fault) if it is not one."""
    if len(data) > MAX_REPORT_BYTES:
        raise NotATeamsReport(f"this file is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB, and a "
                              "report is much smaller")
    rows = _rows(decode(data))
    report = TeamsReport()
    section: str | None = None
    header: list[str] = []
    people: dict[str, Participant] = {}
    activity_seconds: dict[str, int] = {}
    activity_joins: dict[str, int] = {}
    seen_sections: set[str] = set()
    line = 0
    try:
        for line, row in rows:
            if not any(row):
                header = []
                continue
            found = _section(row)
            if found:
                section, header = found, []
                seen_sections.add(found)
                continue
            if section == "summary":
                key, value = row[0].lower(), (row[1] if len(row) > 1 else "")
                if key == "meeting title":
                    report.title = value
                elif key in ("start time", "meeting start time"):
                    report.started_at = parse_moment(value)
                elif key in ("end time", "meeting end time"):
                    report.ended_at = parse_moment(value)
                continue
            if section in ("participants", "in-meeting activities"):
                if not header:
                    header = [h.lower() for h in row]
                    if "name" not in header:
                        raise NotATeamsReport(f"its {section!r} section has no Name column")
                    continue
                cells = dict(zip(header, row))
                name = cells.get("name", "")
                if not name:
                    continue
                email = cells.get("email", "")
                upn = cells.get("participant id (upn)", "")
                key = (email or upn or normalise_name(name)).lower()
                if section == "participants":
                    people[key] = Participant(name=name, email=email, upn=upn, role=cells.get("role", ""),
                                              seconds=parse_duration(cells.get("in-meeting duration", "") or "0s"), joins=1)
                else:
                    activity_seconds[key] = activity_seconds.get(key, 0) + parse_duration(cells.get("duration", "") or "0s")
                    activity_joins[key] = activity_joins.get(key, 0) + 1
                    if key not in people:
                        people[key] = Participant(name=name, email=email, upn=upn, role=cells.get("role", ""))
    except ValueError as exc:
        raise NotATeamsReport(f"line {line} cannot be read ({exc})") from None
    if "participants" not in seen_sections and "in-meeting activities" not in seen_sections:
        raise NotATeamsReport("it has no '2. Participants' section")
    for key, seconds in activity_seconds.items():
        people[key].seconds = seconds  # summed over rejoins
        people[key].joins = activity_joins[key]
    report.participants = list(people.values())
    return report
