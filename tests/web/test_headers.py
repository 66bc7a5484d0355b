"""Security headers on every answer, as a browser receives them: error pages, 404s and the API
included. Tried as an attacker would: frame the page, inject a script, read a token from the
referrer or from a shared cache."""

import re

from tests.support import app_client

from app.config import Config
from app.main import create_app
from app.web.headers import CONTENT_SECURITY_POLICY
from tests import factories as f

PATHS = ["/", "/no-such-page", "/events/999999", "/api/events", "/api/no-such-thing", "/api/bookings/not-a-token",
         "/bookings/not-a-token", "/organisers/sign-in", "/organisers", "/calendar/programme.ics",
         "/assets/council.css", "/questionnaire/not-a-token", "/api/events?quadrant=%00"]


async def test_every_answer_carries_the_security_headers_and_one_charset(db, now):
    event_id = await f.event(now=now)
    app = create_app(Config(database_url=db, base_url="https://bookings.example.gov.uk", secret_key="x",
                            db_pool_size=0, mail_sender_in_process=False))
    async with app_client(app, "https://bookings.example.gov.uk") as client:
        booked = await client.post(f"/api/events/{event_id}/bookings", json=f.api_body(1))
        token = booked.json()["manage_token"]
        answers = {path: await client.get(path, follow_redirects=False)
                   for path in [*PATHS, f"/bookings/{token}", f"/api/bookings/{token}", f"/bookings/{token}/invite.ics"]}
        answers["POST /api (malformed)"] = await client.post(f"/api/events/{event_id}/bookings", content=b"{")
        answers["DELETE / (405)"] = await client.delete("/")
    for what, answer in answers.items():
        headers = answer.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, what
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", what
        assert headers["referrer-policy"] == "no-referrer", what
        assert headers["strict-transport-security"].startswith("max-age="), what
        assert len(headers.get_list("content-security-policy")) == 1, what
        content_type = headers.get("content-type", "")
        assert content_type.count("charset") <= 1, (what, content_type)
        if content_type.startswith("text/"):
            assert "charset=utf-8" in content_type, (what, content_type)
        if what in ("/", "/api/events"):  # the public programme: no personal data, kept and revalidated
            assert headers["cache-control"] == "no-cache", what
        elif not what.startswith(("/assets", "/calendar")):  # personal data, a token or an error
            assert headers["cache-control"] == "no-store", (what, headers.get("cache-control"))


def test_the_policy_allows_no_inline_script_but_the_templates_one_line_flag():
    script_src = re.search(r"script-src ([^;]+)", CONTENT_SECURITY_POLICY).group(1).split()
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert script_src[0] == "'self'" and len(script_src) == 2 and script_src[1].startswith("'sha256-")
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


async def test_pages_hold_no_inline_script_or_style(client, now):
    """What the policy would block in a browser is not there to block (the browser tests check
    the pages work with it)."""
    event_id = await f.event(now=now)
    for path in ("/", f"/events/{event_id}", f"/events/{event_id}/book", "/organisers/sign-in"):
        html = (await client.get(path)).text
        inline = [m for m in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)]
        assert len(inline) == 1 and "js-enabled" in inline[0], path  # GOV.UK's flag, allowed by its hash
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), path


async def test_over_plain_http_there_is_no_hsts(client):
    assert "strict-transport-security" not in (await client.get("/")).headers
