"""The service's one settings object, read from the environment once."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
TEMPLATES_DIR = PROJECT_ROOT / "templates"


def _default_database_url() -> str:
    return f"sqlite:///{DATA_DIR / 'bookings.sqlite'}"


@dataclass(frozen=True)
class Config:
    """Everything configurable about a running service. Built from the environment by
    `get_config()`; tests build their own with `Config(...)` or `with_overrides`."""

    database_url: str = field(default_factory=_default_database_url)
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    #: PostgreSQL connection pool size per app process (keep processes x pool < 100); 0: no pool.
    db_pool_size: int = 10
    #: SMTP server; empty: write each email as an .eml file under `mail_dir` instead.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_tls: bool = False
    mail_from: str = "workforcedevelopment@essex.gov.uk"
    mail_from_name: str = "Education Safeguarding Team"
    #: The team's monitored mailbox: ORGANIZER of every invite, where replies go.
    organiser_mailbox: str = "workforcedevelopment@essex.gov.uk"
    mail_dir: Path = field(default_factory=lambda: DATA_DIR / "outbox")
    #: Run the email sender inside each app process (off when a separate worker does it).
    mail_sender_in_process: bool = True
    #: Reminder emails go this many days before an event.
    reminder_days: int = 3
    #: Questionnaire reminders go to settings not yet submitted this many days before the deadline.
    questionnaire_reminder_days: int = 7
    #: Minutes in a Teams meeting (rejoins summed) that count as attended.
    teams_min_minutes: int = 30
    #: Hours a waiting-list offer holds a place.
    offer_hold_hours: int = 48
    #: argon2-cffi's parameter set for new password hashes (argon2.profiles): keep the default in
    #: service; the test suite uses "cheapest".
    password_profile: str = "rfc_9106_low_memory"
    service_name: str = "Safeguarding forums and training"
    council_name: str = "Essex County Council"
    booking_support_email: str = "workforcedevelopment@essex.gov.uk"
    #: Where replies go, by what an email is about: bookings, invites and reminders to the booking
    #: help address; the questionnaire and no-show chases to the safeguarding team's mailbox
    #: (empty: the organiser mailbox). The source documents give one address for both, so both
    #: default to it; a council with a separate team mailbox sets REPLY_TO_SAFEGUARDING.
    reply_to_bookings: str = "workforcedevelopment@essex.gov.uk"
    reply_to_safeguarding: str = ""
    #: The abuse limits (app.web.limits); RATE_LIMITS=off lifts them for benchmarks and load tests.
    rate_limits: bool = True
    #: Redis for the limits' counters shared by every process; empty: the database (PostgreSQL)
    #: or memory (the one embedded SQLite process).
    redis_url: str = ""
    #: Reverse proxies (addresses or networks) whose X-Forwarded-For names the client.
    trusted_proxies: tuple[str, ...] = ()
    #: Active bookings (confirmed, offered or waiting, for events not yet ended) one email address
    #: may hold through the public form and API; organisers can book past it.
    max_active_bookings: int = 8

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    def with_overrides(self, **changes: object) -> "Config":
        return replace(self, **changes)  # type: ignore[arg-type]


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class UnsafeConfig(ValueError):
    """A setting is missing or wrong; the message names it, in one line."""


def _int(env: dict[str, str] | os._Environ[str], name: str, default: int) -> int:
    value = env.get(name, "")
    if value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise UnsafeConfig(f"{name} must be a whole number, not {value!r}") from None


def config_from_env(env: dict[str, str] | os._Environ[str] = os.environ) -> Config:
    """Read the settings from environment variables (see README, Configuration). Raises
    UnsafeConfig, naming the setting, if one is unusable or would leave a public service unsafe."""
    port = _int(env, "PORT", 8000)
    host = env.get("HOST", "127.0.0.1")
    base_url = (env.get("BASE_URL") or f"http://{host}:{port}").rstrip("/")
    secret = env.get("SECRET_KEY") or ""
    if base_url.startswith("https://"):
        if not secret:
            raise UnsafeConfig("SECRET_KEY must be set when BASE_URL is https: sessions and forms are signed with it, "
                               "and every process must share it")
        if not env.get("SMTP_HOST") and not _flag(env.get("MAIL_TO_FILES"), False):
            raise UnsafeConfig("SMTP_HOST must be set when BASE_URL is https (or MAIL_TO_FILES=true to write every "
                               "email as an .eml file on purpose)")
    if not secret:
        # A per-process random key is safe (nothing persistent is signed with it yet) but
        # sessions would not survive a restart or span processes: production sets SECRET_KEY.
        secret = secrets.token_urlsafe(32)
    return Config(
        database_url=env.get("DATABASE_URL") or _default_database_url(),
        host=host,
        port=port,
        base_url=base_url,
        secret_key=secret,
        db_pool_size=_int(env, "DB_POOL_SIZE", 10),
        smtp_host=env.get("SMTP_HOST", ""),
        smtp_port=_int(env, "SMTP_PORT", 587),
        smtp_username=env.get("SMTP_USERNAME", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        smtp_starttls=_flag(env.get("SMTP_STARTTLS"), True),
        smtp_tls=_flag(env.get("SMTP_TLS"), False),
        mail_from=env.get("MAIL_FROM") or Config.mail_from,
        organiser_mailbox=env.get("ORGANISER_MAILBOX") or Config.organiser_mailbox,
        reply_to_bookings=_address(env, "REPLY_TO_BOOKINGS", Config.reply_to_bookings),
        reply_to_safeguarding=_address(env, "REPLY_TO_SAFEGUARDING",
                                       env.get("ORGANISER_MAILBOX") or Config.organiser_mailbox),
        mail_dir=Path(env["MAIL_DIR"]) if env.get("MAIL_DIR") else DATA_DIR / "outbox",
        mail_sender_in_process=_flag(env.get("MAIL_SENDER_IN_PROCESS"), True),
        reminder_days=_int(env, "REMINDER_DAYS", 3),
        questionnaire_reminder_days=_int(env, "QUESTIONNAIRE_REMINDER_DAYS", 7),
        teams_min_minutes=_int(env, "TEAMS_MIN_MINUTES", 30),
        offer_hold_hours=_int(env, "OFFER_HOLD_HOURS", 48),
        password_profile=_password_profile(env.get("PASSWORD_PROFILE") or Config.password_profile),
        rate_limits=_flag(env.get("RATE_LIMITS"), True),
        redis_url=env.get("REDIS_URL", ""),
        trusted_proxies=_networks(env.get("TRUSTED_PROXIES", "")),
        max_active_bookings=_int(env, "MAX_ACTIVE_BOOKINGS", 8),
    )


def _address(env: dict[str, str] | os._Environ[str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+", value):
        raise UnsafeConfig(f"{name} must be one email address, like team@example.gov.uk, not {value!r}")
    return value


def _networks(value: str) -> tuple[str, ...]:
    import ipaddress

    networks = tuple(part.strip() for part in value.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise UnsafeConfig(f"TRUSTED_PROXIES must list IP addresses or networks, not {network!r}") from None
    return networks


def _password_profile(name: str) -> str:
    from argon2 import profiles

    if not hasattr(profiles, name.upper()):
        raise UnsafeConfig(f"PASSWORD_PROFILE must name one of argon2's profiles, like rfc_9106_low_memory, not {name!r}")
    return name


@lru_cache(maxsize=1)
def get_config() -> Config:
    return config_from_env()
