"""Security headers on every answer, error pages and 404s included (a `before_send` hook, so no
answer can miss them): a strict Content-Security-Policy, HSTS over https, no referrer, and
`Cache-Control: no-store` unless a route chose its own caching (static assets, feeds)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import govuk_frontend_jinja

from app.config import Config

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


def _template_script_hash() -> str:
    """The CSP hash of GOV.UK Frontend's one inline script (the template's `js-enabled` flag),
    read from the template itself so that an upgrade of the library cannot silently break it."""
    template = Path(govuk_frontend_jinja.__file__).parent / "templates" / "template.html"
    match = re.search(r"<script[^>]*>(.*?)</script>", template.read_text(), re.S)
    if match is None:
        return ""
    digest = hashlib.sha256(match.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


#: No inline script but the template's flag, no inline style, nothing from another site, never
#: in a frame, forms post only here.
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self' {_template_script_hash()}; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
#: The OpenAPI documentation pages (Litestar's renderers load their script from a CDN and start it
#: inline); they hold no personal data.
SCHEMA_PAGES_POLICY = (
    "default-src 'self' https://cdn.jsdelivr.net https://unpkg.com; script-src 'self' 'unsafe-inline' "
    "https://cdn.jsdelivr.net https://unpkg.com; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
    "https://unpkg.com https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://cdn.jsdelivr.net; frame-ancestors 'none'; object-src 'none'"
)


def security_headers(config: Config) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook: Litestar runs it on every message it sends, including the router's
    own 404 and 405 answers and those of exception handlers, which middleware does not see."""
    fixed: list[tuple[bytes, bytes]] = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        # Manage, offer, questionnaire and invitation links carry a secret token: never send an
        # address of this service to another site.
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if config.base_url.startswith("https://"):
        fixed.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    page_policy, schema_policy = CONTENT_SECURITY_POLICY.encode(), SCHEMA_PAGES_POLICY.encode()

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
        names = {k.lower() for k, _ in headers}
        headers.extend(fixed)
        headers.append((b"content-security-policy",
                        schema_policy if scope.get("path", "").startswith("/schema") else page_policy))
        if b"cache-control" not in names:
            headers.append((b"cache-control", b"no-store"))
        message["headers"] = headers

    return add_headers


_OURS = {b"x-content-type-options", b"x-frame-options", b"referrer-policy", b"cross-origin-opener-policy",
         b"strict-transport-security", b"content-security-policy"}
