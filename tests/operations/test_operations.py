"""Issue 13: health and readiness, metrics, logs, configuration checked at start, the audit trail
for organisers, and the jobs page."""

from __future__ import annotations

import csv
import datetime as dt
import contextlib
import io
import json
import logging
import re

import pytest
from tests.support import app_client
from piccolo.apps.migrations.tables import Migration

from app.bookings.services import book_place
from app.config import Config, UnsafeConfig, config_from_env
from app.jobs import deliver_due, run_timed_jobs, warn_if_outbox_waits
from app.logs import JsonLines, RequestContext, scrub
from app.mail.sender import FileTransport
from app.main import create_app
from app.tables.bookings import BookingSource
from app.tables.mail import OutboxMessage
from tests import factories as f
from tests import support

TOKEN = "metrics-token-for-the-tests"


@pytest.fixture
async def metrics_client(db: str):
    config = Config(database_url=db, base_url="http://testserver.local", secret_key="test-secret",
                    password_profile="cheapest", db_pool_size=0, mail_sender_in_process=False, metrics=True,
                    metrics_token=TOKEN)
    async with app_client(create_app(config), "http://testserver.local") as client:
        yield client


async def test_health_and_readiness_and_an_smtp_outage_is_not_unreadiness(client, db, now, caplog):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    # Mail waiting for an hour (the mail server is down): still ready; a warning in the log.
    event_id = await f.event(now=now)
    await book_place(event_id, f.request(1), source=BookingSource.web, actor="public",
                     now=now - dt.timedelta(hours=1), config=f.CONFIG)
    with caplog.at_level(logging.WARNING, logger="app.jobs"):
        age = await warn_if_outbox_waits(f.CONFIG, now)
    assert age >= 3600 and "the oldest waiting message is 60 minutes old, 1 waiting" in caplog.text
    assert (await client.get("/readyz")).status_code == 200
    # A migration not applied: not ready, and says what to do.
    last = (await Migration.select(Migration.name).order_by(Migration.id, ascending=False).first())["name"]
    await Migration.delete().where(Migration.name == last)
    try:
        unready = await client.get("/readyz")
        assert unready.status_code == 503 and "1 migration(s) not applied" in unready.json()["detail"]
    finally:
        await Migration.insert(Migration(name=last, app_name="bookings_service"))


async def test_metrics_are_off_by_default_and_need_the_token(client, metrics_client):
    assert (await client.get("/metrics")).status_code == 404
    assert (await metrics_client.get("/metrics")).status_code == 401
    wrong = await metrics_client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401


async def test_a_scrape_after_bookings_deliveries_and_jobs(metrics_client, db, now, tmp_path):
    event_id = await f.event(now=now, capacity=1)
    for n in (1, 2):
        await metrics_client.post(f"/api/events/{event_id}/bookings", json=f.api_body(n))
    manage = (await OutboxMessage.select(OutboxMessage.booking.manage_token.as_alias("t")).first())["t"]
    assert (await metrics_client.get(f"/bookings/{manage}")).status_code == 200
    await deliver_due(FileTransport(tmp_path), config=f.CONFIG, now=lambda: now + dt.timedelta(minutes=1))
    await run_timed_jobs(config=f.CONFIG, now=now)
    text = (await metrics_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line and not line.startswith("#")}
    assert samples['bookings_total{outcome="made",reason=""}'] >= 1
    assert samples['bookings_total{outcome="refused",reason="event_full"}'] >= 1
    route = [k for k in samples if k.startswith("http_requests_total{") and 'path="/bookings/{token}"' in k]
    assert route and manage not in text  # by route template: never a token
    assert samples['mail_delivery_attempts_total{outcome="sent"}'] == 1
    assert samples['outbox_messages{status="sent"}'] == 1 and samples["outbox_oldest_waiting_seconds"] == 0
    assert samples['scheduled_job_runs_total{job="retention_purge"}'] == 1
    assert 'http_requests_total{app_name="safeguarding_bookings",method="GET",path="/healthz"' not in text


