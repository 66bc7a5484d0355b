"""Issue 26, point 3 (in part): the council's colour and footer links from configuration, in pages
(through /brand.css, no Sass build at start), emails and certificates."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.config import Config
from app.mail.compose import compose_email
from app.main import create_app
from tests.support import app_client

KENT = {"council_name": "Kent County Council", "brand_colour": "#1d70b8", "council_site_url": "https://www.kent.gov.uk",
        "privacy_url": "https://www.kent.gov.uk/privacy"}


async def test_the_councils_colour_and_links_are_in_its_pages(db):
    app = create_app(Config(database_url=db, base_url="http://testserver.local", secret_key="s",
                            mail_sender_in_process=False, password_profile="cheapest", **KENT))
    async with app_client(app) as client:
        sheet = await client.get("/brand.css")
        assert sheet.headers["content-type"].startswith("text/css")
        assert sheet.text == ":root{--council-brand:#1d70b8}\n"
        page = await client.get("/privacy")
        assert '<link rel="stylesheet" href="/brand.css">' in page.text
        assert '<a class="govuk-footer__link" href="https://www.kent.gov.uk">Kent County Council</a>' in page.text
        assert '<a class="govuk-footer__link" href="https://www.kent.gov.uk/privacy">Privacy notice</a>' in page.text
    essex = Config(database_url=db)  # Essex's as the default
    assert essex.brand_colour == "#3d2466" and essex.council_site_url == "https://www.essex.gov.uk"


def test_the_councils_colour_and_links_are_in_its_emails():
    config = Config(base_url="https://bookings.kent.example", **{**KENT, "privacy_url": "/privacy"})
    email = compose_email("training_record", recipient="jo@school.example.org", subject="Your record", config=config,
                          name="Jo", link="https://bookings.kent.example/my-record/x", expires="Monday 14 December 2026")
    assert "background:#1d70b8" in email.html
    assert 'href="https://bookings.kent.example/privacy"' in email.html and 'href="https://www.kent.gov.uk"' in email.html
    assert 'href="https://bookings.kent.example/accessibility"' in email.html


LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        '<rect width="120" height="40" fill="#ffffff"/><circle cx="20" cy="20" r="15" fill="#00703c"/></svg>')


def test_a_logo_must_be_an_svg_without_script(tmp_path):
    from app.config import UnsafeConfig, config_from_env

    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "script.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')
    for name, says in (("logo.png", "not well-formed XML"), ("script.svg", "without script"),
                       ("missing.svg", "is not a file")):
        with pytest.raises(UnsafeConfig) as refused:
            config_from_env({"LOGO_SVG": str(tmp_path / name)})
        assert str(refused.value).startswith("LOGO_SVG must be") and says in str(refused.value)


async def test_the_logo_is_on_pages_in_emails_as_a_png_and_on_certificates(db, tmp_path):
    import io
    from email import message_from_string, policy

    import PIL.Image

    from app.mail.outbox import prepare

    (tmp_path / "kent.svg").write_text(LOGO)
    config = Config(database_url=db, base_url="http://testserver.local", secret_key="s", mail_sender_in_process=False,
                    password_profile="cheapest", logo_svg=tmp_path / "kent.svg", **KENT)
    async with app_client(create_app(config)) as client:
        logo = await client.get("/logo.svg")
        assert logo.headers["content-type"].startswith("image/svg+xml") and logo.text == LOGO
        assert '<img src="/logo.svg" alt="" class="council-header__logo">' in (await client.get("/privacy")).text
    email = compose_email("training_record", recipient="jo@school.example.org", subject="Your record", config=config,
                          name="Jo", link="http://testserver.local/my-record/x", expires="Monday 14 December 2026")
    message = message_from_string(prepare(email, config=config, now=dt.datetime.now(dt.timezone.utc)).raw,
                                  policy=policy.default)
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo@safeguarding-bookings>" and 'src="cid:logo@safeguarding-bookings"' in email.html
    assert PIL.Image.open(io.BytesIO(image.get_content())).size == (240, 80)  # drawn at twice the 40 px shown
    # The certificate carries it beside the council's name (with its QR code: two images).
    import pypdf

    from app.certificates.services import CertificateView, certificate_pdf_apart

    now = dt.datetime(2026, 3, 5, 14, tzinfo=dt.timezone.utc)
    view = CertificateView(id=1, booking_id=1, code="K7QF-M2XD-9P4R-WT3H", person_name="Jo Barclay",
                           setting_name="Oak Nursery", event_title="Prevent awareness", starts_at=now,
                           ends_at=now + dt.timedelta(hours=1), online=True, minutes=None, issue=1, issued_at=now,
                           withdrawn_at=None, withdrawn_reason="", feedback_token="t")
    page = pypdf.PdfReader(io.BytesIO(await certificate_pdf_apart(view, config))).pages[0]
    drawn = page.get_contents().get_data().decode("latin-1")
    assert "Kent County Council: Education Safeguarding Team" in page.extract_text()
    assert re.search(r"\b0 0\.439\d* 0\.235\d* (rg|sc)", drawn), "the logo's green circle is not drawn"


async def test_with_no_logo_there_is_none(db):
    app = create_app(Config(database_url=db, base_url="http://testserver.local", secret_key="s",
                            mail_sender_in_process=False))
    async with app_client(app) as client:
        assert (await client.get("/logo.svg")).status_code == 404
        assert "council-header__logo" not in (await client.get("/privacy")).text


async def test_invites_come_in_the_councils_name(db, now):
    from icalendar import Calendar

    from app.bookings.notices import booking_invite
    from app.bookings.records import get_booking
    from app.bookings.services import book_place
    from app.tables.bookings import BookingSource
    from tests import factories as f

    config = f.CONFIG.model_copy(update={"council_name": "Kent County Council"})
    event_id = await f.event(now=now)
    made = await book_place(event_id, f.request(1), source=BookingSource.web, actor="public", now=now, config=config)
    ics = await booking_invite(await get_booking(made.manage_token, now), config, now)
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    assert event["ORGANIZER"].params["CN"] == "Education Safeguarding Team, Kent County Council"
