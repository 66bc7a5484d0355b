"""The operator's commands: migrate, seed, and a server that refuses an unmigrated database."""

import re

import pytest

from tests import support
from tests.conftest import _missing


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request, tmp_path):
    """A database with no tables at all."""
    if request.param == "postgres":
        if "PostgreSQL" in _missing:
            pytest.skip(_missing["PostgreSQL"])
        url = support.create_postgres_database()
        yield url
        support.drop_postgres_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"


def test_the_app_refuses_to_start_on_an_unmigrated_database_with_a_clear_message(empty_database_url):
    result = support.run_cli(empty_database_url, "serve", check=False)
    assert result.returncode == 1
    assert re.search(r"Not starting: The database has \d+ migration\(s\) still to apply", result.stderr)
    assert "Run: python -m app migrate" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_migrate_then_seed_twice(empty_database_url):
    assert support.run_cli(empty_database_url, "status", check=False).returncode == 1
    support.run_cli(empty_database_url, "migrate")
    assert "0 migration(s) pending" in support.run_cli(empty_database_url, "status").stdout
    first = support.run_cli(empty_database_url, "seed", "--demo").stdout
    assert "events: 14 added, 0 already there" in first and "dated notices: 4 added, 0 unchanged" in first
    # The demo's questionnaire moves with its events: its year, and its deadline (31 May 2024 on).
    import datetime as dt
    import re

    from app.areas import academic_year_of

    weeks = int(re.search(r"moved forward (\d+) weeks", first).group(1))
    year = academic_year_of(dt.date(2024, 5, 31) + dt.timedelta(weeks=weeks))
    assert f"questionnaire {year} version 1: created (20 questions)" in first and year != "2023/24"
    second = support.run_cli(empty_database_url, "seed", "--demo").stdout
    assert "events: 0 added, 14 already there" in second
    assert "kinds: 0 added, 3 already there" in second and "venues: 0 added, 4 already there" in second
    assert f"questionnaire {year} version 1: unchanged (20 questions)" in second
    assert "dated notices: 0 added, 4 unchanged" in second
    plain = support.run_cli(empty_database_url, "seed").stdout
    assert "questionnaire 2023/24 version 1: created (20 questions)" in plain  # the real one keeps its dates


def test_seeding_before_migrating_says_what_to_do(empty_database_url):
    result = support.run_cli(empty_database_url, "seed", check=False)
    assert result.returncode == 1 and "Run: python -m app migrate" in result.stderr


def test_an_unreachable_database_is_reported_plainly(tmp_path):
    result = support.run_cli("postgresql://nobody@127.0.0.1:1/none", "serve", check=False)
    assert result.returncode == 1
    assert "Cannot connect to the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_small_connection_pool_is_accepted(tmp_path):
    """DB_POOL_SIZE below asyncpg's default minimum (10) must still start the app."""
    from tests.conftest import _missing

    if "PostgreSQL" in _missing:
        pytest.skip(_missing["PostgreSQL"])
    url = support.create_postgres_database()
    try:
        support.run_cli(url, "migrate")
        with support.RunningServer(url, extra_env={"DB_POOL_SIZE": "3"}) as server:
            import httpx

            assert httpx.get(f"{server.base_url}/api/events").status_code == 200
    finally:
        support.drop_postgres_database(url)


async def test_an_organiser_moves_the_south_forum_and_the_booker_is_emailed(db, now, tmp_path):
    """The briefing's own case, from the command line: the South forum changes venue."""
    from app.bookings.services import book_place
    from app.tables.audit import AuditRecord
    from app.tables.bookings import BookingSource
    from app.tables.programme import Event
    from tests import factories as f

    mail = {"MAIL_DIR": str(tmp_path / "mail")}
    support.run_cli(db, "seed", "--demo")
    south = (await Event.select(Event.id).where(Event.seed_key == "demo:forum/spring/south").first())["id"]
    await book_place(south, f.request(1), source=BookingSource.web, actor="public", now=now, config=f.CONFIG)
    listed = support.run_cli(db, "event", "list").stdout
    assert f"#{south:<4} South Safeguarding Forum" in listed
    venues = support.run_cli(db, "venue", "add", "--name", "Basildon Lower Academy, Hall",
                             "--address", "Timberlog Close, Basildon, Essex", "--postcode", "SS14 1UX").stdout
    new_venue = re.search(r"Venue #(\d+) added", venues).group(1)
    assert await AuditRecord.count().where((AuditRecord.action == "venue.created") & (AuditRecord.actor == "cli")) == 1
    blank = support.run_cli(db, "venue", "add", "--name", " ", "--address", "x", "--postcode", "SS14 1UX", check=False)
    assert blank.returncode == 1 and "give the venue's name" in blank.stderr
    changed = support.run_cli(db, "event", "change", str(south), "--venue", new_venue).stdout
    assert "The venue is now Basildon Lower Academy, Hall" in changed
    assert "pending: 2" in support.run_cli(db, "outbox").stdout
    sent = support.run_cli(db, "send-mail", "--once", env=mail).stdout
    assert "sent: 2" in sent
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2 and "Change to your booking" in files[1].read_text()
    assert "sent: 2" in support.run_cli(db, "outbox", "--status", "sent").stdout
    refused = support.run_cli(db, "event", "change", str(south), "--starts", "2027-03-10 13:00",
                              "--ends", "2027-03-10 12:00", check=False)
    assert refused.returncode == 1 and "The event must end after it starts" in refused.stderr
    past = support.run_cli(db, "event", "change", str(south), "--starts", "2020-03-10 13:00",
                           "--ends", "2020-03-10 15:00", check=False)
    assert past.returncode == 1 and "is in the past; 1 booker(s) would be emailed" in past.stderr
    assert "--allow-past" in past.stderr and "pending: 0" in support.run_cli(db, "outbox").stdout
    moved = support.run_cli(db, "event", "change", str(south), "--starts", "2020-03-10 13:00",
                            "--ends", "2020-03-10 15:00", "--allow-past").stdout
    assert moved.strip() and "pending: 1" in support.run_cli(db, "outbox").stdout
    cancelled = support.run_cli(db, "event", "cancel", str(south), "--reason", "Venue unavailable").stdout
    assert "1 booker(s) will be told" in cancelled
    assert "No event with id 999999" in support.run_cli(db, "event", "cancel", "999999", check=False).stderr