@contextlib.contextmanager
def json_log():
    """What the service logs meanwhile, as its JSON lines (with the request context)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContext())
    handler.setFormatter(JsonLines())
    logging.getLogger().addHandler(handler)
    logging.getLogger("app.requests").setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def test_log_lines_are_json_with_the_request_id_and_nothing_personal(db):
    from litestar.testing import TestClient

    with json_log() as stream:
        app = create_app(Config(database_url=db, secret_key="x", mail_sender_in_process=False,
                                password_profile="cheapest", db_pool_size=0))
        with TestClient(app) as client:
            token = "Zq3" + "x" * 40
            answered = client.get(f"/bookings/{token}", headers={"X-Request-ID": "probe-1234abcd"})
            client.get("/healthz")
            logging.getLogger("app").warning("could not send to jo.barclay@school.example.org: %s", token)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [request] = [line for line in lines if line["logger"] == "app.requests"]
    assert answered.headers["x-request-id"] == "probe-1234abcd" == request["request_id"]
    assert request["route"] == "/bookings/{token}" and request["status"] == 404 and request["method"] == "GET"
    assert "/healthz" not in stream.getvalue()
    assert token not in stream.getvalue() and "jo.barclay" not in stream.getvalue()
    assert scrub("to jo@x.org, token " + token) == "to [email], token [token]"


def test_the_councils_names_and_support_address_come_from_the_environment():
    config = config_from_env({"COUNCIL_NAME": "Hertfordshire County Council", "SERVICE_NAME": "DSL forums",
                              "SUPPORT_EMAIL": "cpd.bookings@hertfordshire.gov.uk"})
    assert (config.council_name, config.service_name, config.booking_support_email) == (
        "Hertfordshire County Council", "DSL forums", "cpd.bookings@hertfordshire.gov.uk")
    assert config_from_env({}).council_name == "Essex County Council"


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("PORT", "http", "PORT must be a whole number"),
    ("SMTP_PORT", "70000", "SMTP_PORT must be a port number"),
    ("DATABASE_URL", "mysql://db/x", "DATABASE_URL must start with"),
    ("BASE_URL", "bookings.example.gov.uk", "BASE_URL must be the service's address"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of plain, json"),
    ("METRICS", "on", "METRICS_TOKEN must be set"),
    ("OFFER_HOLD_HOURS", "0", "OFFER_HOLD_HOURS must be 1 or more"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL must start with"),
    ("TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES must list"),
    ("REPLY_TO_BOOKINGS", "two@a.org,three@b.org", "REPLY_TO_BOOKINGS must be one email address"),
    ("MAIL_FROM", "Safeguarding <team@example.gov.uk>", "MAIL_FROM must be one email address"),
    ("ORGANISER_MAILBOX", "team@localhost", "ORGANISER_MAILBOX must be one email address"),
    ("SUPPORT_EMAIL", "help", "SUPPORT_EMAIL must be one email address"),
    ("COUNCIL_NAME", "<b>Essex</b>", "COUNCIL_NAME must be one line of text"),
    ("SERVICE_NAME", "x" * 101, "SERVICE_NAME must be one line of text"),
    # Issue 26, point 3: a council colour white text cannot be read on, or the focus colour not seen on.
    ("BRAND_COLOUR", "#ffdd00", "BRAND_COLOUR white text on #ffdd00 (and #ffdd00 on white) is 1.35:1, below WCAG AA"),
    ("BRAND_COLOUR", "#777777", "BRAND_COLOUR white text on #777777 (and #777777 on white) is 4.48:1, below WCAG AA"),
    ("BRAND_COLOUR", "purple", "BRAND_COLOUR must be a colour like #3d2466"),
    ("COUNCIL_SITE_URL", "http://www.kent.gov.uk", "COUNCIL_SITE_URL must be a path on this service"),
])
def test_every_setting_is_checked_with_one_line_naming_it(setting, value, says):
    with pytest.raises(UnsafeConfig) as refused:
        config_from_env({setting: value})
    assert str(refused.value).startswith(says) and "\n" not in str(refused.value)


def test_every_bad_setting_gets_its_own_line_and_code_reads_no_environment(monkeypatch):
    """Issue 23, point 5: declared once (pydantic-settings), refused a line a setting, secrets
    never shown; `Config(...)` in code is what it is given, whatever the environment says."""
    with pytest.raises(UnsafeConfig) as refused:
        config_from_env({"PORT": "http", "OFFER_HOLD_HOURS": "0", "MAIL_FROM": "team@localhost",
                         "SIGN_IN_DELAY_MS": "soon"})
    lines = str(refused.value).splitlines()
    assert sorted(line.split()[0] for line in lines) == ["MAIL_FROM", "OFFER_HOLD_HOURS", "PORT", "SIGN_IN_DELAY_MS"]
    assert "OFFER_HOLD_HOURS must be 1 or more, not 0" in lines
    assert config_from_env({"SIGN_IN_DELAY_MS": "250"}).sign_in_delay_seconds == 0.25
    monkeypatch.setenv("PORT", "1234")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert Config().port == 8000 and Config().secret_key.get_secret_value() == ""
    config = config_from_env({"SECRET_KEY": "a-secret-that-stays-hidden", "SMTP_PASSWORD": "mail-secret"})
    assert "a-secret-that-stays-hidden" not in repr(config) and "mail-secret" not in str(config)
    assert config.secret_key.get_secret_value() == "a-secret-that-stays-hidden"


def test_check_prints_the_configuration_with_secrets_hidden(tmp_path):
    url = support.new_database("sqlite", tmp_path)
    shown = support.run_cli(url, "check", env={"SECRET_KEY": "s3cret-key-value", "SMTP_PASSWORD": "mail-pass-value",
                                               "METRICS": "on", "METRICS_TOKEN": "scrape-token-value-1234"})
    assert "s3cret-key-value" not in shown.stdout and "mail-pass-value" not in shown.stdout
    assert "scrape-token-value-1234" not in shown.stdout
    assert re.search(r"SECRET_KEY\s+\(set, hidden\)", shown.stdout) and re.search(r"METRICS\s+True", shown.stdout)
    assert shown.stdout.rstrip().endswith("database: reachable, every migration applied")
    bad = support.run_cli(url, "check", env={"PORT": "-1"}, check=False)
    assert bad.returncode == 2 and bad.stderr.strip() == "Configuration error: PORT must be a port number from 1 to 65535, not -1"


async def test_organisers_read_and_export_the_audit_trail_by_date_and_event(signed_in, now):
    first = await f.event(now=now, title="West Safeguarding Forum")
    second = await f.event(now=now, title="South Safeguarding Forum")
    for n, event_id in ((1, first), (2, second), (3, first)):
        await book_place(event_id, f.request(n, setting="=HYPERLINK(\"x\")"), source=BookingSource.web,
                         actor="public", now=now, config=f.CONFIG)
    page = await signed_in.get("/organisers/audit", params={"event": str(first)})
    assert page.status_code == 200 and "2 records" in page.text and "South Safeguarding Forum" not in page.text
    today = now.astimezone(dt.timezone.utc).date()
    dated = await signed_in.get("/organisers/audit", params={"since": (today - dt.timedelta(days=1)).isoformat(),
                                                             "until": (today + dt.timedelta(days=1)).isoformat()})
    assert int(re.search(r'id="audit-count">(\d+) records', dated.text).group(1)) >= 3
    none = await signed_in.get("/organisers/audit", params={"until": (today - dt.timedelta(days=3)).isoformat()})
    assert "0 records" in none.text
    bad = await signed_in.get("/organisers/audit", params={"since": "13/03/2024"})
    assert bad.status_code == 400 and 'href="#from"' in bad.text
    export = await signed_in.get("/organisers/audit.csv", params={"event": str(first)})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["When (UTC)", "Action", "Actor"] and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {"booking.confirmed"} and {r[3] for r in rows[1:]} == {"West Safeguarding Forum"}


async def test_organisers_see_when_each_job_last_ran(signed_in, now):
    await run_timed_jobs(config=f.CONFIG, now=now)
    page = await signed_in.get("/organisers/service")
    assert page.status_code == 200
    jobs = page.text[page.text.index('id="jobs"'):]
    assert "Retention purge" in jobs and "people anonymised: 0" in jobs


def test_probes_and_scrapes_are_never_rate_limited(db):
    from tests.organisers.test_accounts import every_route

    app = create_app(Config(database_url=db, secret_key="x", mail_sender_in_process=False, db_pool_size=0))
    probes = {path: handler.opt.get("limit") for path, _, handler in every_route(app)
              if path in ("/healthz", "/readyz", "/metrics")}
    assert probes == {"/healthz": None, "/readyz": None, "/metrics": None}


def test_the_request_log_records_the_status_sent_and_no_error_repeats_the_address(db):
    """A refusal outside the route (CSRF 403, a body too large 413, a wrong type 415, a limit
    429, a validation 400) is logged with the status the client got, never as a 500; and no
    error detail repeats the request's address or its query."""
    from litestar.testing import TestClient

    with json_log() as stream:
        app = create_app(Config(database_url=db, secret_key="x", mail_sender_in_process=False,
                                password_profile="cheapest", db_pool_size=0))
        with TestClient(app) as client:
            answers = [client.post("/organisers/sign-in", data={"email": "a@b.example.org"}),
                       client.post("/api/events/1/bookings", content=b"x" * 3_000_000,
                                   headers={"content-type": "application/json"}),
                       client.post("/api/events/1/bookings", content=b"<a/>", headers={"content-type": "application/xml"}),
                       client.get("/api/events?quadrant=nowhere&secret=s3cr3t-in-query")]
            verify = [client.get("/certificates/verify?code=ABCD-EFGH") for _ in range(61)]
            answers.append(verify[-1])
    assert [a.status_code for a in answers] == [403, 413, 415, 400, 429]
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    statuses = [line["status"] for line in logged if line["logger"] == "app.requests"]
    assert statuses[:4] == [403, 413, 415, 400] and statuses[-1] == 429 and 500 not in statuses
    assert all("x-request-id" in a.headers for a in answers)
    assert "s3cr3t-in-query" not in answers[3].text and "/api/events" not in answers[3].json()["detail"]
    assert "s3cr3t-in-query" not in stream.getvalue()
