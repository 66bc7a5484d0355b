"""Importing the settings register from CSV: the DfE "Get Information about Schools" establishment
extract for schools and colleges, and a simple file for early-years settings. Idempotent: a row
is found again by URN and updated only if something changed; every rejected row has a reason."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from app.areas import council
from app.settings_register.services import name_key
from app.tables.register import Setting, SettingType
from app.validation import work_email

SEEDS = Path(__file__).resolve().parent.parent.parent / "seeds"
GIAS_COLUMNS = {"URN", "EstablishmentName", "TypeOfEstablishment (name)", "Postcode"}
EARLY_YEARS_COLUMNS = {"urn", "name", "type", "postcode"}
URN = re.compile(r"^(EY\d{6}|\d{6,7})$")


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"added: {self.added}, updated: {self.updated}, unchanged: {self.unchanged}, "
               f"rejected: {len(self.rejected)}"]
        out += [f"  line {line}: {reason}" for line, reason in self.rejected]
        return out


def district_quadrants_by_name() -> dict[str, str]:
    """Each district as the council's file writes it, and its area, by name."""
    return dict(sorted(council().districts.items()))


def _area_named(text: str) -> str | None:
    """An area given in an early-years file, by its code or its label ("north_east", "North East")."""
    wanted = text.strip().casefold()
    for code, label in council().labels.items():
        if wanted in (code, code.replace("_", " "), label.casefold()):
            return code
    return None


def district_quadrants() -> dict[str, str]:
    return {k.casefold(): v for k, v in district_quadrants_by_name().items()}


def _gias_type(text: str) -> str:
    text = text.casefold()
    if "college" in text or "further education" in text or "sixth form" in text:
        return SettingType.college.value
    if "nursery" in text and "school" not in text:
        return SettingType.nursery.value
    return SettingType.school.value


def _ey_type(text: str) -> str | None:
    text = text.strip().casefold()
    if text in ("childminder", "childminders"):
        return SettingType.childminder.value
    if text in ("nursery", "pre-school", "preschool", "day nursery", "playgroup", "early years"):
        return SettingType.nursery.value
    if text in ("school", "college"):
        return text
    return None


class UnreadableFile(ValueError):
    """The file is not a CSV this importer can read; the message is one line for the user."""


def decode(data: bytes) -> str:
    """The text of a register file in the encoding it was downloaded in: UTF-16 (with its BOM),
    UTF-8 with or without a BOM, else Windows-1252 (the DfE download: "St Mary’s" has a curly
    apostrophe in byte 0x92). Names are kept exactly as the file gives them."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
        raise UnreadableFile("this is not a CSV file (an Excel workbook or another binary file?): "
                             "save it as CSV and import that")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"byte {exc.start + 1} is not UTF-8 or Windows-1252 text") from None


def _rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(decode(data)))
    try:
        return list(reader.fieldnames or []), list(reader)
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num} cannot be read as CSV ({exc})") from None


async def import_settings(data: bytes, now: dt.datetime | None = None) -> ImportReport:
    """Import a GIAS extract or an early-years file (told apart by their columns). A file that
    cannot be read raises UnreadableFile with one line saying why. The register is read once,
    and new settings are written in batches: no query per row at county scale."""
    now = now or dt.datetime.now(dt.timezone.utc)
    columns, rows = _rows(data)
    report = ImportReport()
    existing_by_urn = {r["urn"]: r for r in await Setting.select(
        Setting.id, Setting.urn, Setting.name, Setting.name_key, Setting.setting_type, Setting.postcode,
        Setting.quadrant, Setting.on_register, Setting.contact_email).where(Setting.urn.is_not_null())}
    new: dict[str, Setting] = {}
    quadrants = district_quadrants()
    if GIAS_COLUMNS <= set(columns):
        kind = "gias"
    elif EARLY_YEARS_COLUMNS <= {c.strip().lower() for c in columns}:
        kind = "early_years"
        rows = [{k.strip().lower(): (v or "") for k, v in row.items() if k} for row in rows]
    else:
        report.rejected.append((1, "The columns are neither a GIAS extract (URN, EstablishmentName, TypeOfEstablishment "
                                   "(name), Postcode, …) nor an early-years file (urn, name, type, postcode, quadrant)"))
        return report
    for line, row in enumerate(rows, start=2):
        if kind == "gias":
            if "closed" in row.get("EstablishmentStatus (name)", "").casefold():
                report.rejected.append((line, "closed establishment"))
                continue
            urn, name = row.get("URN", "").strip(), row.get("EstablishmentName", "").strip()
            setting_type = _gias_type(row.get("TypeOfEstablishment (name)", ""))
            postcode = row.get("Postcode", "").strip().upper()
            quadrant = quadrants.get(row.get("DistrictAdministrative (name)", "").strip().casefold())
            email = (row.get("MainEmail") or row.get("Email") or "").strip().lower()
        else:
            urn, name = row.get("urn", "").strip().upper(), row.get("name", "").strip()
            setting_type = _ey_type(row.get("type", ""))
            postcode = row.get("postcode", "").strip().upper()
            quadrant = _area_named(row.get("quadrant", "")) or quadrants.get(row.get("district", "").strip().casefold())
            email = (row.get("email") or "").strip().lower()
            if setting_type is None:
                report.rejected.append((line, f"unknown type {row.get('type', '')!r} (use nursery, pre-school, childminder, school or college)"))
                continue
        if not URN.match(urn):
            report.rejected.append((line, f"URN {urn!r} is not 6 or 7 digits or EY and 6 digits"))
            continue
        if not name:
            report.rejected.append((line, "no name"))
            continue
        if len(name) > 200 or len(postcode) > 10:
            report.rejected.append((line, "name or postcode too long"))
            continue
        if email and work_email(email) is None:
            report.rejected.append((line, f"email {email!r} is not an email address"))
            continue
        values = {"name": name, "name_key": name_key(name), "setting_type": setting_type, "postcode": postcode,
                  "quadrant": quadrant, "on_register": True}
        if email:  # a file without an address keeps the one an organiser set
            values["contact_email"] = email
        existing = existing_by_urn.get(urn)
        if existing is None:
            if urn in new:
                report.rejected.append((line, f"URN {urn} appears twice in the file"))
                continue
            new[urn] = Setting(urn=urn, created_at=now, **values)
            report.added += 1
        elif any(existing[k] != v for k, v in values.items()):
            await Setting.update({getattr(Setting, k): v for k, v in values.items()}).where(Setting.id == existing["id"])
            existing.update(values)
            report.updated += 1
        else:
            report.unchanged += 1
    rows_to_add = list(new.values())
    for start in range(0, len(rows_to_add), 500):
        await Setting.insert(*rows_to_add[start:start + 500])
    return report
