"""Importing the settings register: GIAS extracts and early-years files, idempotently."""

import csv
import io

from app.settings_register.importer import import_settings
from app.tables.register import Setting


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


GIAS = [
    {"URN": "115000", "LA (code)": "881", "EstablishmentName": "Oak Primary School", "TypeOfEstablishment (name)": "Community school",
     "EstablishmentStatus (name)": "Open", "Postcode": "cm18 7bl", "DistrictAdministrative (name)": "Harlow"},
    {"URN": "130000", "LA (code)": "881", "EstablishmentName": "Colchester Institute", "TypeOfEstablishment (name)": "Further education",
     "EstablishmentStatus (name)": "Open", "Postcode": "CO3 3LL", "DistrictAdministrative (name)": "Colchester"},
    {"URN": "115001", "LA (code)": "881", "EstablishmentName": "Old School", "TypeOfEstablishment (name)": "Community school",
     "EstablishmentStatus (name)": "Closed", "Postcode": "CM1 1AA", "DistrictAdministrative (name)": "Chelmsford"},
    {"URN": "12", "LA (code)": "881", "EstablishmentName": "Typo School", "TypeOfEstablishment (name)": "Academy converter",
     "EstablishmentStatus (name)": "Open", "Postcode": "SS14 1UX", "DistrictAdministrative (name)": "Basildon"},
]
EARLY_YEARS = [
    {"urn": "EY123456", "name": "Little Acorns Nursery", "type": "nursery", "postcode": "SS14 1AA", "quadrant": "South"},
    {"urn": "EY654321", "name": "Sam Patel (childminder)", "type": "childminder", "postcode": "CO4 5UP", "quadrant": "north east"},
    {"urn": "EY999999", "name": "Mystery", "type": "zoo", "postcode": "CM1 2EH", "quadrant": "mid"},
]


async def test_a_gias_extract_is_imported_with_quadrants_and_reasons_for_rejects(db):
    report = await import_settings(csv_bytes(GIAS))
    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)
    assert [line for line, _ in report.rejected] == [4, 5]
    assert "closed" in report.rejected[0][1] and "URN '12'" in report.rejected[1][1]
    oak = await Setting.select().where(Setting.urn == "115000").first()
    assert (oak["setting_type"], oak["quadrant"], oak["postcode"], oak["on_register"]) == ("school", "west", "CM18 7BL", True)
    assert (await Setting.select(Setting.setting_type).where(Setting.urn == "130000").first())["setting_type"] == "college"


async def test_importing_twice_changes_nothing_and_a_change_is_an_update(db):
    await import_settings(csv_bytes(GIAS))
    again = await import_settings(csv_bytes(GIAS))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    renamed = [dict(GIAS[0], EstablishmentName="Oak Primary Academy")]
    assert (await import_settings(csv_bytes(renamed))).updated == 1
    assert await Setting.count() == 2


async def test_an_early_years_file_is_imported(db):
    report = await import_settings(csv_bytes(EARLY_YEARS))
    assert (report.added, len(report.rejected)) == (2, 1)
    assert "unknown type 'zoo'" in report.rejected[0][1]
    cm = await Setting.select().where(Setting.urn == "EY654321").first()
    assert (cm["setting_type"], cm["quadrant"]) == ("childminder", "north_east")


async def test_a_booking_typed_in_before_the_register_is_updated_by_the_import(db, now):
    from app.bookings.services import book_place
    from app.tables.bookings import BookingSource
    from tests import factories as f

    event_id = await f.event(now=now)
    await book_place(event_id, f.request(1, setting="little acorns", urn="EY123456"), source=BookingSource.web,
                     actor="public", now=now, config=f.CONFIG)
    await import_settings(csv_bytes(EARLY_YEARS))
    row = await Setting.select().where(Setting.urn == "EY123456").first()
    assert row["name"] == "Little Acorns Nursery" and row["on_register"] and row["quadrant"] == "south"


async def test_a_file_of_another_shape_is_refused_with_a_reason(db):
    report = await import_settings(b"a,b\n1,2\n")
    assert report.added == 0 and "neither a GIAS extract" in report.rejected[0][1]


async def test_the_booking_form_look_up_finds_register_entries_but_not_childminders(db):
    from tests.support import app_client

    from app.config import Config
    from app.main import create_app

    await import_settings(csv_bytes(GIAS))
    await import_settings(csv_bytes(EARLY_YEARS))
    app = create_app(Config(database_url=db, secret_key="x", password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False))
    async with app_client(app) as client:
        assert (await client.get("/api/settings", params={"q": "oak"})).json() == [{"name": "Oak Primary School", "urn": "115000"}]
        assert (await client.get("/api/settings", params={"q": "ey123456"})).json()[0]["name"] == "Little Acorns Nursery"
        assert (await client.get("/api/settings", params={"q": "patel"})).json() == []  # a childminder
        assert (await client.get("/api/settings", params={"q": "o"})).json() == []  # too short to search


async def test_names_are_kept_exactly_in_whatever_encoding_the_file_comes(db):
    name = "St Mary’s C of E Primary School – Ça va"
    rows = [{**GIAS[0], "EstablishmentName": name}]
    text = csv_bytes(rows).decode("utf-8-sig")
    for n, data in enumerate([text.encode("utf-8"), text.encode("utf-8-sig"), text.replace("Ça va", "Ca va").encode("cp1252"),
                              text.encode("utf-16")]):
        await Setting.delete(force=True)
        report = await import_settings(data)
        assert report.added == 1, n
        stored = (await Setting.select(Setting.name).first())["name"]
        assert stored == (name if n != 2 else name.replace("Ça va", "Ca va")), n


async def test_an_early_years_file_brings_each_setting_s_email_and_keeps_an_organisers_when_it_has_none(db):
    rows = [{**EARLY_YEARS[0], "email": "Office@LittleAcorns.example.org"}]
    await import_settings(csv_bytes(rows))
    assert (await Setting.select(Setting.contact_email).first())["contact_email"] == "office@littleacorns.example.org"
    await Setting.update({Setting.contact_email: "manager@littleacorns.example.org"}, force=True)
    await import_settings(csv_bytes(EARLY_YEARS[:1]))
    assert (await Setting.select(Setting.contact_email).first())["contact_email"] == "manager@littleacorns.example.org"
    bad = await import_settings(csv_bytes([{**EARLY_YEARS[1], "email": "not an address"}]))
    assert bad.rejected == [(2, "email 'not an address' is not an email address")]
