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
    #: Attendance (taps, QR, walk-ins) can be recorded from this many minutes before the start;
    #: imports and "mark everyone left as absent" only once the event has ended.
    checkin_opens_before_minutes: int = 60
    #: Minutes in a Teams meeting (rejoins summed) that count as attended.
    teams_min_minutes: int = 30
    #: Hours a waiting-list offer holds a place.
    offer_hold_hours: int = 48
    #: argon2-cffi's parameter set for new password hashes (argon2.profiles): keep the default in
    #: service; the test suite uses "cheapest".
    password_profile: str = "rfc_9106_low_memory"
    service_name: str = "Safeguarding forums and training"
    council_name: str = "Essex County Council"
    #: Who signs certificates (CERTIFICATE_SIGNATORY_NAME, _ROLE); empty, a certificate reads
    #: "Issued by the Education Safeguarding Team": never a real officer's name by default.
    certificate_signatory_name: str = ""
    certificate_signatory_role: str = ""
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
    #: One line per log event: "plain" (text) or "json".
    log_format: str = "plain"
    log_level: str = "INFO"
    #: Prometheus metrics at /metrics: off unless METRICS=on, and then only with METRICS_TOKEN
    #: as a bearer token, so they are never public by accident.
    metrics: bool = False
    metrics_token: str = ""
    #: The outbox's oldest waiting message older than this is logged as a warning (an SMTP
    #: outage shows in logs and metrics, never in readiness).
    outbox_warn_minutes: int = 15
    #: Seconds a request's body may take to arrive (app.web.slow_clients); 0: no limit.
    body_read_timeout_seconds: int = 30
    #: The delay before answering a device's third failed sign-in (doubling for the fourth);
    #: the fifth refuses that device for 15 minutes (app.organisers.throttle).
    sign_in_delay_seconds: float = 1.0

    @property
    def safeguarding_mailbox(self) -> str:
        """Where replies about safeguarding go, and the address pages give for the team."""
        return self.reply_to_safeguarding or self.organiser_mailbox

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


