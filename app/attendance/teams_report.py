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
    started_text: str = ""  # as the report writes it (to show how an ambiguous date was read)
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


@dataclass
class _Row:
    section: str
    name: str
    email: str
    upn: str
    role: str
    seconds: int
    joined: dt.datetime | None = None
    left: dt.datetime | None = None

    @property
    def identities(self) -> list[str]:
        """What says who this is: an address, else the name. Rows sharing any one are one person."""
        found = [f"address:{a.strip().lower()}" for a in (self.email, self.upn) if a and "@" in a]
        return found or [f"name:{normalise_name(self.name)}"]


def _people(rows: list[_Row]) -> list[list[_Row]]:
    """Rows grouped by person: two rows are one person when they share an address, or when
    either has no address and their names match. So someone whose Email cell is empty in one
    section and filled in another is still one participant."""
    group_of: dict[str, int] = {}
    groups: list[list[_Row]] = []
    names: dict[str, int] = {}
    for row in rows:
        found = {group_of[i] for i in row.identities if i in group_of}
        name = normalise_name(row.name)
        if not found and name in names:
            found = {names[name]}
        if not found:
            groups.append([row])
            target = len(groups) - 1
        else:
            target = min(found)
            for other in sorted(found - {target}):  # a row joining two groups merges them
                groups[target] += groups[other]
                groups[other] = []
                for key, value in list(group_of.items()):
                    if value == other:
                        group_of[key] = target
            groups[target].append(row)
        for identity in row.identities:
            group_of[identity] = target
        names.setdefault(name, target)
    return [g for g in groups if g]


def _seconds_present(rows: list[_Row], report: TeamsReport) -> tuple[int, int]:
    """(seconds, joins) for one person: the in-meeting activities when the report has them (the
    union of their join-leave spans where the times are given, so two devices at once are not
    counted twice; else their durations summed), else the participants row; never more than
    the meeting lasted."""
    activities = [r for r in rows if r.section == "in-meeting activities"]
    if activities:
        spans = sorted((r.joined, r.left) for r in activities if r.joined and r.left and r.left >= r.joined)
        if len(spans) == len(activities):
            seconds, end = 0, None
            for start, stop in spans:
                if end is None or start > end:
                    seconds += int((stop - start).total_seconds())
                    end = stop
                elif stop > end:
                    seconds += int((stop - end).total_seconds())
                    end = stop
        else:
            seconds = sum(r.seconds for r in activities)
        joins = len(activities)
    else:
        seconds, joins = max(r.seconds for r in rows), 1
    if report.started_at and report.ended_at and report.ended_at > report.started_at:
        seconds = min(seconds, int((report.ended_at - report.started_at).total_seconds()))
    return seconds, joins


def parse_report(data: bytes) -> TeamsReport:
    """The report's participants; NotATeamsReport (naming the line at fault) if it is not one."""
    if len(data) > MAX_REPORT_BYTES:
        raise NotATeamsReport(f"this file is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB, and a "
                              "report is much smaller")
    rows = _rows(decode(data))
    report = TeamsReport()
    section: str | None = None
    header: list[str] = []
    found_rows: list[_Row] = []
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
                    report.started_text = value
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
                if not cells.get("name", ""):
                    continue
                duration = cells.get("in-meeting duration" if section == "participants" else "duration", "")
                found_rows.append(_Row(
                    section=section, name=cells["name"], email=cells.get("email", ""),
                    upn=cells.get("participant id (upn)", ""), role=cells.get("role", ""),
                    seconds=parse_duration(duration or "0s"),
                    joined=parse_moment(cells.get("join time", "") or cells.get("first join", "")),
                    left=parse_moment(cells.get("leave time", "") or cells.get("last leave", ""))))
    except ValueError as exc:
        raise NotATeamsReport(f"line {line} cannot be read ({exc})") from None
    if "participants" not in seen_sections and "in-meeting activities" not in seen_sections:
        raise NotATeamsReport("it has no '2. Participants' section")
    for person in _people(found_rows):
        first = next((r for r in person if r.section == "participants"), person[0])
        email = next((r.email for r in person if r.email), "")
        upn = next((r.upn for r in person if r.upn), "")
        seconds, joins = _seconds_present(person, report)
        report.participants.append(Participant(name=first.name, email=email, upn=upn, role=first.role,
                                               seconds=seconds, joins=joins))
    return report
