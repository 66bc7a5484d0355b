"""Issue 26, point 3 (in part): the council's colour and footer links from configuration, in pages
(through /brand.css, no Sass build at start), emails and certificates."""

from __future__ import annotations

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