def _int(env: dict[str, str] | os._Environ[str], name: str, default: int, *, minimum: int | None = None) -> int:
    value = env.get(name, "")
    if value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise UnsafeConfig(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise UnsafeConfig(f"{name} must be {minimum} or more, not {number}")
    return number


def _choice(env: dict[str, str] | os._Environ[str], name: str, choices: tuple[str, ...], default: str, *,
            upper: bool = False) -> str:
    value = (env.get(name) or default).strip()
    value = value.upper() if upper else value.lower()
    if value not in choices:
        raise UnsafeConfig(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


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
    metrics = _flag(env.get("METRICS"), False)
    metrics_token = env.get("METRICS_TOKEN", "")
    if metrics and len(metrics_token) < 16:
        raise UnsafeConfig("METRICS_TOKEN must be set (16 characters or more) when METRICS is on: Prometheus sends it "
                           "as a bearer token, so the metrics are never public by accident")
    config = Config(
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
        mail_from=_address(env, "MAIL_FROM", Config.mail_from),
        organiser_mailbox=_address(env, "ORGANISER_MAILBOX", Config.organiser_mailbox),
        council_name=_name(env, "COUNCIL_NAME", Config.council_name),
        service_name=_name(env, "SERVICE_NAME", Config.service_name),
        booking_support_email=_address(env, "SUPPORT_EMAIL", Config.booking_support_email),
        reply_to_bookings=_address(env, "REPLY_TO_BOOKINGS", Config.reply_to_bookings),
        reply_to_safeguarding=_address(env, "REPLY_TO_SAFEGUARDING",
                                       env.get("ORGANISER_MAILBOX") or Config.organiser_mailbox),
        mail_dir=Path(env["MAIL_DIR"]) if env.get("MAIL_DIR") else DATA_DIR / "outbox",
        mail_sender_in_process=_flag(env.get("MAIL_SENDER_IN_PROCESS"), True),
        reminder_days=_int(env, "REMINDER_DAYS", 3),
        questionnaire_reminder_days=_int(env, "QUESTIONNAIRE_REMINDER_DAYS", 7),
        teams_min_minutes=_int(env, "TEAMS_MIN_MINUTES", 30),
        certificate_signatory_name=env.get("CERTIFICATE_SIGNATORY_NAME", "").strip(),
        certificate_signatory_role=env.get("CERTIFICATE_SIGNATORY_ROLE", "").strip(),
        offer_hold_hours=_int(env, "OFFER_HOLD_HOURS", 48),
        checkin_opens_before_minutes=_int(env, "CHECKIN_OPENS_BEFORE", 60, minimum=0),
        password_profile=_password_profile(env.get("PASSWORD_PROFILE") or Config.password_profile),
        rate_limits=_flag(env.get("RATE_LIMITS"), True),
        redis_url=env.get("REDIS_URL", ""),
        trusted_proxies=_networks(env.get("TRUSTED_PROXIES", "")),
        max_active_bookings=_int(env, "MAX_ACTIVE_BOOKINGS", 8),
        log_format=_choice(env, "LOG_FORMAT", ("plain", "json"), "plain"),
        log_level=_choice(env, "LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", upper=True),
        metrics=metrics,
        metrics_token=metrics_token,
        outbox_warn_minutes=_int(env, "OUTBOX_WARN_MINUTES", 15, minimum=1),
        sign_in_delay_seconds=_int(env, "SIGN_IN_DELAY_MS", 1000, minimum=0) / 1000,
        body_read_timeout_seconds=_int(env, "BODY_READ_TIMEOUT", 30, minimum=0),
    )
    _check(config)
    return config


#: Settings whose values `python -m app check` never prints.
SECRETS = ("secret_key", "smtp_password", "metrics_token")


def _check(config: Config) -> None:
    """What the constructor's parsing cannot see: values out of range or unusable together."""
    if not config.database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise UnsafeConfig("DATABASE_URL must start with sqlite:///, postgres:// or postgresql://, "
                           f"not {config.database_url.split(':', 1)[0]!r}")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", config.base_url):
        raise UnsafeConfig(f"BASE_URL must be the service's address, like https://bookings.example.gov.uk, not "
                           f"{config.base_url!r}")
    for name, value in (("PORT", config.port), ("SMTP_PORT", config.smtp_port)):
        if not 1 <= value <= 65535:
            raise UnsafeConfig(f"{name} must be a port number from 1 to 65535, not {value}")
    if config.smtp_starttls and config.smtp_tls and config.smtp_host:
        raise UnsafeConfig("SMTP_TLS and SMTP_STARTTLS cannot both be on: choose one (TLS from the start, port "
                           "465; or STARTTLS, port 587)")
    for name, value in (("DB_POOL_SIZE", config.db_pool_size), ("REMINDER_DAYS", config.reminder_days),
                        ("QUESTIONNAIRE_REMINDER_DAYS", config.questionnaire_reminder_days),
                        ("TEAMS_MIN_MINUTES", config.teams_min_minutes)):
        if value < 0:
            raise UnsafeConfig(f"{name} must be 0 or more, not {value}")
    for name, value in (("OFFER_HOLD_HOURS", config.offer_hold_hours),
                        ("MAX_ACTIVE_BOOKINGS", config.max_active_bookings)):
        if value < 1:
            raise UnsafeConfig(f"{name} must be 1 or more, not {value}")
    if config.redis_url and not config.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise UnsafeConfig(f"REDIS_URL must start with redis://, rediss:// or unix://, not {config.redis_url!r}")


def effective(config: Config) -> list[tuple[str, str]]:
    """Every setting as it is in force, secrets hidden (`python -m app check`)."""
    from dataclasses import fields

    out = []
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name in SECRETS:
            shown = "(set, hidden)" if value else "(not set)"
        elif f.name in ("database_url", "redis_url") and "@" in str(value):
            scheme, rest = str(value).split("://", 1)
            shown = f"{scheme}://(credentials hidden)@{rest.rsplit('@', 1)[1]}"
        elif isinstance(value, tuple):
            shown = ", ".join(value) or "(none)"
        else:
            shown = str(value)
        out.append((f.name.upper(), shown))
    return out


def _address(env: dict[str, str] | os._Environ[str], name: str, default: str) -> str:
    """One email address, checked as the booking form checks one (email-validator, through
    app.validation), not by a pattern of its own."""
    from app.validation import work_email

    value = env.get(name, "").strip() or default
    if work_email(value) != value.lower():  # None, or it read an address out of "Name <address>"
        raise UnsafeConfig(f"{name} must be one email address, like team@example.gov.uk, not {value!r}")
    return value


def _name(env: dict[str, str] | os._Environ[str], name: str, default: str) -> str:
    """A name shown on every page and email: one line of ordinary text, 100 characters at most."""
    value = env.get(name, "").strip() or default
    if len(value) > 100 or any(ord(c) < 32 or c in "<>" for c in value):
        raise UnsafeConfig(f"{name} must be one line of text, 100 characters or fewer, without < or >")
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
