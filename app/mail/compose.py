"""Composing every email of the service: `compose_email` renders templates/emails/<name>.txt and
.html with the context all emails share; `render` turns it into MIME with an iTIP invite where
there is one. No email is assembled anywhere else.

Structure, as Outlook and Gmail expect for a meeting they will add to the calendar:
multipart/mixed [ multipart/alternative [ text/plain, text/html (or multipart/related with an
inline image), text/calendar; method=… ], application/ics attachment "invite.ics" ].
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.config import TEMPLATES_DIR, Config


@dataclass(frozen=True)
class Email:
    recipient: str
    subject: str
    text: str
    html: str
    ics: bytes | None = None
    ics_method: str = "REQUEST"
    #: An image shown in the HTML part, referenced there as src="cid:<inline_image_cid>".
    inline_png: bytes | None = None
    inline_image_cid: str = ""


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # HTML emails are escaped; plain-text ones must not be (no &amp; in a text email).
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)),
                       autoescape=select_autoescape(enabled_extensions=("html",), default=False),
                       trim_blocks=True, lstrip_blocks=False, keep_trailing_newline=True)


def compose_email(template: str, *, recipient: str, subject: str, config: Config, ics: bytes | None = None,
                  ics_method: str = "REQUEST", inline_png: bytes | None = None, inline_image_cid: str = "",
                  **context: object) -> Email:
    """The one way to make an email: templates/emails/<template>.txt and .html, rendered with the
    subject, the council's name and the help address, plus `context`."""
    env = _environment()
    values = {"subject": subject, "council_name": config.council_name,
              "booking_support_email": config.booking_support_email, "base_url": config.base_url, **context}
    return Email(recipient=recipient, subject=subject,
                 text=env.get_template(f"emails/{template}.txt").render(values),
                 html=env.get_template(f"emails/{template}.html").render(values),
                 ics=ics, ics_method=ics_method, inline_png=inline_png, inline_image_cid=inline_image_cid)


def render(email: Email, *, mail_from: str, from_name: str, reply_to: str, now: dt.datetime,
           message_id: str | None = None) -> tuple[str, str]:
    """The Message-ID and the whole message as text (ASCII: every part is transfer-encoded)."""
    domain = mail_from.rsplit("@", 1)[-1] or "localhost"
    message_id = message_id or make_msgid(domain=domain)
    # Long subjects are kept on one line (RFC 5322 allows 998): folded ones show a stray
    # leading space in some clients. Bodies are transfer-encoded in short lines regardless.
    msg = EmailMessage(policy=SMTP.clone(max_line_length=998))
    msg["From"] = formataddr((from_name, mail_from))
    msg["To"] = email.recipient  # one recipient per message, always
    msg["Reply-To"] = reply_to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(now.astimezone(dt.timezone.utc))
    msg["Message-ID"] = message_id
    msg.set_content(email.text, cte="quoted-printable")
    msg.add_alternative(email.html, subtype="html", cte="quoted-printable")
    if email.inline_png is not None:
        html_part = msg.get_payload()[-1]
        html_part.add_related(email.inline_png, maintype="image", subtype="png", cid=f"<{email.inline_image_cid}>",
                              filename="check-in.png", disposition="inline")
    if email.ics is not None:
        msg.add_alternative(email.ics.decode("utf-8"), subtype="calendar", cte="quoted-printable",
                            params={"method": email.ics_method})
        msg.add_attachment(email.ics, maintype="application", subtype="ics", filename="invite.ics")
    return message_id, msg.as_bytes().decode("ascii")