def test_the_first_organiser_is_created_from_the_command_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'org.sqlite'}"
    support.run_cli(url, "migrate")

    def create(password: str):
        return support.run_cli(url, "organiser", "create", "--email", "Jo.Barclay@essex.gov.uk", "--name", "Jo Barclay",
                               "--password-stdin", input=password + "\n", check=False, timeout=60)

    weak = create("short")
    assert weak.returncode == 1 and "12 characters or more" in weak.stderr
    made = create("correct horse battery staple")
    assert made.returncode == 0 and "Organiser Jo Barclay <jo.barclay@essex.gov.uk> (administrator) created" in made.stdout
    again = create("correct horse battery staple")
    assert again.returncode == 1 and "already an organiser" in again.stderr


def test_importing_the_settings_register_from_the_command_line(tmp_path):
    from tests.settings_register.test_import import GIAS, csv_bytes

    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    support.run_cli(url, "migrate")
    extract = tmp_path / "edubasealldata.csv"
    extract.write_bytes(csv_bytes(GIAS))
    first = support.run_cli(url, "import-settings", str(extract)).stdout
    assert "added: 2, updated: 0, unchanged: 0, rejected: 2" in first
    assert "line 4: closed establishment" in first
    again = support.run_cli(url, "import-settings", str(extract)).stdout
    assert "added: 0, updated: 0, unchanged: 2, rejected: 2" in again
    # The extract as the DfE download gives it: Windows-1252, a curly apostrophe in a name.
    download = tmp_path / "download.csv"
    rows = [{**GIAS[0], "URN": "115002", "EstablishmentName": "St Mary’s C of E Primary School"}]
    download.write_bytes(csv_bytes(rows).decode("utf-8-sig").encode("cp1252"))
    assert "added: 1" in support.run_cli(url, "import-settings", str(download)).stdout
    # A file that is not a CSV, or not there: one line saying why, no traceback.
    workbook = tmp_path / "register.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + bytes(200))
    for path in (workbook, tmp_path / "missing.csv"):
        refused = support.run_cli(url, "import-settings", str(path), check=False)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and refused.stderr.startswith(f"Cannot import {path}: ")


def test_a_public_service_will_not_start_unsafe(tmp_path):
    """With an https BASE_URL, no SECRET_KEY or no SMTP server (unless .eml files are asked for)
    stops every command with one line naming the setting; so does a setting that is not a number."""
    base = {k: v for k, v in __import__("os").environ.items() if k not in ("SECRET_KEY", "SMTP_HOST", "MAIL_TO_FILES")}
    base["DATABASE_URL"] = f"sqlite:///{tmp_path}/x.sqlite"

    def run(**env):
        return support.run_app(["status"], {**base, **env}, check=False)

    no_secret = run(BASE_URL="https://bookings.example.gov.uk", SMTP_HOST="smtp.example.gov.uk")
    assert no_secret.returncode == 2 and no_secret.stdout == ""
    assert no_secret.stderr.strip().splitlines() == [no_secret.stderr.strip()] and "SECRET_KEY must be set" in no_secret.stderr
    no_smtp = run(BASE_URL="https://bookings.example.gov.uk", SECRET_KEY="s" * 32)
    assert no_smtp.returncode == 2 and "SMTP_HOST must be set" in no_smtp.stderr
    files_on_purpose = run(BASE_URL="https://bookings.example.gov.uk", SECRET_KEY="s" * 32, MAIL_TO_FILES="true")
    assert "Configuration error" not in files_on_purpose.stderr
    bad_number = run(PORT="eighty")
    assert bad_number.returncode == 2 and "PORT must be a whole number, not 'eighty'" in bad_number.stderr
