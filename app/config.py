"""The service's one settings object, declared once per setting and read from the environment once.

Each setting is one field of `Config` (pydantic-settings): its type, its default, its bounds, and,
where the variable's name is not the field's in capitals, the variable (`env`). A bad value is
refused at start with one line naming the variable (`UnsafeConfig`), every bad one listed.
`Config(...)` in code and tests reads nothing from the environment; `config_from_env` does.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
TEMPLATES_DIR = PROJECT_ROOT / "templates"

#: GOV.UK Frontend's focus colour, which the council's colour must show.
FOCUS_COLOUR = "#ffdd00"

#: The team's one address in the source documents (bookings, replies, the organisers' mailbox).
TEAM_ADDRESS = "workforcedevelopment@essex.gov.uk"


class UnsafeConfig(ValueError):
    """A setting is missing or wrong; the message names it, one line for each."""


def _env(name: str, **more: Any) -> dict[str, Any]:
    """A field's metadata: the environment variable it is read from (when not its own name in
    capitals) and how a refusal words its bounds."""
    return {"env": name, **more}


def _default_database_url() -> str:
    return f"sqlite:///{DATA_DIR / 'bookings.sqlite'}"


class Config(BaseSettings):
    """Everything configurable about a running service. Built from the environment by
    `get_config()`; code and tests build their own with `Config(...)` or `with_overrides`."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=False)

    database_url: str = Field(default_factory=_default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535, json_schema_extra={"refusal": "must be a port number from 1 to 65535"})
    #: The service's address as its users reach it (default: http://HOST:PORT).
    base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr("")
    #: PostgreSQL connection pool size per app process (keep processes x pool < 100); 0: no pool.
    db_pool_size: int = Field(10, ge=0)
    #: SMTP server; empty: write each email as an .eml file under `mail_dir` instead.
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535,
                           json_schema_extra={"refusal": "must be a port number from 1 to 65535"})
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    smtp_tls: bool = False
    mail_from: str = TEAM_ADDRESS
    mail_from_name: str = "Education Safeguarding Team"
    #: The team's monitored mailbox: ORGANIZER of every invite, where replies go.
    organiser_mailbox: str = TEAM_ADDRESS
    mail_dir: Path = Field(default_factory=lambda: DATA_DIR / "outbox")
    #: Run the email sender inside each app process (off when a separate worker does it).
    mail_sender_in_process: bool = True
    #: Reminder emails go this many days before an event.
    reminder_days: int = Field(3, ge=0)
    #: Questionnaire reminders go to settings not yet submitted this many days before the deadline.
    questionnaire_reminder_days: int = Field(7, ge=0)
    #: Attendance (taps, QR, walk-ins) can be recorded from this many minutes before the start;
    #: imports and "mark everyone left as absent" only once the event has ended.
    checkin_opens_before_minutes: int = Field(60, ge=0, json_schema_extra=_env("CHECKIN_OPENS_BEFORE"))
    #: Minutes in a Teams meeting (rejoins summed) that count as attended.
    teams_min_minutes: int = Field(30, ge=0)
    #: Hours a waiting-list offer holds a place.
    offer_hold_hours: int = Field(48, ge=1)
    #: Hours before an event when waiting-list offers stop: a place freed later is open to anyone.
    offers_stop_hours: int = Field(24, ge=0)
    #: Days before an event with a minimum when organisers are told it is below it.
    minimum_warning_days: int = Field(14, ge=1)
    #: Years after a person's last Prevent awareness training when their clock says it is due
    #: again (after changing it, `python -m app refresh-clocks` works every clock out again).
    prevent_renew_years: int = Field(2, ge=1, le=10)
    #: argon2-cffi's parameter set for new password hashes (argon2.profiles): keep the default in
    #: service; the test suite uses "cheapest".
    password_profile: str = "rfc_9106_low_memory"
    service_name: str = "Safeguarding forums and training"
    #: The council's areas (their labels, the district map, which forums each may book): the file
    #: seeds/councils/<this>.toml. Essex's four quadrants by default.
    council_areas: str = "essex"
    council_name: str = "Essex County Council"
    #: The council's colour: its header band on every page, the band at the top of its emails and
    #: the frame of its certificates, always with white on it. Refused at start unless white text on
    #: it (and it on white) reaches WCAG AA's 4.5:1 and the focus colour on it 3:1.
    brand_colour: str = "#3d2466"
    #: The council's logo, an SVG file (at most 200 KB, no script): beside its name in the header of
    #: every page, in its PDFs, and drawn as a PNG in its emails. None: the name alone (Essex's).
    logo_svg: Path | None = None
    #: The footer's links: the privacy notice, the accessibility statement and the council's site.
    privacy_url: str = "/privacy"
    accessibility_url: str = "/accessibility"
    council_site_url: str = "https://www.essex.gov.uk"
    #: Who signs certificates (CERTIFICATE_SIGNATORY_NAME, _ROLE); empty, a certificate reads
    #: "Issued by the Education Safeguarding Team": never a real officer's name by default.
    certificate_signatory_name: str = ""
    certificate_signatory_role: str = ""
    booking_support_email: str = Field(TEAM_ADDRESS, json_schema_extra=_env("SUPPORT_EMAIL"))
    #: Where replies go, by what an email is about: bookings, invites and reminders to the booking
    #: help address; the questionnaire and no-show chases to the safeguarding team's mailbox
    #: (empty: the organiser mailbox). The source documents give one address for both, so both
    #: default to it; a council with a separate team mailbox sets REPLY_TO_SAFEGUARDING.
    reply_to_bookings: str = TEAM_ADDRESS
    reply_to_safeguarding: str = ""
    #: The abuse limits (app.web.limits); RATE_LIMITS=off lifts them for benchmarks and load tests.
    rate_limits: bool = True
    #: Redis for the limits' counters shared by every process; empty: the database (PostgreSQL)
    #: or memory (the one embedded SQLite process).
    redis_url: str = ""
    #: Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client.
    trusted_proxies: tuple[str, ...] = ()
    #: Active bookings (confirmed, offered or waiting, for events not yet ended) one email address
    #: may hold through the public form and API; organisers can book past it.
    max_active_bookings: int = Field(8, ge=1)
    #: One line per log event: "plain" (text) or "json".
    log_format: Literal["plain", "json"] = "plain"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Prometheus metrics at /metrics: off unless METRICS=on, and then only with METRICS_TOKEN
    #: as a bearer token, so they are never public by accident.
    metrics: bool = False
    metrics_token: SecretStr = SecretStr("")
    #: The outbox's oldest waiting message older than this is logged as a warning (an SMTP
    #: outage shows in logs and metrics, never in readiness).
    outbox_warn_minutes: int = Field(15, ge=1)
    #: Seconds a request's body may take to arrive (app.web.slow_clients); 0: no limit.
    body_read_timeout_seconds: int = Field(30, ge=0, json_schema_extra=_env("BODY_READ_TIMEOUT"))
    #: The delay before answering a device's third failed sign-in (doubling for the fourth);
    #: the fifth refuses that device for 15 minutes (app.organisers.throttle). Set in milliseconds.
    sign_in_delay_seconds: float = Field(1.0, ge=0, json_schema_extra=_env("SIGN_IN_DELAY_MS", milliseconds=True))
    #: Organisers sign in with the council's identity provider (OpenID Connect) when OIDC_ISSUER is
    #: set: its issuer URL (https; http only on loopback, for tests), and this service's client id
    #: and secret as registered with it. The redirect URI to register is
    #: BASE_URL/organisers/sign-in/provider/callback.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    #: The button's words: "Sign in with <this>".
    oidc_provider_name: str = "your council account"
    #: Who may come in: an email domain in this list (empty: any) and, when set, a group in this
    #: list; groups are read from the claim OIDC_GROUPS_CLAIM ("groups"; Entra ID sends object
    #: ids there, "roles" carries app roles) and compared ignoring case.
    oidc_allowed_domains: tuple[str, ...] = ()
    oidc_allowed_groups: tuple[str, ...] = ()
    oidc_groups_claim: str = "groups"
    #: The role from the same claim, read again at every sign-in: a value in OIDC_ADMINISTRATOR_GROUPS
    #: makes an administrator, one in OIDC_ORGANISER_GROUPS an organiser, neither is refused. Both
    #: empty: the role is the one set in this service.
    oidc_administrator_groups: tuple[str, ...] = ()
    oidc_organiser_groups: tuple[str, ...] = ()
    #: Make an account at the first sign-in of someone allowed in; off, an administrator adds them first.
    oidc_create_accounts: bool = False
    #: Password sign-in (and with it password reset links and invitations by password); off, only
    #: the identity provider signs organisers in (the administrators' command line still works).
    password_sign_in: bool = True
    #: The longest a session from the identity provider lasts, in hours.
    session_max_hours: int = Field(10, ge=1, le=24)
    #: Webhooks may reach private, loopback and link-local addresses (a receiver inside the
    #: council's network, or the tests'). Off: every delivery's address must be public. Never
    #: allows plain http.
    webhook_allow_private: bool = False
    #: A file of certificate authorities to trust for webhook receivers, beside the system's (a
    #: council's own CA for its internal systems; the tests' CA).
    webhook_ca_file: Path | None = None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        """What the code passes, then the environment `config_from_env` was given (nothing else:
        no .env file, and `Config(...)` alone never reads os.environ)."""
        return init_settings, _GivenEnvironment(settings_cls)

    # Values checked one by one (each refusal names its variable: `_refusal`).

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgres://", "postgresql://")):
            raise ValueError(f"must start with sqlite:///, postgres:// or postgresql://, not {value.split(':', 1)[0]!r}")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"must be the service's address, like https://bookings.example.gov.uk, not {value!r}")
        return value

    @field_validator("mail_from", "organiser_mailbox", "booking_support_email", "reply_to_bookings")
    @classmethod
    def _one_address(cls, value: str) -> str:
        """One email address, checked as the booking form checks one (email-validator, through
        app.validation), not by a pattern of its own."""
        from app.validation import work_email

        value = value.strip()
        if work_email(value) != value.lower():  # None, or it read an address out of "Name <address>"
            raise ValueError(f"must be one email address, like team@example.gov.uk, not {value!r}")
        return value

    @field_validator("reply_to_safeguarding")
    @classmethod
    def _optional_address(cls, value: str) -> str:
        return cls._one_address(value) if value.strip() else ""

    @field_validator("council_name", "service_name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """A name shown on every page and email: one line of ordinary text, 100 characters at most."""
        value = value.strip()
        if not value or len(value) > 100 or any(ord(c) < 32 or c in "<>" for c in value):
            raise ValueError("must be one line of text, 100 characters or fewer, without < or >")
        return value

    @field_validator("brand_colour")
    @classmethod
    def _brand_colour(cls, value: str) -> str:
        from app.formats import contrast_ratio

        value = value.strip().lower()
        if not re.fullmatch(r"#[0-9a-f]{6}", value):
            raise ValueError(f"must be a colour like #3d2466, not {value!r}")
        white = contrast_ratio(value, "#ffffff")
        focus = contrast_ratio(value, FOCUS_COLOUR)
        if white < 4.5:
            raise ValueError(f"white text on {value} (and {value} on white) is {white:.2f}:1, below WCAG AA's 4.5:1: "
                             "choose a darker colour")
        if focus < 3:  # cannot happen once white passes (the focus yellow is far lighter); kept with the rule
            raise ValueError(f"the focus colour {FOCUS_COLOUR} on {value} is {focus:.2f}:1, below WCAG AA's 3:1")
        return value

    @field_validator("logo_svg")
    @classmethod
    def _logo(cls, value: Path | None) -> Path | None:
        if value is None or str(value) == "":
            return None
        from app.formats import logo_problem

        path = Path(value)
        if (problem := logo_problem(path)) is not None:
            raise ValueError(problem)
        return path

    @field_validator("privacy_url", "accessibility_url", "council_site_url")
    @classmethod
    def _link(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"(https://[^\s/?#]+|)/[^\s\"<>]*", value) and not re.fullmatch(r"https://[^\s/?#\"<>]+", value):
            raise ValueError(f"must be a path on this service (/privacy) or an https:// address, not {value!r}")
        return value

    @field_validator("certificate_signatory_name", "certificate_signatory_role")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("oidc_allowed_domains", "oidc_allowed_groups", "oidc_administrator_groups",
                     "oidc_organiser_groups", mode="before")
    @classmethod
    def _list(cls, value: Any) -> tuple[str, ...]:
        parts = value.split(",") if isinstance(value, str) else list(value)
        return tuple(part.strip().casefold() for part in parts if part.strip())

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        loopback = re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", value)
        if value and not (value.startswith("https://") or loopback):
            raise ValueError(f"must be an https:// address (http:// only on loopback), not {value!r}")
        return value

    @field_validator("council_areas")
    @classmethod
    def _areas(cls, value: str) -> str:
        from app.areas import load_council

        load_council(value.strip())  # AreasInvalid (a ValueError) says what is wrong
        return value.strip()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> tuple[str, ...]:
        parts = value.split(",") if isinstance(value, str) else list(value)
        networks = tuple(part.strip() for part in parts if part.strip())
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"must list IP addresses or networks, not {network!r}") from None
        return networks

    @field_validator("password_profile")
    @classmethod
    def _password_profile(cls, value: str) -> str:
        from argon2 import profiles

        if not hasattr(profiles, value.upper()):
            raise ValueError(f"must name one of argon2's profiles, like rfc_9106_low_memory, not {value!r}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"must start with redis://, rediss:// or unix://, not {value!r}")
        return value

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _choice(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "log_level" else value.strip().lower()

    # Settings unusable together.

    @model_validator(mode="after")
    def _together(self) -> "Config":
        if self.smtp_starttls and self.smtp_tls and self.smtp_host:
            raise ValueError("SMTP_TLS and SMTP_STARTTLS cannot both be on: choose one (TLS from the start, port "
                             "465; or STARTTLS, port 587)")
        if self.metrics and len(self.metrics_token.get_secret_value()) < 16:
            raise ValueError("METRICS_TOKEN must be set (16 characters or more) when METRICS is on: Prometheus sends "
                             "it as a bearer token, so the metrics are never public by accident")
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret.get_secret_value()):
            raise ValueError("OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set with OIDC_ISSUER: the identity provider "
                             "gives both when this service is registered with it")
        if not self.password_sign_in and not self.oidc_issuer:
            raise ValueError("PASSWORD_SIGN_IN can be off only with OIDC_ISSUER set: otherwise no organiser could sign in")
        return self

    @property
    def provider_sign_in(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def safeguarding_mailbox(self) -> str:
        """Where replies about safeguarding go, and the address pages give for the team."""
        return self.reply_to_safeguarding or self.organiser_mailbox

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    def with_overrides(self, **changes: object) -> "Config":
        """A copy with some settings changed, checked as any settings are."""
        return Config(**{**{name: getattr(self, name) for name in Config.model_fields}, **changes})


def env_name(name: str, field: FieldInfo) -> str:
    """The environment variable a field is read from."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return str(extra.get("env") or name.upper())


#: The environment `config_from_env` is reading (none otherwise: `Config(...)` reads nothing).
_environment: ContextVar[Mapping[str, str] | None] = ContextVar("environment", default=None)


class _GivenEnvironment(PydanticBaseSettingsSource):
    """Each field's variable from the given environment; unset or empty keeps the default."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env = _environment.get() or {}
        value = env.get(env_name(field_name, field), "")
        return (value if value.strip() else None), field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, name)
            if value is None:
                continue
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if extra.get("milliseconds"):
                try:
                    value = int(value) / 1000
                except ValueError:
                    pass  # refused as not a number, naming the variable
            found[name] = value
        return found


def config_from_env(env: Mapping[str, str] = os.environ) -> Config:
    """Read the settings from environment variables (see README, Configuration). Raises
    UnsafeConfig, one line for each setting that is unusable or would leave a public service
    unsafe, naming it."""
    port = env.get("PORT", "").strip()
    host = env.get("HOST", "").strip() or "127.0.0.1"
    # Without BASE_URL, the address the server listens on (a bad PORT is refused as itself).
    base_url = (env.get("BASE_URL") or f"http://{host}:{port if port.isdigit() else 8000}").rstrip("/")
    if base_url.startswith("https://"):
        if not env.get("SECRET_KEY"):
            raise UnsafeConfig("SECRET_KEY must be set when BASE_URL is https: sessions and forms are signed with it, "
                               "and every process must share it")
        if not env.get("SMTP_HOST") and env.get("MAIL_TO_FILES", "").strip().lower() not in {"1", "true", "yes", "on"}:
            raise UnsafeConfig("SMTP_HOST must be set when BASE_URL is https (or MAIL_TO_FILES=true to write every "
                               "email as an .eml file on purpose)")
    given = {**env, "BASE_URL": base_url}
    if not env.get("SECRET_KEY"):
        # A per-process random key is safe (nothing persistent is signed with it yet) but
        # sessions would not survive a restart or span processes: production sets SECRET_KEY.
        given["SECRET_KEY"] = secrets.token_urlsafe(32)
    token = _environment.set(given)
    try:
        return Config()
    except ValidationError as exc:
        raise UnsafeConfig("\n".join(_refusal(error, env) for error in exc.errors())) from None
    finally:
        _environment.reset(token)


def _refusal(error: Any, env: Mapping[str, str]) -> str:
    """One line for one refused value, naming its variable, in the words the service has always used."""
    if not error["loc"]:  # settings unusable together: the check's own words name them
        return str(error["msg"]).removeprefix("Value error, ")
    name = str(error["loc"][0])
    field = Config.model_fields[name]
    variable = env_name(name, field)
    given = env.get(variable, error.get("input"))
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    kind = error["type"]
    if kind in ("int_parsing", "float_parsing", "int_from_float"):
        return f"{variable} must be a whole number, not {given!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        if "refusal" in extra:
            return f"{variable} {extra['refusal']}, not {given}"
        return f"{variable} must be {error['ctx'].get('ge', 0)} or more, not {given}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        return f"{variable} must be one of {', '.join(choices)}, not {given!r}"
    if kind == "bool_parsing":
        return f"{variable} must be on or off (true, false, yes, no, 1, 0), not {given!r}"
    return f"{variable} {str(error['msg']).removeprefix('Value error, ')}"


#: Settings whose values `python -m app check` never prints.
SECRETS = tuple(name for name, field in Config.model_fields.items() if field.annotation is SecretStr)


def effective(config: Config) -> list[tuple[str, str]]:
    """Every setting as it is in force, secrets hidden (`python -m app check`)."""
    out = []
    for name, field in Config.model_fields.items():
        value = getattr(config, name)
        if name in SECRETS:
            shown = "(set, hidden)" if value.get_secret_value() else "(not set)"
        elif name in ("database_url", "redis_url") and "@" in str(value):
            scheme, rest = str(value).split("://", 1)
            shown = f"{scheme}://(credentials hidden)@{rest.rsplit('@', 1)[1]}"
        elif isinstance(value, tuple):
            shown = ", ".join(value) or "(none)"
        else:
            shown = str(value)
        out.append((env_name(name, field), shown))
    return out


@lru_cache(maxsize=1)
def get_config() -> Config:
    return config_from_env()
